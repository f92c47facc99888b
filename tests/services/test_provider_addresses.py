"""winkernel's PA lookup indexes RemoteSubnetRoutes once per cluster: its answers must be those of a prefix
table of the node's own policies in order (and its PAs), on every overlay node of the example plans."""

from __future__ import annotations

import random
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from cnimodel.cluster import Cluster
from cnimodel.dataplane import HnsPolicy
from cnimodel.hns import policy
from cnimodel.net import PrefixTable
from cnimodel.plan import load_plan
from cnimodel.services.provider import ProviderAddresses

TOPO = Path(__file__).resolve().parents[2] / "topologies"


def _reference(policies: tuple[HnsPolicy, ...], ip: str) -> str | None:
    rows = [(p.settings["DestinationPrefix"], str(p.settings["ProviderAddress"])) for p in policies
            if p.type == "RemoteSubnetRoute" and p.settings.get("DestinationPrefix")
            and p.settings.get("ProviderAddress")]
    if ip in {pa for _, pa in rows}:
        return ip
    hit = PrefixTable((IPv4Network(n), pa) for n, pa in rows).lookup(IPv4Address(ip))
    return hit[1] if hit else None


@pytest.mark.parametrize("name", ["hybrid-vxlan.yaml", "hybrid-vxlan-mismatch.yaml", "services-overlay-dsr.yaml"])
def test_provider_addresses_as_a_prefix_table(name: str) -> None:
    c = Cluster.build(load_plan([TOPO / name]))
    rnd = random.Random(name)
    for node in c.plan.nodes:
        for net in c.facts(node.name).hns_networks:
            pas = ProviderAddresses(c, net.policies)
            probes = [str(IPv4Address(rnd.getrandbits(32))) for _ in range(30)] + [str(n.ip) for n in c.plan.nodes]
            probes += [str(a.ip) for a in c.allocation.pods.values()]
            for ip in probes:
                assert pas.lookup(ip) == _reference(net.policies, ip), (node.name, ip)


def test_first_policy_of_a_prefix_wins_per_node() -> None:
    c = Cluster.build(load_plan([TOPO / "hybrid-vxlan.yaml"]))
    a = policy("RemoteSubnetRoute", DestinationPrefix="10.9.0.0/24", ProviderAddress="192.0.2.1")
    b = policy("RemoteSubnetRoute", DestinationPrefix="10.9.0.0/24", ProviderAddress="192.0.2.2")
    wide = policy("RemoteSubnetRoute", DestinationPrefix="10.9.0.0/16", ProviderAddress="192.0.2.3")
    assert ProviderAddresses(c, (wide, b, a)).lookup("10.9.0.7") == "192.0.2.2"
    assert ProviderAddresses(c, (a, b)).lookup("10.9.0.7") == "192.0.2.1"
    assert ProviderAddresses(c, (wide,)).lookup("10.9.0.7") == "192.0.2.3"
    assert ProviderAddresses(c, (wide,)).lookup("192.0.2.3") == "192.0.2.3"
    assert ProviderAddresses(c, (a,)).lookup("192.0.2.3") is None
