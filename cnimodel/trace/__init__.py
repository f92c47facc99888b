"""Packet traces: hop-by-hop walks with encapsulation, NAT and policy verdicts, both directions."""

from __future__ import annotations

from dataclasses import replace

from cnimodel.cluster import Cluster
from cnimodel.graph import vertices as V
from cnimodel.plan.errors import EndpointError
from cnimodel.trace.model import DISPOSITIONS, PROTOCOLS, Flow, Hop, Step, Trace
from cnimodel.trace.resolve import TraceEnd, owner_of, resolve
from cnimodel.trace.state import Packet, Stop
from cnimodel.trace.walk import Walk, finish

__all__ = ["DISPOSITIONS", "PROTOCOLS", "EndpointError", "Flow", "Hop", "Step", "Trace", "TraceEnd", "trace"]


def trace(cluster: Cluster, src: str, dst: str, port: int | None = 80, proto: str = "tcp", size: int = 64,
          backend: str | None = None, reverse: bool = False, both: bool = False, policy: bool = True) -> list[Trace]:
    """Walk a packet from SRC to DST (and its reply); returns the forward trace, the reply, or both.
    ``policy`` False leaves NetworkPolicy out: routing and NAT only (the kernel check applies policy itself).

    >>> [t.disposition for t in trace(cluster, "default/client", "web/iis-0", port=80)]  # doctest: +SKIP
    ['ACCEPTED']
    """
    proto = proto.lower()
    if proto not in PROTOCOLS:
        raise EndpointError(f"unknown protocol {proto!r}; use one of {', '.join(PROTOCOLS)}")
    s = resolve(cluster, src)
    d = resolve(cluster, dst, port)
    if s.kind in ("service", "nodeport"):
        raise EndpointError(f"{src} is a Service; a trace starts at a pod, a node or an external address")
    dport = None if proto == "icmp" else (d.port if d.kind == "nodeport" else port)
    flow = Flow(s.ip, d.ip, proto, 0 if proto == "icmp" else 49152, dport, size, s.label, d.label, s.members,
                d.members)
    walk = Walk(cluster, Packet(flow.src, flow.dst, proto, flow.sport, flow.dport, size), policy=policy,
                frontend=d.kind in ("service", "nodeport"), target=d, backend=backend)
    if s.down is not None or (d.down is not None and d.pod is None):
        disposition, reason = _not_running(walk, s, d)
    else:
        disposition, reason = _run(walk, s)
    forward = finish(walk, flow, disposition, reason + _members_note(s, d))
    if not (reverse or both):
        return [forward]
    if disposition not in ("ACCEPTED", "EXITS_NETWORK") or forward.final is None:
        reply = Trace(flow.reply(), "NO_ROUTE" if disposition == "ACCEPTED" else disposition,
                      f"no reply: the forward packet was not delivered ({disposition})", [], "reverse")
        return [forward, reply] if both else [reply]
    reply = _reply(cluster, walk, forward)
    return [forward, reply] if both else [reply]


def _members_note(s: TraceEnd, d: TraceEnd) -> str:
    """A workload stands for several pods; the trace follows one, and says which and what it left out."""
    notes = []
    for e in (s, d):
        if e.note:  # a name that was both a Pod and a Service: which one was traced
            notes.append(e.note)
        if len(e.members) > 1:
            shown = ", ".join(e.members[1:6]) + (" …" if len(e.members) > 6 else "")
            notes.append(f"{e.label} has {len(e.members)} pods; traced {e.members[0]} (also: {shown})")
    return "".join(f"; {n}" for n in notes)


def _not_running(walk: Walk, s: TraceEnd, d: TraceEnd) -> tuple[str, str]:
    """A source that never runs sends nothing; a destination that never runs and holds no address cannot be
    sent to. The walk ends where it starts, saying why (the allocation's ``not_running``)."""
    end = s if s.down is not None else d
    assert end.down is not None
    if end is s:
        hop = walk.hop(s.key, "pod")
        walk.enter(V.pod(s.key))
        what = f"{s.key} never runs, so it sends nothing: {end.down}"
    else:
        where = s.key if s.kind == "pod" else s.node or "internet"
        hop = walk.hop(where, "pod" if s.kind == "pod" else "node" if s.kind == "node" else "external")
        walk.enter(V.pod(s.key) if s.kind == "pod" else V.host(where) if s.kind == "node" else V.INTERNET)
        what = f"{d.key} never runs and holds no address to send to: {end.down}"
    hop.add("dropped", "POD_NOT_RUNNING", pod=end.key, code=end.down.code, reason=end.down.reason)
    return "POD_NOT_RUNNING", what


def _run(walk: Walk, s: TraceEnd) -> tuple[str, str]:
    """From the source (a pod, a node, outside) through its node's load balancer — when the packet goes to a
    Service frontend that node answers — and the source pod's egress, then hop by hop."""
    try:
        if s.kind == "pod":
            vertex = walk.from_pod(s)
        elif s.kind == "node":
            assert s.node is not None
            vertex = walk.from_node(s.node)
        else:
            vertex = walk.from_outside()
        vertex = walk.balance_at(vertex)  # after DNAT: egress policy judges the backend pod, not the VIP
        if s.kind == "pod":
            walk.source_egress(s)
        return walk.run_from(vertex)
    except Stop as stop:
        return stop.disposition, stop.reason


def _reply(cluster: Cluster, fwd_walk: Walk, forward: Trace) -> Trace:
    final = forward.final
    assert final is not None
    owner = owner_of(cluster, final.dst)
    src_label = f"{owner.pod.pod.key}[Pod]" if owner.pod is not None else forward.flow.dst_label
    reply_flow = replace(final.reply(), src_label=src_label, dst_label=forward.flow.src_label)
    walk = Walk(cluster, Packet(reply_flow.src, reply_flow.dst, reply_flow.proto, reply_flow.sport,
                                reply_flow.dport, reply_flow.size), reply_of=list(fwd_walk.nat), reply=True,
                policy=fwd_walk.policy)
    last = forward.hops[-1]
    try:
        if forward.disposition == "EXITS_NETWORK":
            disposition, reason = walk.run_from(walk.from_outside("REPLY"))
        elif last.kind == "pod":
            disposition, reason = walk.run_from(walk.from_reply_pod(cluster.allocation.pods[last.node]))
        else:
            hop = walk.hop(last.node, "node")
            walk.enter(V.host(last.node))
            hop.add("originated", "REPLY", src=walk.pkt.src, dst=walk.pkt.dst)
            disposition, reason = walk.run_from(V.host(last.node))
    except Stop as stop:
        disposition, reason = stop.disposition, stop.reason
    trace = finish(walk, reply_flow, disposition, reason, "reverse")
    if disposition == "ACCEPTED" and trace.final is not None and trace.final.dst != forward.flow.src:
        trace.reason += f" (but to {trace.final.dst}, not the original source {forward.flow.src})"
    return trace
