"""The logical topology's names, addresses, routes, policies and NAT, against ovn-kubernetes' code.

Two Linux nodes (lin1 10.0.0.11 → 10.128.0.0/23, join 100.64.0.2; lin2 10.0.0.12 → 10.129.0.0/23, join
100.64.0.3), underlay gateway 10.0.0.1. Each expected value is written from the upstream line cited beside it.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

from ovnplans import NODES, WINDOWS, build, config, hybrid_config, plan_doc, pod

from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.nbmodel import Northbound


def nb(tmp_path: Path, docs: list) -> Northbound:
    c = build(tmp_path, docs)
    return c.plugin.northbound(c)


def test_hash_for_ovn_is_fnv1a_64() -> None:
    """HashForOVN (pkg/util/util.go:281-290) prints FNV-1a 64 in decimal after 'a'; FNV-1a's published test
    vectors: '' → 0xcbf29ce484222325, 'a' → 0xaf63dc4c8601ec8c."""
    assert names.hash_for_ovn("") == f"a{0xcbf29ce484222325}"
    assert names.hash_for_ovn("a") == f"a{0xaf63dc4c8601ec8c}"


def test_mac_from_ip() -> None:
    """IPAddrToHWAddr (net.go:101-111): 0a:58 and the address bytes."""
    assert names.mac_of(IPv4Address("10.244.0.1")) == "0a:58:0a:f4:00:01"
    assert names.mac_of(IPv4Address("100.64.0.1")) == "0a:58:64:40:00:01"


def test_node_switch(tmp_path: Path) -> None:
    top = nb(tmp_path, [plan_doc(), pod("a", "lin1")])
    sw = top.switch("lin1")
    assert sw is not None and dict(sw.other_config) == {"subnet": "10.128.0.0/23"}
    ports = {p.name: p for p in sw.ports}
    stor = ports["stor-lin1"]  # createNodeLogicalSwitch (base_network_controller.go:429-437)
    assert stor.type == "router" and stor.addresses == ("router",)
    assert dict(stor.options)["router-port"] == "rtos-lin1"
    # the kubevirt ARP proxy: its MAC and IPs then the cluster subnets (kubevirt/switch.go:12-20, :49-55)
    assert dict(stor.options)["arp_proxy"] == "0a:58:a9:fe:01:01 169.254.1.1 fe80::1 10.128.0.0/14"
    assert ports["k8s-lin1"].addresses == ("0a:58:0a:80:00:02 10.128.0.2",)  # syncNodeManagementPort :645-694
    a = ports["default_a"]  # the pod: MAC from IP, port security, requested-chassis (pods.go :516-583)
    assert a.addresses == a.port_security == ("0a:58:0a:80:00:03 10.128.0.3",)
    assert dict(a.options) == {"requested-chassis": "lin1"}
    assert sw.load_balancer_groups == ("clusterLBGroup", "clusterSwitchLBGroup")
    # addAllowACLFromNode: to-lport 1001 ip4.src==<mgmt> allow-related (base_network_controller_policy.go:324-349)
    assert [(x.direction, x.priority, x.match, x.action) for x in sw.acls] == [
        ("to-lport", 1001, "ip4.src==10.128.0.2", "allow-related")]


def test_cluster_router(tmp_path: Path) -> None:
    r = nb(tmp_path, [plan_doc()]).router("ovn_cluster_router")
    assert r is not None
    ports = {p.name: p for p in r.ports}
    assert ports["rtoj-ovn_cluster_router"].networks == ("100.64.0.1/16",)  # topologyfactory.go:100-113
    assert ports["rtoj-ovn_cluster_router"].mac == "0a:58:64:40:00:01"
    assert ports["rtos-lin1"].networks == ("10.128.0.1/23",) and ports["rtos-lin1"].mac == "0a:58:0a:80:00:01"
    chassis = ports["rtos-lin1"].gateway_chassis[0]  # syncNodeClusterRouterPort (:310-314)
    assert chassis.name == f"rtos-lin1-{chassis.chassis_name}" and chassis.priority == 1
    routes = {(s.ip_prefix, s.nexthop, s.policy) for s in r.static_routes}
    assert ("100.64.0.2", "100.64.0.2", None) in routes             # gateway.go:604-627
    assert ("10.128.0.0/23", "100.64.0.2", "src-ip") in routes      # gateway.go:629-672 (shared gateway)
    policies = [(p.priority, p.match, p.action, p.nexthops) for p in r.policies]
    # generateNodeIPMatch (policybasedroutes.go:262-264), reroute to the management port
    assert (1004, 'inport == "rtos-lin1" && ip4.dst == 10.0.0.11 /* lin1 */', "reroute", ("10.128.0.2",)) in policies
    assert dict(r.options) == {"always_learn_from_arp_request": "false"}


def test_local_gateway_routes_through_the_management_port(tmp_path: Path) -> None:
    """Local gateway: the src-ip route goes to the node's .2 (base_network_controller.go:668-688)."""
    r = nb(tmp_path, [plan_doc(cfg=config(gateway={"mode": "local"}))]).router("ovn_cluster_router")
    assert r is not None
    assert ("10.128.0.0/23", "10.128.0.2", "src-ip") in {(s.ip_prefix, s.nexthop, s.policy) for s in r.static_routes}


