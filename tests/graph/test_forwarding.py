"""The forwarding graph and the trace agree: a delivered trace's path is a path in its destination's graph; between
two pods it is the graph's only simple path; a trace that is not routed has no path; the standard algorithms
(shortest path, components, cycles) answer the questions the old wiring graph answered wrongly.

Hand-derived expectations come from the plans written here or shipped in topologies/ (cni-plugins.md §10 for
host-gw, §4 for flannel's VXLAN on Windows: the VTEP is the node's flannel.4096 network)."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pytest
from builders import cluster_doc, pod_doc, run, write_docs

import cnimodel
from cnimodel.graph import partitions
from cnimodel.trace.model import DELIVERED
from cnimodel.trace.resolve import services

PLANS = ["default.yaml", "hybrid-vxlan.yaml", "canal-linux.yaml", "canal-windows.yaml", "aks-azure-cni.yaml",
         "aks-azure-cni-overlay.yaml", "services-l2bridge.yaml", "services-overlay-dsr.yaml",
         "workloads-talk.yaml", "linux-vxlan-directrouting.yaml", "kubenet-calico.yaml"]
ROUTING = ("NO_ROUTE", "NEIGHBOR_UNREACHABLE", "NULL_ROUTED", "LOOP", "POD_NOT_RUNNING")


@pytest.mark.parametrize("name", PLANS)
def test_every_delivered_trace_is_a_path_of_its_destination_graph(name: str) -> None:
    net = cnimodel.load(cnimodel.example(name))
    c = net.cluster
    pods = sorted(k for k in c.allocation.pods if k not in c.allocation.not_running)
    nodes = [n.name for n in c.plan.nodes]
    dsts = pods + nodes + [f"{s}[Service]" for s in sorted(services(c))]
    graphs: dict[str, nx.MultiDiGraph] = {}
    checked = 0
    for a in pods + nodes:
        for b in dsts:
            if a == b:
                continue  # its own address: the packets never leave it (its class ends where it starts)
            t = net.trace(a, b)
            g = graphs.get(b) or graphs.setdefault(b, net.graph(dst=b))
            if t.disposition in DELIVERED:
                assert nx.is_path(g, t.path), (a, b, t.path)
                if not b.endswith("[Service]") and len(t.path) > 1:
                    assert list(nx.all_simple_paths(g, t.path[0], t.path[-1])) == [t.path], (a, b)
                checked += 1
            elif t.disposition in ROUTING and not b.endswith("[Service]"):
                assert not nx.has_path(g, f"pod:{a}", f"pod:{b}") if f"pod:{b}" in g else True, (a, b)
    assert checked


def test_host_gw_path_crosses_the_tables_and_the_nic() -> None:
    net = cnimodel.load(cnimodel.example("default.yaml"))
    t = net.trace("default/client", "web/iis-0")
    # client hangs on lin1's cni0; lin1's table sends 10.244.2.0/24 via win1 (10.240.0.20) on the shared subnet,
    # where it enters win1's NIC, win1's table, and iis-0's vSwitch port
    assert t.path == ["pod:default/client", "dev:lin1/cni0", "table:lin1", "nic:win1", "table:win1",
                      "port:web/iis-0", "pod:web/iis-0"]
    assert [h["vertices"] for h in t.hops] == [["pod:default/client"], ["dev:lin1/cni0", "table:lin1"],
                                               ["nic:win1", "table:win1", "port:web/iis-0"], ["pod:web/iis-0"]]
    assert t.places == ["default/client", "lin1", "win1", "web/iis-0"]


def test_the_shortest_path_on_an_overlay_crosses_both_vteps() -> None:
    net = cnimodel.load(cnimodel.example("hybrid-vxlan.yaml"))
    g = net.graph(dst="default/iis-0")
    path = nx.shortest_path(g, "pod:default/client", "pod:default/iis-0")
    assert path[3:5] == ["tunnel:lin1/flannel.4096", "tunnel:win1/flannel.4096"]
    kinds = [next(iter(g.get_edge_data(a, b).values()))["kind"] for a, b in pairwise(path)]
    assert kinds == ["route", "input", "route", "encap", "decap", "route", "deliver"]
    assert path == net.trace("default/client", "default/iis-0").path


def test_components_show_a_partition(tmp_path: Path) -> None:
    doc = cluster_doc(nodes=[{"name": "a", "ip": "10.240.0.10"}, {"name": "b", "ip": "10.240.1.10"}])
    doc["spec"]["underlay"]["subnets"] = [{"name": "s0", "cidr": "10.240.0.0/24"},
                                          {"name": "s1", "cidr": "10.240.1.0/24"}]
    plan = write_docs(tmp_path / "p.yaml", [doc, pod_doc("pa", "a"), pod_doc("pb", "b")])
    net = cnimodel.load(plan)
    g = net.graph(dst="default/pb")
    # host-gw routes only on-link peers: a sends pb's address to its gateway, and the underlay's only way for it is
    # its default route out of the network, where nothing holds a pod's address (the trace says so)
    t = net.trace("default/pa", "default/pb")
    assert t.disposition == "NO_ROUTE" and "default route would send it out of the network" in t.reason
    assert not nx.has_path(g, "pod:default/pa", "pod:default/pb")
    assert g.nodes["router:underlay"]["drops"]["pod:default/pb"]["disposition"] == "NO_ROUTE"
    assert partitions(g) == [{"pod:default/pa", "dev:a/cni0", "table:a", "host:a", "router:underlay", "internet"},
                             {"host:b", "table:b", "dev:b/cni0", "pod:default/pb"}]
    # reach: no policy in the plan allows everything; the routing part says the packets never arrive
    assert [(r["allowed"], r["routed"]) for r in net.reach("default/pa", "default/pb").connections] == [
        ("All Connections", False)]
    assert [r["routed"] for r in net.reach("default/pb", "default/pb").connections] == [True]


def test_a_services_graph_leads_into_its_backends_classes() -> None:
    net = cnimodel.load(cnimodel.example("services-l2bridge.yaml"))
    g = net.graph(dst="web/iis")
    # web/iis selects app=iis: iis-0 on win1 and iis-1 on win2; every node's load balancer DNATs to both
    dnat = {(a, d["to_cls"]) for a, _, d in g.edges(data=True) if d["kind"] == "dnat"}
    assert {cls for _, cls in dnat} == {"pod:web/iis-0", "pod:web/iis-1"}
    assert {a for a, _ in dnat} == {f"lb:{n}" for n in ("master", "lin1", "win1", "win2")}
    t = net.trace("default/api-0", "web/iis")
    assert t.disposition == "ACCEPTED" and nx.is_path(g, t.path)
    lb = t.path.index(next(v for v in t.path if v.startswith("lb:")))
    assert t.path[lb + 1].startswith("table:")  # the load balancer hands the backend to the node's routing


def test_the_graph_of_an_address_and_its_json(tmp_path: Path) -> None:
    net = cnimodel.load(cnimodel.example("default.yaml"))
    g = net.graph(dst="10.244.2.3")  # web/iis-0's address: the same class as the pod's name
    assert g.graph["dst"] == "pod:web/iis-0"
    h = net.graph(dst="8.8.8.8")  # outside the plan: every table's way is the underlay's default route
    assert ("router:underlay", "internet") in h.edges()
    with pytest.raises(cnimodel.Error):
        net.graph(dst="default/nope")


def test_cli_graph_of_a_destination(tmp_path: Path) -> None:
    plan = str(cnimodel.example("default.yaml"))
    r = run("graph", plan, "--dst", "web/iis-0", "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["dst"] == "pod:web/iis-0" and data["classes"]["pod:web/iis-0"]["first"] == "10.244.2.3"
    edge = next(e for e in data["edges"] if (e["source"], e["target"]) == ("table:lin1", "nic:win1"))
    # lin1's host-gw route to win1's pod CIDR (cni-plugins.md §10): 10.244.2.0/24 via 10.240.0.20 dev eth0
    assert (edge["kind"], edge["class"], edge["fact"]["type"]) == ("route", "pod:web/iis-0", "Forward")
    assert (edge["fact"]["route"]["dst"], edge["fact"]["route"]["via"], edge["fact"]["to"]) == (
        "10.244.2.0/24", "10.240.0.20", "win1")
    dot_text = run("graph", plan, "--dst", "web/iis-0", "-o", "dot").stdout
    assert dot_text.startswith("digraph ") and '"table:lin1" -> "nic:win1"' in dot_text
    assert " -->|" in run("graph", plan, "--dst", "web/iis-0", "-o", "mermaid").stdout
    bad = run("graph", plan, "--dst", "default/nope")
    assert bad.exit_code == 2 and "--dst default/nope" in bad.stderr
