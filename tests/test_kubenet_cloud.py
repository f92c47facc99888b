"""kubenet and the cloud route table (cni-plugins.md §6.3, tools-and-planning.md §3.1, §3.8 item 12).

cloud-provider-azure's CreateRoute: one route per node, name = node name, AddressPrefix = the node's
podCIDR, NextHopType VirtualAppliance, next hop = the node IP. Azure route tables hold 400 routes ([U]).
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from builders import build_docs, cluster_doc, pod_doc, run


def kubenet_doc(count: int, cluster: str = "10.244.0.0/16", **config: Any) -> dict[str, Any]:
    base = int(IPv4Address("10.240.0.4"))
    nodes = [{"name": f"aks-{i}", "os": "linux", "ip": str(IPv4Address(base + i))} for i in range(count)]
    return cluster_doc(nodes, clusterCIDR=cluster, network={"plugin": "kubenet", "config": config},
                       underlay={"name": "rt", "subnets": [{"name": "s", "cidr": "10.240.0.0/16"}], "routes": "cloud"})


def test_one_route_per_node(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [kubenet_doc(3), pod_doc("a", "aks-1")])
    routes = [r for r in c.underlay().routes if r.kind == "pod-route"]
    got = {(r.name, str(r.dst), str(r.via), r.next_hop_type) for r in routes}
    assert got == {("aks-0", "10.244.0.0/24", "10.240.0.4", "VirtualAppliance"),
                   ("aks-1", "10.244.1.0/24", "10.240.0.5", "VirtualAppliance"),
                   ("aks-2", "10.244.2.0/24", "10.240.0.6", "VirtualAppliance")}
    # cbr0 holds .1; host-local gives the first pod .2; the hosts hold no pod routes of their own.
    assert str(c.pod_ip("default/a")) == "10.244.1.2"
    facts = c.facts("aks-1")
    assert facts.device("cbr0") is not None
    assert not [r for r in facts.routes if r.kind == "pod-route"]
    assert c.lookup("rt", IPv4Address("10.244.2.9")).next_hop == IPv4Address("10.240.0.6")


def test_route_table_limit(tmp_path: Path) -> None:
    wide = "10.64.0.0/14"  # 1,024 node /24s, so the pod CIDRs are not what runs out
    assert not [w for w in build_docs(tmp_path, [kubenet_doc(400, wide)]).warnings if "route table" in w.message]
    over = [w for w in build_docs(tmp_path, [kubenet_doc(401, wide)]).warnings if "route table" in w.message]
    assert len(over) == 1 and "401" in over[0].message and "400" in over[0].message
    assert [w for w in build_docs(tmp_path, [kubenet_doc(3, routeTableLimit=2)]).warnings
            if "over its limit of 2" in w.message]


def test_policy_enforcement(tmp_path: Path) -> None:
    plain = build_docs(tmp_path, [kubenet_doc(2)])
    assert not plain.facts("aks-0").policy.enforced
    doc = kubenet_doc(2)
    doc["spec"]["policy"] = {"plugin": "calico"}
    with_calico = build_docs(tmp_path, [doc])
    p = with_calico.facts("aks-0").policy
    assert (p.enforced, p.by, p.mechanism) == (True, "calico-felix", "iptables")
    assert [str(r.dst) for r in with_calico.facts("aks-0").routes] == [
        str(r.dst) for r in plain.facts("aks-0").routes]  # Calico adds no routes


def test_topology() -> None:
    top = Path(__file__).parent.parent / "topologies" / "kubenet-calico.yaml"
    assert run("routes", str(top), "-o", "json").exit_code == 0
