"""The host side of a Linux node running ovnkube-node: the gateway bridge, the management port and their routes.

In both gateway modes ovnkube-node moves the NIC into the OVS bridge ``br<nic>`` (breth0), which takes over the
node IP (gateway.go:588-675, bridgeForInterface) and holds the host masquerade IP .2 of the masquerade subnet;
``ovn-k8s-mp0`` is the management port, holding the node subnet's .2. Routes (ip route shapes):
- every cluster subnet, and the ETP=local masquerade IP .3, via the subnet's .1 dev ovn-k8s-mp0
  (management-port_linux.go:66-95, :180-206), with a permanent neighbour .1 → 0a:58:<.1> (:212-230);
- the service CIDRs via the dummy next hop .4 dev breth0 src .2, mtu = the overlay MTU
  (gateway_init.go:285-314, default_node_network_controller.go:1517-1533);
- the OVN masquerade IP .1/32 dev breth0 src the node IP (gateway_shared_intf.go:2474-2552);
- with the hybrid overlay, each hybrid cluster subnet (else each hybrid node's subnet) via the node's .3 dev
  ovn-k8s-mp0 (hybrid-overlay/pkg/controller/ovn_node_linux.go:419-445).
"""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv4Network

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device, Neighbor, NodeFacts, Route, Vtep
from cnimodel.encapsulation import GENEVE
from cnimodel.plan import NodeSpec, Plan
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.config import GENEVE_HEADER_IPV4, OvnkubeConfig
from cnimodel.plugins.ovn_kubernetes.nodes import OvnNode

OWNER = "ovn-kubernetes"
GENEVE_DEV = "genev_sys_6081"  # the tunnel port OVS creates for GENEVE on UDP 6081 (vport-geneve)
# OVN's GENEVE packets always carry one option (class 0x0102, type 0x80: a 4-byte option header and the 32-bit
# logical ingress/egress ports; ovn-org/ovn@ba5710ed:ovn-architecture.7.xml:2866-2882): 8 bytes beyond bare
# GENEVE's 50, which is ovnkube's GeneveHeaderLengthIPv4 = 58 (ovn-org/ovn-kubernetes@6c366bb4:go-controller/
# pkg/types/const.go:181)
OVN_GENEVE_OPTION_BYTES = GENEVE_HEADER_IPV4 - GENEVE.overhead


def geneve_vtep(plan: Plan, node: NodeSpec, config: OvnkubeConfig) -> Vtep:
    """A chassis' GENEVE endpoint: UDP ``encap-port`` on the node IP, no single VNI (OVN puts each logical
    datapath's tunnel key there), the pods' MTU ``[default] mtu``, 58 bytes of overhead. ovnkube-node refuses to
    start when the underlay's MTU is below mtu + 58 (validateVTEPInterfaceMTU,
    go-controller/pkg/node/default_node_network_controller.go:1477-1515): the endpoint is then not up."""
    under = plan.underlay.subnet(node.subnet).mtu
    need = config.mtu + GENEVE_HEADER_IPV4
    reason = "" if under >= need else (
        f"the underlay MTU {under} is below ovnkube's [default] mtu {config.mtu} + {GENEVE_HEADER_IPV4} bytes of "
        f"GENEVE (IPv4) = {need} (ovnkube-node's validateVTEPInterfaceMTU); set [default] mtu to "
        f"{under - GENEVE_HEADER_IPV4} or less, or raise the underlay's MTU to {need}")
    return Vtep(node.name, "linux", GENEVE_DEV, None, config.encap_port, None, node.ip, config.mtu, under,
                up=not reason, reason=reason, owner=OWNER, src_port_range=(1, 65535), kind="geneve",
                option_bytes=OVN_GENEVE_OPTION_BYTES)
PHASE_NOTE = ("pods reach the network through OVN's logical datapaths, not these routes: `cnimodel trace` walks "
              "them (logical switch, ovn_cluster_router, GENEVE between chassis, GR_<node> with SNAT); the host's "
              "own traffic to the cluster enters OVN by ovn-k8s-mp0")


