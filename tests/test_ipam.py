"""Allocation of node pod CIDRs and pod IPs, with expected values derived by hand from cni-plugins.md:
kube-controller-manager (§1.1), flannel etcd leases (§3.1, §3.3), host-local (§2), Windows l2bridge (§3.9, §4.2),
capacity (§2.2: a /24 holds 253 Linux pod addresses)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from builders import at, build_docs, cluster_doc, plan_errors, pod_doc, run

from cnimodel.ipam import host_local_range
from cnimodel.plan import PlanError

N = IPv4Network
A = IPv4Address
ORDER = ("master", "lin1", "win1", "win2")


def cidrs(c) -> list[str]:
    return [str(c.allocation.nodes[n].pod_cidr) for n in ORDER]


def with_nodes(**per_node) -> dict:
    """The worked example with extra fields on some nodes: with_nodes(lin1={"podCIDR": ...})."""
    doc = cluster_doc()
    for n in doc["spec"]["nodes"]:
        n.update(per_node.get(n["name"], {}))
    return doc


# ---- kube-controller-manager -------------------------------------------------------------------------------

def test_worked_example_pod_cidrs(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc()])
    assert cidrs(c) == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"]
    assert {c.allocation.nodes[n].cidr_source for n in ORDER} == {"kube-controller-manager"}


def test_existing_pod_cidrs_are_occupied_first(tmp_path: Path) -> None:
    doc = with_nodes(lin1={"podCIDR": "10.244.0.0/24"}, win2={"podCIDR": "10.244.2.0/24"})
    c = build_docs(tmp_path, [doc])
    # index 0 and 2 are taken: master gets 1, win1 gets 3
    assert cidrs(c) == ["10.244.1.0/24", "10.244.0.0/24", "10.244.3.0/24", "10.244.2.0/24"]
    assert c.allocation.nodes["lin1"].cidr_source == "plan"


def test_node_mask_26(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(nodeCIDRMaskSize=26)])
    assert cidrs(c) == ["10.244.0.0/26", "10.244.0.64/26", "10.244.0.128/26", "10.244.0.192/26"]


def test_wide_existing_pod_cidr_occupies_several_indexes(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [with_nodes(win2={"podCIDR": "10.244.0.0/23"})])
    assert cidrs(c)[:3] == ["10.244.2.0/24", "10.244.3.0/24", "10.244.4.0/24"]


# ---- flannel etcd subnet manager -----------------------------------------------------------------------------

def etcd(config: dict, **spec) -> dict:
    return cluster_doc(network={"plugin": "flannel", "backend": "host-gw", "subnetManager": "etcd",
                                "config": config}, **spec)


def test_etcd_defaults_skip_the_first_subnet(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [etcd({"Network": "10.244.0.0/16"})])
    # SubnetLen 24 (prefix ≤ 22); SubnetMin = Network + one subnet = 10.244.1.0
    assert cidrs(c) == ["10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24", "10.244.4.0/24"]
    assert {c.allocation.nodes[n].cidr_source for n in ORDER} == {"flannel-etcd"}


def test_etcd_small_network_uses_prefix_plus_two(tmp_path: Path) -> None:
    doc = etcd({"Network": "10.244.0.0/23"}, clusterCIDR="10.244.0.0/23", nodes=[
        {"name": "a", "ip": "10.240.0.11"}, {"name": "b", "ip": "10.240.0.12"}, {"name": "c", "ip": "10.240.0.13"}])
    c = build_docs(tmp_path, [doc])
    # /23 → SubnetLen 25; SubnetMin 10.244.0.128; SubnetMax = 10.244.2.0 − 128 = 10.244.1.128
    assert [str(c.allocation.nodes[n].pod_cidr) for n in "abc"] == [
        "10.244.0.128/25", "10.244.1.0/25", "10.244.1.128/25"]


def test_etcd_network_of_exactly_22_still_gets_24s(tmp_path: Path) -> None:
    doc = etcd({"Network": "10.244.0.0/22"}, clusterCIDR="10.244.0.0/22", nodes=[
        {"name": "a", "ip": "10.240.0.11"}, {"name": "b", "ip": "10.240.0.12"}, {"name": "c", "ip": "10.240.0.13"},
        {"name": "d", "ip": "10.240.0.14"}])
    ps = plan_errors(tmp_path, [doc])
    # /24 leases 10.244.1-3.0: three fit, the fourth node finds none
    assert [p.origin.path for p in ps] == ["spec.nodes[3]"]
    assert "10.244.1.0/24" in ps[0].message and "10.244.3.0/24" in ps[0].message


def test_etcd_subnet_max_defaults_to_the_last_subnet(tmp_path: Path) -> None:
    doc = etcd({"Network": "10.244.0.0/16", "SubnetMin": "10.244.254.0"})
    ps = plan_errors(tmp_path, [doc])
    # 10.244.254.0 and 10.244.255.0 (the last) are handed out; win1 and win2 find nothing; no wrap-around
    assert [p.origin.path for p in ps] == ["spec.nodes[2]", "spec.nodes[3]"]


def test_etcd_explicit_subnet_len(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [etcd({"Network": "10.244.0.0/16", "SubnetLen": 20})])
    assert cidrs(c) == ["10.244.16.0/20", "10.244.32.0/20", "10.244.48.0/20", "10.244.64.0/20"]


def test_etcd_leases_avoid_given_pod_cidrs(tmp_path: Path) -> None:
    doc = etcd({"Network": "10.244.0.0/16"})
    doc["spec"]["nodes"][1]["podCIDR"] = "10.244.1.0/24"
    c = build_docs(tmp_path, [doc])
    assert cidrs(c) == ["10.244.2.0/24", "10.244.1.0/24", "10.244.3.0/24", "10.244.4.0/24"]


def test_etcd_subnet_min_max_as_plain_addresses(tmp_path: Path) -> None:
    # flannel's net-conf.json holds SubnetMin/SubnetMax as addresses (ip.IP4), the lease length from SubnetLen
    c = build_docs(tmp_path, [etcd({"Network": "10.244.0.0/16", "SubnetMin": "10.244.10.0",
                                    "SubnetMax": "10.244.20.0"})])
    assert cidrs(c) == ["10.244.10.0/24", "10.244.11.0/24", "10.244.12.0/24", "10.244.13.0/24"]


def test_etcd_subnet_max_bounds_the_leases(tmp_path: Path) -> None:
    # SubnetMax 10.244.11.0 is the last lease: two nodes fit, win1 and win2 find none
    ps = plan_errors(tmp_path, [etcd({"Network": "10.244.0.0/16", "SubnetMin": "10.244.10.0",
                                      "SubnetMax": "10.244.11.0"})])
    assert [p.origin.path for p in ps] == ["spec.nodes[2]", "spec.nodes[3]"]
    assert "out of subnets (10.244.10.0/24..10.244.11.0/24)" in ps[0].message
    # more, smaller subnets come from a LONGER SubnetLen
    assert "longer SubnetLen" in ps[0].hint and "shorten" not in ps[0].hint


def test_etcd_unaligned_subnet_min_is_a_plan_error(tmp_path: Path) -> None:
    # flannel's CheckNetworkConfig: 10.244.10.128 & /24 mask != itself → "SubnetMin is not on a SubnetLen boundary"
    ps = plan_errors(tmp_path, [etcd({"Network": "10.244.0.0/16", "SubnetMin": "10.244.10.128"})])
    p = at(ps, "spec.network.config.SubnetMin")
    assert "boundary" in p.message and "10.244.10.128" in p.message
    assert "10.244.10.0" in p.hint and "10.244.11.0" in p.hint
    ps = plan_errors(tmp_path, [etcd({"Network": "10.244.0.0/16", "SubnetMax": "10.244.20.1"})])
    assert "boundary" in at(ps, "spec.network.config.SubnetMax").message


def test_etcd_subnet_min_outside_network(tmp_path: Path) -> None:
    ps = plan_errors(tmp_path, [etcd({"Network": "10.244.0.0/16", "SubnetMin": "10.245.0.0"})])
    assert "not in the range of Network 10.244.0.0/16" in at(ps, "spec.network.config.SubnetMin").message


def test_subnet_min_in_cidr_form_is_an_error_in_either_mode(tmp_path: Path) -> None:
    # flanneld decodes SubnetMin with net.ParseIP, which refuses "10.244.10.0/24", before choosing a subnet manager
    ps = plan_errors(tmp_path, [etcd({"Network": "10.244.0.0/16", "SubnetMin": "10.244.10.0/24"})])
    p = at(ps, "spec.network.config.SubnetMin")
    assert "not an IPv4 address" in p.message and p.hint == "write the address alone: 10.244.10.0"
    kube = cluster_doc(network={"plugin": "flannel", "backend": "host-gw",
                                "config": {"Network": "10.244.0.0/16", "SubnetMax": "10.244.20.0/24"}})
    assert "not an IPv4 address" in at(plan_errors(tmp_path, [kube]), "spec.network.config.SubnetMax").message


def test_kube_mode_ignores_subnet_len(tmp_path: Path) -> None:
    # flannel runs CheckNetworkConfig only for its etcd (local) subnet manager; the kube lease is the podCIDR
    c = build_docs(tmp_path, [cluster_doc(network={"plugin": "flannel", "backend": "host-gw",
                                                   "config": {"Network": "10.244.0.0/16", "SubnetLen": 31,
                                                              "SubnetMin": "10.244.10.128"}})])
    assert cidrs(c) == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"]


def test_kube_mode_network_must_contain_the_pod_cidr(tmp_path: Path) -> None:
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw",
                               "config": {"Network": "10.244.0.0/17", "Backend": {"Type": "host-gw"}}})
    doc["spec"]["nodes"][3]["podCIDR"] = "10.244.200.0/24"
    ps = plan_errors(tmp_path, [doc])
    assert "10.244.200.0/24" in at(ps, "spec.nodes[3]").message


# ---- host-local on Linux ---------------------------------------------------------------------------------------

def test_host_local_linux_sequence(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(), pod_doc("a", "lin1"), pod_doc("b", "lin1"), pod_doc("m", "master")])
    assert c.pod_ip("default/a") == A("10.244.1.2")  # gateway .1 (cni0), first pod .2
    assert c.pod_ip("default/b") == A("10.244.1.3")
    assert c.pod_ip("default/m") == A("10.244.0.2")
    rng = c.allocation.nodes["lin1"].range
    assert rng.gateway == A("10.244.1.1")
    assert rng.end == A("10.244.1.254")  # broadcast excluded
    assert {ip for ip, _ in rng.reserved} == {A("10.244.1.0"), A("10.244.1.1"), A("10.244.1.255")}
    assert rng.usable() == 253


def test_pods_with_status_pod_ip_are_kept_and_skipped(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(), pod_doc("x", "lin1"), pod_doc("given", "lin1", ip="10.244.1.3"),
                              pod_doc("y", "lin1"), pod_doc("z", "lin1")])
    assert c.pod_ip("default/given") == A("10.244.1.3")
    assert [c.pod_ip(f"default/{n}") for n in "xyz"] == [A("10.244.1.2"), A("10.244.1.4"), A("10.244.1.5")]
    assert c.allocation.pods["default/given"].source == "plan"
    assert c.allocation.pods["default/x"].source == "host-local"


def test_pods_on_a_node_are_listed_in_plan_order_whatever_gave_their_address(tmp_path: Path) -> None:
    # Given addresses are checked in a first pass and the others drawn after it; the node's list stays in the
    # order the plan lists its pods. A pod on another node is not in it.
    c = build_docs(tmp_path, [cluster_doc(), pod_doc("x", "lin1"), pod_doc("net", "lin1", hostNetwork=True),
                              pod_doc("given", "lin1", ip="10.244.1.2"), pod_doc("m", "master"),
                              pod_doc("y", "lin1")])
    assert [a.pod.name for a in c.allocation.pods_on("lin1")] == ["x", "net", "given", "y"]
    assert [str(a.ip) for a in c.allocation.pods_on("lin1")] == ["10.244.1.3", "10.240.0.10", "10.244.1.2",
                                                                 "10.244.1.4"]


def test_given_addresses_at_the_range_bounds(tmp_path: Path) -> None:
    # lin1's range is 10.244.1.1-10.244.1.254 (.1 is the gateway, reserved); .254 is the last a pod may hold.
    c = build_docs(tmp_path, [cluster_doc(), pod_doc("last", "lin1", ip="10.244.1.254")])
    assert c.pod_ip("default/last") == A("10.244.1.254")
    errors = plan_errors(tmp_path, [cluster_doc(), pod_doc("bcast", "lin1", ip="10.244.1.255"),
                                    pod_doc("gw", "lin1", ip="10.244.1.1"), pod_doc("below", "lin1", ip="10.244.0.9")])
    outside = "is outside node 'lin1''s pod range (10.244.1.1-10.244.1.254 in 10.244.1.0/24)"
    assert [(e.origin.path, e.message) for e in errors] == [
        ("status.podIP", f"10.244.1.255 {outside}"),
        ("status.podIP", "10.244.1.1 is reserved on node 'lin1' (gateway)"),
        ("status.podIP", f"10.244.0.9 {outside}"),
    ]


def test_host_network_pods_take_the_node_ip_and_no_pod_address(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(), pod_doc("proxy", "lin1", hostNetwork=True), pod_doc("a", "lin1")])
    assert c.pod_ip("default/proxy") == A("10.240.0.10")
    assert c.pod_ip("default/a") == A("10.244.1.2")


def test_broadcast_never_allocated(tmp_path: Path) -> None:
    pods = [pod_doc(f"p{i}", "lin1") for i in range(13)]
    c = build_docs(tmp_path, [cluster_doc(nodeCIDRMaskSize=28), *pods])
    # lin1 = 10.244.0.16/28: .17 gateway, pods .18-.30, .31 broadcast
    ips = [c.pod_ip(f"default/p{i}") for i in range(13)]
    assert ips == [A("10.244.0.16") + k for k in range(2, 15)]
    assert A("10.244.0.31") not in ips


def test_host_local_custom_gateway_makes_dot_one_allocatable() -> None:
    """§2.2: rangeStart defaults to .1; with a gateway elsewhere .1 is the first address handed out."""
    rng = host_local_range(N("10.244.1.0/24"), gateway=A("10.244.1.254"))
    assert next(rng.addresses()) == A("10.244.1.1")
    assert A("10.244.1.254") not in set(rng.addresses())


# ---- Windows l2bridge -------------------------------------------------------------------------------------------

def test_windows_l2bridge_pods_from_dot_three(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(), pod_doc("w0", "win1"), pod_doc("w1", "win1")])
    assert c.pod_ip("default/w0") == A("10.244.2.3")
    assert c.pod_ip("default/w1") == A("10.244.2.4")
    rng = c.allocation.nodes["win1"].range
    assert rng.gateway == A("10.244.2.2")  # the pods' gateway is cbr0_ep, not the HNS gateway .1
    reasons = dict(rng.reserved)
    assert set(reasons) == {A("10.244.2.0"), A("10.244.2.1"), A("10.244.2.2"), A("10.244.2.255")}
    assert "cbr0_ep" in reasons[A("10.244.2.2")]
    assert rng.usable() == 252


def test_windows_dot_two_collision_warned_once(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc()])
    collision = [w for w in c.warnings if "cbr0_ep" in w.message]
    assert len(collision) == 1  # one warning for the cluster, not one per Windows node
    assert ".2" in collision[0].message and "74766" in collision[0].message


def test_no_collision_warning_without_windows_nodes(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(nodes=[{"name": "a", "ip": "10.240.0.5"}])])
    assert not [w for w in c.warnings if "cbr0_ep" in w.message]


def win_bridge_doc(ipam: dict | None) -> dict:
    conf = {"name": "cbr0", "type": "win-bridge", "ApiVersion": 2}
    if ipam is not None:
        conf["ipam"] = ipam
    return cluster_doc(network={"plugin": "win-bridge", "config": conf},
                       nodes=[{"name": "win1", "os": "windows", "ip": "10.240.0.20", "podCIDR": "10.244.2.0/24"}])


def test_win_bridge_range_start_three_avoids_the_collision(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [win_bridge_doc({"type": "host-local", "rangeStart": "10.244.2.3"}),
                              pod_doc("w", "win1")])
    assert c.pod_ip("default/w") == A("10.244.2.3")
    assert c.allocation.nodes["win1"].range.note == ""


def test_win_bridge_default_range_notes_the_collision(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [win_bridge_doc(None), pod_doc("w", "win1")])
    assert c.pod_ip("default/w") == A("10.244.2.3")
    assert "cbr0_ep" in c.allocation.nodes["win1"].range.note


# ---- capacity ------------------------------------------------------------------------------------------------

def test_capacity_worked_example(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc()])
    a = c.allocation
    assert a.max_nodes == 256  # /16 at /24
    assert a.free_node_cidrs == 252
    assert {n: a.nodes[n].capacity for n in ORDER} == dict.fromkeys(ORDER, 110)  # maxPods < 253 / 252


def test_capacity_limited_by_the_range(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(nodeCIDRMaskSize=26)])
    a = c.allocation
    assert a.max_nodes == 1024  # /16 at /26
    # /26: Linux .2-.62 = 61; Windows .3-.62 = 60 (both under maxPods 110)
    assert [a.nodes[n].capacity for n in ORDER] == [61, 61, 60, 60]


def test_capacity_limited_by_max_pods(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [with_nodes(lin1={"maxPods": 30})])
    assert c.allocation.nodes["lin1"].capacity == 30


def test_errors_are_plan_errors(tmp_path: Path) -> None:
    with pytest.raises(PlanError):
        build_docs(tmp_path, [cluster_doc(clusterCIDR="10.244.0.0/23")])


def test_text_names_reserved_addresses_by_the_octets_the_pod_cidr_leaves_free() -> None:
    """ovn-kubernetes' /23 host subnets: the broadcast address of 10.128.0.0/23 is 10.128.1.255, so the short
    form is .1.255 (a bare .255 would name 10.128.0.255, a pod address)."""
    plan = Path(__file__).parent.parent / "topologies" / "ovn-kubernetes-hybrid.yaml"
    out = run("ipam", str(plan)).output
    words = out.split()
    assert {".0.0", ".0.1", ".0.2", ".1.255"} <= set(words)
    assert ".255" not in words
