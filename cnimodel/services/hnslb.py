"""HNS load-balancer objects as winkernel creates them, the flag values, and stable IDs (hcsshim ``hcn`` names)."""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import ip_address
from typing import NamedTuple

from cnimodel.dataplane import HnsEndpoint, HnsNetwork
from cnimodel.hns import policy
from cnimodel.services.model import ServicePort

LB_DSR, LB_IPV6 = 1, 2  # hcn LoadBalancerFlags
PM_ILB, PM_LOCAL_ROUTED_VIP, PM_USE_MUX, PM_PRESERVE_DIP, PM_VIP_EXTERNAL_IP = 1, 2, 4, 8, 16  # PortMapping flags
DIST_SOURCE_IP = 2  # LoadBalancerDistributionSourceIP, for sessionAffinity: ClientIP
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "SCTP": 132}
MAX_BACKENDS = 1024  # VFP refuses more destinations ("invalid number of destinations")
REMOTE_MAC_PREFIX = "02-11"


def hns_id(node: str, name: str) -> str:
    """A stable GUID for an HNS object of a node, from SHA-1 of ``node/name`` (HNS picks random ones; a
    model needs reproducible IDs that do not change between runs)."""
    h = hashlib.sha1(f"{node}/{name}".encode()).hexdigest().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def remote_id(node_hash: str, packed: bytes) -> str:
    """The ID of a remote endpoint, a GUID (8-4-4-4-12 hex digits): the node's hash with the IPv4 address in
    its fourth group and the start of its last — unique and stable per (node, address), and 50x cheaper than
    a hash per endpoint (a node holds up to 100,000 of them)."""
    h = packed.hex().upper()
    return f"{node_hash[:8]}-{node_hash[8:12]}-{node_hash[12:16]}-{h[:4]}-{h[4:]}{node_hash[16:24]}"


def conjure_mac(prefix: str, ip: str) -> str:
    """winkernel's ``conjureMac``: the prefix and four address bytes in hex — the IPv4 octets in order,
    for IPv6 bytes 15, 14, 13, 12 (the last four, reversed)."""
    if ":" in ip:
        b = socket.inet_pton(socket.AF_INET6, ip)
        quad = bytes((b[15], b[14], b[13], b[12]))
    else:
        quad = socket.inet_aton(ip)
    return f"{prefix}-{quad.hex('-')}"


class HnsBackend(NamedTuple):
    """One entry of an LB's ``HostComputeEndpoints``, with what the model knows of it."""

    id: str
    ip: str
    local: bool
    endpoint: str
    node: str | None = None
    pod: str | None = None


class CreatedEndpoint(NamedTuple):
    """An HNS endpoint kube-proxy creates: a remote endpoint (``Flags: 1``) or the source-VIP endpoint.
    Kept light (100,000 of them on a large plan) and turned into an ``HnsEndpoint`` when shown."""

    name: str
    ip: str
    mac: str
    provider_address: str | None
    role: str  # remote | source-vip

    def hns_endpoint(self, network: str) -> HnsEndpoint:
        policies = (policy("ProviderAddress", ProviderAddress=self.provider_address),) if self.provider_address \
            else ()
        return HnsEndpoint(self.name, network, ip_address(self.ip), 0, None, mac=self.mac,  # type: ignore[arg-type]
                           policies=policies, role=self.role, owner="kube-proxy")  # type: ignore[arg-type]


class HnsLoadBalancer(NamedTuple):
    """An HNS ``HostComputeLoadBalancer`` as winkernel creates it (one PortMapping, ≤ one frontend VIP).

    ``rejected`` says why HNS would refuse it (then it does not exist on the node). (A tuple, not a
    dataclass, as each record of a view: 12,000 per node on a large plan; tools/bench_lb.py.)
    """

    id: str
    kind: str  # clusterIP | nodePort | externalIP | loadBalancerIP | healthCheck
    service: str
    protocol: int
    internal_port: int
    external_port: int
    frontend_vips: tuple[str, ...]
    source_vip: str
    backends: tuple[HnsBackend, ...]
    flags: int = 0
    port_flags: int = 0
    distribution: int = 0
    rejected: str | None = None


class WinServicePort(NamedTuple):
    """The outcome for one service port: its LBs, and why any endpoint or LB was left out."""

    service_port: ServicePort
    load_balancers: tuple[HnsLoadBalancer, ...]
    source_vip: str
    target_port: int
    skipped: tuple[tuple[str, str], ...] = ()  # (endpoint ip:port, reason)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class WinkernelView:
    """Everything winkernel programs on one node."""

    node: str
    network: HnsNetwork | None
    source_vip: str
    host_mac: str
    dsr_supported: bool
    created: tuple[CreatedEndpoint, ...]  # by kube-proxy: source VIP, ClusterIP and remote endpoints
    local_endpoints: tuple[HnsEndpoint, ...]  # the CNI's endpoints the LBs reference
    service_ports: tuple[WinServicePort, ...]
    notes: tuple[str, ...] = ()
    ids: dict[str, str] = field(default_factory=dict, compare=False)

    @cached_property
    def endpoints(self) -> tuple[HnsEndpoint, ...]:
        """The endpoints kube-proxy creates, as HNS endpoint facts."""
        network = self.network.name if self.network else ""
        return tuple(c.hns_endpoint(network) for c in self.created)

    @property
    def load_balancers(self) -> list[HnsLoadBalancer]:
        return [lb for sp in self.service_ports for lb in sp.load_balancers]

    @property
    def overlay(self) -> bool:
        return self.network is not None and self.network.type == "Overlay"
