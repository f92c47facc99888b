"""geneve-demo: a network plugin written the way a third party writes one, against cnimodel's public plugin
interface only (cnimodel.plugin, cnimodel.dataplane, cnimodel.encapsulation, cnimodel.ipam, cnimodel.plan) and
found through the ``cnimodel.plugins`` entry-point group. It touches no file of cnimodel.

Linux nodes route pod traffic between nodes through a tunnel of the configured kind:

- ``encap: geneve`` (default): one point-to-point Linux geneve device per peer, ``gnv-<peer>`` (the kernel's
  geneve device has a single remote, unless it runs in collect-metadata mode as OVS and Cilium run it), with
  the configured VNI and UDP port (default 6081); the peer's lease goes ``via <lease>.0 dev gnv-<peer> onlink``
  with a permanent neighbour for the peer's tunnel MAC, as flannel's vxlan backend does per lease.
- ``encap: ipip``: one IP-in-IP device ``ipip0`` bound to the uplink without a remote; each peer's lease goes
  ``via <peer IP> dev ipip0 onlink`` (a remote-less tunnel takes each packet's outer destination from its
  route's gateway: the NBMA case of the kernel's ip_tunnel_xmit).

Pods sit on the bridge ``cni0`` at the tunnel's MTU with host-local addresses. With ``services: plugin`` the
plugin says it implements Services itself (as ovn-kubernetes does), so kube-proxy's rules are not modelled on
its nodes. Plan::

    network:
      plugin: geneve-demo
      config: {encap: geneve, vni: 100, port: 6081, services: kube-proxy}
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Interface, IPv4Network
from typing import TYPE_CHECKING, Any

from cnimodel.dataplane import Device, Encap, Neighbor, NodeFacts, Route, Vtep
from cnimodel.encapsulation import GENEVE, IPIP, EncapKind
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.plan import NodeSpec, Plan, Problems
from cnimodel.plugin import NetworkPlugin, NodeRoles, ServiceRole, kube_proxy

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

NAME = "geneve-demo"
KINDS = {"geneve": GENEVE, "ipip": IPIP}
IPIP_DEVICE = "ipip0"
GENEVE_PORT = 6081  # IANA's (RFC 8926 §3.3)
# A Linux geneve device hashes the inner flow into the whole UDP range for the outer source port
# (udp_flow_src_port(net, skb, 1, USHRT_MAX, true) in drivers/net/geneve.c).
GENEVE_SRC_PORTS = (1, 65535)


def tunnel_mac(node: str) -> str:
    """The MAC every tunnel device of ``node`` carries: locally administered, unicast, stable per name."""
    d = hashlib.sha256(f"{NAME}/{node}".encode()).digest()
    return bytes([(d[0] & 0xFE) | 0x02, *d[1:6]]).hex(":")


class GenevePlugin(NetworkPlugin):
    """``plugin: geneve-demo``: Linux nodes, cni0 + a GENEVE (or IP-in-IP) tunnel to every peer."""

    name = NAME

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        assert plan.network is not None
        at = plan.network.origin.at("config")
        config: dict[str, Any] = dict(plan.network.config or {})
        encap = config.get("encap", "geneve")
        if encap not in KINDS:
            problems.error(at.at("encap"), f"unknown encapsulation {encap!r}", "use geneve or ipip")
            encap = "geneve"
        self.kind: EncapKind = KINDS[encap]
        self.vni = self._number(config, "vni", 1, 0, (1 << 24) - 1, at, problems)
        self.port = self._number(config, "port", GENEVE_PORT, 1, 65535, at, problems)
        if self.kind is IPIP:
            for key in ("vni", "port"):
                if key in config:
                    problems.warn(at.at(key), f"IP-in-IP has no {key}: it is not read", f"leave {key} out")
        self.mtu = config.get("mtu")  # None: the uplink's MTU less the kind's overhead
        services = config.get("services", "kube-proxy")
        if services not in ("kube-proxy", "plugin"):
            problems.error(at.at("services"), f"unknown Services mode {services!r}", "use kube-proxy or plugin")
        self.own_services = services == "plugin"
        for node in plan.nodes:
            if node.os != "linux":
                problems.error(node.origin.at("os"), f"{NAME} runs on Linux nodes only (node {node.name!r})",
                               "use a plugin with a Windows data plane")

    @staticmethod
    def _number(config: dict[str, Any], key: str, default: int, lo: int, hi: int, at: Any,
                problems: Problems) -> int:
        value = config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            problems.error(at.at(key), f"{key} {value!r} is not a number from {lo} to {hi}", f"use {default}")
            return default
        return value

    # --- roles and addressing ----------------------------------------------------------------------

    def roles(self, node: NodeSpec) -> NodeRoles:
        services = ServiceRole("plugin") if self.own_services else kube_proxy(self.plan, node)
        return NodeRoles("linux-bridge", self.kind, services)

    def describe(self, node: NodeSpec) -> str:
        if self.kind is IPIP:
            return f"{NAME}: cni0 + {IPIP_DEVICE} (IP-in-IP)"
        return f"{NAME}: cni0 + gnv-<peer> (GENEVE VNI {self.vni}, UDP {self.port})"

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        return host_local_range(pod_cidr) if pod_cidr is not None else None

    # --- facts -------------------------------------------------------------------------------------

    def endpoint(self, node: NodeSpec, peer: NodeSpec) -> Vtep:
        """``node``'s tunnel endpoint towards ``peer``: its gnv-<peer> device, or its one ipip0."""
        under = self.plan.underlay.subnet(node.subnet).mtu
        mtu = self.mtu or under - self.kind.overhead
        if self.kind is IPIP:
            return Vtep(node.name, "linux", IPIP_DEVICE, None, None, None, node.ip, mtu, under, owner=NAME,
                        kind="ipip")
        return Vtep(node.name, "linux", f"gnv-{peer.name}", self.vni, self.port, tunnel_mac(node.name), node.ip,
                    mtu, under, owner=NAME, src_port_range=GENEVE_SRC_PORTS, kind="geneve")

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        subnet = self.plan.underlay.subnet(node.subnet)
        up = node.ext_interface
        devices = [Device(up, "ether", (IPv4Interface(f"{node.ip}/{subnet.cidr.prefixlen}"),), subnet.mtu)]
        routes = [Route(IPv4Network("0.0.0.0/0"), via=subnet.gateway, dev=up, kind="default", owner="host"),
                  Route(subnet.cidr, dev=up, scope="link", kind="connected", owner="kernel", src=node.ip,
                        proto="kernel")]
        cidr = cluster.allocation.nodes[node.name].pod_cidr
        if cidr is None:
            return NodeFacts(node.name, "linux", tuple(devices), tuple(routes))
        mtu = self.mtu or subnet.mtu - self.kind.overhead
        gw = cidr.network_address + 1
        devices.append(Device("cni0", "bridge", (IPv4Interface(f"{gw}/{cidr.prefixlen}"),), mtu, owner="bridge"))
        routes.append(Route(cidr, dev="cni0", scope="link", kind="connected", owner="kernel", src=gw,
                            proto="kernel"))
        lease = (IPv4Interface(f"{cidr.network_address}/32"),)
        if self.kind is IPIP:
            devices.append(Device(IPIP_DEVICE, "ipip", lease, mtu, owner=NAME, local=node.ip, underlay_dev=up))
        vteps: list[Vtep] = []
        encaps: list[Encap] = []
        neighbors: list[Neighbor] = []
        for peer in self.plan.nodes:
            peer_cidr = cluster.allocation.nodes[peer.name].pod_cidr
            if peer.name == node.name or peer_cidr is None:
                continue
            me, them = self.endpoint(node, peer), self.endpoint(peer, node)
            hop = peer.ip if peer.subnet == node.subnet else subnet.gateway
            if self.kind is IPIP:
                routes.append(Route(peer_cidr, via=peer.ip, dev=IPIP_DEVICE, onlink=True, owner=NAME))
            else:
                devices.append(Device(me.dev, "geneve", lease, mtu, me.mac, owner=NAME, vni=self.vni, port=self.port,
                                      local=node.ip, underlay_dev=up, remote=peer.ip))
                routes.append(Route(peer_cidr, via=peer_cidr.network_address, dev=me.dev, onlink=True, owner=NAME))
                neighbors.append(Neighbor(peer_cidr.network_address, them.mac or "", me.dev, owner=NAME))
                vteps.append(me)
            encaps.append(Encap(me, them, peer_cidr, hop, me.vni))
        if self.kind is IPIP and encaps:
            vteps.append(encaps[0].local)
        return NodeFacts(node.name, "linux", tuple(devices), tuple(routes), tuple(neighbors), vteps=tuple(vteps),
                         encaps=tuple(encaps))


__all__ = ["GenevePlugin", "tunnel_mac"]
