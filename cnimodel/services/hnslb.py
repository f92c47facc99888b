"""HNS load-balancer objects as winkernel creates them, the flag values, and stable IDs (hcsshim ``hcn`` names)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from cnimodel.dataplane import HnsEndpoint, HnsNetwork
from cnimodel.services.model import IPAddress, ServicePort

LB_DSR, LB_IPV6 = 1, 2  # hcn LoadBalancerFlags
PM_ILB, PM_LOCAL_ROUTED_VIP, PM_USE_MUX, PM_PRESERVE_DIP, PM_VIP_EXTERNAL_IP = 1, 2, 4, 8, 16  # PortMapping flags
DIST_SOURCE_IP = 2  # LoadBalancerDistributionSourceIP, for sessionAffinity: ClientIP
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "SCTP": 132}
MAX_BACKENDS = 1024  # VFP refuses more destinations ("invalid number of destinations")
REMOTE_MAC_PREFIX = "02-11"
_ID_NAMESPACE = uuid.UUID("6f1c2a8e-3d0b-4c57-9e1a-5b7d2c4e8f10")


def hns_id(node: str, name: str) -> str:
    """A stable GUID for an HNS object of a node (HNS picks random ones; a model needs reproducible IDs)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{node}/{name}")).upper()


def conjure_mac(prefix: str, ip: IPAddress) -> str:
    """winkernel's ``conjureMac``: the prefix and four address bytes in hex — the IPv4 octets in order,
    for IPv6 bytes 15, 14, 13, 12 (the last four, reversed)."""
    b = ip.packed
    quad = b[:4] if ip.version == 4 else bytes((b[15], b[14], b[13], b[12]))
    return prefix + "".join(f"-{x:02x}" for x in quad)


@dataclass(frozen=True)
class HnsBackend:
    """One entry of an LB's ``HostComputeEndpoints``, with what the model knows of it."""

    id: str
    ip: IPAddress
    local: bool
    endpoint: str
    node: str | None = None
    pod: str | None = None


@dataclass(frozen=True)
class HnsLoadBalancer:
    """An HNS ``HostComputeLoadBalancer`` as winkernel creates it (one PortMapping, ≤ one frontend VIP).

    ``rejected`` says why HNS would refuse it (then it does not exist on the node).
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


@dataclass(frozen=True)
class WinServicePort:
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
    endpoints: tuple[HnsEndpoint, ...]  # created by kube-proxy: source VIP, ClusterIP and remote endpoints
    local_endpoints: tuple[HnsEndpoint, ...]  # the CNI's endpoints the LBs reference
    service_ports: tuple[WinServicePort, ...]
    notes: tuple[str, ...] = ()
    ids: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def load_balancers(self) -> list[HnsLoadBalancer]:
        return [lb for sp in self.service_ports for lb in sp.load_balancers]

    @property
    def overlay(self) -> bool:
        return self.network is not None and self.network.type == "Overlay"
