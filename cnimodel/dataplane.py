"""The facts plugins produce: immutable values describing what a node's data plane holds.

A fact is data, not behaviour: it can be printed, diffed, tested and applied to a kernel. Every fact
names its ``owner`` — the component that installs it in the real system (kernel, flannel, win-bridge,
cloud-provider …) — so answers can say who put a route there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from types import MappingProxyType
from typing import Any, Literal

from cnimodel.encapsulation import KINDS, EncapKind

EMPTY: MappingProxyType[str, Any] = MappingProxyType({})

RouteKind = Literal["connected", "default", "pod-route", "blackhole", "host", "static"]
"""connected: a subnet on a device; default: the way out; pod-route: a remote node's pod CIDR;
blackhole: dropped on purpose; host: a /32 to one endpoint; static: a route the plan adds to the underlay's table."""


@dataclass(frozen=True)
class Device:
    """A network device: an uplink, a bridge, a veth end, a tunnel device (vxlan, geneve, ipip), or a Windows
    vNIC.

    ``sysctls`` are the per-interface settings its plugin writes, as ``(name, value)`` with sysctl(8)'s names
    (``net.ipv4.conf.<dev>.proxy_arp``); only those that matter for forwarding are kept. A tunnel device has
    its id (``vni``), UDP ``port``, ``local`` address and lower device; ``remote`` is the one peer of a
    point-to-point tunnel (a geneve device sends everything there), None for a device that reaches many.
    """

    name: str
    kind: Literal["ether", "bridge", "veth", "vxlan", "geneve", "ipip", "loopback", "vnic"]
    addresses: tuple[IPv4Interface, ...] = ()
    mtu: int = 1500
    mac: str | None = None
    owner: str = "host"
    master: str | None = None
    vni: int | None = None
    port: int | None = None
    local: IPv4Address | None = None
    underlay_dev: str | None = None
    sysctls: tuple[tuple[str, str], ...] = ()
    remote: IPv4Address | None = None


@dataclass(frozen=True, order=True)
class Route:
    """One entry of a route table. ``via`` None means on-link delivery out of ``dev``."""

    dst: IPv4Network
    via: IPv4Address | None = None
    dev: str | None = None
    onlink: bool = False
    scope: Literal["universe", "link", "host"] = "universe"
    kind: RouteKind = "pod-route"
    owner: str = "kernel"
    src: IPv4Address | None = None
    proto: str | None = None
    type: Literal["unicast", "blackhole"] = "unicast"
    next_hop_type: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Neighbor:
    """A permanent ARP entry (IP → MAC on a device)."""

    ip: IPv4Address
    mac: str
    dev: str
    state: str = "PERMANENT"
    owner: str = "kernel"


@dataclass(frozen=True)
class FdbEntry:
    """A bridge forwarding entry: frames for ``mac`` on VTEP ``dev`` go to the remote ``dst``."""

    mac: str
    dev: str
    dst: IPv4Address
    state: str = "permanent"
    owner: str = "kernel"


