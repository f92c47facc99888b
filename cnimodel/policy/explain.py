"""Why a connection is (not) allowed: per direction, who selects each side and what decided each portion
of the connection space (rule, end of tier, profile, or no policy at all)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnimodel.policy.analysis import Connection, Peer, Reachability
from cnimodel.policy.connset import ConnSet
from cnimodel.policy.evaluate import DecisionPoint, Verdict
from cnimodel.policy.model import DEFAULT_TIER, Direction, Policy

IP_NOTE = ("matched by address: the range holds the pod's IP ({ip}); Kubernetes' e2e tests and Calico match pod "
           "IPs with ipBlock/nets, netpol-analyzer and Cilium do not")


@dataclass
class Portion:
    """One portion of the connection space in one direction, and why."""

    conns: ConnSet
    allowed: bool
    reason: str
    hops: list[dict[str, object]] = field(default_factory=list)
    why: str = ""  # the engine's kind of answer (rule, end-of-tier, profile, no-policy …): a trace names it


@dataclass
class DirectionExplanation:
    """One direction: the endpoint whose policy applies, who selects it, and each portion's fate."""

    direction: Direction
    subject: Peer
    status: str
    selected_by: list[str]
    notes: list[str]
    steps: list[Portion]


@dataclass
class Explanation:
    connection: Connection
    sides: list[DirectionExplanation]


def _hop(h: DecisionPoint) -> str:
    if h.policy is None or h.rule is None:
        return f"end of tier {h.tier} (default action {h.action})"
    where = f"tier {h.tier} → " if h.policy.kind != "NetworkPolicy" or h.tier != DEFAULT_TIER else ""
    return f"{where}{h.policy.title} → {h.rule.label} [{h.rule.text}]: {h.action}"


def _reason(v: Verdict, side: DirectionExplanation, policies: list[Policy], ip: object) -> str:
    trail = [_hop(h) for h in v.hops]
    if v.why == "rule":
        text = " → ".join(trail)
        return text + (f"; {IP_NOTE.format(ip=ip)}" if v.via_ip else "")
    if v.why == "end-of-tier":
        last = v.hops[-1]
        k8s_only = all(p.kind == "NetworkPolicy" for p in policies if p.tier == last.tier)
        passed = " → ".join(trail[:-1])
        lead = f"{passed} → " if passed else ""
        if k8s_only and last.tier == DEFAULT_TIER:
            isolating = ", ".join(p.key for p in policies if p.tier == last.tier)
            return (f"{lead}no rule allows it: isolated by NetworkPolicy {isolating} (the end of tier "
                    f"{DEFAULT_TIER} denies what no rule allowed)")
        return f"{lead}no rule of tier {last.tier} decided: end of tier {last.tier} (default action Deny)"
    if v.why == "profile":
        ns = side.subject.namespace or "?"
        return " → ".join([*trail, f"profile kns.{ns}: Allow (every tier passed)"])
    if v.why == "no-policy":
        return f"no policy selects {side.subject.label} for {side.direction}: not isolated"
    if v.why == "not-enforced":
        return "not isolated: its node does not enforce NetworkPolicy"
    if v.why == "host":
        return f"{side.subject.label} uses its node's address: pod policies do not apply to it"
    return "an external address: no policy applies on its side"


def explain(r: Reachability, conn: Connection, restrict: ConnSet | None = None) -> Explanation:
    """Both directions of ``conn`` (only the portion inside ``restrict`` when given); an unevaluated pair
    (self) and traffic from a pod's own node have no sides: their note says why."""
    if conn.conns is None or conn.note.startswith("from the destination pod's own node"):
        return Explanation(conn, [])
    return Explanation(conn, [explain_side(r, conn, d, restrict) for d in ("egress", "ingress")])


def explain_side(r: Reachability, conn: Connection, d: Direction,
                 restrict: ConnSet | None = None) -> DirectionExplanation:
    """One direction of ``conn``: egress is decided by the source's policies, ingress by the destination's.
    A trace asks one direction at a time, at the node that enforces it, so this is its own function."""
    local, remote = (conn.src, conn.dst) if d == "egress" else (conn.dst, conn.src)
    sig = r.engine.signature(local.cls, d)
    decision, _ = r.engine.decision(local.cls, remote.cls, d)
    policies = [p for _, ps in sig.applicable for p in ps]
    status = _status(r, local, d, sig.why, policies)
    k8s_only = all(p.kind == "NetworkPolicy" for p in policies)
    side = DirectionExplanation(d, local, status,
                                [p.title if k8s_only else f"{p.title} in tier {p.tier}" for p in policies],
                                sorted({f"{p.key}: {n}" for p in policies for n in p.notes}), [])
    for v in decision:
        if restrict is not None:
            v = Verdict(v.conns & restrict, v.allowed, v.why, v.hops, v.via_ip)
            if not v.conns:
                continue
        hops = [{"tier": h.tier, "policy": h.policy.title if h.policy else None,
                 "rule": h.rule.label if h.rule else None, "action": h.action} for h in v.hops]
        side.steps.append(Portion(v.conns, v.allowed, _reason(v, side, policies, remote.ip), hops, v.why))
    side.steps.sort(key=lambda s: (not s.allowed, s.reason))
    return side


def _status(r: Reachability, e: Peer, d: Direction, why: str, policies: list[Policy]) -> str:
    enforcement = r.u.workloads[e.workload].enforcement.reason if e.workload is not None else ""
    if why == "not-enforced":
        return f"policy is not enforced here ({enforcement})"
    if why == "host":
        return f"{e.label} is host-networked (node {e.node}): not a pod endpoint"
    if why == "external":
        return "external address"
    if why == "no-policy":
        return f"no policy selects it for {d} ({enforcement})"
    n = len(policies)
    return f"selected for {d} by {n} polic{'y' if n == 1 else 'ies'} ({enforcement})"
