"""The logical topology ovnkube builds for the default network, one node at a time (single zone, no interconnect).

``ovn_cluster_router`` joins every node switch (its ``rtos-<node>`` port holds the subnet's .1) and the ``join``
switch (``rtoj-ovn_cluster_router``, the join subnet's first address). Each node has a gateway router
``GR_<node>`` on the join switch (its join IP from the node ID) and on ``ext_<node>``, the external switch whose
localnet port ``<bridge>_<node>`` is the node's gateway bridge (breth0). Sources, per object:
pkg/ovn/topology/topologyfactory.go:43-144 (cluster router, join switch), base_network_controller.go:273-462
(node switch, rtos port, management port :633-717), gateway.go:247-934 (gateway router, routes, NAT, external
switch), gatewayrouter/policybasedroutes.go:35-68, :262-264 (the 1004 reroute policies), hybrid.go:40-312
(hybrid overlay port, policies and routes).
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.config import OvnkubeConfig
from cnimodel.plugins.ovn_kubernetes.nbmodel import (
    Acl,
    GatewayChassis,
    LogicalRouter,
    LogicalSwitch,
    Nat,
    RouterPolicy,
    RouterPort,
    StaticMacBinding,
    StaticRoute,
    SwitchPort,
    kv,
)
from cnimodel.plugins.ovn_kubernetes.nodes import OvnNode

ARP_PROXY = ("0a:58:a9:fe:01:01", "169.254.1.1", "fe80::1")  # pkg/kubevirt/switch.go:12-20, :49-55
MAC_BINDING_AGE = "300"  # const.go:257 GRMACBindingAgeThreshold


def router_port(name: str, ip: IPv4Address, prefix: int, **extra: object) -> RouterPort:
    return RouterPort(name, names.mac_of(ip), (f"{ip}/{prefix}",), **extra)  # type: ignore[arg-type]


def patch_port(name: str, router_port_name: str, **options: str) -> SwitchPort:
    """A switch's port to a router: type router, addresses ``router``, options router-port."""
    return SwitchPort(name, ("router",), "router", kv({"router-port": router_port_name, **options}))


def hybrid_cidrs(config: OvnkubeConfig, hybrid_nodes: Iterable[OvnNode]) -> list[tuple[str, IPv4Network]]:
    """The hybrid overlay destinations (hybrid.go:163-187): the configured cluster subnet (key ``cluster``), else
    each hybrid node's own subnet."""
    if config.hybrid_subnets:
        return [("cluster", config.hybrid_subnets[0].cidr)]
    return [(n.name, n.subnet) for n in hybrid_nodes if n.subnet is not None]


def node_switch(config: OvnkubeConfig, n: OvnNode, pod_ports: tuple[SwitchPort, ...]) -> LogicalSwitch:
    """The node's logical switch: the router port, the management port k8s-<node> (.2), the hybrid overlay
    port int-<node> (MAC of .3, no address) and the pods; the ACL that admits the node's own traffic."""
    assert n.subnet is not None
    mgmt = names.management_ip(n.subnet)
    arp_proxy = " ".join((*ARP_PROXY, *(str(e.cidr) for e in config.cluster_subnets)))
    ports = [patch_port(names.switch_to_router(n.switch), names.router_to_switch(n.switch), arp_proxy=arp_proxy),
             SwitchPort(names.management_port(n.name), (f"{names.mac_of(mgmt)} {mgmt}",))]
    if config.hybrid_enabled:
        ports.append(SwitchPort(names.hybrid_overlay_port(n.name), (names.mac_of(names.hybrid_overlay_ip(n.subnet)),)))
    ports += pod_ports
    # addAllowACLFromNode (base_network_controller_policy.go:324-349): traffic from the node itself is allowed
    node_acl = Acl("to-lport", names.DEFAULT_ALLOW_PRIORITY, f"ip4.src=={mgmt}", "allow-related",
                   external_ids=_ids("NetpolNode", (("k8s.ovn.org/name", n.switch), ("ip", str(mgmt)))),
                   reason=f"the node's own traffic (management port {mgmt}) is always allowed")
    groups = (names.CLUSTER_LB_GROUP, names.CLUSTER_SWITCH_LB_GROUP)
    return LogicalSwitch(n.switch, tuple(ports), kv(subnet=str(n.subnet)), acls=(node_acl,),
                         load_balancer_groups=groups)


