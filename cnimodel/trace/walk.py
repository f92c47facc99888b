"""The packet walk: pod → veth/vSwitch → host routing → underlay or tunnel (VXLAN, GENEVE, IP-in-IP) → remote
host → pod.

Each place the packet passes is a hop; each hop lists typed steps naming the fact that decided them (the
route matched, the NAT rule, the HNS policy, the Encap fact). The walk ends in one disposition.
Address translation is recorded as it happens so the reply can be walked back through the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Encap, NodeFacts, Route
from cnimodel.trace import verdicts, winport
from cnimodel.trace.lookup import encap_for, lookup
from cnimodel.trace.model import Flow, Hop, Trace, Wire
from cnimodel.trace.resolve import Endpoint, owner_of

MAX_HOPS = 32


@dataclass
class Packet:
    src: IPv4Address
    dst: IPv4Address
    proto: str
    sport: int
    dport: int | None
    size: int
    mark: int = 0

    def flow(self, src_label: str = "", dst_label: str = "") -> Flow:
        return Flow(self.src, self.dst, self.proto, self.sport, self.dport, self.size, src_label, dst_label)


@dataclass(frozen=True)
class NatEntry:
    """A translation made at a node, kept as conntrack keeps it: the reply is rewritten back there."""

    node: str
    kind: str  # "SNAT" or "DNAT"
    before: tuple[IPv4Address, int | None]
    after: tuple[IPv4Address, int | None]
    by: str


class Stop(Exception):  # control flow: ends a walk with a disposition
    def __init__(self, disposition: str, reason: str) -> None:
        super().__init__(reason)
        self.disposition = disposition
        self.reason = reason


@dataclass
class Walk:
    """One walk of one packet. ``nat_state`` carries a forward walk's translations into its reply walk."""

    cluster: Cluster
    pkt: Packet
    hops: list[Hop] = field(default_factory=list)
    wires: list[Wire] = field(default_factory=list)
    nat: list[NatEntry] = field(default_factory=list)
    reply_of: list[NatEntry] = field(default_factory=list)
    seen: set[tuple[str, IPv4Address]] = field(default_factory=set)
    reply: bool = False  # a reply passes policy by conntrack instead of being evaluated
    policy: bool = True  # False: routing and NAT only, no policy verdicts
    # A NodePort of another node: (that node, src, dst, --backend), load-balanced when the packet gets there.
    pending_lb: tuple[str, Endpoint, Endpoint, str | None] | None = None

    # ------------------------------------------------------------------ sources
    def from_pod(self, ep: Endpoint) -> str:
        assert ep.pod is not None and ep.node is not None
        node = ep.node
        facts = self.cluster.local_facts(node)
        rng = self.cluster.allocation.nodes[node].range
        hop = self._hop(ep.pod.pod.key, "pod")
        hop.add("originated", "ORIGINATED", interface="eth0", src=self.pkt.src, dst=self.pkt.dst)
        mtu = pod_mtu(facts)
        if self.pkt.size > mtu:
            hop.add("dropped", "MTU_EXCEEDED", mtu=mtu, size=self.pkt.size)
            raise Stop("DENIED_OUT", f"the {self.pkt.size}-byte packet exceeds the pod interface MTU {mtu}")
        gw = rng.gateway if rng else None
        hop.add("routed", "FORWARDED", route=f"default via {gw} dev eth0", nextHop=gw)
        self.wires.append(Wire(f"{ep.pod.pod.key} eth0", self.pkt.src, self.pkt.dst, self.pkt.sport, self.pkt.dport))
        return node

    def vswitch_egress(self, ep: Endpoint) -> None:
        """The source pod's way out: policy egress at its node and, on Windows, its vSwitch port (after the
        load balancer, which VFP applies first)."""
        assert ep.node is not None
        facts = self.cluster.local_facts(ep.node)
        hop = self._hop(ep.node, "node")
        if facts.os == "windows":
            winport.egress(self, facts, ep, hop)  # the HNS ACLs sit on the same port: it asks for the verdict
            return
        if not hop.steps:
            port = pod_port(self.cluster, ep.node, self.pkt.src)
            if port is not None:  # a routed pod: the packet enters the host on the pod's own veth
                hop.add("received", "RECEIVED", interface=port.dev, dst=self.pkt.dst)
            else:
                hop.add("received", "RECEIVED", dst=self.pkt.dst)
        verdicts.egress(self, ep)

    def from_node(self, node: str) -> str:
        hop = self._hop(node, "node")
        hop.add("originated", "ORIGINATED", src=self.pkt.src, dst=self.pkt.dst)
        return node

    # ------------------------------------------------------------------ the walk
    def run_from(self, place: str, kind: str) -> tuple[str, str]:
        """Walk from a node or the underlay until a disposition; returns (disposition, reason)."""
        try:
            while True:
                if len(self.hops) > MAX_HOPS:
                    raise Stop("LOOP", f"more than {MAX_HOPS} hops")
                key = (place, self.pkt.dst)
                if key in self.seen and kind != "pod":
                    raise Stop("LOOP", f"the packet came back to {place} with the same destination")
                self.seen.add(key)
                place, kind = self.at_underlay(place) if kind == "underlay" else self.at_node(place)
        except Stop as s:
            return s.disposition, s.reason

    def at_node(self, name: str) -> tuple[str, str]:
        hop = self._hop(name, "node")
        if not hop.steps:
            hop.add("received", "RECEIVED", dst=self.pkt.dst)
        self._reverse_nat(name, hop)
        if self.pending_lb is not None and self.pending_lb[0] == name:
            from cnimodel.trace import hooks

            _, src, dst, backend = self.pending_lb
            self.pending_lb = None
            hooks.load_balance(self, name, src, dst, backend)
        pkt = self.pkt
        owner = owner_of(self.cluster, pkt.dst)
        if owner.kind == "pod" and owner.node == name and owner.pod is not None:
            self.deliver_pod(hop, owner.pod)  # before the node's facts: delivery needs none of them
        facts = self.cluster.local_facts(name)
        if pkt.dst == self.cluster.node(name).ip or self._host_address(facts, pkt.dst):
            hop.add("delivered", "DELIVERED", to=f"{name} (host)", address=pkt.dst)
            raise Stop("ACCEPTED", f"delivered to node {name}")
        encap = encap_for(self.cluster, name, pkt.dst)
        res = lookup(self.cluster, name, pkt.dst)
        route = res.route
        if encap is not None and (route is None or route.dst.prefixlen <= encap.dst.prefixlen or
                                  route.dev == encap.dev):
            return self.encapsulate(hop, facts, encap, route)
        if route is None:
            hop.add("dropped", "NO_ROUTE", table=name)
            raise Stop("NO_ROUTE", f"node {name} has no route to {pkt.dst}")
        if route.type == "blackhole":
            hop.add("dropped", "NULL_ROUTED", route=route_text(route))
            raise Stop("NULL_ROUTED", f"{route.dst} is a blackhole route on {name}")
        hop.add("routed", "FORWARDED", route=route_text(route), kind=route.kind, owner=route.owner,
                nextHop=res.next_hop)
        self._postrouting(hop, facts, route)
        self._check_mtu(hop, facts, route.dev)
        nh = res.next_hop
        assert nh is not None
        return self.forward(hop, name, route, nh)

    def forward(self, hop: Hop, name: str, route: Route, nh: IPv4Address) -> tuple[str, str]:
        """Hand the packet to its L2 next hop on the egress device's segment."""
        node = self.cluster.node(name)
        subnet = self.cluster.plan.underlay.subnet(node.subnet)
        target = owner_of(self.cluster, nh)
        if target.kind == "node" and target.node is not None:
            peer = self.cluster.node(target.node)
            if peer.subnet != node.subnet:
                hop.add("dropped", "NEIGHBOR_UNREACHABLE", nextHop=nh)
                raise Stop("NEIGHBOR_UNREACHABLE", f"{nh} ({peer.name}) is not on {name}'s subnet {subnet.name}")
            hop.add("transmitted", "TRANSMITTED", interface=route.dev, to=peer.name)
            self.wires.append(Wire(f"{subnet.name} {name}→{peer.name}", self.pkt.src, self.pkt.dst,
                                   self.pkt.sport, self.pkt.dport))
            return peer.name, "node"
        if target.kind == "pod" and target.node is not None and target.node != name and nh in subnet.cidr:
            return self._to_nic_owner(hop, target.node, f"{subnet.name} {name}→{target.node}", interface=route.dev)
        if nh == subnet.gateway:
            hop.add("transmitted", "TRANSMITTED", interface=route.dev, to=self.cluster.plan.underlay.name)
            self.wires.append(Wire(f"{subnet.name} {name}→gateway", self.pkt.src, self.pkt.dst, self.pkt.sport,
                                   self.pkt.dport))
            return self.cluster.plan.underlay.name, "underlay"
        if target.kind == "underlay" and nh in subnet.cidr:
            hop.add("delivered", "DELIVERED_TO_SUBNET", subnet=subnet.name, address=nh)
            raise Stop("DELIVERED_TO_SUBNET", f"{nh} is on subnet {subnet.name} but no node in the plan has it")
        if target.kind == "pod-subnet" and target.node == name:
            hop.add("dropped", "NEIGHBOR_UNREACHABLE", address=nh)
            raise Stop("NEIGHBOR_UNREACHABLE", f"no pod on {name} has the address {nh}")
        hop.add("dropped", "NEIGHBOR_UNREACHABLE", nextHop=nh)
        raise Stop("NEIGHBOR_UNREACHABLE", f"next hop {nh} is not reachable from {name} on {route.dev}")

    def at_underlay(self, name: str) -> tuple[str, str]:
        hop = self._hop(name, "underlay")
        hop.add("received", "RECEIVED", dst=self.pkt.dst)
        res = self.cluster.lookup(name, self.pkt.dst)
        r = res.route
        if r is None:
            hop.add("dropped", "NO_ROUTE", table=name)
            raise Stop("NO_ROUTE", f"the underlay table {name} has no route to {self.pkt.dst}")
        out = r.next_hop_type == "Internet" or (r.kind == "default" and r.via is None)
        inside = self._plan_address(self.pkt.dst) if out else None
        if inside is not None:  # the way out is no way to an address the plan holds: nothing routes it back in
            hop.add("dropped", "NO_ROUTE", table=name, route=str(r.dst), nextHopType=r.next_hop_type,
                    address=f"{self.pkt.dst} ({inside})")
            raise Stop("NO_ROUTE", f"not delivered: the underlay table {name} has no route to {self.pkt.dst} "
                       f"({inside}); its default route would send it out of the network, where nothing holds "
                       "that address")
        hop.add("routed", "FORWARDED", route=str(r.dst), nextHopType=r.next_hop_type, nextHop=res.next_hop,
                owner=r.owner, name=r.name)
        if out:
            hop.add("transmitted", "EXITS_NETWORK", to="internet")
            raise Stop("EXITS_NETWORK", f"{self.pkt.dst} is outside the plan: the underlay sends it out")
        target = owner_of(self.cluster, res.next_hop) if res.next_hop else None
        if target is not None and target.kind == "node" and target.node is not None:
            hop.add("transmitted", "TRANSMITTED", to=target.node)
            self.wires.append(Wire(f"{name}→{target.node}", self.pkt.src, self.pkt.dst, self.pkt.sport,
                                   self.pkt.dport))
            return target.node, "node"
        if target is not None and target.kind == "pod" and target.node is not None and r.kind == "connected":
            return self._to_nic_owner(hop, target.node, f"{name}→{target.node}")
        hop.add("delivered", "DELIVERED_TO_SUBNET", subnet=r.dev, address=self.pkt.dst)
        raise Stop("DELIVERED_TO_SUBNET", f"{self.pkt.dst} is on subnet {r.dev} but no node in the plan has it")

    def _to_nic_owner(self, hop: Hop, node: str, wire: str, **where: object) -> tuple[str, str]:
        """A pod address inside an underlay subnet is an address of its node's NIC (Azure CNI's VNet modes: a
        secondary IP configuration): the subnet delivers it to that node."""
        hop.add("transmitted", "TRANSMITTED", **where, to=node, address=self.pkt.dst)
        self.wires.append(Wire(wire, self.pkt.src, self.pkt.dst, self.pkt.sport, self.pkt.dport))
        return node, "node"

    def _plan_address(self, ip: IPv4Address) -> str | None:
        """What the plan holds at ``ip`` when it is one of its pod or Service addresses (None otherwise): such
        an address is routed inside the cluster or nowhere, never by the internet."""
        owner = owner_of(self.cluster, ip)
        if owner.kind == "pod" and owner.pod is not None:
            return f"pod {owner.pod.pod.key} on node {owner.node}"
        if owner.kind == "pod-subnet":
            return f"in node {owner.node}'s pod range"
        plan = self.cluster.plan
        if plan.cluster_cidr is not None and ip in plan.cluster_cidr:
            return f"in the cluster CIDR {plan.cluster_cidr}"
        if plan.service_cidr is not None and ip in plan.service_cidr:
            return f"in the service CIDR {plan.service_cidr}: only kube-proxy on the nodes answers it"
        return None

    # ------------------------------------------------------------------ overlay
    def encapsulate(self, hop: Hop, facts: NodeFacts, e: Encap, route: Route | None) -> tuple[str, str]:
        if route is not None and route.dev == e.dev:
            hop.add("routed", "FORWARDED", route=route_text(route), kind=route.kind, owner=route.owner)
        else:  # Windows overlay: the HNS network's RemoteSubnetRoute decides, not the host route table
            hop.add("routed", "REMOTE_SUBNET_ROUTE", prefix=e.dst, providerAddress=e.outer_dst, owner=e.owner)
        k = e.encapsulation
        if self.pkt.size > e.inner_mtu:
            hop.add("dropped", "MTU_EXCEEDED", device=e.dev, mtu=e.inner_mtu, size=self.pkt.size)
            raise Stop("DENIED_OUT", f"the {self.pkt.size}-byte packet exceeds the overlay MTU {e.inner_mtu} "
                       f"of {e.dev} ({k.label} adds {e.overhead} bytes: the VTEP's MTU leaves room for them)")
        udp = e.dst_port is not None
        hop.add("encapsulated", k.label, device=e.dev, outerSrc=e.outer_src, outerDst=e.outer_dst,
                vni=e.vni, udpDstPort=e.dst_port, udpSrcPort=f"{e.src_port_policy} {e.src_port_range[0]}-"
                f"{e.src_port_range[1]}" if udp else None, innerDstMac=e.inner_dst_mac, overhead=e.overhead,
                owner=e.owner)
        self.wires.append(Wire(f"underlay {e.node}→{e.peer} ({k.label})", self.pkt.src, self.pkt.dst, self.pkt.sport,
                               self.pkt.dport, encap=e))
        if e.outer_next_hop != e.outer_dst:
            u = self._hop(self.cluster.plan.underlay.name, "underlay")
            u.add("received", "RECEIVED", dst=e.outer_dst, outer=True)
            res = self.cluster.lookup(self.cluster.plan.underlay.name, e.outer_dst)
            if res.route is None or res.route.kind != "connected":
                u.add("dropped", "NO_ROUTE", outerDst=e.outer_dst)
                raise Stop("NO_ROUTE", f"the underlay cannot reach VTEP {e.outer_dst}")
            u.add("routed", "FORWARDED", route=str(res.route.dst), outerDst=e.outer_dst)
        peer_hop = self._hop(e.peer, "node")
        peer_hop.add("received", "RECEIVED", interface="uplink", outerDst=e.outer_dst, udpDstPort=e.dst_port, vni=e.vni)
        if e.mismatch:
            _refused(peer_hop, e)
        peer_hop.add("decapsulated", k.label, vni=e.vni, innerDst=self.pkt.dst)
        return e.peer, "node"

    # ------------------------------------------------------------------ delivery
    def deliver_pod(self, hop: Hop, pod) -> None:  # type: ignore[no-untyped-def]
        down = self.cluster.allocation.not_running.get(pod.pod.key)
        if down is not None:  # its sandbox holds the address, but no container listens
            hop.add("dropped", "POD_NOT_RUNNING", pod=pod.pod.key, code=down.code, reason=down.reason)
            raise Stop("POD_NOT_RUNNING", f"{pod.pod.key} never runs, so nothing receives the packet: {down}")
        windows = self.cluster.plan.node(pod.pod.node).os == "windows"
        port = None if windows else pod_port(self.cluster, pod.pod.node, pod.ip)
        if windows:
            winport.ingress(self, hop)
        elif port is not None:  # a routed pod: the host's /32 route names its veth, where policy filters
            hop.add("routed", "FORWARDED", route=route_text(port), kind=port.kind, owner=port.owner)
        verdicts.ingress(self, hop, pod)
        via = "vSwitch port" if windows else port.dev if port is not None else "cni bridge → veth"
        hop.add("transmitted", "TRANSMITTED", to=pod.pod.key, via=via)
        phop = self._hop(pod.pod.key, "pod")
        phop.add("received", "RECEIVED", interface="eth0", src=self.pkt.src, dst=self.pkt.dst)
        phop.add("delivered", "DELIVERED", pod=pod.pod.key, port=self.pkt.dport)
        self.wires.append(Wire(f"{pod.pod.key} eth0", self.pkt.src, self.pkt.dst, self.pkt.sport, self.pkt.dport))
        raise Stop("ACCEPTED", f"delivered to {pod.pod.key}")

    # ------------------------------------------------------------------ helpers
    def _hop(self, node: str, kind: str) -> Hop:
        if self.hops and self.hops[-1].node == node:
            return self.hops[-1]
        hop = Hop(node, kind)  # type: ignore[arg-type]
        self.hops.append(hop)
        return hop

    def _host_address(self, facts: NodeFacts, ip: IPv4Address) -> bool:
        for d in facts.devices:
            if any(a.ip == ip for a in d.addresses):
                return True
        return any(e.ip == ip and e.role in ("host", "source-vip") for e in facts.hns_endpoints)

    def _postrouting(self, hop: Hop, facts: NodeFacts, route: Route) -> None:
        """Linux nat POSTROUTING: the first matching rule of each chain decides (RETURN or MASQUERADE)."""
        pkt = self.pkt
        for rule in facts.nat:
            if rule.hook != "POSTROUTING" or not rule.matches(pkt.src, pkt.dst, pkt.mark):
                continue
            if rule.action == "RETURN":
                return
            if rule.action in ("MASQUERADE", "SNAT"):
                new = rule.to or _device_address(facts, route.dev) or self.cluster.node(facts.node).ip
                self.nat.append(NatEntry(facts.node, "SNAT", (pkt.src, pkt.sport), (new, pkt.sport),
                                         f"{rule.chain} {rule.action}"))
                hop.add("transformed", "SNAT", rule=f"-A {rule.chain} " + _rule_text(rule), before=pkt.src,
                        after=new, owner=rule.owner)
                pkt.src = new
                return

    def _reverse_nat(self, name: str, hop: Hop) -> None:
        """conntrack: a reply reaching the node that translated the original is rewritten back."""
        pkt = self.pkt
        for e in self.reply_of:
            if e.node != name:
                continue
            if e.kind == "SNAT" and pkt.dst == e.after[0]:
                hop.add("transformed", "UN-SNAT", before=pkt.dst, after=e.before[0], by=e.by)
                pkt.dst = e.before[0]
            elif e.kind == "DNAT" and pkt.src == e.after[0]:
                hop.add("transformed", "UN-DNAT", before=pkt.src, after=e.before[0], by=e.by)
                pkt.src, pkt.sport = e.before[0], e.before[1] or pkt.sport

    def _check_mtu(self, hop: Hop, facts: NodeFacts, dev: str | None) -> None:
        d = facts.device(dev) if dev else None
        if d is not None and self.pkt.size > d.mtu:
            hop.add("dropped", "MTU_EXCEEDED", device=dev, mtu=d.mtu, size=self.pkt.size)
            raise Stop("DENIED_OUT", f"the {self.pkt.size}-byte packet exceeds the MTU {d.mtu} of {dev} on "
                       f"{facts.node}")


