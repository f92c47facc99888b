"""Policy verdicts in a trace: the source pod's egress and the destination pod's ingress, each decided by
the policy engine (cnimodel/policy) on the node that enforces it, in the words ``cnimodel reach --explain``
uses, naming the policy and rule (or the end of a tier, the profile, the default deny) that decided.

What policy sees, and why:
- the flow after kube-proxy's DNAT (the backend pod, not the Service VIP): DNAT runs in nat PREROUTING/
  OUTPUT, before the filter FORWARD hooks where policy agents (felix, kube-router …) evaluate; on Windows
  the load balancer is applied at the pod's own vSwitch port before the packet is routed;
- at ingress, the source the packet arrives with: a SNAT made on another node (masquerade to a node address,
  OutBoundNAT, SourceVIP) has already replaced it, but one the delivering node makes itself has not (nat
  POSTROUTING runs after filter FORWARD), so policy sees the client there;
- replies of an allowed connection pass by conntrack (ESTABLISHED) without being evaluated again.

A plan without any policy object gets no policy steps at all: nothing could isolate a pod.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnimodel.dataplane import PolicyEnforcement
from cnimodel.graph.classes import host_address, owner_of
from cnimodel.ipam import PodAddress
from cnimodel.policy.analysis import OWN_NODE_NOTE, Peer, Reachability
from cnimodel.policy.compile import KINDS
from cnimodel.policy.connset import ConnSet
from cnimodel.policy.explain import explain_side
from cnimodel.trace.model import Hop
from cnimodel.trace.state import Stop, WalkState

if TYPE_CHECKING:
    from ipaddress import IPv4Address

    from cnimodel.cluster import Cluster
    from cnimodel.trace.resolve import TraceEnd

DENIED = {"egress": "DENIED_OUT", "ingress": "DENIED_IN"}


def has_policies(cluster: Cluster) -> bool:
    return cluster.memo(("trace-has-policies",), lambda: any(o.kind in KINDS for o in cluster.plan.objects))


def enforcement(cluster: Cluster, node: str) -> PolicyEnforcement:
    return cluster.memo(("trace-enforcement", node), lambda: cluster.enforcement(node))


def egress(walk: WalkState, src: TraceEnd) -> None:
    """The source pod's egress, at its node, against the destination after DNAT (DENIED_OUT on a deny)."""
    cluster = walk.cluster
    if not walk.policy or src.kind != "pod" or src.pod is None or src.node is None or not has_policies(cluster):
        return
    hop = walk.hop(src.node, "node")
    e = enforcement(cluster, src.node)
    if not e.enforced:
        _not_enforced(hop, "egress", src.label, src.node, e)
        return
    r = Reachability.from_cluster(cluster)
    _decide(walk, hop, r, r.pod(r.u.by_key[src.pod.pod.key]), _peer(walk, r, walk.pkt.dst), "egress", e)


def ingress(walk: WalkState, hop: Hop, pod: PodAddress) -> None:
    """The destination pod's ingress, at its node, against the source as it arrives (DENIED_IN on a deny);
    for a reply: conntrack passes it."""
    cluster = walk.cluster
    node = pod.pod.node
    if not walk.policy or node is None or not has_policies(cluster):
        return
    e = enforcement(cluster, node)
    label = f"{pod.pod.key}[Pod]"
    if walk.reply:
        if e.enforced:
            established(hop, "ingress", label, e, cluster.plan.node(node).os == "windows")
        return
    if not e.enforced:
        _not_enforced(hop, "ingress", label, node, e)
        return
    r = Reachability.from_cluster(cluster)
    seen, note = _seen_source(walk, node)
    _decide(walk, hop, r, _peer(walk, r, seen), r.pod(r.u.by_key[pod.pod.key]), "ingress", e, note)


def reply_egress(walk: WalkState, hop: Hop, pod: PodAddress) -> None:
    """The replying pod's egress: conntrack passes the reply of a connection policy allowed."""
    node = pod.pod.node
    if walk.policy and node is not None and has_policies(walk.cluster):
        e = enforcement(walk.cluster, node)
        if e.enforced:
            established(hop, "egress", f"{pod.pod.key}[Pod]", e, walk.cluster.plan.node(node).os == "windows")


def established(hop: Hop, direction: str, subject: str, e: PolicyEnforcement, windows: bool) -> None:
    state = "the VFP flow of the connection" if windows else "conntrack (ESTABLISHED)"
    hop.add("filtered", "POLICY_ESTABLISHED", direction=direction, subject=subject, enforcedBy=e.by,
            mechanism=e.mechanism, reason=f"the reply of an allowed connection: {state} lets it through; policy "
            "is not evaluated again")


