"""The answer of ``decide``: a load-balancing decision with its backends and the rules that made it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cnimodel.services.hnslb import HnsLoadBalancer

Disposition = Literal["LOAD_BALANCED", "REJECTED", "DROPPED", "NOT_LOAD_BALANCED", "NO_SERVICE"]
SourceKind = Literal["pod", "host", "external"]


@dataclass(frozen=True)
class Backend:
    """One backend the decision may pick, with its share of new connections and the NAT applied."""

    ip: str
    port: int
    weight: float
    dnat: str
    snat: str | None
    snat_reason: str
    via: str
    local: bool
    node: str | None = None
    pod: str | None = None
    probability: str | None = None
    # the SNAT is made before the destination's policy filter sees the packet (OVN's hairpin_snat_ip and a gateway
    # router's lb_force_snat_ip, in the ingress pipelines before the switch's ls_out_acl), not after it as nat
    # POSTROUTING's masquerade is: ingress policy then judges the new source
    snat_before_policy: bool = False


@dataclass(frozen=True)
class LbDecision:
    """The answer: disposition, backends, and what decided (iptables rules or the HNS load balancer)."""

    node: str
    os: str
    vip: str
    port: int
    protocol: str
    source: str | None
    source_kind: SourceKind
    disposition: Disposition
    reason: str
    service: str | None = None
    frontend: str | None = None
    backends: tuple[Backend, ...] = ()
    decided_by: str = ""
    rules: tuple[str, ...] = ()
    affinity: str | None = None
    load_balancer: HnsLoadBalancer | None = None
    notes: tuple[str, ...] = ()
