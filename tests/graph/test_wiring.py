"""The forwarding graph's picture (networkx): the underlay's table and subnets, each node's host, route table, NIC,
bridge, vSwitch and load balancer, pods and pod groups, with facts as attributes; JSON, DOT and Mermaid (DOT rendered
by the system `dot` when installed). Expected values are the worked example's (cni-plugins.md §10): lin1 holds
10.244.1.0/24 with cni0 at .1, win1 10.244.2.0/24 with cbr0_ep at .2."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from builders import build_docs, cluster_doc, pod_doc, run

from cnimodel.cluster import Cluster
from cnimodel.graph.wiring import drawn_path, wiring
from cnimodel.plan import load_plan
from cnimodel.render import dot, graph_json, mermaid
from cnimodel.trace import trace


@pytest.fixture
def graph(worked: Path) -> nx.Graph:
    return wiring(Cluster.build(load_plan([worked])))


def kinds(g: nx.Graph, kind: str) -> set[str]:
    return {n for n, a in g.nodes(data=True) if a["kind"] == kind}


def test_vertices(graph: nx.Graph) -> None:
    assert {n for n in graph if n.startswith("router:")} == {"router:underlay"}
    assert kinds(graph, "subnet") == {"subnet:nodes"}
    assert kinds(graph, "host") == {"host:master", "host:lin1", "host:win1", "host:win2"}
    assert kinds(graph, "table") == {"router:underlay", "table:master", "table:lin1", "table:win1", "table:win2"}
    assert {"nic:lin1", "nic:win1"} <= kinds(graph, "interface")
    assert kinds(graph, "bridge") == {"dev:master/cni0", "dev:lin1/cni0"}
    assert kinds(graph, "vswitch") == {"vswitch:win1/cbr0", "vswitch:win2/cbr0"}
    assert kinds(graph, "pod") == {"pod:default/a", "pod:default/b", "pod:web/w-0", "pod:web/w-1"}
    assert "dev:win1/vEthernet (cbr0_ep)" in kinds(graph, "interface")
    assert not kinds(graph, "lb")  # no Service in the plan: no load balancer is drawn


def test_attributes_carry_the_facts(graph: nx.Graph) -> None:
    lin1 = graph.nodes["host:lin1"]
    assert (lin1["os"], lin1["ip"], lin1["podCIDR"]) == ("linux", "10.240.0.10", "10.244.1.0/24")
    assert graph.nodes["host:win1"]["os"] == "windows"
    subnet = graph.nodes["subnet:nodes"]
    assert (subnet["cidr"], subnet["gateway"], subnet["mtu"]) == ("10.240.0.0/24", "10.240.0.1", 1500)
    cni0 = graph.nodes["dev:lin1/cni0"]
    assert cni0["device"] == "bridge" and cni0["addresses"] == ["10.244.1.1/24"]
    assert graph.nodes["nic:lin1"]["label"] == "eth0" and graph.nodes["nic:lin1"]["addresses"] == ["10.240.0.10/24"]
    assert graph.nodes["nic:win1"]["label"] == "vEthernet (Ethernet)"
    vs = graph.nodes["vswitch:win1/cbr0"]
    assert vs["type"] == "L2Bridge" and vs["prefix"] == "10.244.2.0/24"
    assert graph.nodes["pod:default/a"]["ip"] == "10.244.1.2"
    assert graph.nodes["pod:web/w-0"]["ip"] == "10.244.2.3"


def test_edges(graph: nx.Graph) -> None:
    assert graph.has_edge("router:underlay", "subnet:nodes")
    assert graph.edges["nic:lin1", "subnet:nodes"]["kind"] == "uplink"
    assert graph.edges["host:lin1", "table:lin1"]["kind"] == "stack"
    assert graph.has_edge("table:lin1", "dev:lin1/cni0") and graph.has_edge("table:lin1", "nic:lin1")
    # Linux pods hang off the bridge, Windows pods off the vSwitch (their ports)
    assert graph.has_edge("dev:lin1/cni0", "pod:default/a")
    assert graph.edges["vswitch:win1/cbr0", "pod:web/w-0"]["kind"] == "port"
    assert graph.has_edge("vswitch:win1/cbr0", "dev:win1/vEthernet (cbr0_ep)")
    assert nx.has_path(graph, "pod:default/a", "pod:web/w-1")
    assert nx.is_connected(graph)


def test_pods_grouped_per_node_when_many(tmp_path: Path) -> None:
    pods = [pod_doc(f"p{i}", "lin1") for i in range(20)] + [pod_doc("solo", "master")]
    g = wiring(build_docs(tmp_path, [cluster_doc(), *pods]))
    assert kinds(g, "pod-group") == {"pods:lin1"}
    assert g.nodes["pods:lin1"]["count"] == 20
    assert kinds(g, "pod") == {"pod:default/solo"}
    assert g.has_edge("dev:lin1/cni0", "pods:lin1")
    assert g.graph["aliases"]["pod:default/p3"] == "pods:lin1"


def test_without_detail_hosts_sit_on_their_subnet(worked: Path) -> None:
    g = wiring(Cluster.build(load_plan([worked])), detail=False)
    assert not kinds(g, "bridge") and not kinds(g, "vswitch") and not kinds(g, "table") - {"router:underlay"}
    assert g.edges["host:lin1", "subnet:nodes"]["kind"] == "uplink"
    assert g.has_edge("host:lin1", "pod:default/a")


def test_host_network_pod_on_the_host(tmp_path: Path) -> None:
    g = wiring(build_docs(tmp_path, [cluster_doc(), pod_doc("proxy", "lin1", hostNetwork=True)]))
    assert g.edges["host:lin1", "pod:default/proxy"]["kind"] == "host-network"
    assert g.nodes["pod:default/proxy"]["ip"] == "10.240.0.10"


def test_two_subnets_hang_off_one_router(tmp_path: Path) -> None:
    doc = cluster_doc(nodes=[{"name": "a", "ip": "10.240.0.10"}, {"name": "b", "ip": "10.240.1.10"}])
    doc["spec"]["underlay"]["subnets"] = [{"name": "s0", "cidr": "10.240.0.0/24"},
                                          {"name": "s1", "cidr": "10.240.1.0/24"}]
    g = wiring(build_docs(tmp_path, [doc]))
    assert set(g.neighbors("router:underlay")) == {"subnet:s0", "subnet:s1"}
    assert g.has_edge("nic:b", "subnet:s1")


def test_a_trace_is_drawn_on_the_vertices_it_crossed(worked: Path) -> None:
    c = Cluster.build(load_plan([worked]))
    g = wiring(c)
    t = trace(c, "default/a", "web/w-0")[0]
    # a on lin1's bridge, lin1's table, win1's NIC and table, w-0's port (drawn as its vSwitch), w-0
    assert drawn_path(g, t.path) == ["pod:default/a", "dev:lin1/cni0", "table:lin1", "nic:win1", "table:win1",
                                     "vswitch:win1/cbr0", "pod:web/w-0"]
    text = dot.render(g, [drawn_path(g, t.path)])
    assert '"table:lin1" -- "nic:win1" [dir=forward' in text and 'label="1.3"' in text


def test_json_round_trip(graph: nx.Graph) -> None:
    data = graph_json.to_json(graph)
    assert {n["id"] for n in data["nodes"]} == set(graph.nodes)
    assert len(data["edges"]) == graph.number_of_edges()
    assert all({"source", "target", "kind"} <= set(e) for e in data["edges"])
    json.dumps(data)  # plain JSON values only


def test_cli_graph_json(worked: Path) -> None:
    r = run("graph", str(worked), "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"name", "nodes", "edges"}
    assert "host:win2" in {n["id"] for n in data["nodes"]}


def test_dot_text_structure(graph: nx.Graph) -> None:
    text = dot.render(graph)
    assert text.startswith("graph ") and text.rstrip().endswith("}")
    assert text.count("subgraph cluster_") == 4  # one per host
    assert '"dev:lin1/cni0"' in text
    # a device's label holds its name and address on two lines: the DOT escape \n, not a literal backslash
    assert r"cni0\n10.244.1.1/24" in text
    assert r"cni0\\n" not in text


def test_mermaid_of_the_picture(graph: nx.Graph) -> None:
    text = mermaid.render(graph)
    assert text.startswith("flowchart TB") and text.count("subgraph ") == 4
    assert " --- " in text or "---|" in text  # undirected: plain links


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed (.ci/run installs it)")
def test_dot_rendered_by_graphviz(worked: Path) -> None:
    r = run("graph", str(worked), "-o", "dot")
    assert r.exit_code == 0, r.stderr
    svg = subprocess.run(["dot", "-Tsvg"], input=r.stdout, capture_output=True, text=True, timeout=60)
    assert svg.returncode == 0, svg.stderr
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg.stdout)
    # the two lines of a device label are two text elements
    assert "cni0" in texts and "10.244.1.1/24" in texts
    assert not any("\\n" in t for t in texts)
    assert "lin1 (linux, 10.240.0.10)" in texts
    plain = subprocess.run(["dot", "-Tplain"], input=r.stdout, capture_output=True, text=True, timeout=60)
    nodes = [line for line in plain.stdout.splitlines() if line.startswith("node ")]
    assert len(nodes) == nx.number_of_nodes(wiring(Cluster.build(load_plan([worked]))))
