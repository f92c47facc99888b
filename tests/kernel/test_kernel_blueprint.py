"""What `netns up` would build, checked without a kernel: names, sample pods, and each namespace's links,
addresses, routes, neighbours and FDB entries against the reference (cni-plugins.md §3.6, §3.7, §10) and the
2018 talk's cloud route table. Expected values are written out by hand here, not taken from cnimodel."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from cnimodel import examples
from cnimodel.kernel.blueprint import Blueprint
from cnimodel.kernel.naming import IFNAMSIZ, Names, kernel_name, plan_prefix, valid_ifname
from cnimodel.kernel.sampling import blueprint
from cnimodel.plan import load_plan


def bp_of(name: str, k: int = 2) -> Blueprint:
    return blueprint(load_plan([examples.path(name)]), k)


def routes(bp: Blueprint, node: str) -> set[tuple[str, str | None, str | None, bool]]:
    space = bp.node_space(node)
    assert space is not None
    return {(str(r.dst), str(r.via) if r.via else None, r.dev, r.onlink) for r in space.routes}


# ------------------------------------------------------------------ names

def test_prefix_is_cm_and_five_hex_digits_and_depends_on_the_plan_name() -> None:
    p = plan_prefix("hybrid-hostgw")
    assert len(p) == 7 and p.startswith("cm") and int(p[2:], 16) >= 0
    assert plan_prefix("hybrid-vxlan") != p
    assert plan_prefix("hybrid-hostgw") == p


def test_link_names_fit_ifnamsiz_even_for_the_5000th_node() -> None:
    n = Names("some-plan")
    for name in (n.subnet_bridge(63), n.uplink_port(4999), n.pod_veth("kube-system/" + "x" * 250)):
        assert valid_ifname(name) and len(name) <= IFNAMSIZ
        assert name.startswith(("veth", n.prefix))


@pytest.mark.parametrize(("model", "kernel"), [
    ("eth0", "eth0"), ("cni0", "cni0"), ("flannel.4096", "flannel.4096"),
    ("vEthernet (Ethernet)", "vEth-Ethernet"), ("vEthernet (cbr0_ep)", "vEth-cbr0_ep"),
])
def test_kernel_names_keep_linux_names_and_shorten_windows_vnics(model: str, kernel: str) -> None:
    assert kernel_name(model) == kernel


def test_a_long_windows_name_still_fits_and_stays_distinct() -> None:
    a, b = kernel_name("vEthernet (a-very-long-adapter-name-1)"), kernel_name("vEthernet (a-very-long-adapter-name-2)")
    assert valid_ifname(a) and valid_ifname(b) and a != b


def test_node_and_pod_namespaces_cannot_collide() -> None:
    n = Names("p")
    # A node called "p-default_x" is impossible (no "_" in Kubernetes names), so the forms stay apart.
    assert n.node("default") != n.pod("default/x") and n.owns(n.pod("default/x")) and n.owns(n.underlay)
    assert not n.owns("other-ns")


# ------------------------------------------------------------------ sample pods

def test_sample_pods_top_up_each_node_after_the_plans_own_pods() -> None:
    bp = bp_of("default.yaml", 2)
    # host-local: lin1's client is the first pod (.2), the sample the second (.3); Windows L2Bridge pods
    # start at .3 (.2 is cbr0_ep), so win1's iis-0 is .3 and its sample .4 (cni-plugins.md §10.1).
    got = {k: str(p.ip) for k, p in bp.pods.items()}
    assert got["default/client"] == "10.244.1.2" and got["netns-sample/lin1-1"] == "10.244.1.3"
    assert got["web/iis-0"] == "10.244.2.3" and got["netns-sample/win1-1"] == "10.244.2.4"
    assert got["netns-sample/master-0"] == "10.244.0.2" and got["netns-sample/master-1"] == "10.244.0.3"
    assert len(bp.pods) == 8


def test_pods_per_node_zero_realises_no_pod_and_one_keeps_the_plans_own() -> None:
    assert bp_of("default.yaml", 0).pods == {}
    assert set(bp_of("default.yaml", 1).pods) == {"netns-sample/master-0", "default/client", "web/iis-0",
                                                    "web/iis-1"}


# ------------------------------------------------------------------ host-gw (§3.6, §10.1)

def test_hostgw_linux_node_gets_a_route_per_remote_node_via_its_ip() -> None:
    bp = bp_of("default.yaml")
    assert routes(bp, "lin1") == {
        ("0.0.0.0/0", "10.240.0.1", "eth0", False),
        ("10.244.0.0/24", "10.240.0.4", "eth0", False),
        ("10.244.2.0/24", "10.240.0.20", "eth0", False),
        ("10.244.3.0/24", "10.240.0.30", "eth0", False),
    }  # the connected routes of eth0 and cni0 come from their addresses, not from `route add`
    space = bp.node_space("lin1")
    assert space is not None
    assert {(str(r.dst), r.proto, str(r.src)) for r in space.expect if r.proto == "kernel"} == {
        ("10.240.0.0/24", "kernel", "10.240.0.10"), ("10.244.1.0/24", "kernel", "10.244.1.1")}


def test_hostgw_windows_node_is_a_bridge_holding_cbr0_ep_with_the_nodes_routes() -> None:
    bp = bp_of("default.yaml")
    ns = bp.names.node("win1")
    bridges = {b.name: b for b in bp.bridges if b.ns == ns}
    assert set(bridges) == {"vEth-cbr0_ep"}
    assert bridges["vEth-cbr0_ep"].addresses == (IPv4Interface("10.244.2.2/24"),)
    assert routes(bp, "win1") == {
        ("0.0.0.0/0", "10.240.0.1", "vEth-Ethernet", False),
        ("10.244.0.0/24", "10.240.0.4", "vEth-Ethernet", False),
        ("10.244.1.0/24", "10.240.0.10", "vEth-Ethernet", False),
        ("10.244.3.0/24", "10.240.0.30", "vEth-Ethernet", False),
    }
    # Pods hang off that bridge with .2 as their gateway (win-bridge: gateway = subnet + 2, §4.2).
    assert bp.pods["web/iis-0"].gateway == IPv4Address("10.244.2.2")
    pod_end = next(v.a for v in bp.veths if v.a.ns == bp.names.pod("web/iis-0"))
    assert pod_end.addresses == (IPv4Interface("10.244.2.3/24"),)
    assert next(v.b for v in bp.veths if v.a.ns == bp.names.pod("web/iis-0")).master == "vEth-cbr0_ep"


def test_uplinks_join_their_subnets_bridge_in_the_underlay_namespace() -> None:
    bp = bp_of("default.yaml")
    (bridge,) = [b for b in bp.bridges if b.ns == bp.names.underlay]
    assert bridge.addresses == (IPv4Interface("10.240.0.1/24"),)  # the router is the subnet's gateway
    ups = [v for v in bp.veths if v.b.ns == bp.names.underlay]
    assert {str(v.a.addresses[0]) for v in ups} == {"10.240.0.4/24", "10.240.0.10/24", "10.240.0.20/24",
                                                     "10.240.0.30/24"}
    assert {v.b.master for v in ups} == {bridge.name}
    assert bp.space(bp.names.underlay).routes == []  # host-gw: the router holds no pod route


# ------------------------------------------------------------------ vxlan (§3.7, §10.2)

def test_vxlan_linux_node_gets_flannel_4096_with_onlink_routes_neighbours_and_fdb() -> None:
    bp = bp_of("hybrid-vxlan.yaml")
    ns = bp.names.node("lin1")
    (vx,) = [x for x in bp.tunnels if x.ns == ns]
    assert (vx.name, vx.vni, vx.port, vx.local, vx.mtu, vx.link) == (
        "flannel.4096", 4096, 4789, IPv4Address("10.240.0.10"), 1450, "eth0")
    assert vx.addresses == (IPv4Interface("10.244.1.0/32"),)
    assert ("10.244.2.0/24", "10.244.2.0", "flannel.4096", True) in routes(bp, "lin1")
    space = bp.node_space("lin1")
    assert space is not None
    win1_mac = next(x.mac for x in bp.tunnels if x.ns == bp.names.node("win1"))
    assert (IPv4Address("10.244.2.0"), win1_mac) in {(n.ip, n.mac) for n in space.neighbors}
    assert (win1_mac, IPv4Address("10.240.0.20")) in {(e.mac, e.dst) for e in space.fdb}
    cni0 = next(b for b in bp.bridges if b.ns == ns)
    assert cni0.mtu == 1450  # flannel hands the bridge FLANNEL_MTU = 1500 - 50


def test_windows_overlay_is_emulated_with_the_windows_vni_port_and_remote_subnet_routes() -> None:
    bp = bp_of("hybrid-vxlan.yaml")
    ns = bp.names.node("win1")
    (vx,) = [x for x in bp.tunnels if x.ns == ns]
    assert (vx.vni, vx.port, vx.local) == (4096, 4789, IPv4Address("10.240.0.20"))
    (br,) = [b for b in bp.bridges if b.ns == ns]
    assert br.addresses == (IPv4Interface("10.244.2.1/24"),)  # the HNS network's gateway .1 (§3.10)
    assert {r[0] for r in routes(bp, "win1") if r[3]} == {"10.244.0.0/24", "10.244.1.0/24", "10.244.3.0/24"}
    # win-overlay pod MAC: 0E-2A + the IP's bytes (§5.2)
    pod = next(v.a for v in bp.veths if v.a.ns == bp.names.pod("default/iis-0"))
    assert pod.mac == "0e:2a:0a:f4:02:03"


def test_direct_routing_uses_the_uplink_on_the_same_rack_and_vxlan_across() -> None:
    bp = bp_of("linux-vxlan-directrouting.yaml")
    assert routes(bp, "lin1") >= {
        ("10.244.0.0/24", "10.240.0.4", "eth0", False),
        ("10.244.2.0/24", "10.240.0.11", "eth0", False),
        ("10.244.3.0/24", "10.244.3.0", "flannel.1", True),
        ("10.244.4.0/24", "10.244.4.0", "flannel.1", True),
    }
    assert len([b for b in bp.bridges if b.ns == bp.names.underlay]) == 2  # one bridge per rack


# ------------------------------------------------------------------ cloud route table (the 2018 talk)

def test_cloud_routes_go_into_the_router_namespace() -> None:
    bp = bp_of("talk-l2bridge-cloud.yaml")
    got = {(r.dst, r.via) for r in bp.space(bp.names.underlay).routes}
    assert {(IPv4Network("10.244.1.0/24"), IPv4Address("10.240.0.10")),
            (IPv4Network("10.244.2.0/24"), IPv4Address("10.240.0.20"))} <= got
    assert routes(bp, "lin1") == {("0.0.0.0/0", "10.240.0.1", "eth0", False)}  # no pod routes on the host
    assert any("Internet" in n for n in bp.notes)  # the way out is left out, and said so


# ------------------------------------------------------------------ which pairs get packets

def test_every_ordered_pair_when_few_and_one_per_node_pair_when_many() -> None:
    from cnimodel.kernel.compare import pod_pairs

    bp = bp_of("default.yaml", 2)  # 8 pods: 8 · 7 = 56 ordered pairs
    assert len(pod_pairs(bp, 56)) == 56
    few = pod_pairs(bp, 55)
    # 4 nodes → 16 ordered node pairs, each with one pod pair (the same node with its two pods)
    assert len(few) == 16 and len({(a.node, b.node) for a, b in few}) == 16
    assert all(a is not b for a, b in few)
    assert len(pod_pairs(bp, 10)) == 10


def test_waves_keep_each_ones_neighbour_entries_within_the_room() -> None:
    from cnimodel.kernel.arp import needs as _needs
    from cnimodel.kernel.arp import waves
    from cnimodel.kernel.compare import pod_pairs

    bp = bp_of("linux-vxlan-directrouting.yaml", 2)
    pairs = pod_pairs(bp, 10_000)
    assert len(waves(pairs, 10_000)) == 1
    small = waves(pairs, 40)
    assert len(small) > 1 and sum(len(w) for w in small) == len(pairs)
    for w in small:
        need: set[tuple[str, ...]] = set()
        for a, b in w:
            need |= _needs(a, b)
        assert len(need) <= 40 or len(w) == 1
    # two pods on one node need only their gateway and their node's entries for them
    a, b = (p for p in bp.pods.values() if p.node == "lin1")
    assert len(_needs(a, b)) == 4