@dataclass(frozen=True)
class HnsPolicy:
    """An HNS policy in HCN (v2) form: ``Type`` and ``Settings``. ``hns_v1`` gives the HNS v1 form."""

    type: str
    settings: MappingProxyType[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class HnsNetwork:
    name: str
    type: Literal["L2Bridge", "L2Tunnel", "Overlay", "Transparent", "NAT"]
    prefix: IPv4Network
    gateway: IPv4Address
    management_ip: IPv4Address
    adapter: str
    policies: tuple[HnsPolicy, ...] = ()
    subnet_policies: tuple[HnsPolicy, ...] = ()
    flags: int = 0
    owner: str = "hns"


@dataclass(frozen=True)
class HnsEndpoint:
    """A vSwitch port: a pod's endpoint, the host's bridge endpoint (``cbr0_ep``) or a remote endpoint."""

    name: str
    network: str
    ip: IPv4Address
    prefix_len: int
    gateway: IPv4Address | None
    mac: str | None = None
    policies: tuple[HnsPolicy, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    role: Literal["pod", "host", "remote", "source-vip"] = "pod"
    pod: str | None = None
    owner: str = "hns"


@dataclass(frozen=True, slots=True)
class Vtep:
    """A node's tunnel endpoint as its overlay plugin sets it up: what it sends with and listens for.

    ``kind`` names the encapsulation (``vxlan``, ``geneve``, ``ipip``: cnimodel.encapsulation), which says
    which of the other fields mean something: ``vni`` is the kind's id field (None for IP-in-IP), ``port``
    the UDP port it listens on and sends to (None without UDP), ``mac`` the MAC the inner frames are sent to
    (None when the tunnel carries bare IP).

    ``dev`` is the Linux tunnel device (``flannel.4096``) or the Windows HNS Overlay network; ``mac`` the
    VTEP MAC (Linux device MAC, Windows distributed-router MAC) in lower-case colon form, as the flannel
    lease publishes it; ``mac_source`` says whether it came from the node annotation or was derived.
    ``up`` is False when the daemon refuses its config (``reason`` quotes why); such a node publishes no
    lease, so its peers hold nothing for it. ``src_port_policy``/``src_port_range`` say how this VTEP picks
    the outer UDP source port.
    """

    node: str
    os: Literal["linux", "windows"]
    dev: str
    vni: int | None
    port: int | None
    mac: str | None
    local: IPv4Address
    mtu: int
    underlay_mtu: int
    mac_source: Literal["annotation", "derived"] = "derived"
    direct_routing: bool = False
    up: bool = True
    reason: str = ""
    owner: str = "flannel"
    src_port_policy: str = "inner-flow-hash"
    src_port_range: tuple[int, int] = (32768, 60999)
    kind: str = "vxlan"
    option_bytes: int = 0  # GENEVE options every packet carries (OVN: one 8-byte TLV), beyond the kind's overhead

    @property
    def encapsulation(self) -> EncapKind:
        """The kind with its numbers (overhead, IANA port, id field)."""
        return KINDS[self.kind]

    @property
    def overhead(self) -> int:
        """The bytes each inner packet gains (the device MTU leaves room for them): the kind's, plus the options
        this endpoint always sends."""
        return KINDS[self.kind].overhead + self.option_bytes


VXLAN_OVERHEAD = KINDS["vxlan"].overhead


@dataclass(frozen=True)
class Encap:
    """One overlay hop as data: how ``local``'s VTEP wraps a packet for the pods ``dst`` behind ``remote``'s.

    The outer header goes ``outer_src`` → ``outer_dst`` (the VTEPs' node IPs) over UDP ``dst_port`` (the
    sender's port; None for a kind without UDP) with ``vni`` (the kind's id field: Linux VXLAN sends its own
    VNI, Windows the remote lease's; None for IP-in-IP); the outer frame's L2 next hop is ``outer_next_hop``
    (the peer, or the underlay gateway when the peer is on another subnet). For a kind that carries Ethernet
    the inner frame goes from the local VTEP MAC to the remote one. When the receiver is of another kind,
    accepts another id or listens on another port the hop is broken (``mismatch``). Everything but the hop's
    own four fields is read from the two VTEPs, so a node's thousands of hops share their values.
    """

    local: Vtep
    remote: Vtep
    dst: IPv4Network
    outer_next_hop: IPv4Address
    vni: int | None

    @property
    def kind(self) -> str:
        """The encapsulation kind's name (``vxlan``, ``geneve``, ``ipip``): the sender's."""
        return self.local.kind

    @property
    def encapsulation(self) -> EncapKind:
        return KINDS[self.local.kind]

    @property
    def node(self) -> str:
        return self.local.node

    @property
    def peer(self) -> str:
        return self.remote.node

    @property
    def dev(self) -> str:
        return self.local.dev

    @property
    def outer_src(self) -> IPv4Address:
        return self.local.local

    @property
    def outer_dst(self) -> IPv4Address:
        return self.remote.local

    @property
    def dst_port(self) -> int | None:
        return self.local.port

    @property
    def src_port_policy(self) -> str:
        return self.local.src_port_policy

    @property
    def src_port_range(self) -> tuple[int, int]:
        return self.local.src_port_range

    @property
    def inner_src_mac(self) -> str | None:
        return self.local.mac

    @property
    def inner_dst_mac(self) -> str | None:
        return self.remote.mac

    @property
    def inner_mtu(self) -> int:
        return self.local.mtu

    @property
    def outer_mtu(self) -> int:
        return self.local.underlay_mtu

    @property
    def overhead(self) -> int:
        """The bytes the kind adds to each inner packet (VXLAN: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet
        14 = 50); the VTEP's MTU is the underlay's less this, unless a configured MTU says otherwise."""
        return self.local.overhead

    @property
    def peer_vni(self) -> int | None:
        return self.remote.vni

    @property
    def peer_port(self) -> int | None:
        return self.remote.port

    @property
    def owner(self) -> str:
        return self.local.owner

    @property
    def mismatch(self) -> tuple[str, ...]:
        """What the receiver rejects: ``("vni", "port")``, one of them, ``("kind",)`` when it decapsulates
        another kind, or ``()`` when the hop works."""
        if self.local.kind != self.remote.kind:
            return ("kind",)
        out: tuple[str, ...] = ()
        if self.vni != self.remote.vni:
            out += ("vni",)
        if self.local.port != self.remote.port:
            out += ("port",)
        return out


@dataclass(frozen=True)
class NatRule:
    """One rule of a Linux NAT chain, in evaluation order (``iptables -t nat -A <chain> …``).

    ``src``/``dst`` None means any; ``*_negate`` is iptables' ``!``. ``mark`` is a ``--mark value/mask`` match.
    ``action`` RETURN leaves the chain untouched; MASQUERADE rewrites the source to the egress device's
    address; SNAT to ``to``.
    """

    chain: str
    action: Literal["RETURN", "MASQUERADE", "SNAT", "ACCEPT"]
    src: IPv4Network | None = None
    src_negate: bool = False
    dst: IPv4Network | None = None
    dst_negate: bool = False
    mark: str | None = None
    to: IPv4Address | None = None
    random_fully: bool = False
    table: str = "nat"
    hook: str = "POSTROUTING"
    owner: str = "kernel"

    def matches(self, src: IPv4Address, dst: IPv4Address, mark: int = 0) -> bool:
        """Whether a packet with these addresses (and skb mark) matches the rule's conditions."""
        if self.mark is not None:
            value, _, mask = self.mark.partition("/")
            if mark & int(mask or value, 16) != int(value, 16):
                return False
        if self.src is not None and (src in self.src) == self.src_negate:
            return False
        return not (self.dst is not None and (dst in self.dst) == self.dst_negate)


@dataclass(frozen=True)
class PolicyEnforcement:
    """Whether NetworkPolicy is enforced on a node, by what, and how."""

    enforced: bool
    by: str | None = None
    mechanism: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class NodeFacts:
    """Everything one node's data plane holds, as the node's plugins build it."""

    node: str
    os: Literal["linux", "windows"]
    devices: tuple[Device, ...] = ()
    routes: tuple[Route, ...] = ()
    neighbors: tuple[Neighbor, ...] = ()
    fdb: tuple[FdbEntry, ...] = ()
    hns_networks: tuple[HnsNetwork, ...] = ()
    hns_endpoints: tuple[HnsEndpoint, ...] = ()
    policy: PolicyEnforcement = PolicyEnforcement(False, reason="no policy plugin")
    hns_api: int = 2
    notes: tuple[str, ...] = ()
    nat: tuple[NatRule, ...] = ()
    vteps: tuple[Vtep, ...] = ()
    encaps: tuple[Encap, ...] = ()

    def device(self, name: str) -> Device | None:
        return next((d for d in self.devices if d.name == name), None)


@dataclass(frozen=True)
class RouteTable:
    """A route table outside the nodes: the underlay router, a cloud (VNet/VPC) route table."""

    name: str
    routes: tuple[Route, ...] = ()
    notes: tuple[str, ...] = field(default=())
