"""What crossing an edge of the forwarding graph does to a packet, as the hop's typed steps: each edge fact
(``cnimodel.graph.facts``) becomes the steps that name it — the route matched, nat POSTROUTING's rule, the
egress device's MTU, the Encap fact's outer header, the delivery — and the packet's addresses change where a fact
says so. A drop (``Decision.drop``) becomes the steps that led to it and the ``dropped`` step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnimodel.dataplane import Route
from cnimodel.graph import vertices as V
from cnimodel.graph.facts import (
    DST,
    Decapsulate,
    Drop,
    DstText,
    Edge,
    Encapsulate,
    Forward,
    Input,
    LocalDelivery,
    PodDelivery,
    Switch,
    ToPod,
    TunnelRoute,
)
from cnimodel.graph.underlay import UnderlayRoute
from cnimodel.trace import verdicts, winport
from cnimodel.trace.model import Hop, Wire
from cnimodel.trace.state import NatEntry, Stop

if TYPE_CHECKING:
    from cnimodel.dataplane import Encap
    from cnimodel.trace.walk import Walk


def cross(walk: Walk, hop: Hop, edge: Edge) -> str:
    """Cross ``edge`` at ``hop``: add its steps, apply its translations; returns the vertex the packet is at then
    (or raises Stop where it is delivered or dropped)."""
    f = edge.fact
    if isinstance(f, Forward):
        return _forward(walk, hop, edge, f)
    if isinstance(f, UnderlayRoute):
        return _underlay(walk, hop, edge, f)
    if isinstance(f, TunnelRoute):
        if f.route is not None:
            hop.add("routed", "FORWARDED", route=route_text(f.route), kind=f.route.kind, owner=f.route.owner)
        else:  # Windows overlay: the HNS network's RemoteSubnetRoute decides, not the host route table
            e = f.encap
            hop.add("routed", "REMOTE_SUBNET_ROUTE", prefix=e.dst, providerAddress=e.outer_dst, owner=e.owner)
    elif isinstance(f, Encapsulate):
        encapsulate(walk, hop, f.encap)
    elif isinstance(f, ToPod):
        if f.route is not None:  # a routed pod: the host's /32 route names its veth, where policy filters
            hop.add("routed", "FORWARDED", route=route_text(f.route), kind=f.route.kind, owner=f.route.owner)
    elif isinstance(f, PodDelivery):
        _deliver(walk, hop, edge, f)
    elif isinstance(f, LocalDelivery):
        walk.cross_to(edge)
        arrived(walk, hop, f)
    elif not isinstance(f, Input | Decapsulate | Switch) and hasattr(f, "steps"):
        _plugin(walk, hop, f)  # a plugin's own edge: its fact tells its steps
    return walk.cross_to(edge)


def arrived(walk: Walk, hop: Hop, f: LocalDelivery) -> None:
    hop.add("delivered", "DELIVERED", to=f"{f.node} (host)", address=walk.pkt.dst)
    raise Stop("ACCEPTED", f"delivered to node {f.node}")


def dropped(walk: Walk, hop: Hop, drop: Drop) -> None:
    """The steps of a drop (the route or tunnel hop that led to it first), then Stop."""
    if isinstance(drop.via, Forward):
        _route_out(walk, hop, drop.via)
    elif isinstance(drop.via, Encapsulate):
        hop = encapsulate(walk, hop, drop.via.encap)
    hop.add("dropped", drop.action, **{k: _value(walk, v) for k, v in drop.detail})
    raise Stop(drop.disposition, drop.reason.replace("{dst}", str(walk.pkt.dst)))


def _value(walk: Walk, v: Any) -> Any:
    if v is DST:
        return walk.pkt.dst
    if isinstance(v, DstText):
        return v.template.replace("{dst}", str(walk.pkt.dst))
    if isinstance(v, Route):
        return route_text(v)
    return v


def _route_out(walk: Walk, hop: Hop, f: Forward) -> None:
    """A node's route: FORWARDED, nat POSTROUTING, the egress device's MTU."""
    r = f.route
    hop.add("routed", "FORWARDED", route=route_text(r), kind=r.kind, owner=r.owner,
            nextHop=r.via if r.via is not None else walk.pkt.dst)
    _postrouting(walk, hop, f)
    if f.mtu is not None and walk.pkt.size > f.mtu:
        hop.add("dropped", "MTU_EXCEEDED", device=r.dev, mtu=f.mtu, size=walk.pkt.size)
        raise Stop("DENIED_OUT", f"the {walk.pkt.size}-byte packet exceeds the MTU {f.mtu} of {r.dev} on {f.table}")


def _forward(walk: Walk, hop: Hop, edge: Edge, f: Forward) -> str:
    """Hand the packet to its L2 next hop on the egress device's segment."""
    _route_out(walk, hop, f)
    pkt = walk.pkt
    if f.via == "subnet":
        nh = f.route.via if f.route.via is not None else pkt.dst
        walk.cross_to(edge)
        hop.add("delivered", "DELIVERED_TO_SUBNET", subnet=f.to, address=nh)
        raise Stop("DELIVERED_TO_SUBNET", f"{nh} is on subnet {f.to} but no node in the plan has it")
    if f.via == "nic-owner":  # an address of a node's NIC (Azure CNI's VNet modes: a secondary IP configuration)
        hop.add("transmitted", "TRANSMITTED", interface=f.route.dev, to=f.to, address=pkt.dst)
    else:
        hop.add("transmitted", "TRANSMITTED", interface=f.route.dev, to=f.to)
    walk.wires.append(Wire(f.segment, pkt.src, pkt.dst, pkt.sport, pkt.dport))
    return walk.cross_to(edge)