def _refused(peer_hop: Hop, e: Encap) -> None:
    """The receiving endpoint drops the hop: another kind, id or port than it decapsulates."""
    k, theirs = e.encapsulation, e.remote.encapsulation
    if e.mismatch == ("kind",):
        peer_hop.add("dropped", "ENCAP_MISMATCH", sent=k.label, expected=theirs.label)
        raise Stop("NEIGHBOR_UNREACHABLE", f"{e.peer}'s tunnel endpoint drops the packet: {e.node} sends {k.label}, "
                   f"it decapsulates {theirs.label}")
    what = " and ".join(f"VNI {e.vni} (it expects {e.peer_vni})" if m == "vni" else
                        f"UDP port {e.dst_port} (it listens on {e.peer_port})" for m in e.mismatch)
    peer_hop.add("dropped", f"{k.label}_MISMATCH", sent=f"VNI {e.vni} port {e.dst_port}",
                 expected=f"VNI {e.peer_vni} port {e.peer_port}")
    raise Stop("NEIGHBOR_UNREACHABLE", f"{e.peer}'s VTEP drops the frame: {e.node} sends {what}")


def pod_port(cluster: Cluster, node: str, ip: IPv4Address) -> Route | None:
    """The node's route to its own pod ``ip`` when it names the pod's own veth (a /32: routed pods, no
    bridge), else None."""
    r = cluster.lookup(node, ip).route
    if r is None or r.dst.prefixlen != 32 or r.dev is None:
        return None
    d = cluster.local_facts(node).device(r.dev)
    return r if d is not None and d.kind == "veth" else None


