"""Make the kernel answer for the model: route decisions (RTM_GETROUTE) and real packets (vs the trace).

(1) For every node namespace, every other node's pod CIDR and a few sample addresses in it (first and last
host, the realised pods there), the kernel's matched route (``ip route get … fibmatch``) is compared with
the model's lookup: matched prefix, next hop, device, onlink. The underlay router is asked the same.
(2) Between sampled pod pairs, UDP echo, TCP connect and ICMP echo are sent for real and compared with the
trace engine's forward and reply dispositions (and, when delivered, the source address the pod saw).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from cnimodel.cluster import Cluster
from cnimodel.kernel import arp, filters, probe, rtnl
from cnimodel.kernel.blueprint import Blueprint, RealPod
from cnimodel.kernel.netlink import KernelLookup, decision
from cnimodel.kernel.realise import Progress, Steps, quiet
from cnimodel.net import PrefixTable
from cnimodel.trace import trace


@dataclass(frozen=True)
class Mismatch:
    """One disagreement: which check, where (a namespace's node, or a pod pair), for what (a destination or a
    flow), what the model says and what the kernel did."""

    check: str  # "route" or "packet"
    where: str
    what: str
    model: str
    kernel: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "where": self.where, "what": self.what, "model": self.model,
                "kernel": self.kernel}


@dataclass
class Verification:
    routes: int = 0
    packets: int = 0
    pairs: int = 0
    delivered: int = 0  # probes the model and the kernel both deliver (there and back)
    dropped: int = 0  # probes both drop
    mismatches: list[Mismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict[str, object]:
        return {"routeChecks": self.routes, "packetChecks": self.packets, "podPairs": self.pairs,
                "packetsDelivered": self.delivered, "packetsDropped": self.dropped,
                "mismatches": [m.to_json() for m in self.mismatches], "notes": self.notes}


@dataclass(frozen=True)
class Expect:
    route_dst: IPv4Network | None
    next_hop: IPv4Address | None
    dev: str | None
    onlink: bool
    error: str | None = None
    route_text: str = ""


def _text(d: Expect | KernelLookup) -> str:
    if d.error:
        return d.error + (f" ({d.route_dst})" if d.route_dst is not None and d.error != "unreachable" else "")
    parts = [str(d.route_dst), "→", str(d.next_hop)]
    if d.dev:
        parts += ["dev", d.dev]
    if d.onlink:
        parts.append("onlink")
    return " ".join(parts)


def expect_node(cluster: Cluster, node: str, ip: IPv4Address) -> Expect:
    """The model's decision on ``node`` for ``ip``: its LPM route, except where the walk takes a Windows
    RemoteSubnetRoute (an Encap fact), which the emulation holds as an onlink route on the VXLAN device."""
    facts = cluster.facts(node)
    res = cluster.lookup(node, ip)
    r = res.route
    enc = None
    if facts.os == "windows" and facts.encaps:
        table = cluster.memo(("kernel-encaps", node), lambda: PrefixTable((e.dst, e) for e in facts.encaps))
        hit = table.lookup(ip)
        enc = hit[1] if hit else None
    if enc is not None and (r is None or r.dst.prefixlen <= enc.dst.prefixlen or r.dev == enc.dev):
        return Expect(enc.dst, enc.dst.network_address, enc.dev, True, route_text=f"RemoteSubnetRoute {enc.dst}")
    if r is None:
        return Expect(None, None, None, False, "unreachable")
    if r.type == "blackhole":
        return Expect(r.dst, None, None, False, "blackhole")
    return Expect(r.dst, res.next_hop, r.dev, r.onlink)


def expect_underlay(cluster: Cluster, ip: IPv4Address) -> Expect:
    """The underlay router's decision; a route that leaves the network is held as no route at all."""
    res = cluster.lookup(cluster.plan.underlay.name, ip)
    r = res.route
    if r is None or r.next_hop_type == "Internet" or (r.kind == "default" and r.via is None):
        return Expect(None, None, None, False, "unreachable")
    return Expect(r.dst, res.next_hop, r.dev, r.onlink)


def _differs(want: Expect, got: KernelLookup, dev_known: bool) -> bool:
    if want.error or got.error:
        return want.error != got.error
    return (want.route_dst != got.route_dst or want.next_hop != got.next_hop or want.onlink != got.onlink
            or (dev_known and want.dev != got.dev))


def samples(cidr: IPv4Network, pods: list[RealPod]) -> list[IPv4Address]:
    """First and last host of ``cidr`` and the realised pods in it."""
    out = {cidr.network_address + 1, cidr.broadcast_address - 1}
    out.update(p.ip for p in pods if p.ip in cidr)
    return sorted(out)


def check_routes(bp: Blueprint, report: Verification, steps: Steps = quiet) -> None:
    cluster = bp.cluster
    cidrs = [(n, a.pod_cidr) for n, a in cluster.allocation.nodes.items() if a.pod_cidr is not None]
    by_cidr = {n: samples(c, [p for p in bp.pods.values() if p.node == n]) for n, c in cidrs}
    for i, space in enumerate(bp.spaces):
        steps("asking the kernel's routes", i, len(bp.spaces))
        if space.role == "pod":
            continue
        asked = [(node, ip) for node, _ in cidrs if node != space.node for ip in by_cidr[node]]
        with rtnl.Rtnl(space.name) as nl:
            names = nl.links()
            answers = nl.run([rtnl.get_route(ip) for _, ip in asked])
        for (node, ip), answer in zip(asked, answers, strict=True):
            got = decision(answer, names)
            got = KernelLookup(got.dst, got.route_dst, got.next_hop, space.model_name(got.dev) if got.dev else None,
                           got.onlink, got.error)
            if space.role == "underlay":
                want, dev_known = expect_underlay(cluster, ip), False
            else:
                assert space.node is not None
                want, dev_known = expect_node(cluster, space.node, ip), True
            report.routes += 1
            if _differs(want, got, dev_known):
                where = space.node or cluster.plan.underlay.name
                report.mismatches.append(Mismatch("route", where, f"{ip} (pods of {node})", _text(want), _text(got)))


