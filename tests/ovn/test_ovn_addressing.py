"""Per-node addressing as ovnkube's cluster manager and logical-switch IPAM hand it out.

Expected subnet orders are upstream's own tests (go-controller/pkg/clustermanager/node/subnet_allocator_test.go:
89-100, :141-151, :180-211); the per-node addresses follow pkg/util/net.go:38-67 (.1 router port, .2 management
port, .3 hybrid overlay) and the IPAM excluding .1/.2 (logical_switch_manager.go:53-64), the network and broadcast
addresses (allocator/ip/allocator.go:86-113).
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from ovnplans import NODES, WINDOWS, build, hybrid_config, plan_doc, pod

from cnimodel.plugins.ovn_kubernetes.config import SubnetEntry
from cnimodel.plugins.ovn_kubernetes.subnets import SubnetAllocator


def allocate(cidr: str, host_len: int, n: int) -> list[str]:
    a = SubnetAllocator([SubnetEntry(IPv4Network(cidr), host_len)])
    return [str(a.allocate()) for _ in range(n)]


def test_subnet_allocator_octet_boundary() -> None:
    """TestAllocateSubnet: 10.1.0.0/16 with /24 host subnets hands out 10.1.n.0/24 in order."""
    assert allocate("10.1.0.0/16", 24, 4) == ["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"]


def test_subnet_allocator_larger_host_subnets() -> None:
    """TestAllocateSubnetLargeHostBits: /22 host subnets, 10.1.(4n).0/22."""
    assert allocate("10.1.0.0/16", 22, 3) == ["10.1.0.0/22", "10.1.4.0/22", "10.1.8.0/22"]


def test_subnet_allocator_rotates_the_split_octet() -> None:
    """TestAllocateSubnetSmallHostBits: /26 host subnets take 10.1.n.0/26 for n < 256, then 10.1.n.64/26, then
    10.1.0.128/26 as the 513th; the last is 10.1.255.192/26."""
    got = allocate("10.1.0.0/16", 26, 1024)
    assert got[:3] == ["10.1.0.0/26", "10.1.1.0/26", "10.1.2.0/26"]
    assert got[255] == "10.1.255.0/26" and got[256] == "10.1.0.64/26" and got[512] == "10.1.0.128/26"
    assert got[-1] == "10.1.255.192/26"


def test_openshift_host_subnets(tmp_path: Path) -> None:
    """10.128.0.0/14/23: nine subnet bits, the ninth below the octet: 10.128.0.0, 10.129.0.0, 10.130.0.0,
    10.131.0.0, then 10.128.2.0 (worked by hand from subnet_allocator.go:298-309, :386-416)."""
    nodes = [{"name": f"n{i}", "os": "linux", "ip": f"10.0.0.{10 + i}"} for i in range(5)]
    c = build(tmp_path, [plan_doc(nodes=nodes)])
    assert [str(c.allocation.pod_cidr(f"n{i}")) for i in range(5)] == [
        "10.128.0.0/23", "10.129.0.0/23", "10.130.0.0/23", "10.131.0.0/23", "10.128.2.0/23"]


def test_pod_addresses_after_router_and_management_port(tmp_path: Path) -> None:
    c = build(tmp_path, [plan_doc(), pod("a", "lin1"), pod("b", "lin1")])
    rng = c.allocation.nodes["lin1"].range
    assert rng is not None and rng.gateway == IPv4Address("10.128.0.1")
    assert IPv4Address("10.128.0.2") in rng.reserved_set
    assert c.pod_ip("default/a") == IPv4Address("10.128.0.3")
    assert c.pod_ip("default/b") == IPv4Address("10.128.0.4")


def test_hybrid_overlay_takes_the_third_address(tmp_path: Path) -> None:
    """With the hybrid overlay the node switch's .3 is the distributed-router port (hybrid.go:353-379): pods
    from .4; a Windows node gets its subnet from the hybrid cluster subnets, pods from .3 behind kube-proxy's .2."""
    docs = [plan_doc(nodes=NODES + WINDOWS, cfg=hybrid_config()), pod("a", "lin1"), pod("w", "win1")]
    c = build(tmp_path, docs)
    assert c.pod_ip("default/a") == IPv4Address("10.128.0.4")
    assert c.allocation.pod_cidr("win1") == IPv4Network("10.132.0.0/23")
    assert c.pod_ip("default/w") == IPv4Address("10.132.0.3")


def test_windows_without_hybrid_overlay_has_no_network(tmp_path: Path) -> None:
    c = build(tmp_path, [plan_doc(nodes=NODES + WINDOWS), pod("w", "win1")])
    assert c.allocation.pod_cidr("win1") is None
    assert "default/w" in c.allocation.not_running


def test_annotations_win(tmp_path: Path) -> None:
    """A node annotated by ovnkube keeps its subnet (k8s.ovn.org/node-subnets, single- or dual-stack shape,
    subnet_annotations.go:97-136), node ID and chassis; the others are allocated around it."""
    nodes = [{**NODES[0], "annotations": {"k8s.ovn.org/node-subnets": json.dumps({"default": ["10.128.0.0/23"]}),
                                         "k8s.ovn.org/node-id": "7",
                                         "k8s.ovn.org/node-chassis-id": "11111111-2222-3333-4444-555555555555"}},
             {**NODES[1], "annotations": {"k8s.ovn.org/node-subnets": json.dumps({"default": "10.131.0.0/23"})}},
             {"name": "lin3", "os": "linux", "ip": "10.0.0.13"}]
    c = build(tmp_path, [plan_doc(nodes=nodes)])
    assert [str(c.allocation.pod_cidr(n)) for n in ("lin1", "lin2", "lin3")] == [
        "10.128.0.0/23", "10.131.0.0/23", "10.129.0.0/23"]
    ovn = c.plugin.nodes
    assert ovn["lin1"].node_id == 7 and ovn["lin1"].join_ip == IPv4Address("100.64.0.7")
    assert ovn["lin1"].chassis == "11111111-2222-3333-4444-555555555555"
    assert ovn["lin2"].node_id == 8 and ovn["lin3"].node_id == 9  # the next free IDs after the annotated one


def test_node_ids_and_join_addresses(tmp_path: Path) -> None:
    """IDs from 2 (0 and 1 reserved, zone_cluster_controller.go:51-58); GenerateIP(id) in the join and transit
    subnets (ip_generator.go:36-42)."""
    c = build(tmp_path, [plan_doc()])
    ovn = c.plugin.nodes
    assert [(n.node_id, str(n.join_ip), str(n.transit_ip)) for n in ovn.values()] == [
        (2, "100.64.0.2", "100.88.0.2"), (3, "100.64.0.3", "100.88.0.3")]
