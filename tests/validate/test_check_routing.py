"""Routing checks. Expected values by hand: host routes need an on-link next hop (cni-plugins.md §3.6, §8);
host-gw holds N−1 pod routes per node (tools-and-planning.md §4.1); the kernel's neighbour table holds
gc_thresh3 = 1024 entries and flannel vxlan adds one permanent entry per peer (§3.7, §3.8.13); a Linux bridge
takes at most 1023 ports (BR_MAX_PORTS 1024, port 0 unused)."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from vplans import VXLAN_4096, cluster_doc, hits

TWO_SUBNETS = {"subnets": [{"name": "a", "cidr": "10.240.0.0/24"}, {"name": "b", "cidr": "10.240.1.0/24"}]}
THREE = [{"name": "n1", "ip": "10.240.0.4"}, {"name": "n2", "ip": "10.240.0.5"}, {"name": "n3", "ip": "10.240.1.4"}]


def many(n: int, network: dict | None = None) -> dict:
    """``n`` Linux nodes on one /20 (a /11 cluster CIDR holds 8,192 node /24s)."""
    base = int(IPv4Address("10.128.0.0"))
    node_list = [{"name": f"n{i:04d}", "ip": str(IPv4Address(base + 2 + i))} for i in range(n)]
    net = network or {"plugin": "flannel", "backend": "host-gw",
                      "config": {"Network": "10.0.0.0/11", "Backend": {"Type": "host-gw"}}}
    return cluster_doc(clusterCIDR="10.0.0.0/11", network=net, nodes=node_list,
                       underlay={"subnets": [{"name": "big", "cidr": "10.128.0.0/20"}]})


def test_route001_host_gw_across_subnets(tmp_path):
    found = hits(tmp_path, [cluster_doc(nodes=THREE, underlay=TWO_SUBNETS)], "CNI-ROUTE-001")
    by_rep = {f.objects[0]: f for f in found}
    assert set(by_rep) == {"n1[Node]", "n3[Node]"}  # one finding per kind of node: subnet a (n1, n2), subnet b (n3)
    assert "have no route to the pods of 1 node(s): 1 on subnet b (n3)" in by_rep["n1[Node]"].message
    assert "to the pods of 2 node(s): 2 on subnet a (n1, n2)" in by_rep["n3[Node]"].message


def test_route001_cloud_routes_or_an_overlay_reach_other_subnets(tmp_path):
    kubenet = {"plugin": "kubenet"}
    assert hits(tmp_path, [cluster_doc(nodes=THREE, network=kubenet, underlay={**TWO_SUBNETS, "routes": "host"})],
                "CNI-ROUTE-001")
    assert not hits(tmp_path, [cluster_doc(nodes=THREE, network=kubenet, underlay={**TWO_SUBNETS, "routes": "cloud"})],
                    "CNI-ROUTE-001")
    assert not hits(tmp_path, [cluster_doc(nodes=THREE, network=VXLAN_4096, underlay=TWO_SUBNETS)], "CNI-ROUTE-001")
    assert not hits(tmp_path, [cluster_doc()], "CNI-ROUTE-001")  # one subnet: host-gw is fine


def test_route001_win_bridge_without_cloud_routes(tmp_path):
    win = [*THREE, {"name": "w1", "os": "windows", "ip": "10.240.1.20", "windowsBuild": 20348}]
    found = hits(tmp_path, [cluster_doc(nodes=win, network={"plugin": "win-bridge"}, underlay=TWO_SUBNETS)],
                 "CNI-ROUTE-001")
    assert any(f.objects[0] == "w1[Node]" and "(n1, n2)" in f.message for f in found)


def test_route002_route_table_limit(tmp_path):
    four = cluster_doc(nodes=[{"name": f"n{i}", "ip": f"10.240.0.{4 + i}"} for i in range(4)],
                       network={"plugin": "kubenet"}, underlay={"subnets": [{"name": "s", "cidr": "10.240.0.0/24"}],
                                                                "routes": "cloud"})
    found = hits(tmp_path, [four], "CNI-ROUTE-002", route_table_limit=3)
    assert len(found) == 1 and "needs 4 pod routes" in found[0].message and "holds 3" in found[0].message
    assert "(n3)" in found[0].message  # the route past the limit
    assert not hits(tmp_path, [four], "CNI-ROUTE-002", route_table_limit=4)
    assert not hits(tmp_path, [four], "CNI-ROUTE-002", cloud="aws")  # AWS's default table holds 50
    four["spec"]["network"]["config"] = {"routeTableLimit": 2}
    assert "holds 2" in hits(tmp_path, [four], "CNI-ROUTE-002")[0].message


@pytest.mark.parametrize(("n", "routes", "neigh"), [(1002, True, True), (900, False, False)])
def test_route003_route004_host_gw_at_scale(tmp_path, n, routes, neigh):
    # 1002 nodes: 1001 pod routes each (> 1000); neighbours 1001 peers + gateway + 110 pods = 1112 > 1024.
    # 900 nodes: 899 routes; 899 + 1 + 110 = 1010 ≤ 1024.
    doc = many(n)
    r3 = hits(tmp_path, [doc], "CNI-ROUTE-003")
    r4 = hits(tmp_path, [doc], "CNI-ROUTE-004")
    assert bool(r3) == routes and bool(r4) == neigh
    if routes:
        assert f"hold {n - 1:,} pod routes each" in r3[0].message
        assert f"may need {n - 1 + 1 + 110:,} neighbour entries" in r4[0].message


def test_route004_vxlan_adds_permanent_neighbours(tmp_path):
    # 500 nodes: host-gw needs 499 + 1 + 110 = 610; vxlan adds 499 permanent entries on flannel.4096 → 1109.
    assert not hits(tmp_path, [many(500)], "CNI-ROUTE-004")
    net = {**VXLAN_4096, "config": {**VXLAN_4096["config"], "Network": "10.0.0.0/11"}}
    found = hits(tmp_path, [many(500, net)], "CNI-ROUTE-004")
    assert len(found) == 1 and "1,109 neighbour entries" in found[0].message and "499 permanent" in found[0].message


def test_route005_bridge_ports(tmp_path):
    def doc(max_pods: int) -> dict:
        return cluster_doc(nodes=[{"name": "big", "ip": "10.240.0.4", "maxPods": max_pods}])
    found = hits(tmp_path, [doc(1024)], "CNI-ROUTE-005")
    assert len(found) == 1 and "bridge cni0" in found[0].message and "1023 ports" in found[0].message
    assert not hits(tmp_path, [doc(1023)], "CNI-ROUTE-005")


def test_route006_a_stale_route_loops(tmp_path):
    # kubenet on a cloud route table; a user-defined route sends 10.244.9.0/24 to n1 (10.240.0.5), which holds
    # 10.244.1.0/24 and sends everything else to its gateway: the route table again
    def doc(static: list[dict]) -> dict:
        d = cluster_doc(nodes=[{"name": "n0", "ip": "10.240.0.4"}, {"name": "n1", "ip": "10.240.0.5"}],
                        network={"plugin": "kubenet"})
        d["spec"]["underlay"] = {"name": "rt", "subnets": [{"name": "aks", "cidr": "10.240.0.0/16"}],
                                 "routes": "cloud", "staticRoutes": static}
        return d
    found = hits(tmp_path, [doc([{"prefix": "10.244.9.0/24", "nextHop": "10.240.0.5"}])], "CNI-ROUTE-006")
    assert len(found) == 1 and found[0].severity == "error"
    assert "10.244.9.0/24" in found[0].message and "loop between rt and n1" in found[0].message
    assert not hits(tmp_path, [doc([{"prefix": "10.244.1.0/25", "nextHop": "10.240.0.5"}])], "CNI-ROUTE-006")
