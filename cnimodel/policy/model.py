"""The compiled policy model every front-end (Kubernetes, Calico, ANP/BANP) produces and one engine walks.

One model for all kinds, as Calico itself does it: ordered tiers of ordered policies of ordered rules, each
rule an action on the traffic its source, destination and port criteria match. Kubernetes NetworkPolicies
become Allow-only policies in the ``default`` tier at order 1000, whose end-of-tier deny is exactly
Kubernetes isolation; ANPs sit in an earlier tier and BANP in a later one, both ending in Pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Literal

from cnimodel.plan import Origin
from cnimodel.policy.connset import ConnSet
from cnimodel.policy.selectors import Sel

Action = Literal["Allow", "Deny", "Pass", "Log"]
Direction = Literal["ingress", "egress"]
Flavor = Literal["k8s", "calico"]

DEFAULT_TIER = "default"
ADMIN_TIER = "kube-admin"
BASELINE_TIER = "kube-baseline"
KNP_ORDER = 1000.0
DEFAULT_TIER_ORDER = 1_000_000.0
ADMIN_TIER_ORDER = 1_000.0
BASELINE_TIER_ORDER = 10_000_000.0


@dataclass(frozen=True)
class NsScope:
    """Which namespaces an endpoint selector looks in: one by name, those a selector matches, or any."""

    name: str | None = None
    selector: Sel | None = None

    @property
    def any(self) -> bool:
        return self.name is None and self.selector is None

    def __str__(self) -> str:
        if self.name is not None:
            return f"namespace {self.name}"
        if self.selector is not None:
            return f"namespaces matching {self.selector}"
        return "any namespace"


@dataclass(frozen=True)
class EndpointSel:
    """Pod endpoints (not hostNetwork pods) in ``scope`` whose labels match ``pod``.

    ``flavor`` picks the label view: Calico selectors also see the labels Calico synthesises
    (``projectcalico.org/namespace``, ``/orchestrator`` on pods; ``projectcalico.org/name`` on namespaces).
    """

    scope: NsScope
    pod: Sel
    flavor: Flavor = "k8s"

    def __str__(self) -> str:
        return f"pods matching {self.pod} in {self.scope}"


@dataclass(frozen=True, eq=False)
class RulePeer:
    """One alternative of a rule's source or destination; every criterion present must hold (AND)."""

    endpoint: EndpointSel | None = None        # a pod endpoint matching this
    not_endpoint: EndpointSel | None = None    # not a pod endpoint matching this
    nets: tuple[IPv4Network, ...] | None = None  # the address is in one of these
    not_nets: tuple[IPv4Network, ...] = ()     # the address is in none of these
    nodes: Sel | None = None                   # a node address (or hostNetwork pod) whose node labels match
    nothing: bool = False                      # matches nothing (global() or an unknown peer failing closed)
    text: str = ""

    @property
    def ip_based(self) -> bool:
        return self.nets is not None or bool(self.not_nets)


@dataclass(frozen=True, eq=False)
class PortMatch:
    """Destination ports: fixed sets, plus named ports resolved on the destination pod by name and protocol
    (protocol None: any protocol the pod declares the name with, as ANP ``namedPort``)."""

    static: ConnSet = ConnSet.NONE
    named: tuple[tuple[str, str | None], ...] = ()
    text: str = ""


@dataclass(frozen=True, eq=False)
class PolicyRule:
    """An action on the connections that match every criterion. ``src``/``dst`` None: any peer."""

    action: Action
    index: int                                   # 0-based position in its direction's list
    direction: Direction
    src: tuple[RulePeer, ...] | None = None
    dst: tuple[RulePeer, ...] | None = None
    ports: PortMatch | None = None               # None: every protocol and port
    not_ports: PortMatch | None = None
    protocols: ConnSet = ConnSet.ALL             # protocol / notProtocol / ipVersion criteria
    never: str = ""                              # why the rule can match nothing (e.g. ipVersion 6)
    name: str = ""
    text: str = ""
    origin: Origin = Origin("<policy>")

    @property
    def label(self) -> str:
        named = f" {self.name!r}" if self.name else ""
        return f"{self.direction} rule {self.index + 1}{named}"


