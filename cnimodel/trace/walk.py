"""The packet walk over the forwarding graph: pod → its bridge, veth or vSwitch port → the node's load balancer
and route table → the next node's NIC, the underlay, or a tunnel (VXLAN, GENEVE, IP-in-IP) → … → the pod.

At each vertex the walk asks the graph (``cnimodel.graph``) for the vertex's decision for the packet's destination
class and follows the edge the packet's state selects (a load balancer's backend, a tunnel's sending or receiving
side); each edge's fact becomes the hop's typed steps (``cnimodel.trace.steps``), naming the route matched, the
NAT rule, the HNS policy, the Encap fact. Each place the packet passes (a pod, a node, the underlay) is a hop;
the walk ends in one disposition. Address translation is recorded as it happens so the reply can be walked back
through the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from cnimodel.cluster import Cluster
from cnimodel.graph import DestClass, ForwardingGraph
from cnimodel.graph import vertices as V
from cnimodel.graph.facts import Decision, Edge, PodRoute
from cnimodel.ipam import PodAddress
from cnimodel.trace import hooks, steps, verdicts, winport
from cnimodel.trace.model import Flow, Hop, Trace, Wire
from cnimodel.trace.resolve import TraceEnd
from cnimodel.trace.state import NatEntry, Packet, Stop

MAX_HOPS = 32


@dataclass
class Walk:
    """One walk of one packet. ``reply_of`` carries a forward walk's translations into its reply walk;
    ``frontend`` says the packet goes to a Service frontend its node's load balancer has not taken yet."""

    cluster: Cluster
    pkt: Packet
    hops: list[Hop] = field(default_factory=list)
    wires: list[Wire] = field(default_factory=list)
    nat: list[NatEntry] = field(default_factory=list)
    reply_of: list[NatEntry] = field(default_factory=list)
    seen: set[tuple[str, IPv4Address]] = field(default_factory=set)
    reply: bool = False  # a reply passes policy by conntrack instead of being evaluated
    policy: bool = True  # False: routing and NAT only, no policy verdicts
    frontend: bool = False
    target: TraceEnd | None = None  # the destination as the user named it (the load balancer's steps name it)
    backend: str | None = None  # --backend: the backend the load balancer picks
    path: list[str] = field(default_factory=list)  # the graph vertices crossed, in the destination's graph
    graph: ForwardingGraph = field(init=False)
    _cls: tuple[IPv4Address, DestClass] | None = field(default=None, init=False)
    _pending: dict[str, list[str]] = field(default_factory=dict, init=False)
    _last: str = field(default="", init=False)  # the kind of the last edge crossed
    last_fact: object = field(default=None, init=False)  # and its fact
    source: PodRoute | None = field(default=None, init=False)  # the source pod's route out, once it has left

    def __post_init__(self) -> None:
        self.graph = ForwardingGraph.of(self.cluster)

    @property
    def cls(self) -> DestClass:
        """The packet's destination class (a DNAT or a reverse translation moves it to another)."""
        dst = self.pkt.dst
        if self._cls is None or self._cls[0] != dst:
            self._cls = (dst, self.graph.classify(dst))
        return self._cls[1]

    def decide(self, vertex: str) -> Decision:
        return self.graph.decide(vertex, self.cls, self.frontend)

    # ------------------------------------------------------------------ hops and vertices
    def hop(self, node: str, kind: str) -> Hop:
        if self.hops and self.hops[-1].node == node:
            return self.hops[-1]
        hop = Hop(node, kind)  # type: ignore[arg-type]
        hop.vertices.extend(self._pending.pop(node, ()))
        self.hops.append(hop)
        return hop

    def enter(self, vertex: str, outer: bool = False) -> None:
        """The packet is at ``vertex`` now: it joins the path (unless it is an outer, tunnelled packet's) and the
        hop of its place (which may start later: a node's first vertex is entered before its hop opens)."""
        if not outer:
            self.path.append(vertex)
        prefix = V.split(vertex)[0]
        place = None if prefix in ("internet", "subnet") else vertex[4:] if prefix == "pod" else \
            V.split(vertex)[1] if prefix == "router" else self.graph.node_of(vertex)
        if place is None or (self.hops and self.hops[-1].node == place):
            if self.hops:
                self.hops[-1].vertices.append(vertex)
            return
        self._pending.setdefault(place, []).append(vertex)

    def place(self, vertex: str) -> str:
        prefix, rest = V.split(vertex)
        return rest if prefix == "router" else self.graph.node_of(vertex) or rest

    # ------------------------------------------------------------------ sources
    def from_pod(self, ep: TraceEnd) -> str:
        """The pod's eth0 and default route: the packet leaves for the pod's bridge, veth or vSwitch port."""
        assert ep.pod is not None and ep.node is not None
        key = ep.pod.pod.key
        hop = self.hop(key, "pod")
        self.enter(V.pod(key))
        hop.add("originated", "ORIGINATED", interface="eth0", src=self.pkt.src, dst=self.pkt.dst)
        edge = self.decide(V.pod(key)).edges[0]
        fact: PodRoute = edge.fact
        if self.pkt.size > fact.mtu:
            hop.add("dropped", "MTU_EXCEEDED", mtu=fact.mtu, size=self.pkt.size)
            raise Stop("DENIED_OUT", f"the {self.pkt.size}-byte packet exceeds the pod interface MTU {fact.mtu}")
        hop.add("routed", "FORWARDED", route=f"default via {fact.gateway} dev eth0", nextHop=fact.gateway)
        self.source = fact
        self.wires.append(Wire(f"{key} eth0", self.pkt.src, self.pkt.dst, self.pkt.sport, self.pkt.dport))
        return self.cross_to(edge)

    def from_node(self, node: str) -> str:
        hop = self.hop(node, "node")
        self.enter(V.host(node))
        hop.add("originated", "ORIGINATED", src=self.pkt.src, dst=self.pkt.dst)
        return V.host(node)

    def from_outside(self, action: str = "ORIGINATED") -> str:
        """A packet from outside the plan: into the underlay, or to a node's address (a NodePort)."""
        hop = self.hop("internet", "external")
        self.enter(V.INTERNET)
        hop.add("originated", action, src=self.pkt.src, dst=self.pkt.dst)
        return self.cross_to(self.decide(V.INTERNET).edges[0])

    def from_reply_pod(self, pod: PodAddress) -> str:
        """A reply leaves the pod the forward packet reached, through its port, where conntrack passes it."""
        key, node = pod.pod.key, pod.pod.node
        assert node is not None
        hop = self.hop(key, "pod")
        self.enter(V.pod(key))
        hop.add("originated", "REPLY", src=self.pkt.src, dst=self.pkt.dst)
        self.wires.append(Wire(f"{key} eth0", self.pkt.src, self.pkt.dst, self.pkt.sport, self.pkt.dport))
        v = self.cross_to(self.decide(V.pod(key)).edges[0])
        nhop = self.hop(node, "node")
        nhop.add("received", "RECEIVED", dst=self.pkt.dst)
        verdicts.reply_egress(self, nhop, pod)
        return v

    def cross_to(self, edge: Edge) -> str:
        self._last, self.last_fact = edge.kind, edge.fact
        self.enter(edge.dst)
        return edge.dst

    def balance_at(self, vertex: str) -> str:
        """When the packet goes to a Service frontend and ``vertex``'s node load-balances it: the node's load
        balancer decides (DNAT to a backend, SNAT when it says so); the packet continues at the node's table, in
        the backend's class."""
        if not self.frontend:
            return vertex
        lb = next((e for e in self.decide(vertex).edges if e.kind == "lb"), None)
        if lb is None:
            return vertex
        self.cross_to(lb)
        assert self.target is not None
        edge = hooks.load_balance(self, lb.fact.node, self.target, self.backend)
        self.frontend = False
        return self.cross_to(edge)

    def source_egress(self, ep: TraceEnd) -> None:
        """The source pod's way out: policy egress at its node and, on Windows, its vSwitch port (after the
        load balancer, which VFP applies first)."""
        assert ep.node is not None
        facts = self.cluster.local_facts(ep.node)
        hop = self.hop(ep.node, "node")
        if facts.os == "windows":
            winport.egress(self, facts, ep, hop)  # the HNS ACLs sit on the same port: it asks for the verdict
            return
        if not hop.steps:
            veth = self.source.interface if self.source is not None else None
            if veth is not None:  # a routed pod: the packet enters the host on the pod's own veth
                hop.add("received", "RECEIVED", interface=veth, dst=self.pkt.dst)
            else:
                hop.add("received", "RECEIVED", dst=self.pkt.dst)
        verdicts.egress(self, ep)

    # ------------------------------------------------------------------ the walk
    def run_from(self, vertex: str) -> tuple[str, str]:
        """Walk from a vertex of a node or the underlay until a disposition; returns (disposition, reason)."""
        try:
            while True:
                place = self.place(vertex)
                if len(self.hops) > MAX_HOPS:
                    raise Stop("LOOP", f"more than {MAX_HOPS} hops")
                key = (place, self.pkt.dst)
                if key in self.seen:
                    raise Stop("LOOP", f"the packet came back to {place} with the same destination")
                self.seen.add(key)
                vertex = self.at_underlay(vertex) if V.split(vertex)[0] == "router" else self.at_node(vertex)
        except Stop as s:
            return s.disposition, s.reason

    def at_node(self, vertex: str) -> str:
        """Follow the graph through one node, from the vertex the packet entered it at, until it leaves."""
        name = self.place(vertex)
        hop = self.hop(name, "node")
        if not hop.steps:
            hop.add("received", "RECEIVED", dst=self.pkt.dst)
        steps.reverse_nat(self, name, hop)
        vertex = self.balance_at(vertex)  # a NodePort of this node: load-balanced as it arrives
        while True:
            edge = self.pick(hop, vertex, self.decide(vertex))
            nxt = steps.cross(self, hop, edge)
            if self.graph.node_of(nxt) != name:
                return nxt
            vertex = nxt

    def at_underlay(self, vertex: str) -> str:
        name = self.place(vertex)
        hop = self.hop(name, "underlay")
        hop.add("received", "RECEIVED", dst=self.pkt.dst)
        return steps.cross(self, hop, self.pick(hop, vertex, self.decide(vertex)))

    def pick(self, hop: Hop, vertex: str, d: Decision) -> Edge:
        """The edge the packet's state selects: a tunnel endpoint unwraps what arrived wrapped and wraps what its
        node routed into it; load-balancer edges are taken only by ``balance_at``. No edge: the drop, told."""
        if d.here is not None:
            steps.arrived(self, hop, d.here)
        edges = [e for e in d.edges if e.kind != "lb"]
        if self._last == "encap":
            edges = [e for e in edges if e.kind == "decap"] or edges
        elif V.split(vertex)[0] == "tunnel":
            edges = [e for e in edges if e.kind != "decap"] or ([] if d.drop is not None else edges)
        if not edges:
            if d.drop is None:
                hop.add("dropped", "NO_ROUTE", at=vertex)
                raise Stop("NO_ROUTE", f"nothing forwards {self.pkt.dst} from {vertex}")
            steps.dropped(self, hop, d.drop)
        return edges[0]


def finish(walk: Walk, flow: Flow, disposition: str, reason: str, direction: str = "forward") -> Trace:
    final = walk.pkt.flow() if disposition in ("ACCEPTED", "EXITS_NETWORK") else None
    trace = Trace(flow, disposition, reason, walk.hops, direction, walk.wires, final)  # type: ignore[arg-type]
    trace.path = walk.path
    return trace


__all__ = ["MAX_HOPS", "Packet", "Stop", "Walk", "finish"]
