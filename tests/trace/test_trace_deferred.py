"""A node whose facts are not built yet answers a lookup from its own entries and the plugin's one peer entry
(``local_facts``, ``peer_route``, ``peer_encap``): the answers must be what the full facts give, route for
route and Encap for Encap, on every node of every example plan, and the trace must not build the full facts."""

from __future__ import annotations

import random
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Encap
from cnimodel.graph.lookup import encap_for, lookup
from cnimodel.plan import load_plan
from cnimodel.trace import trace

TOPO = Path(__file__).resolve().parents[2] / "topologies"
PLANS = sorted(p.name for p in TOPO.glob("*.yaml") if p.name != "policy-k8s.yaml")  # that one has no cluster
OVERLAY = ["hybrid-vxlan.yaml", "hybrid-vxlan-mismatch.yaml", "linux-vxlan-directrouting.yaml"]


def _longest(encaps: tuple[Encap, ...], ip: IPv4Address) -> Encap | None:
    best = None
    for e in encaps:
        if ip in e.dst and (best is None or e.dst.prefixlen > best.dst.prefixlen):
            best = e
    return best


def _probes(full: Cluster, name: str, rnd: random.Random) -> list[IPv4Address]:
    f = full.facts(name)
    out = [IPv4Address(rnd.getrandbits(32)) for _ in range(30)]
    for dst in [r.dst for r in f.routes] + [e.dst for e in f.encaps]:
        out += [dst.network_address, dst.broadcast_address, dst.network_address + dst.num_addresses // 2]
    out += [a.ip for a in full.allocation.pods.values()] + [n.ip for n in full.plan.nodes]
    return out


@pytest.mark.parametrize("name", PLANS)
def test_deferred_answers_as_the_full_facts(name: str) -> None:
    full = Cluster.build(load_plan([TOPO / name]))
    fresh = Cluster.build(load_plan([TOPO / name]))
    rnd = random.Random(name)
    for node in full.plan.nodes:
        deferred = fresh.deferred(node.name)
        reference = full.facts(node.name)
        for ip in _probes(full, node.name, rnd):
            want = full.table(node.name).lookup(ip)
            assert fresh.lookup(node.name, ip).route == (want[1] if want else None), (node.name, ip)
            assert lookup(fresh, node.name, ip) == full.lookup(node.name, ip), (node.name, ip)
            assert fresh.encap(node.name, ip) == _longest(reference.encaps, ip), (node.name, ip)
            assert encap_for(fresh, node.name, ip) == _longest(reference.encaps, ip), (node.name, ip)
        if deferred:  # nothing above built the node's per-peer entries
            assert fresh.deferred(node.name), node.name
        local = fresh.local_facts(node.name)
        for key in ("node", "os", "devices", "nat", "vteps", "hns_networks", "hns_endpoints", "hns_api", "policy"):
            assert getattr(local, key) == getattr(reference, key), (node.name, key)
        assert reference.routes[:len(local.routes)] == local.routes, node.name  # per-peer routes come last


@pytest.mark.parametrize("name", OVERLAY)
def test_overlay_nodes_defer_their_peers(name: str) -> None:
    c = Cluster.build(load_plan([TOPO / name]))
    assert all(c.deferred(n.name) for n in c.plan.nodes)
    local = c.local_facts(c.plan.nodes[0].name)
    assert not local.encaps and not local.neighbors and not local.fdb


@pytest.mark.parametrize("name", OVERLAY)
def test_a_first_trace_builds_no_full_facts(name: str) -> None:
    c = Cluster.build(load_plan([TOPO / name]))
    ref = Cluster.build(load_plan([TOPO / name]))
    for n in ref.plan.nodes:
        ref.facts(n.name)  # every node's full facts: the answers the deferred walk must give
    pods = sorted(k for k, a in c.allocation.pods.items() if not a.pod.host_network)
    for src in pods:
        for dst in pods:
            got = trace(c, src, dst, port=80)[0]
            want = trace(ref, src, dst, port=80)[0]
            assert (got.disposition, got.reason, got.hops) == (want.disposition, want.reason, want.hops), (src, dst)
    assert all(c.deferred(n.name) for n in c.plan.nodes)
