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

EMPTY: MappingProxyType[str, Any] = MappingProxyType({})

RouteKind = Literal["connected", "default", "pod-route", "blackhole", "host"]
"""connected: a subnet on a device; default: the way out; pod-route: a remote node's pod CIDR;
blackhole: dropped on purpose; host: a /32 to one endpoint."""


@dataclass(frozen=True)
class Device:
    """A network device: an uplink, a bridge, a veth end, a VXLAN VTEP, or a Windows vNIC."""

    name: str
    kind: Literal["ether", "bridge", "veth", "vxlan", "loopback", "vnic"]
    addresses: tuple[IPv4Interface, ...] = ()
    mtu: int = 1500
    mac: str | None = None
    owner: str = "host"
    master: str | None = None
    vni: int | None = None
    port: int | None = None
    local: IPv4Address | None = None
    underlay_dev: str | None = None


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

    def device(self, name: str) -> Device | None:
        return next((d for d in self.devices if d.name == name), None)


@dataclass(frozen=True)
class RouteTable:
    """A route table outside the nodes: the underlay router, a cloud (VNet/VPC) route table."""

    name: str
    routes: tuple[Route, ...] = ()
    notes: tuple[str, ...] = field(default=())