def _ids(owner: str, items: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """ovnkube's external_ids for an object of ``owner`` type (db_object_ids.go:221-241)."""
    values = [v for _, v in items]
    return kv({"k8s.ovn.org/owner-controller": names.CONTROLLER, "k8s.ovn.org/owner-type": owner,
               "k8s.ovn.org/id": names.primary_id(owner, *values), **dict(items)})


def pod_port(namespace: str, pod: str, ip: IPv4Address, node: str) -> SwitchPort:
    """A pod's port ``<ns>_<pod>``: MAC from its IP, port security on both (base_network_controller_pods.go:
    516-583); requested-chassis is the pod's node."""
    address = f"{names.mac_of(ip)} {ip}"
    return SwitchPort(names.pod_port(namespace, pod), (address,), "", kv({"requested-chassis": node}),
                      (address,), kv(namespace=namespace, pod="true"))


def cluster_router(config: OvnkubeConfig, ovn_nodes: list[OvnNode], hybrid_nodes: list[OvnNode]) -> LogicalRouter:
    ports = [router_port(f"rtoj-{names.CLUSTER_ROUTER}", config.join_router_ip, config.join_subnet.prefixlen)]
    routes: list[StaticRoute] = []
    policies: list[RouterPolicy] = []
    hybrid = hybrid_cidrs(config, hybrid_nodes) if config.hybrid_enabled else []
    for n in ovn_nodes:
        if n.subnet is None:
            continue
        gw = names.gateway_ip(n.subnet)
        ports.append(router_port(names.router_to_switch(n.switch), gw, n.subnet.prefixlen, gateway_chassis=(
            GatewayChassis(f"{names.router_to_switch(n.switch)}-{n.chassis}", n.chassis, 1),)))
        mgmt = names.management_ip(n.subnet)
        if config.gateway_mode and n.join_ip is not None:
            # the GR's join IP, so replies come back through the same gateway router (gateway.go:604-627)
            routes.append(StaticRoute(str(n.join_ip), str(n.join_ip)))
        if config.gateway_mode == "local":  # egress through the management port (base_network_controller.go:668-688)
            routes.append(StaticRoute(str(n.subnet), str(mgmt), policy="src-ip"))
        elif config.gateway_mode and n.join_ip is not None:  # through the node's gateway router (gateway.go:629-672)
            routes.append(StaticRoute(str(n.subnet), str(n.join_ip), policy="src-ip"))
        if config.gateway_mode:
            # node IP from the node's own pods goes to the host through ovn-k8s-mp0 (policybasedroutes.go:35-68)
            match = f'inport == "{names.router_to_switch(n.switch)}" && ip4.dst == {n.node_ip.ip} /* {n.switch} */'
            policies.append(RouterPolicy(names.NODE_SUBNET_POLICY_PRIORITY, match, "reroute", (str(mgmt),)))
        dr_ip = names.hybrid_overlay_ip(n.subnet)
        for key, cidr in hybrid:
            name = f"hybrid-subnet-{n.name}" + ("" if key == "cluster" else f":{key}")
            policies.append(RouterPolicy(names.HYBRID_OVERLAY_SUBNET_PRIORITY,
                                         f'inport == "{names.router_to_switch(n.switch)}" && ip4.dst == {cidr}',
                                         "reroute", (str(dr_ip),), kv(name=name)))
            if n.join_ip is not None and config.gateway_mode:
                policies.append(RouterPolicy(names.HYBRID_OVERLAY_SUBNET_PRIORITY,
                                             f"ip4.src == {n.join_ip} && ip4.dst == {cidr}", "reroute", (str(dr_ip),),
                                             kv(name=f"hybrid-subnet-{n.name}-gr")))
            routes.append(StaticRoute(str(cidr), str(dr_ip), external_ids=kv(name=name)))
    return LogicalRouter(names.CLUSTER_ROUTER, tuple(ports), tuple(routes), tuple(policies),
                         options=kv(always_learn_from_arp_request="false"),
                         external_ids=kv({"k8s-cluster-router": "yes"}))


def hybrid_mac_bindings(config: OvnkubeConfig, ovn_nodes: list[OvnNode]) -> tuple[StaticMacBinding, ...]:
    """The cluster router's binding of each node's .3 to its hybrid overlay port MAC (hybrid.go:220-228)."""
    if not config.hybrid_enabled:
        return ()
    return tuple(StaticMacBinding(names.router_to_switch(n.switch), str(ip := names.hybrid_overlay_ip(n.subnet)),
                                  names.mac_of(ip)) for n in ovn_nodes if n.subnet is not None)


def join_switch(ovn_nodes: list[OvnNode], gateway: bool) -> LogicalSwitch:
    ports = [patch_port(f"jtor-{names.CLUSTER_ROUTER}", f"rtoj-{names.CLUSTER_ROUTER}")]
    if gateway:
        ports += [patch_port(f"jtor-{names.gateway_router(n.name)}", f"rtoj-{names.gateway_router(n.name)}")
                  for n in ovn_nodes if n.join_ip is not None]
    return LogicalSwitch(names.JOIN_SWITCH, tuple(ports))


def gateway_router(config: OvnkubeConfig, n: OvnNode, hybrid: list[tuple[str, IPv4Network]]) -> LogicalRouter:
    """GR_<node>: on the join switch and on ext_<node>; routes to the cluster back through the cluster router,
    the masquerade subnet and the default route out of rtoe-GR_<node>; SNAT of the cluster subnets to the node IP."""
    assert n.join_ip is not None
    gr = names.gateway_router(n.name)
    rtoe = f"rtoe-{gr}"
    node_ip = str(n.node_ip.ip)
    ports = (router_port(f"rtoj-{gr}", n.join_ip, config.join_subnet.prefixlen,
                         options=kv(gateway_mtu=str(config.mtu))),
             RouterPort(rtoe, n.bridge_mac, (str(n.node_ip),), external_ids=kv({"gateway-physical-ip": "yes"})))
    routes = [StaticRoute(str(e.cidr), str(config.join_router_ip)) for e in config.cluster_subnets]
    routes.append(StaticRoute(str(config.masquerade_subnet), str(config.dummy_next_hop), output_port=rtoe,
                              external_ids=kv({"k8s.ovn.org/node-masquerade-subnet": ""})))
    if n.next_hop is not None:
        routes.append(StaticRoute("0.0.0.0/0", str(n.next_hop), output_port=rtoe))
    for _, cidr in hybrid:
        routes.append(StaticRoute(str(cidr), str(config.join_router_ip),
                                  external_ids=kv(name=f"hybrid-subnet-{n.name}-gr")))
    nat = [Nat("snat", node_ip, str(n.join_ip))]  # join-subnet SNAT (gateway.go:761-786)
    if not config.disable_snat_multiple_gws:
        nat += [Nat("snat", node_ip, str(e.cidr)) for e in config.cluster_subnets]
    groups = (names.CLUSTER_LB_GROUP,) + ((names.CLUSTER_ROUTER_LB_GROUP,) if config.nodeport else ())
    options = kv({"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "true", "chassis": n.chassis,
                  "lb_force_snat_ip": "router_ip", "mac_binding_age_threshold": MAC_BINDING_AGE,
                  "snat-ct-zone": "0"})
    return LogicalRouter(gr, ports, tuple(routes), (), tuple(nat), options,
                         kv(physical_ip=node_ip, physical_ips=node_ip), load_balancer_groups=groups)


def external_switch(n: OvnNode) -> LogicalSwitch:
    """ext_<node>: the localnet port ``<bridge>_<node>`` on physnet (unknown addresses) and the port to the GR."""
    gr = names.gateway_router(n.name)
    localnet = SwitchPort(f"{n.bridge}_{n.name}", ("unknown",), "localnet", kv(network_name=names.PHYSNET))
    to_gr = SwitchPort(f"etor-{gr}", (n.bridge_mac,), "router",
                       kv({"router-port": f"rtoe-{gr}", "nat-addresses": "router",
                           "exclude-lb-vips-from-garp": "true"}))
    return LogicalSwitch(names.external_switch(n.name), (localnet, to_gr))
