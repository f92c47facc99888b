"""The load balancer's decisions (``lb:<node>``): which frontends a node's Services role answers for a class, and the
DNAT edges to each backend, each leading into the backend's class.

A load balancer's choice depends on more than the destination: the port, the protocol and the source (kube-proxy
treats a node's own traffic, a pod's and an outside client's differently). ``balance`` answers for one packet
(the walk's); ``all_choices`` for every frontend of the class from a pod and from the node itself (the graph a
user draws).
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from cnimodel.graph import vertices as V
from cnimodel.graph.classes import DestClass
from cnimodel.graph.facts import Decision, Dnat, Drop, Edge, Unbalanced

if TYPE_CHECKING:
    from cnimodel.graph.build import ForwardingGraph

# Decisions of the Services engine that end the walk, and the disposition each maps to.
STOPS = {"REJECTED": "DENIED_OUT", "DROPPED": "DENIED_IN", "NO_SERVICE": "NO_ROUTE"}
WIN_LOCAL_NODEPORT = ("local NodePort access from the node itself is not supported on Windows (Kubernetes "
                      "\"Networking on Windows\" limitations; services-lb.md §4.2): reach the Service by its "
                      "ClusterIP, or the NodePort on another node")


def frontends(g: ForwardingGraph, node: str, cls: DestClass) -> tuple[str, ...]:
    """What the node's load balancer answers in ``cls``: a Service address's frontends (every node's kube-proxy
    programs them), or the node's own address (its NodePorts; ``nodePort`` alone when no Service has one, the
    load balancer then says so)."""
    if cls.kind == "vip":
        return _index(g)[0].get(cls.rep) or (str(cls.rep),)
    if cls.kind == "node" and cls.owner.node == node:
        return _index(g)[1]
    return ()


def _index(g: ForwardingGraph) -> tuple[dict[object, tuple[str, ...]], tuple[str, ...]]:
    """Every Service address's frontends (``VIP:port/PROTO``) and the NodePorts, read from the catalog once."""
    def build() -> tuple[dict[object, tuple[str, ...]], tuple[str, ...]]:
        from cnimodel.services.catalog import catalog

        cat = catalog(g.cluster)
        by_ip: dict[object, list[str]] = {}
        for ip, port, proto in cat.frontends:
            by_ip.setdefault(ip, []).append(f"{ip}:{port}/{proto}")
        ports = tuple(f"nodePort {p}/{proto}" for p, proto in cat.node_ports) or ("nodePort",)
        return {ip: tuple(v) for ip, v in by_ip.items()}, ports

    return g.cluster.memo(("graph-frontends-index",), build)


def balance(g: ForwardingGraph, node: str, cls: DestClass, port: int, proto: str, src: IPv4Address | None,
            dst: IPv4Address | None = None) -> Decision:
    """How ``node``'s load balancer treats one packet of ``cls`` to ``port``/``proto`` from ``src``: a DNAT edge per
    backend (the packet's state then picks one), a ``pass`` edge when it does not load-balance, or a drop."""
    from cnimodel.services.decide import decide

    d = decide(g.cluster, node, dst or cls.rep, port, proto.upper(), src=src)
    lb, table = V.lb(node), g.lb_exit(node)
    if d.disposition in STOPS:
        return Decision(drop=Drop(d.disposition, STOPS[d.disposition], d.reason, (), Unbalanced(d)))
    if d.os == "windows" and d.frontend == "nodePort" and d.source_kind == "host":
        # Kubernetes lists it among the Windows networking limitations; the HNS LB has LocalRoutedVIP set, but
        # nothing promises it works, so nothing is taken to arrive.
        return Decision(drop=Drop("LOCAL_NODEPORT_UNSUPPORTED", "DENIED_OUT", WIN_LOCAL_NODEPORT, (), Unbalanced(d)))
    if d.disposition != "LOAD_BALANCED" or not d.backends:
        return Decision((Edge(lb, table, "pass", Unbalanced(d), cls.key),))
    return Decision(tuple(Edge(lb, g.lb_exit(node, b), "dnat", Dnat(d, b), cls.key, g.class_key(b.ip, b.pod))
                          for b in d.backends))


def all_choices(g: ForwardingGraph, node: str, cls: DestClass) -> Decision:
    """Every edge the node's load balancer may take for ``cls``: each frontend's backends, for a pod's packets and
    for the node's own (duplicates once)."""
    from cnimodel.services.catalog import catalog

    cat = catalog(g.cluster)
    if cls.kind == "vip":
        ports = [(port, proto) for ip, port, proto in cat.frontends if ip == cls.rep]
    elif cls.kind == "node" and cls.owner.node == node:
        ports = list(cat.node_ports)
    else:
        ports = []
    edges: dict[tuple[str, str | None, str], Edge] = {}
    drops: list[Drop] = []
    for port, proto in ports:
        for src in (None, g.cluster.node(node).ip):
            d = balance(g, node, cls, port, proto, src)
            for e in d.edges:
                key = (e.kind, e.to_cls, repr(getattr(e.fact, "backend", None)))
                edges.setdefault(key, e)
            if d.drop is not None:
                drops.append(d.drop)
    return Decision(tuple(edges.values()), drops[0] if drops and not edges else None)


__all__ = ["STOPS", "WIN_LOCAL_NODEPORT", "all_choices", "balance", "frontends"]
