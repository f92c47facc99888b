"""Forwarding loops: found by networkx in the destination's graph, by the trace (LOOP), and by ``check``
(CNI-ROUTE-006). The loops are built by hand: a stale user-defined route in a kubenet cluster's route table
pointing at a node that no longer holds the prefix (kubernetes-sigs/cloud-provider-azure#8175), whose table sends
it back to its gateway; and two nodes routing one prefix via each other."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from builders import at, cluster_doc, plan_errors, pod_doc, write_docs

import cnimodel
from cnimodel.cluster import Cluster
from cnimodel.dataplane import Route
from cnimodel.graph import ForwardingGraph, find_loop
from cnimodel.graph.loops import forwarding_loops
from cnimodel.plan import load_plan
from cnimodel.validate import validate

TOPO = Path(__file__).resolve().parents[2] / "topologies"


def kubenet(static: list[dict[str, Any]]) -> dict[str, Any]:
    doc = cluster_doc(nodes=[{"name": "n0", "ip": "10.240.0.4"}, {"name": "n1", "ip": "10.240.0.5"}],
                      network={"plugin": "kubenet"})
    doc["spec"]["underlay"] = {"name": "rt", "subnets": [{"name": "aks", "cidr": "10.240.0.0/16"}],
                               "routes": "cloud", "staticRoutes": static}
    return doc


STALE = [{"prefix": "10.244.9.0/24", "nextHop": "10.240.0.5", "name": "aks-nodepool1-9"}]


def test_a_stale_cloud_route_loops(tmp_path: Path) -> None:
    plan = write_docs(tmp_path / "p.yaml", [kubenet(STALE), pod_doc("a", "n0")])
    net = cnimodel.load(plan)
    route = next(r for r in net.routes("underlay") if r["dst"] == "10.244.9.0/24")
    assert (route["via"], route["kind"], route["owner"], route["nextHopType"]) == ("10.240.0.5", "static", "plan",
                                                                                  "VirtualAppliance")
    t = net.trace("default/a", "10.244.9.7")
    # n0 → its gateway → the route table sends 10.244.9.0/24 to n1 (10.240.0.5) → n1 has only its default route
    assert t.disposition == "LOOP" and t.places == ["default/a", "n0", "rt", "n1"]
    g = net.graph(dst="10.244.9.7")
    cycle = [a for a, *_ in nx.find_cycle(g)]
    assert cycle == ["router:rt", "nic:n1", "table:n1"]
    assert find_loop(g) == cycle
    found = [f for f in validate(net.plan, net.cluster).findings if f.code == "CNI-ROUTE-006"]
    assert len(found) == 1
    f = found[0]
    assert f.severity == "error" and f.objects == ("n1[Node]",)
    assert "10.244.9.0/24" in f.message and "rt and n1" in f.message and "aks-nodepool1-9" in f.fix
    assert f.locations[0].path == "spec.underlay.staticRoutes[0]"


def test_a_static_route_to_the_node_that_holds_the_prefix_is_no_loop(tmp_path: Path) -> None:
    # n1's pod CIDR is 10.244.1.0/24: a route for it to n1 is the one the cloud provider adds anyway
    plan = write_docs(tmp_path / "p.yaml", [kubenet([{"prefix": "10.244.1.0/26", "nextHop": "10.240.0.5"}]),
                                            pod_doc("a", "n0"), pod_doc("b", "n1")])
    net = cnimodel.load(plan)
    assert not [f for f in net.check() if f["code"] == "CNI-ROUTE-006"]
    assert net.trace("default/a", "default/b").disposition == "ACCEPTED"


def test_two_nodes_routing_a_prefix_via_each_other(tmp_path: Path) -> None:
    plan = load_plan([write_docs(tmp_path / "p.yaml", [cluster_doc(), pod_doc("a", "lin1")])])
    c = Cluster.build(plan)
    facts = c.plugin.node_facts
    ips = {n.name: n.ip for n in plan.nodes}
    bad = {"master": "lin1", "lin1": "master"}  # each sends 10.99.0.0/24 to the other (master: the first node)

    def with_loop(cluster: Cluster, node: Any) -> Any:
        f = facts(cluster, node)
        if node.name not in bad:
            return f
        extra = Route(IPv4Network("10.99.0.0/24"), via=ips[bad[node.name]], dev="eth0", owner="test")
        return replace(f, routes=(*f.routes, extra))

    c.plugin.node_facts = with_loop  # type: ignore[method-assign]
    from cnimodel.trace import trace

    t = trace(c, "default/a", "10.99.0.3")[0]
    assert t.disposition == "LOOP" and [h.node for h in t.hops] == ["default/a", "lin1", "master"]
    assert t.reason == "the packet came back to lin1 with the same destination"
    g = ForwardingGraph.of(c)
    loops = forwarding_loops(g, ["master"])
    assert [set(loop.cycle) for loop in loops] == [{"table:master", "nic:lin1", "table:lin1", "nic:master"}]
    assert {(t, str(r.via)) for t, r in loops[0].routes} == {("master", "10.240.0.10"), ("lin1", "10.240.0.4")}


@pytest.mark.parametrize("name", sorted(p.name for p in TOPO.glob("*.yaml") if p.name != "policy-k8s.yaml"))
def test_no_loops_in_the_examples(name: str) -> None:
    c = Cluster.build(load_plan([TOPO / name]))
    assert forwarding_loops(ForwardingGraph.of(c), [n.name for n in c.plan.nodes]) == []


def test_a_static_routes_next_hop_must_be_on_a_subnet(tmp_path: Path) -> None:
    p = at(plan_errors(tmp_path, [kubenet([{"prefix": "10.244.9.0/24", "nextHop": "192.0.2.1"}])]),
           "spec.underlay.staticRoutes[0].nextHop")
    assert "192.0.2.1" in p.message and "subnet" in p.hint
    assert IPv4Address("192.0.2.1")  # (the address is TEST-NET-1: on no subnet of the plan)
