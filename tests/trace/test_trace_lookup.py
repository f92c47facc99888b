"""The walk indexes node tables its own way (numpy rows shared between nodes through the Route objects they
share); the answer must be the cluster's longest-prefix match, route for route — the first route of a prefix
when several share it — on every node of every example plan."""

from __future__ import annotations

import random
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from cnimodel.cluster import Cluster
from cnimodel.graph.lookup import RouteIndex, RouteRows, encap_for, lookup
from cnimodel.plan import load_plan

TOPO = Path(__file__).resolve().parents[2] / "topologies"
PLANS = sorted(p.name for p in TOPO.glob("*.yaml") if p.name != "policy-k8s.yaml")  # that one has no cluster


@pytest.mark.parametrize("name", PLANS)
def test_index_answers_as_the_cluster(name: str) -> None:
    c = Cluster.build(load_plan([TOPO / name]))
    rnd = random.Random(name)
    rows = RouteRows()  # one for the whole plan: later nodes reuse the rows of routes they share
    for node in c.plan.nodes:
        routes = c.facts(node.name).routes
        index = RouteIndex(routes, rows)
        probes = [IPv4Address(rnd.getrandbits(32)) for _ in range(50)]
        for r in routes:
            probes += [r.dst.network_address, r.dst.broadcast_address]
        for ip in probes:
            assert index.lookup(ip) is c.lookup(node.name, ip).route, (node.name, ip)


def test_duplicate_prefixes_keep_the_first() -> None:
    from ipaddress import IPv4Network

    from cnimodel.dataplane import Route

    a = Route(IPv4Network("10.0.0.0/24"), dev="a")
    b = Route(IPv4Network("10.0.0.0/24"), dev="b")
    wide = Route(IPv4Network("10.0.0.0/16"), dev="w")
    index = RouteIndex((wide, a, b), RouteRows())
    assert index.lookup(IPv4Address("10.0.0.9")) is a and index.lookup(IPv4Address("10.0.9.9")) is wide
    assert index.lookup(IPv4Address("11.0.0.1")) is None


def test_walk_lookup_is_the_cluster_lookup() -> None:
    c = Cluster.build(load_plan([TOPO / "default.yaml"]))
    for dst in ("10.244.2.3", "8.8.8.8", "10.240.0.20"):
        assert lookup(c, "lin1", IPv4Address(dst)) == c.lookup("lin1", IPv4Address(dst))


def _longest(encaps, ip):  # type: ignore[no-untyped-def]
    """The reference: the longest Encap prefix holding ``ip``, the first of equal ones."""
    best = None
    for e in encaps:
        if ip in e.dst and (best is None or e.dst.prefixlen > best.dst.prefixlen):
            best = e
    return best


@pytest.mark.parametrize("name", ["hybrid-vxlan.yaml", "hybrid-vxlan-mismatch.yaml", "canal-windows.yaml",
                                  "linux-vxlan-directrouting.yaml", "aks-azure-cni-overlay.yaml"])
def test_encap_index_is_the_longest_prefix(name: str) -> None:
    c = Cluster.build(load_plan([TOPO / name]))
    for node in c.plan.nodes:
        encaps = c.facts(node.name).encaps
        probes = [x for e in encaps for x in (e.dst.network_address, e.dst.broadcast_address)]
        probes += [IPv4Address("10.244.9.9"), IPv4Address("8.8.8.8")]
        for ip in probes:
            assert encap_for(c, node.name, ip) is _longest(encaps, ip), (node.name, ip)