def test_gateway_router_and_external_switch(tmp_path: Path) -> None:
    top = nb(tmp_path, [plan_doc()])
    gr = top.router("GR_lin1")
    assert gr is not None
    ports = {p.name: p for p in gr.ports}
    assert ports["rtoj-GR_lin1"].networks == ("100.64.0.2/16",) and ports["rtoj-GR_lin1"].mac == "0a:58:64:40:00:02"
    assert dict(ports["rtoj-GR_lin1"].options) == {"gateway_mtu": "1400"}  # gateway.go:420-431
    assert ports["rtoe-GR_lin1"].networks == ("10.0.0.11/24",)
    routes = {(s.ip_prefix, s.nexthop, s.output_port) for s in gr.static_routes}
    assert ("10.128.0.0/14", "100.64.0.1", None) in routes           # gateway.go:458-500
    assert ("169.254.169.0/29", "169.254.169.4", "rtoe-GR_lin1") in routes  # :539-566
    assert ("0.0.0.0/0", "10.0.0.1", "rtoe-GR_lin1") in routes       # :567-596
    assert {(n.type, n.external_ip, n.logical_ip) for n in gr.nat} == {
        ("snat", "10.0.0.11", "100.64.0.2"), ("snat", "10.0.0.11", "10.128.0.0/14")}  # :761-817
    opts = dict(gr.options)  # gateway.go:279-290
    assert (opts["lb_force_snat_ip"], opts["snat-ct-zone"], opts["dynamic_neigh_routers"]) == ("router_ip", "0", "true")
    assert gr.load_balancer_groups == ("clusterLBGroup", "clusterRouterLBGroup")
    ext = top.switch("ext_lin1")  # addExternalSwitch (gateway.go:831-934), bridgedGatewayNodeSetup (:68)
    assert ext is not None
    localnet = next(p for p in ext.ports if p.type == "localnet")
    assert localnet.name == "breth0_lin1" and dict(localnet.options) == {"network_name": "physnet"}
    assert localnet.addresses == ("unknown",)


def test_hybrid_overlay_topology(tmp_path: Path) -> None:
    """The int-<node> port holds the .3's MAC and no address; the cluster router reroutes the hybrid cluster
    subnet to .3 (priority 1002) and binds .3 to that MAC (hybrid.go:104-128, :189-228)."""
    top = nb(tmp_path, [plan_doc(nodes=NODES + WINDOWS, cfg=hybrid_config())])
    sw = top.switch("lin1")
    assert sw is not None
    assert next(p for p in sw.ports if p.name == "int-lin1").addresses == ("0a:58:0a:80:00:03",)
    r = top.router("ovn_cluster_router")
    assert r is not None
    assert (1002, 'inport == "rtos-lin1" && ip4.dst == 10.132.0.0/14', ("10.128.0.3",)) in {
        (p.priority, p.match, p.nexthops) for p in r.policies}
    assert ("rtos-lin1", "10.128.0.3", "0a:58:0a:80:00:03") in {
        (b.logical_port, b.ip, b.mac) for b in top.static_mac_bindings}
    assert top.switch("win1") is None and top.router("GR_win1") is None  # no OVN on Windows


def test_windows_node_hybrid_overlay_network(tmp_path: Path) -> None:
    """hybrid-overlay-node.exe's HNS Overlay network OVNKubernetesHybridOverlayNetwork over the node's hybrid
    subnet, VSID 4097, and a RemoteSubnetRoute per Linux node: its subnet, its IP, the MAC of its .3 as the
    distributed router MAC (net.HardwareAddr's lower-case form), isolation ID 4097 (ho_node_windows.go:24,
    :164-216, :264-302; types.go:26; hybrid.go:84-86)."""
    c = build(tmp_path, [plan_doc(nodes=NODES + WINDOWS, cfg=hybrid_config())])
    f = c.facts("win1")
    [net] = f.hns_networks
    assert (net.name, net.type, str(net.prefix), str(net.gateway)) == (
        "OVNKubernetesHybridOverlayNetwork", "Overlay", "10.132.0.0/23", "10.132.0.1")
    assert [dict(p.settings) for p in net.subnet_policies] == [{"IsolationId": 4097}]
    routes = {p.settings["DestinationPrefix"]: dict(p.settings) for p in net.policies if p.type == "RemoteSubnetRoute"}
    assert routes["10.128.0.0/23"] == {"DestinationPrefix": "10.128.0.0/23", "IsolationId": 4097,
                                       "ProviderAddress": "10.0.0.11",
                                       "DistributedRouterMacAddress": "0a:58:0a:80:00:03"}
    assert not c.enforcement("win1").enforced


def test_host_side(tmp_path: Path) -> None:
    """ovn-k8s-mp0 with .2, the cluster range via .1, the service range via 169.254.169.4 on breth0
    (management-port_linux.go:66-95, :180-206; gateway_init.go:285-314)."""
    c = build(tmp_path, [plan_doc()])
    f = c.facts("lin1")
    mp0 = f.device("ovn-k8s-mp0")
    assert mp0 is not None and [str(a) for a in mp0.addresses] == ["10.128.0.2/23"]
    breth0 = f.device("breth0")
    assert breth0 is not None and [str(a) for a in breth0.addresses] == ["10.0.0.11/24", "169.254.169.2/29"]
    routes = {(str(r.dst), str(r.via) if r.via else None, r.dev) for r in f.routes}
    assert ("10.128.0.0/14", "10.128.0.1", "ovn-k8s-mp0") in routes
    assert ("172.30.0.0/16", "169.254.169.4", "breth0") in routes
    assert ("0.0.0.0/0", "10.0.0.1", "breth0") in routes
    assert c.enforcement("lin1").enforced