@dataclass(frozen=True)
class Policy:
    """A policy of any kind, normalised: what it selects and its rules per direction.

    ``ingress``/``egress`` None: the policy does not apply to that direction (not in its types).
    """

    kind: str                                    # NetworkPolicy, Calico NetworkPolicy, GlobalNetworkPolicy, ANP, BANP
    name: str
    namespace: str | None
    tier: str
    order: float | None
    subject: EndpointSel
    ingress: tuple[PolicyRule, ...] | None
    egress: tuple[PolicyRule, ...] | None
    notes: tuple[str, ...] = ()                  # defaulting and approximations, for explanations
    origin: Origin = Origin("<policy>")
    uid: int = 0                                 # position in the compiled set (stable order, hashing)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def title(self) -> str:
        """``NetworkPolicy x/allow-web``, ``AdminNetworkPolicy deny-all (priority 10)``,
        ``GlobalNetworkPolicy security.p (order 10)``."""
        extra = ""
        if self.kind == "AdminNetworkPolicy":
            extra = f" (priority {self.order:g})" if self.order is not None else ""
        elif self.kind not in ("NetworkPolicy", "BaselineAdminNetworkPolicy"):
            extra = f" (order {'none' if self.order is None else f'{self.order:g}'})"
        return f"{self.kind} {self.key}{extra}"

    def rules(self, direction: Direction) -> tuple[PolicyRule, ...] | None:
        return self.ingress if direction == "ingress" else self.egress

    def __hash__(self) -> int:
        return self.uid

    def __eq__(self, other: object) -> bool:
        return self is other


@dataclass(frozen=True)
class Tier:
    """Policies walked in order; traffic no rule decides meets ``default_action`` at the end of the tier."""

    name: str
    order: float | None
    default_action: Literal["Deny", "Pass"]
    policies: tuple[Policy, ...] = ()
    implicit: bool = False
    origin: Origin = Origin("<policy>")


@dataclass
class PolicySet:
    """Every policy of a plan compiled into tiers (sorted), with notes for the user."""

    tiers: list[Tier] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def policies(self) -> list[Policy]:
        return [p for t in self.tiers for p in t.policies]

    def endpoint_selectors(self) -> set[EndpointSel]:
        """Every endpoint selector the engine must evaluate (subjects and peers)."""
        out: set[EndpointSel] = set()
        for p in self.policies:
            out.add(p.subject)
            for rules in (p.ingress or (), p.egress or ()):
                for r in rules:
                    for side in (r.src or (), r.dst or ()):
                        for peer in side:
                            if peer.endpoint is not None:
                                out.add(peer.endpoint)
                            if peer.not_endpoint is not None:
                                out.add(peer.not_endpoint)
        return out

    def cidrs(self) -> set[IPv4Network]:
        out: set[IPv4Network] = set()
        for p in self.policies:
            for rules in (p.ingress or (), p.egress or ()):
                for r in rules:
                    for side in (r.src or (), r.dst or ()):
                        for peer in side:
                            out.update(peer.nets or ())
                            out.update(peer.not_nets)
        return out

    def node_selectors(self) -> set[Sel]:
        return {peer.nodes for p in self.policies for rules in (p.ingress or (), p.egress or ()) for r in rules
                for side in (r.src or (), r.dst or ()) for peer in side if peer.nodes is not None}

    def named_ports(self) -> set[tuple[str, str | None]]:
        return {n for p in self.policies for rules in (p.ingress or (), p.egress or ()) for r in rules
                for pm in (r.ports, r.not_ports) if pm is not None for n in pm.named}
