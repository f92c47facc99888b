"""Where the trace asks other engines: the load-balancing decision for Service VIPs and NodePorts, and the
policy verdicts at the source's egress and the destination's ingress. Each engine is optional: without it
the trace says what it could not decide instead of guessing."""

from __future__ import annotations

from ipaddress import AddressValueError, IPv4Address
from typing import TYPE_CHECKING

from cnimodel.trace.resolve import Endpoint

if TYPE_CHECKING:
    from cnimodel.trace.walk import Walk

WIN_LOCAL_NODEPORT = ("local NodePort access from the node itself is not supported on Windows (Kubernetes "
                      "\"Networking on Windows\" limitations; services-lb.md §4.2): reach the Service by its "
                      "ClusterIP, or the NodePort on another node")
# Decisions of the Services engine that end the walk, and the disposition each maps to.
STOPS = {"REJECTED": "DENIED_OUT", "DROPPED": "DENIED_IN", "NO_SERVICE": "NO_ROUTE"}


def load_balance(walk: Walk, node: str, src: Endpoint, dst: Endpoint, backend: str | None) -> None:
    """Apply the node's load-balancing decision to the packet: DNAT to one backend (``backend`` or the
    first), SNAT when the decision says so, each recorded for the reply."""
    from cnimodel.trace.walk import NatEntry, Stop

    hop = walk._hop(node, "node")
    if not hop.steps:
        hop.add("received", "RECEIVED", dst=walk.pkt.dst)
    try:
        from cnimodel.services.decide import decide
        from cnimodel.services.hnslb import LB_DSR
    except ImportError:
        hop.add("dropped", "NO_LB_MODEL", service=dst.label)
        raise Stop("NO_ROUTE", f"{dst.label}: the Services engine is not installed to decide the backend") from None
    pkt = walk.pkt
    if pkt.dport is None:
        hop.add("dropped", "NO_PORT", service=dst.label)
        raise Stop("NO_ROUTE", f"{dst.label}: a Service is reached on a port; ICMP is not load-balanced")
    d = decide(walk.cluster, node, pkt.dst, pkt.dport, pkt.proto.upper(), src=pkt.src)
    detail = {"service": d.service, "frontend": d.frontend, "decidedBy": d.decided_by, "rules": list(d.rules),
              "affinity": d.affinity, "notes": list(d.notes)}
    if d.disposition in STOPS:
        hop.add("dropped", d.disposition, reason=d.reason, **detail)
        raise Stop(STOPS[d.disposition], d.reason)
    if d.os == "windows" and d.frontend == "nodePort" and d.source_kind == "host":
        # Kubernetes lists it among the Windows networking limitations; the HNS LB has LocalRoutedVIP set, but
        # nothing promises it works, so the trace does not pretend the packet arrives.
        hop.add("dropped", "LOCAL_NODEPORT_UNSUPPORTED", reason=WIN_LOCAL_NODEPORT, **detail)
        raise Stop("DENIED_OUT", WIN_LOCAL_NODEPORT)
    if d.disposition != "LOAD_BALANCED" or not d.backends:
        hop.add("filtered", d.disposition, reason=d.reason, **detail)
        return  # not load-balanced here: the packet is routed to the address as it is
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
    if chosen.snat:
        try:
            new_src = IPv4Address(chosen.snat)
        except (AddressValueError, ValueError):
            hop.add("transformed", "SNAT", note=chosen.snat, reason=chosen.snat_reason)
            return
        walk.nat.append(NatEntry(node, "SNAT", (pkt.src, pkt.sport), (new_src, pkt.sport), chosen.snat_reason))
        hop.add("transformed", "SNAT", before=pkt.src, after=new_src, reason=chosen.snat_reason)
        pkt.src = new_src
        pkt.mark |= 0x4000  # KUBE-MARK-MASQ: flannel's FLANNEL-POSTRTG returns early for marked packets


def _dsr_note(node: str, undo_at: str) -> str:
    if undo_at != node:
        return (f"DSR: no SNAT; the reply is rewritten back at the backend's port on {undo_at} and returns directly "
                f"to the client, not through {node}'s NAT")
    return "DSR: no SNAT (the client address is kept); the reply is rewritten back at the backend's port"