def pod_pairs(bp: Blueprint, max_pairs: int, seed: int = 0) -> list[tuple[RealPod, RealPod]]:
    """Every ordered pod pair when they are few; else one pair per ordered node pair (same node included when
    it has two pods), sampled down to ``max_pairs`` with a fixed seed."""
    pods = list(bp.pods.values())
    if len(pods) * (len(pods) - 1) <= max_pairs:
        return [(a, b) for a in pods for b in pods if a is not b]
    per_node: dict[str, list[RealPod]] = {}
    for p in pods:
        per_node.setdefault(p.node, []).append(p)
    nodes = list(per_node)
    pairs = []
    for i, a in enumerate(nodes):
        for j, b in enumerate(nodes):
            src = per_node[a][j % len(per_node[a])]
            dst = per_node[b][(i + 1) % len(per_node[b])]
            if src is not dst:
                pairs.append((src, dst))
    if len(pairs) > max_pairs:
        pairs = random.Random(seed).sample(pairs, max_pairs)
    return pairs


def check_packets(bp: Blueprint, report: Verification, port: int, max_pairs: int, timeout: float,
                  protos: tuple[str, ...] = probe.PROTOS, steps: Steps = quiet) -> None:
    pairs = pod_pairs(bp, max_pairs)
    report.pairs = len(pairs)
    room = arp.room(sum(len(s.neighbors) for s in bp.spaces))
    groups = arp.waves(pairs, max(room, 1))
    if room < 16:
        report.notes.append(f"the kernel's ARP table is nearly full ({room} entries left under gc_thresh3): "
                            "packets may be dropped for that reason alone")
    if len(groups) > 1:
        report.notes.append(f"packets sent in {len(groups)} waves: the kernel keeps one ARP table for every "
                            f"namespace, with room for {room} more entries here")
    outcomes: list[probe.Outcome] = []
    forget = arp.Forget(bp)
    next_id = 0
    for i, group in enumerate(groups):
        steps("sending probes (waves)", i, len(groups))
        if i:  # make room: forget what the previous wave's packets made ARP learn
            forget.after(groups[i - 1])
        probes = [probe.Probe(next_id + k, a, b, proto, port) for k, (a, b, proto) in
                  enumerate((a, b, proto) for a, b in group for proto in protos)]
        next_id += len(probes)
        outcomes += probe.run(probes, timeout=timeout)
    verdicts = filters.verdicts(bp) if bp.policy else {}
    for n, o in enumerate(outcomes):
        if not n % 64:
            steps("tracing the probes in the model", n, len(outcomes))
        p = o.probe
        # routing and NAT only: the policy realised (or not) in the namespaces is applied below
        fwd, back = trace(bp.cluster, p.src.key, p.dst.key, port=p.port, proto=p.proto, both=True, policy=False)
        report.packets += 1
        where = f"{p.src.key} → {p.dst.key}"
        what = f"{p.proto.upper()}" + (f" :{p.port}" if p.proto != "icmp" else "")
        model_fwd = fwd.disposition == "ACCEPTED"
        model = f"{fwd.disposition} / reply {back.disposition}"
        if bp.policy:
            conns = verdicts.get((p.src.key, p.dst.key))
            allowed = conns is None or conns.allows(p.proto.upper() if p.proto != "icmp" else 1, p.port)  # type: ignore[attr-defined]
            if model_fwd and not allowed:
                model_fwd, model = False, f"{model}, policy denies"
        model_back = model_fwd and back.disposition == "ACCEPTED"
        observed = _observed(o)
        wrong = (model_back != o.reply) if o.forward is None else (model_fwd != o.forward or
                                                                   (o.forward and model_back != o.reply))
        if not wrong and o.seen_src is not None and fwd.final is not None and o.seen_src != fwd.final.src:
            wrong = True
            model += f" (arrives from {fwd.final.src})"
        if wrong:
            report.mismatches.append(Mismatch("packet", where, what, model, observed))
        elif model_back:
            report.delivered += 1
        else:
            report.dropped += 1


def _observed(o: probe.Outcome) -> str:
    parts = []
    if o.forward is not None:
        parts.append("delivered" if o.forward else "not delivered")
    parts.append("reply received" if o.reply else "no reply")
    if o.error:
        parts.append(o.error)
    if o.seen_src is not None and o.seen_src != o.probe.src.ip:
        parts.append(f"arrived from {o.seen_src}")
    return ", ".join(parts)


def verify(bp: Blueprint, port: int = 80, max_pairs: int = 2000, timeout: float = 2.0,
           progress: Progress | None = None, steps: Steps | None = None) -> Verification:
    """Both checks on a realised blueprint (``progress`` hears each done, ``steps`` each step on the way)."""
    say = progress or (lambda _msg: None)
    report = Verification()
    check_routes(bp, report, steps or quiet)
    say(f"{report.routes} route decisions compared")
    check_packets(bp, report, port, max_pairs, timeout, steps=steps or quiet)
    say(f"{report.packets} probes over {report.pairs} pod pairs compared")
    return report

