"""Destination classes: the addresses of one class share every forwarding decision (the route each table matches,
the tunnel hop each node would take, what the address is in the plan), so one graph serves the whole class. Checked
on every example plan with addresses around every route's edges; the classes of a few addresses are derived by
hand from default.yaml (cni-plugins.md §10: lin1 10.240.0.10 with 10.244.1.0/24 on cni0 at .1; win1's iis-0 at
10.244.2.3; the service CIDR 10.96.0.0/12; the cluster CIDR 10.244.0.0/16)."""

from __future__ import annotations

import random
from collections import defaultdict
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from cnimodel.cluster import Cluster
from cnimodel.graph import classify, owner_of
from cnimodel.graph.lookup import encap_for, lookup
from cnimodel.plan import load_plan

TOPO = Path(__file__).resolve().parents[2] / "topologies"
PLANS = sorted(p.name for p in TOPO.glob("*.yaml") if p.name != "policy-k8s.yaml")  # that one has no cluster


def _probes(c: Cluster, rnd: random.Random) -> list[IPv4Address]:
    out = [IPv4Address(rnd.getrandbits(32)) for _ in range(100)]
    tables = [c.underlay().routes] + [c.facts(n.name).routes for n in c.plan.nodes]
    for routes in tables:
        for r in routes:
            lo, hi = int(r.dst.network_address), int(r.dst.broadcast_address)
            out += [IPv4Address(x) for x in (lo, lo + 1, lo + 2, hi - 1, hi, (lo + hi) // 2) if 0 <= x < 1 << 32]
    return out


@pytest.mark.parametrize("name", PLANS)
def test_one_class_one_behaviour(name: str) -> None:
    c = Cluster.build(load_plan([TOPO / name]))
    rnd = random.Random(name)
    by_class: dict[str, list[IPv4Address]] = defaultdict(list)
    for ip in _probes(c, rnd):
        by_class[classify(c, ip).key].append(ip)
    gateways = {s.gateway for s in c.plan.underlay.subnets}
    names = [n.name for n in c.plan.nodes]

    def behaviour(ip: IPv4Address) -> tuple[object, ...]:
        o = owner_of(c, ip)
        return (o.kind, o.node, o.pod.pod.key if o.pod else None, ip in gateways,
                id(c.lookup(c.plan.underlay.name, ip).route),
                *(id(lookup(c, n, ip).route) for n in names), *(id(encap_for(c, n, ip)) for n in names))

    compared = 0
    for key, ips in by_class.items():
        first = behaviour(ips[0])
        for ip in ips[1:]:
            assert behaviour(ip) == first, (key, ips[0], ip)
            compared += 1
    assert compared


def test_classes_by_hand() -> None:
    c = Cluster.build(load_plan([TOPO / "default.yaml"]))
    assert classify(c, IPv4Address("10.244.2.3")).key == "pod:web/iis-0"
    assert classify(c, IPv4Address("10.240.0.10")).key == "node:lin1"
    assert classify(c, IPv4Address("10.244.1.1")).key == "host:lin1/10.244.1.1"  # cni0's address
    # outside the plan: from 0.0.0.0 up to the service CIDR, the first prefix the plan holds
    out = classify(c, IPv4Address("8.8.8.8"))
    assert (out.key, out.kind, str(out.first), str(out.last)) == ("net:0.0.0.0-10.95.255.255", "net", "0.0.0.0",
                                                                    "10.95.255.255")
    # an address of lin1's pod range no pod holds, the same class as its neighbours
    a, b = classify(c, IPv4Address("10.244.1.77")), classify(c, IPv4Address("10.244.1.200"))
    assert a is b and a.owner.kind == "pod-subnet" and a.owner.node == "lin1"
    assert classify(c, IPv4Address("10.240.0.1")).key == "net:10.240.0.1-10.240.0.1"  # the gateway: its own