def _not_enforced(hop: Hop, direction: str, subject: str, node: str, e: PolicyEnforcement) -> None:
    """Said on every trace through a node without enforcement: it is why a policy has no effect there."""
    hop.add("filtered", "POLICY_NOT_ENFORCED", direction=direction, subject=subject,
            reason=f"node {node} does not enforce NetworkPolicy: {e.reason or 'no policy agent'}; "
            "policies that select this pod have no effect here")


def _decide(walk: WalkState, hop: Hop, r: Reachability, src: Peer, dst: Peer, d: str, e: PolicyEnforcement,
            note: str | None = None) -> None:
    conn = r.connection(src, dst)
    local, peer = (src, dst) if d == "egress" else (dst, src)
    base: dict[str, Any] = {"direction": d, "subject": local.label, "peer": peer.label, "enforcedBy": e.by,
                            "mechanism": e.mechanism}
    if conn.conns is None:  # a pod reaching itself (through a Service): the spec leaves it undefined
        hop.add("filtered", "POLICY_NOT_EVALUATED", **base, reason=conn.note)
        return
    if d == "ingress" and conn.note == OWN_NODE_NOTE:
        hop.add("filtered", "POLICY_ALLOWED", **base, reason=OWN_NODE_NOTE, decidedBy="own node", note=note)
        return
    side = explain_side(r, conn, d, _conns(walk))  # type: ignore[arg-type]
    step = side.steps[0]  # one protocol and port: one portion of the connection space
    detail = {**base, "status": side.status, "selectedBy": side.selected_by or None, "decidedBy": _decider(step),
              "policy": None, "rule": None, "reason": step.reason, "hops": step.hops or None, "note": note}
    if step.why == "rule":
        detail["policy"], detail["rule"] = step.hops[-1]["policy"], step.hops[-1]["rule"]
    if step.allowed:
        hop.add("filtered", "POLICY_ALLOWED", **detail)
        return
    hop.add("filtered", "POLICY_DENIED", **detail)
    where = hop.node + (f" ({e.by}, {e.mechanism})" if e.mechanism else f" ({e.by})" if e.by else "")
    raise Stop(DENIED[d], f"{d} of {local.label} denied on {where}: {step.reason}")


def _decider(step: Any) -> str:
    """What decided, in a few words: the rule, the end of a tier (a default deny), the profile, no policy."""
    last = step.hops[-1] if step.hops else None
    if step.why == "rule" and last is not None:
        return f"{last['policy']} → {last['rule']}"
    if step.why == "end-of-tier" and last is not None:
        return f"end of tier {last['tier']} (default deny)" if last["tier"] == "default" else \
            f"end of tier {last['tier']}"
    return {"profile": "namespace profile (allow)", "no-policy": "no policy selects it",
            "not-enforced": "not enforced", "host": "host-networked: pod policy does not apply",
            "external": "external address"}.get(step.why, step.why)


def _conns(walk: WalkState) -> ConnSet:
    pkt = walk.pkt
    if pkt.proto == "icmp" or pkt.dport is None:
        return ConnSet.protocol(1 if pkt.proto == "icmp" else {"tcp": 6, "udp": 17, "sctp": 132}[pkt.proto])
    return ConnSet.ports(pkt.proto.upper(), pkt.dport, pkt.dport)


def _peer(walk: WalkState, r: Reachability, ip: IPv4Address) -> Peer:
    """The policy endpoint an address is: a pod, a node (its own address, or a host address in its pod
    subnet: the bridge's, cbr0_ep, the overlay SourceVIP), or an external address (ipBlock peers)."""
    owner = owner_of(walk.cluster, ip)
    if owner.kind == "pod" and owner.pod is not None and owner.pod.pod.key in r.u.by_key:
        return r.pod(r.u.by_key[owner.pod.pod.key])
    if owner.kind == "node" and owner.node in r.u.nodes:
        return r.node(owner.node)  # type: ignore[arg-type]
    if owner.kind == "pod-subnet" and owner.node in r.u.nodes and \
            host_address(walk.cluster.local_facts(owner.node), ip):  # type: ignore[arg-type]
        return r.node(owner.node)  # type: ignore[arg-type]
    return Peer("external", str(ip), r.u.external_class(ip), ip=ip)


def _seen_source(walk: WalkState, node: str) -> tuple[IPv4Address, str | None]:
    """The source ingress policy sees at ``node``: the packet's, unless ``node`` itself made the SNAT."""
    src = walk.pkt.src
    for n in reversed(walk.nat):
        if n.node == node and n.kind == "SNAT" and n.after[0] == src and not n.before_policy:
            note = (f"policy sees the source before {node}'s own SNAT ({n.by}: {n.before[0]} → {src}), which is "
                    "applied on the way out (nat POSTROUTING after filter FORWARD)")
            if walk.cluster.plan.node(node).os == "windows":
                note += " [I: on Windows the VFP layer order is not documented]"
            return n.before[0], note
    return src, None