def _underlay(walk: Walk, hop: Hop, edge: Edge, f: UnderlayRoute) -> str:
    pkt = walk.pkt
    r = f.route
    hop.add("routed", "FORWARDED", route=str(r.dst), nextHopType=r.next_hop_type, nextHop=_value(walk, f.next_hop),
            owner=r.owner, name=r.name)
    if f.via == "out":
        hop.add("transmitted", "EXITS_NETWORK", to="internet")
        walk.cross_to(edge)
        raise Stop("EXITS_NETWORK", f"{pkt.dst} is outside the plan: the underlay sends it out")
    if f.via == "subnet":
        walk.cross_to(edge)
        hop.add("delivered", "DELIVERED_TO_SUBNET", subnet=r.dev, address=pkt.dst)
        raise Stop("DELIVERED_TO_SUBNET", f"{pkt.dst} is on subnet {r.dev} but no node in the plan has it")
    if f.via == "nic-owner":
        hop.add("transmitted", "TRANSMITTED", to=f.to, address=pkt.dst)
    else:
        hop.add("transmitted", "TRANSMITTED", to=f.to)
    walk.wires.append(Wire(f"{f.table}→{f.to}", pkt.src, pkt.dst, pkt.sport, pkt.dport))
    return walk.cross_to(edge)


def encapsulate(walk: Walk, hop: Hop, e: Encap) -> Hop:
    """Wrap the packet per the Encap fact and carry it to the peer's endpoint (through the underlay when the peer is
    on another subnet); returns the peer's hop, where it is received — and unwrapped, unless the peer refuses it."""
    pkt = walk.pkt
    k = e.encapsulation
    if pkt.size > e.inner_mtu:
        hop.add("dropped", "MTU_EXCEEDED", device=e.dev, mtu=e.inner_mtu, size=pkt.size)
        raise Stop("DENIED_OUT", f"the {pkt.size}-byte packet exceeds the overlay MTU {e.inner_mtu} "
                   f"of {e.dev} ({k.label} adds {e.overhead} bytes: the VTEP's MTU leaves room for them)")
    udp = e.dst_port is not None
    hop.add("encapsulated", k.label, device=e.dev, outerSrc=e.outer_src, outerDst=e.outer_dst, vni=e.vni,
            udpDstPort=e.dst_port, udpSrcPort=f"{e.src_port_policy} {e.src_port_range[0]}-{e.src_port_range[1]}"
            if udp else None, innerDstMac=e.inner_dst_mac, overhead=e.overhead, owner=e.owner)
    walk.wires.append(Wire(f"underlay {e.node}→{e.peer} ({k.label})", pkt.src, pkt.dst, pkt.sport, pkt.dport,
                           encap=e))
    if e.outer_next_hop != e.outer_dst:  # the outer packet crosses the underlay: in the endpoint's class
        name = walk.cluster.plan.underlay.name
        u = walk.hop(name, "underlay")
        walk.enter(V.router(name), outer=True)
        u.add("received", "RECEIVED", dst=e.outer_dst, outer=True)
        res = walk.cluster.lookup(name, e.outer_dst)
        if res.route is None or res.route.kind != "connected":
            u.add("dropped", "NO_ROUTE", outerDst=e.outer_dst)
            raise Stop("NO_ROUTE", f"the underlay cannot reach VTEP {e.outer_dst}")
        u.add("routed", "FORWARDED", route=str(res.route.dst), outerDst=e.outer_dst)
    peer_hop = walk.hop(e.peer, "node")
    peer_hop.add("received", "RECEIVED", interface="uplink", outerDst=e.outer_dst, udpDstPort=e.dst_port, vni=e.vni)
    if not e.mismatch:
        peer_hop.add("decapsulated", k.label, vni=e.vni, innerDst=pkt.dst)
    else:
        walk.enter(V.tunnel(e.peer, e.remote.dev), outer=True)  # it arrives there, and goes no further
    return peer_hop


