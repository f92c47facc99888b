"""Decide one direction of a connection: walk the tiers that select the local endpoint, over the whole
connection space at once.

The space (every protocol and port) is cut into portions as rules match: an Allow or Deny decides its
portion for good, a Pass sends it to the next participating tier, a Log decides nothing. What no rule of a
tier decides meets the tier's default action (Deny: the end-of-tier drop that is Kubernetes isolation; or
Pass). What passes every tier reaches the namespace profile, which allows. The answer is a list of
verdicts, each a portion with its decision and the hops that led to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cnimodel.policy.connset import ConnSet
from cnimodel.policy.model import Direction, EndpointSel, Policy, PolicyRule, PortMatch, RulePeer, Tier
from cnimodel.policy.selectors import Sel
from cnimodel.policy.universe import PeerClass

Why = Literal["rule", "end-of-tier", "profile", "no-policy", "not-enforced", "host", "external"]


@dataclass(frozen=True)
class DecisionPoint:
    """A decision point: a rule that matched, or the end of a tier (``rule`` None)."""

    tier: str
    policy: Policy | None
    rule: PolicyRule | None
    action: str


@dataclass(frozen=True)
class Verdict:
    """One portion of the connection space and what happened to it in one direction."""

    conns: ConnSet
    allowed: bool
    why: Why
    hops: tuple[DecisionPoint, ...] = ()
    via_ip: bool = False   # the deciding rule matched a pod by its IP (ipBlock / nets)


Decision = tuple[Verdict, ...]
Applicable = Sequence[tuple[Tier, Sequence[Policy]]]


class Matcher:
    """Evaluates rule criteria on peer classes, given the ids the universe gave to selectors."""

    def __init__(self, atom_ids: Mapping[EndpointSel, int], node_atom_ids: Mapping[Sel, int]) -> None:
        self.atom_ids = atom_ids
        self.node_atom_ids = node_atom_ids
        self._ids: dict[int, int] = {}  # id(selector object) → atom id: selector trees hash slowly

    def aid(self, sel: EndpointSel) -> int:
        i = self._ids.get(id(sel))
        if i is None:
            i = self._ids[id(sel)] = self.atom_ids[sel]
        return i

    def nid(self, sel: Sel) -> int:
        i = self._ids.get(id(sel))
        if i is None:
            i = self._ids[id(sel)] = self.node_atom_ids[sel]
        return i

    def peer(self, p: RulePeer, c: PeerClass) -> bool:
        """Whether peer criterion ``p`` holds for class ``c`` (every present field must hold)."""
        if p.nothing:
            return False
        if p.endpoint is not None and (c.kind != "pod" or self.aid(p.endpoint) not in c.atoms):
            return False
        if p.not_endpoint is not None and c.kind == "pod" and self.aid(p.not_endpoint) in c.atoms:
            return False
        if p.nets is not None and not any(n in c.cidrs for n in p.nets):
            return False
        if p.not_nets and any(n in c.cidrs for n in p.not_nets):
            return False
        return p.nodes is None or (c.kind == "host" and self.nid(p.nodes) in c.node_atoms)

    def side(self, peers: tuple[RulePeer, ...] | None, c: PeerClass) -> tuple[bool, bool]:
        """(matched, only by address): peers are ORed; None matches anything."""
        if peers is None:
            return True, False
        by_ip = False
        for p in peers:
            if self.peer(p, c):
                if not p.ip_based or p.endpoint is not None:
                    return True, False
                by_ip = True
        return by_ip, by_ip

    @staticmethod
    def ports(pm: PortMatch, dst: PeerClass) -> ConnSet:
        """Port criteria with named ports resolved on the destination, by name and protocol."""
        out = pm.static
        for name, proto in pm.named:
            for p, n in dst.resolve(name, proto):
                out = out | ConnSet.ports(p, n, n)
        return out

    def rule(self, r: PolicyRule, src: PeerClass, dst: PeerClass, remote_is_src: bool) -> tuple[ConnSet, bool]:
        """The connections rule ``r`` matches from ``src`` to ``dst``, and whether the remote peer matched
        only by its address."""
        if r.never:
            return ConnSet.NONE, False
        ok, src_ip = self.side(r.src, src)
        if not ok:
            return ConnSet.NONE, False
        ok, dst_ip = self.side(r.dst, dst)
        if not ok:
            return ConnSet.NONE, False
        conns = r.protocols
        if r.ports is not None:
            conns = conns & self.ports(r.ports, dst)
        if r.not_ports is not None:
            conns = conns - self.ports(r.not_ports, dst)
        remote = src if remote_is_src else dst
        return conns, (src_ip if remote_is_src else dst_ip) and remote.kind == "pod"


def decide(m: Matcher, direction: Direction, local: PeerClass, remote: PeerClass, applicable: Applicable) -> Decision:
    """The verdicts of one direction for traffic between ``local`` (whose policies apply) and ``remote``."""
    if not applicable:
        return (Verdict(ConnSet.ALL, True, "no-policy"),)
    src, dst = (local, remote) if direction == "egress" else (remote, local)
    remote_is_src = direction == "ingress"
    out: list[Verdict] = []
    live: list[tuple[ConnSet, tuple[DecisionPoint, ...]]] = [(ConnSet.ALL, ())]
    for tier, policies in applicable:
        passed: list[tuple[ConnSet, tuple[DecisionPoint, ...]]] = []
        for policy in policies:
            for r in policy.rules(direction) or ():
                if not live:
                    break
                if r.action == "Log":
                    continue
                hit_set, via_ip = m.rule(r, src, dst, remote_is_src)
                if not hit_set:
                    continue
                rest: list[tuple[ConnSet, tuple[DecisionPoint, ...]]] = []
                for seg, hops in live:
                    hit = seg & hit_set
                    if not hit:
                        rest.append((seg, hops))
                        continue
                    left = seg - hit
                    if left:
                        rest.append((left, hops))
                    trail = (*hops, DecisionPoint(tier.name, policy, r, r.action))
                    if r.action == "Pass":
                        passed.append((hit, trail))
                    else:
                        out.append(Verdict(hit, r.action == "Allow", "rule", trail, via_ip))
                live = rest
        for seg, hops in live:
            if tier.default_action == "Deny":
                out.append(Verdict(seg, False, "end-of-tier", (*hops, DecisionPoint(tier.name, None, None, "Deny"))))
            else:
                passed.append((seg, (*hops, DecisionPoint(tier.name, None, None, "Pass"))))
        live = passed
    out.extend(Verdict(seg, True, "profile", hops) for seg, hops in live)
    return merge(out)


def merge(verdicts: list[Verdict]) -> Decision:
    """Join portions that share a decision and its reason."""
    by_reason: dict[tuple, ConnSet] = {}
    for v in verdicts:
        k = (v.allowed, v.why, v.hops, v.via_ip)
        by_reason[k] = by_reason[k] | v.conns if k in by_reason else v.conns
    return tuple(Verdict(c, a, w, h, ip) for (a, w, h, ip), c in by_reason.items())


def allowed(decision: Decision) -> ConnSet:
    out = ConnSet.NONE
    for v in decision:
        if v.allowed:
            out = out | v.conns
    return out
