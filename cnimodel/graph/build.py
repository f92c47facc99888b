"""The forwarding graph, built lazily: a vertex's out-edges for one destination class are computed the first
time someone asks (the walk, a check, a user drawing the graph) and kept.

Nothing is computed for all nodes × all destinations: a trace asks a handful of vertices for its destination's
class; drawing one destination's graph asks every vertex once for that class (and the classes its load
balancers lead into).
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from cnimodel.cluster import Cluster, Lookup
from cnimodel.dataplane import Encap, PolicyEnforcement, Route
from cnimodel.graph import balance as B
from cnimodel.graph import node as N
from cnimodel.graph import vertices as V
from cnimodel.graph.classes import DestClass, classify
from cnimodel.graph.facts import Decision
from cnimodel.graph.lookup import lookup
from cnimodel.graph.underlay import at_internet, at_router
from cnimodel.ipam import PodAddress

if TYPE_CHECKING:
    from cnimodel.graph.contrib import GraphContribution

# Vertices whose decision depends on whether the packet still goes to a Service frontend (and every vertex of a
# plugin's own kinds: its contribution is told, as where a logical switch's load balancer acts).
FRONTEND_AWARE = frozenset({"dev", "port", "host", "nic", "internet"})
CORE_PREFIXES = frozenset({"pod", "dev", "port", "host", "nic", "lb", "table", "tunnel", "router", "subnet",
                           "internet"})


class ForwardingGraph:
    """The cluster's forwarding graph. ``decide(vertex, cls)`` is a vertex's ``Decision`` for a destination class;
    ``classify(ip)`` the class of an address. Build once per cluster with ``ForwardingGraph.of(cluster)``."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.contrib: GraphContribution | None = cluster.plugin.graph_contribution()
        self._memo: dict[tuple[str, str, bool], Decision] = {}
        self._lb: dict[tuple[str, IPv4Address, int, str, IPv4Address | None], Decision] = {}
        self.classes: dict[str, DestClass] = {}  # every class met so far, by key
        self._entries: dict[str, tuple[str, Route | None]] = {}
        self._nodes: dict[str, str | None] = {}
        self.encaps: dict[tuple[str, str], Encap] = {}  # a node's Encap fact for a class, once its table chose it

    @classmethod
    def of(cls, cluster: Cluster) -> ForwardingGraph:
        return cluster.memo(("forwarding-graph",), lambda: cls(cluster))

    def classify(self, ip: IPv4Address) -> DestClass:
        cls = classify(self.cluster, ip)
        self.classes.setdefault(cls.key, cls)
        return cls

    def class_of(self, key: str) -> DestClass:
        """A class met before, by its key (a pod's by its name)."""
        cls = self.classes.get(key)
        if cls is None and key.startswith("pod:"):
            cls = self.classify(self.cluster.allocation.pods[key[4:]].ip)
        return self.classes[key] if cls is None else cls

    def class_key(self, ip: str, pod: str | None) -> str:
        """The class key of a backend's address: its pod's when the load balancer names one that holds it (no
        classification needed), else the address's class."""
        pa = self.cluster.allocation.pods.get(pod) if pod else None
        if pa is not None and not pa.pod.host_network and str(pa.ip) == ip:
            return f"pod:{pod}"
        return self.classify(IPv4Address(ip)).key

    def decide(self, vertex: str, cls: DestClass, frontend: bool = False) -> Decision:
        """What ``vertex`` does with packets of ``cls`` (``frontend``: they go to a Service frontend not yet
        load-balanced)."""
        d = self._memo.get((vertex, cls.key, frontend))
        if d is None:
            prefix = V.split(vertex)[0]
            aware = frontend and (prefix in FRONTEND_AWARE or prefix not in CORE_PREFIXES)
            d = self._memo.get((vertex, cls.key, aware)) if aware != frontend else None
            if d is None:
                d = self._decide(vertex, prefix, cls, aware)
            self._memo[(vertex, cls.key, frontend)] = self._memo[(vertex, cls.key, aware)] = d
        return d

    def _decide(self, vertex: str, prefix: str, cls: DestClass, frontend: bool) -> Decision:
        if self.contrib is not None:
            d = self.contrib.decide(self, vertex, cls, frontend)
            if d is not None:
                return d
        rest = V.split(vertex)[1]
        if prefix == "pod":
            return N.from_pod(self, vertex, cls)
        if prefix in ("dev", "port", "host", "nic"):
            return N.entering(self, vertex, self.node_of(vertex) or rest, cls, frontend)
        if prefix == "table":
            return N.at_table(self, vertex, rest, cls)
        if prefix == "tunnel":
            return N.at_tunnel(self, vertex, rest.rpartition("/")[0], cls)
        if prefix == "lb":
            return B.all_choices(self, rest, cls)
        if prefix == "router":
            return at_router(self, vertex, cls)
        if prefix == "internet":
            return at_internet(self, vertex, cls, frontend)
        return Decision()  # a subnet, or a vertex nobody decides for: the class's packets end there

    def balance(self, node: str, dst: IPv4Address, port: int, proto: str, src: IPv4Address | None) -> Decision:
        """The node's load balancer for one packet to ``dst`` (``cnimodel.graph.balance.balance``), kept per packet
        shape."""
        key = (node, dst, port, proto, src)
        d = self._lb.get(key)
        if d is None:
            d = self._lb[key] = B.balance(self, node, self.classify(dst), port, proto, src, dst)
        return d

    def lb_exit(self, node: str, backend: Any = None) -> str:
        """Where a packet continues after the node's load balancer (to ``backend``, when it picked one): its route
        table, or the vertex the plugin's contribution names (``lb_exit(node, backend)``: OVN's switch pipeline
        after its ls_in_lb stage, or its hairpin stage when the backend is the client itself)."""
        exit_of = getattr(self.contrib, "lb_exit", None)
        return exit_of(node, backend) if exit_of is not None else V.table(node)

    def lookup(self, table: str, ip: IPv4Address) -> Lookup:
        """The longest-prefix match a route table's vertex makes (a node's, or the underlay's by its name): the
        route its decisions are read from."""
        return lookup(self.cluster, table, ip)

    def frontends(self, node: str, cls: DestClass) -> tuple[str, ...]:
        return B.frontends(self, node, cls)

    def enforcement(self, node: str) -> PolicyEnforcement:
        """Whether and how the node enforces NetworkPolicy (cheap: no facts are built)."""
        c = self.cluster
        return c.memo(("trace-enforcement", node), lambda: c.enforcement(node))

    def entry(self, pod_key: str) -> str:
        """The vertex where pod ``pod_key``'s packets enter its node."""
        return self.pod_entry(self.cluster.allocation.pods[pod_key])[0]

    def pod_entry(self, pa: PodAddress) -> tuple[str, Route | None]:
        """``entry`` with the /32 route naming a routed pod's veth, kept per pod."""
        e = self._entries.get(pa.pod.key)
        if e is None:
            e = self._entries[pa.pod.key] = N.entry(self, pa)
        return e

    def node_of(self, vertex: str) -> str | None:
        """The node holding ``vertex`` (None: a pod, the underlay, a subnet, the internet)."""
        try:
            return self._nodes[vertex]
        except KeyError:
            node = self._nodes[vertex] = self._node_of(vertex)
            return node

    def _node_of(self, vertex: str) -> str | None:
        node = V.node_of(vertex)
        prefix = V.split(vertex)[0]
        if prefix == "port":
            pa = self.cluster.allocation.pods.get(vertex[5:])
            return pa.pod.node if pa is not None else None
        if node is None and self.contrib is not None and prefix not in ("pod", "router", "subnet", "internet"):
            attrs = self.contrib.attrs(vertex)
            node = attrs.get("node") if attrs else None
        return node

    def attrs(self, vertex: str) -> dict[str, Any]:
        """The vertex's data: ``kind``, ``node``, ``label`` and what the plan says of it."""
        from cnimodel.graph.attrs import vertex_attrs

        if self.contrib is not None:
            a = self.contrib.attrs(vertex)
            if a is not None:
                return dict(a)
        return vertex_attrs(self.cluster, vertex)


__all__ = ["ForwardingGraph"]