def _deliver(walk: Walk, hop: Hop, edge: Edge, f: PodDelivery) -> None:
    pod = f.pod
    if f.windows:
        winport.ingress(walk, hop)
    elif f.port is not None and not isinstance(walk.last_fact, ToPod):  # a routed pod to itself: the /32 returns it
        hop.add("routed", "FORWARDED", route=route_text(f.port), kind=f.port.kind, owner=f.port.owner)
    verdicts.ingress(walk, hop, pod)
    key = pod.pod.key
    hop.add("transmitted", "TRANSMITTED", to=key, via=f.via)
    pkt = walk.pkt
    phop = walk.hop(key, "pod")
    walk.cross_to(edge)
    phop.add("received", "RECEIVED", interface="eth0", src=pkt.src, dst=pkt.dst)
    phop.add("delivered", "DELIVERED", pod=key, port=pkt.dport)
    walk.wires.append(Wire(f"{key} eth0", pkt.src, pkt.dst, pkt.sport, pkt.dport))
    raise Stop("ACCEPTED", f"delivered to {key}")


def _plugin(walk: Walk, hop: Hop, fact: Any) -> None:
    for type_, action, detail in fact.steps(walk.pkt):
        hop.add(type_, action, **detail)
    snat = fact.snat(walk.pkt) if hasattr(fact, "snat") else None
    if snat is not None:  # the plugin's own source NAT (an OVN gateway router's): recorded for the reply
        pkt = walk.pkt
        walk.nat.append(NatEntry(hop.node, "SNAT", (pkt.src, pkt.sport), (snat[0], pkt.sport), snat[1]))
        pkt.src = snat[0]
    verdict = fact.verdict(walk.pkt) if hasattr(fact, "verdict") else None
    if verdict is not None:
        raise Stop(*verdict)


def _postrouting(walk: Walk, hop: Hop, f: Forward) -> None:
    """Linux nat POSTROUTING: the first matching rule of each chain decides (RETURN or MASQUERADE)."""
    pkt = walk.pkt
    for rule in f.nat:
        if rule.hook != "POSTROUTING" or not rule.matches(pkt.src, pkt.dst, pkt.mark):
            continue
        if rule.action == "RETURN":
            return
        if rule.action in ("MASQUERADE", "SNAT"):
            new = rule.to or f.dev_address or f.node_ip
            walk.nat.append(NatEntry(f.table, "SNAT", (pkt.src, pkt.sport), (new, pkt.sport),
                                     f"{rule.chain} {rule.action}"))
            hop.add("transformed", "SNAT", rule=f"-A {rule.chain} " + rule_text(rule), before=pkt.src, after=new,
                    owner=rule.owner)
            pkt.src = new
            return


def reverse_nat(walk: Walk, name: str, hop: Hop) -> None:
    """conntrack: a reply reaching the node that translated the original is rewritten back."""
    pkt = walk.pkt
    for e in walk.reply_of:
        if e.node != name:
            continue
        if e.kind == "SNAT" and pkt.dst == e.after[0]:
            hop.add("transformed", "UN-SNAT", before=pkt.dst, after=e.before[0], by=e.by)
            pkt.dst = e.before[0]
        elif e.kind == "DNAT" and pkt.src == e.after[0]:
            hop.add("transformed", "UN-DNAT", before=pkt.src, after=e.before[0], by=e.by)
            pkt.src, pkt.sport = e.before[0], e.before[1] or pkt.sport


def route_text(r: Route) -> str:
    parts = [str(r.dst)]
    if r.via is not None:
        parts += ["via", str(r.via)]
    if r.dev:
        parts += ["dev", r.dev]
    if r.onlink:
        parts.append("onlink")
    return " ".join(parts)


def rule_text(r: Any) -> str:
    parts = []
    if r.mark:
        parts += ["-m mark --mark", r.mark]
    if r.src is not None:
        parts += (["!"] if r.src_negate else []) + ["-s", str(r.src)]
    if r.dst is not None:
        parts += (["!"] if r.dst_negate else []) + ["-d", str(r.dst)]
    parts += ["-j", r.action] + (["--random-fully"] if r.random_fully else [])
    return " ".join(parts)


__all__ = ["arrived", "cross", "dropped", "encapsulate", "reverse_nat", "route_text", "rule_text"]
