"""The longest-prefix match (cnimodel/net/lpm.py: PrefixTable; cnimodel/net/columns.py: PrefixColumns, the
graph's index of node tables) against a plain reference written here — scan every route, keep the first of
the longest prefixes holding the address — route for route on every node of every example plan, and for the
Encap facts."""

from __future__ import annotations

import random
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from cnimodel.cluster import Cluster
from cnimodel.graph.lookup import encap_for, lookup
from cnimodel.plan import load_plan

TOPO = Path(__file__).resolve().parents[2] / "topologies"
PLANS = sorted(p.name for p in TOPO.glob("*.yaml") if p.name != "policy-k8s.yaml")  # that one has no cluster


@pytest.mark.parametrize("name", PLANS)
def test_lookup_is_the_longest_prefix(name: str) -> None:
    c = Cluster.build(load_plan([TOPO / name]))
    rnd = random.Random(name)
    for node in c.plan.nodes:
        routes = c.facts(node.name).routes
        probes = [IPv4Address(rnd.getrandbits(32)) for _ in range(50)]
        for r in routes:
            probes += [r.dst.network_address, r.dst.broadcast_address]
        for ip in probes:
            want = _longest(routes, ip)
            assert c.lookup(node.name, ip).route is want and lookup(c, node.name, ip).route is want, (node.name, ip)


def test_duplicate_prefixes_keep_the_first() -> None:
    from ipaddress import IPv4Network

    from cnimodel.dataplane import Route
    from cnimodel.net import NetworkRows, PrefixColumns, PrefixTable, longest_match

    a = Route(IPv4Network("10.0.0.0/24"), dev="a")
    b = Route(IPv4Network("10.0.0.0/24"), dev="b")
    wide = Route(IPv4Network("10.0.0.0/16"), dev="w")
    table = PrefixTable((r.dst, r) for r in (wide, a, b))
    assert table.lookup(IPv4Address("10.0.0.9")) == (a.dst, a) and table.lookup(IPv4Address("10.0.9.9"))[1] is wide
    assert table.lookup(IPv4Address("11.0.0.1")) is None
    assert longest_match(((r.dst, r) for r in (wide, b, a)), IPv4Address("10.0.0.9")) is b
    columns = PrefixColumns((wide, a, b), NetworkRows())
    assert columns.lookup(IPv4Address("10.0.0.9")) is a and columns.lookup(IPv4Address("10.0.9.9")) is wide
    assert columns.lookup(IPv4Address("11.0.0.1")) is None


def _longest(encaps, ip):  # type: ignore[no-untyped-def]
    """The reference: the longest prefix holding ``ip`` (a route's, an Encap fact's), the first of equal ones."""
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
            want = _longest(encaps, ip)
            assert c.encap(node.name, ip) is want and encap_for(c, node.name, ip) is want, (node.name, ip)
