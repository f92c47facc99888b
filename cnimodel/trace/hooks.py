"""Where the trace asks the Services engine: the load balancer's decision for a Service VIP or a NodePort, read
from the forwarding graph's ``lb:<node>`` vertex (``cnimodel.graph.balance``), told as the hop's steps; the chosen
backend's DNAT (and SNAT, when the decision says so) recorded for the reply."""

from __future__ import annotations

from ipaddress import AddressValueError, IPv4Address

from cnimodel.graph.facts import Dnat, Edge, Unbalanced
from cnimodel.services.hnslb import LB_DSR
from cnimodel.trace.resolve import TraceEnd
from cnimodel.trace.state import NatEntry, Stop, WalkState


def load_balance(walk: WalkState, node: str, dst: TraceEnd, backend: str | None) -> Edge:
    """Apply the node's load-balancing decision to the packet: DNAT to one backend (``backend`` or the first),
    SNAT when the decision says so, each recorded for the reply. Returns the edge the packet leaves the load
    balancer by (its DNAT, or ``pass`` when the packet is not load-balanced)."""
    hop = walk.hop(node, "node")
    if not hop.steps:
        hop.add("received", "RECEIVED", dst=walk.pkt.dst)
    pkt = walk.pkt
    if pkt.dport is None:
        hop.add("dropped", "NO_PORT", service=dst.label)
        raise Stop("NO_ROUTE", f"{dst.label}: a Service is reached on a port; ICMP is not load-balanced")
    choice = walk.graph.balance(node, pkt.dst, pkt.dport, pkt.proto, pkt.src)
    fact = choice.drop.via if choice.drop is not None else choice.edges[0].fact
    d = fact.decision
    detail = {"service": d.service, "frontend": d.frontend, "decidedBy": d.decided_by, "rules": list(d.rules),
              "affinity": d.affinity, "notes": list(d.notes)}
    if choice.drop is not None:
        extra = {"reason": d.reason} if choice.drop.action == d.disposition else {"reason": choice.drop.reason}
        hop.add("dropped", choice.drop.action, **extra, **detail)
        raise Stop(choice.drop.disposition, choice.drop.reason)
    if isinstance(fact, Unbalanced):
        hop.add("filtered", d.disposition, reason=d.reason, **detail)
        return choice.edges[0]  # not load-balanced here: the packet is routed to the address as it is
    edges = {(e.fact.backend.ip, e.fact.backend.port): e for e in choice.edges if isinstance(e.fact, Dnat)}
    chosen = d.backends[0]
    if backend is not None:
        match = [b for b in d.backends if b.ip == backend]
        if not match:
            choices = ", ".join(b.ip for b in d.backends)
            hop.add("dropped", "NO_SUCH_BACKEND", backend=backend, backends=choices)
            raise Stop("NO_ROUTE", f"--backend {backend} is not a backend of {d.service} (backends: {choices})")
        chosen = match[0]
    backends = [{"ip": b.ip, "port": b.port, "weight": round(b.weight, 6), "local": b.local, "pod": b.pod,
                 "node": b.node, "probability": b.probability} for b in d.backends]
    target = IPv4Address(chosen.ip)
    # DSR (the engine's HNS LoadBalancer carries Flags DSR): the reply is rewritten at the backend's own port
    # (SLB_NAT_LAYER, services-lb.md §2.4 (c)/(e)) and goes straight to the client, not back through this node.
    dsr = d.load_balancer is not None and bool(d.load_balancer.flags & LB_DSR)
    undo_at = chosen.node if dsr and chosen.node else node
    by = chosen.via or d.decided_by
    walk.nat.append(NatEntry(undo_at, "DNAT", (pkt.dst, pkt.dport), (target, chosen.port),
                             f"DSR: SLB_NAT_LAYER at the backend's port on {undo_at} ({by})" if dsr else by))
    hop.add("transformed", "DNAT", before=f"{pkt.dst}:{pkt.dport}", after=f"{target}:{chosen.port}",
            rule=chosen.dnat, via=chosen.via, backends=backends, dsr=dsr or None,
            note=_dsr_note(node, undo_at) if dsr else None, **detail)
    pkt.dst, pkt.dport = target, chosen.port
    edge = edges[(chosen.ip, chosen.port)]
    if chosen.snat:
        try:
            new_src = IPv4Address(chosen.snat)
        except (AddressValueError, ValueError):
            hop.add("transformed", "SNAT", note=chosen.snat, reason=chosen.snat_reason)
            return edge
        walk.nat.append(NatEntry(node, "SNAT", (pkt.src, pkt.sport), (new_src, pkt.sport), chosen.snat_reason,
                                 chosen.snat_before_policy))
        hop.add("transformed", "SNAT", before=pkt.src, after=new_src, reason=chosen.snat_reason)
        pkt.src = new_src
        pkt.mark |= 0x4000  # KUBE-MARK-MASQ: flannel's FLANNEL-POSTRTG returns early for marked packets
    return edge


def _dsr_note(node: str, undo_at: str) -> str:
    if undo_at != node:
        return (f"DSR: no SNAT; the reply is rewritten back at the backend's port on {undo_at} and returns directly "
                f"to the client, not through {node}'s NAT")
    return "DSR: no SNAT (the client address is kept); the reply is rewritten back at the backend's port"