def linux_facts(cluster: Cluster, node: NodeSpec, n: OvnNode, config: OvnkubeConfig,
                hybrid_destinations: tuple[IPv4Network, ...] = (), hybrid_vtep: Vtep | None = None) -> NodeFacts:
    plan = cluster.plan
    underlay = plan.underlay.subnet(node.subnet)
    nic = node.ext_interface
    devices = [Device(nic, "ether", (), underlay.mtu, owner="host", master=n.bridge)]
    routes: list[Route] = []
    masq_host = config.host_masquerade_ip
    if config.gateway_mode:
        devices.append(Device(n.bridge, "bridge", (n.node_ip, IPv4Interface(
            f"{masq_host}/{config.masquerade_subnet.prefixlen}")), underlay.mtu, mac=n.bridge_mac, owner=OWNER))
        routes += [Route(IPv4Network("0.0.0.0/0"), via=underlay.gateway, dev=n.bridge, kind="default", owner="host"),
                   Route(underlay.cidr, dev=n.bridge, scope="link", kind="connected", src=node.ip, proto="kernel"),
                   Route(config.masquerade_subnet, dev=n.bridge, scope="link", kind="connected", src=masq_host,
                         proto="kernel"),
                   Route(IPv4Network(f"{config.masquerade_ip(1)}/32"), dev=n.bridge, scope="link", kind="host",
                         owner=OWNER, src=node.ip)]
        routes += [Route(svc, via=config.dummy_next_hop, dev=n.bridge, kind="pod-route", owner=OWNER, src=masq_host)
                   for svc in config.service_cidrs]
    else:
        devices[0] = Device(nic, "ether", (n.node_ip,), underlay.mtu, owner="host")
        routes += [Route(IPv4Network("0.0.0.0/0"), via=underlay.gateway, dev=nic, kind="default", owner="host"),
                   Route(underlay.cidr, dev=nic, scope="link", kind="connected", src=node.ip, proto="kernel")]
    neighbors: list[Neighbor] = []
    notes = [PHASE_NOTE]
    if config.gateway_mode and config.service_cidrs:
        notes.append(f"the service route{'s' if len(config.service_cidrs) > 1 else ''} carr"
                     f"{'y' if len(config.service_cidrs) > 1 else 'ies'} mtu {config.routable_mtu or config.mtu} "
                     "(gateway_init.go:301-308)")
    if n.subnet is not None:
        mgmt, gw = names.management_ip(n.subnet), names.gateway_ip(n.subnet)
        devices.append(Device(names.MGMT_INTERFACE, "ether", (IPv4Interface(f"{mgmt}/{n.subnet.prefixlen}"),),
                              config.mtu, mac=names.mac_of(mgmt), owner=OWNER))
        routes.append(Route(n.subnet, dev=names.MGMT_INTERFACE, scope="link", kind="connected", src=mgmt,
                            proto="kernel"))
        for dst in [*(e.cidr for e in config.cluster_subnets), IPv4Network(f"{config.masquerade_ip(3)}/32")]:
            routes.append(Route(dst, via=gw, dev=names.MGMT_INTERFACE, kind="pod-route", owner=OWNER))
        neighbors.append(Neighbor(gw, names.mac_of(gw), names.MGMT_INTERFACE, owner=OWNER))
        if config.hybrid_enabled:  # the hybrid overlay's routes via .3 (ovn_node_linux.go:419-445, :767-774)
            dr = names.hybrid_overlay_ip(n.subnet)
            for dst in hybrid_destinations:
                routes.append(Route(dst, via=dr, dev=names.MGMT_INTERFACE, kind="pod-route", owner="hybrid-overlay"))
        pods = sum(1 for a in cluster.allocation.pods_on(node.name) if not a.pod.host_network)
        notes.append(f"OVN: node switch {n.switch} ({n.subnet}, router port {gw} on {names.CLUSTER_ROUTER}, "
                     f"management port {names.management_port(n.name)} {mgmt}); {pods} pod port(s); "
                     + (f"gateway router {names.gateway_router(n.name)} (join {n.join_ip}, {config.gateway_mode} "
                        f"gateway, SNAT to {n.node_ip.ip})" if config.gateway_mode else "no gateway router "
                        "(ovnkube runs with gateway mode disabled)"))
    if n.derived:
        notes.append(f"derived by the model (not in the plan): {', '.join(n.derived)}")
    vteps = (geneve_vtep(cluster.plan, node, config), *((hybrid_vtep,) if hybrid_vtep is not None else ()))
    return NodeFacts(node.name, "linux", tuple(devices), tuple(routes), tuple(neighbors), vteps=vteps,
                     notes=tuple(notes))


def bare_facts(cluster: Cluster, node: NodeSpec, why: str) -> NodeFacts:
    """A node ovn-kubernetes gives no pod network: its uplink and the reason."""
    underlay = cluster.plan.underlay.subnet(node.subnet)
    nic = node.ext_interface if node.os == "linux" else f"vEthernet ({node.ext_interface})"
    ip = IPv4Interface(f"{node.ip}/{underlay.cidr.prefixlen}")
    devices = (Device(nic, "ether" if node.os == "linux" else "vnic", (ip,), underlay.mtu, owner="host"),)
    routes = (Route(IPv4Network("0.0.0.0/0"), via=underlay.gateway, dev=nic, kind="default", owner="host"),
              Route(underlay.cidr, dev=nic, scope="link", kind="connected", src=node.ip, proto="kernel"))
    return NodeFacts(node.name, node.os, devices, routes, notes=(why,))