def pod_mtu(facts: NodeFacts) -> int:
    """The MTU a pod's eth0 gets: its veth's (both ends carry the CNI's MTU), the bridge's (set from flannel's
    MTU), or the VTEP's on overlay."""
    veths = [d.mtu for d in facts.devices if d.kind == "veth"]
    if veths:
        return min(veths)
    bridges = [d.mtu for d in facts.devices if d.kind == "bridge"]
    if bridges:
        return min(bridges)
    if facts.vteps:
        return min(v.mtu for v in facts.vteps)
    return facts.devices[0].mtu if facts.devices else 1500


def route_text(r: Route) -> str:
    parts = [str(r.dst)]
    if r.via is not None:
        parts += ["via", str(r.via)]
    if r.dev:
        parts += ["dev", r.dev]
    if r.onlink:
        parts.append("onlink")
    return " ".join(parts)


def _rule_text(r) -> str:  # type: ignore[no-untyped-def]
    parts = []
    if r.mark:
        parts += ["-m mark --mark", r.mark]
    if r.src is not None:
        parts += (["!"] if r.src_negate else []) + ["-s", str(r.src)]
    if r.dst is not None:
        parts += (["!"] if r.dst_negate else []) + ["-d", str(r.dst)]
    parts += ["-j", r.action] + (["--random-fully"] if r.random_fully else [])
    return " ".join(parts)


def _device_address(facts: NodeFacts, dev: str | None) -> IPv4Address | None:
    d = facts.device(dev) if dev else None
    return d.addresses[0].ip if d is not None and d.addresses else None


def finish(walk: Walk, flow: Flow, disposition: str, reason: str, direction: str = "forward") -> Trace:
    final = walk.pkt.flow() if disposition in ("ACCEPTED", "EXITS_NETWORK") else None
    return Trace(flow, disposition, reason, walk.hops, direction, walk.wires, final)  # type: ignore[arg-type]


__all__ = ["Packet", "Stop", "Walk", "finish", "replace"]
