"""One destination's forwarding graph as a networkx ``MultiDiGraph``, and the standard algorithms over it.

``destination_graph`` asks every vertex reachable from the sources (every running pod, every node's host, the
internet) for the destination's class, following DNAT edges into the backends' classes. Vertices carry their data
(``cnimodel.graph.attrs``); edges carry ``kind``, ``cls`` (the class they belong to), ``fact`` and, for a DNAT,
``to_cls``. Where a class ends (its pod, its node's host, a subnet, the internet) nothing is followed further, so a
cycle in the graph is a forwarding loop; a vertex that drops a class's packets carries ``drops`` (class key → the
disposition and reason).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from cnimodel.graph import vertices as V
from cnimodel.graph.build import ForwardingGraph
from cnimodel.graph.classes import DestClass
from cnimodel.graph.facts import Edge


def sources(g: ForwardingGraph) -> list[str]:
    """Where packets start: every pod that runs, every node's own stack, the internet."""
    c = g.cluster
    out = [V.pod(k) for k in c.allocation.pods if k not in c.allocation.not_running]
    out += [V.host(n.name) for n in c.plan.nodes]
    out.append(V.INTERNET)
    return out


def sinks(g: ForwardingGraph, cls: DestClass) -> frozenset[str]:
    """Where the class's packets arrive: its pod, or the node holding the address; subnets and the internet have
    no out-edges."""
    o = cls.owner
    if cls.kind == "pod" and o.pod is not None:
        return frozenset({V.pod(o.pod.pod.key)})
    if cls.kind in ("node", "host") and o.node is not None:
        return frozenset({V.host(o.node)})
    return frozenset()


def edge_key(e: Edge) -> str:
    key = f"{e.cls} {e.kind}"
    if e.to_cls is not None:
        b = getattr(e.fact, "backend", None)
        key += f" → {e.to_cls}" + (f" {b.ip}:{b.port}" if b is not None else "")
    return key


def destination_graph(g: ForwardingGraph, cls: DestClass, frontend: bool = False,
                      start: Iterable[str] | None = None) -> nx.MultiDiGraph:
    """The forwarding graph of ``cls`` (and, past a load balancer, of its backends' classes), from ``start``
    (default: every source). ``frontend``: the packets go to a Service frontend (a ClusterIP, a NodePort)."""
    out = nx.MultiDiGraph(name=g.cluster.plan.name, dst=cls.key)
    classes: dict[str, DestClass] = {cls.key: cls}
    todo: list[tuple[str, DestClass, bool]] = [(v, cls, frontend) for v in (sources(g) if start is None else start)]
    seen: set[tuple[str, str, bool]] = set()
    ends: dict[str, frozenset[str]] = {}
    while todo:
        v, c, fe = todo.pop()
        if (v, c.key, fe) in seen:
            continue
        seen.add((v, c.key, fe))
        out.add_node(v)
        stop = ends.get(c.key)
        if stop is None:
            stop = ends[c.key] = sinks(g, c)
        if v in stop and not fe:  # arrived (to a NodePort frontend, the node's host still load-balances)
            continue
        d = g.decide(v, c, fe)
        if d.drop is not None:
            drops = out.nodes[v].setdefault("drops", {})
            drops[c.key] = {"disposition": d.drop.disposition, "action": d.drop.action}
        for e in d.edges:
            nc, nfe = c, fe
            if e.kind in ("dnat", "pass"):
                nfe = False
            if e.to_cls is not None:
                nc = classes.get(e.to_cls) or g.class_of(e.to_cls)
                classes[nc.key] = nc
            out.add_edge(e.src, e.dst, key=edge_key(e), kind=e.kind, cls=e.cls, fact=e.fact, to_cls=e.to_cls)
            todo.append((e.dst, nc, nfe))
    for v in out.nodes:
        out.nodes[v].update({k: val for k, val in g.attrs(v).items() if k not in out.nodes[v]})
    out.graph["classes"] = {k: c.to_json() for k, c in classes.items()}
    return out


BALANCING = frozenset({"lb", "dnat", "pass"})


def route_to(g: ForwardingGraph, start: str, cls: DestClass) -> list[str] | None:
    """The vertices a packet of ``cls`` crosses from ``start`` to where the class arrives (None: it never does —
    dropped, looped or sent out). Routing only: policy verdicts are the walk's."""
    sub = destination_graph(g, cls, start=[start])
    ends = [v for v in sinks(g, cls) if v in sub]
    for end in ends:
        if nx.has_path(sub, start, end):
            return list(nx.shortest_path(sub, start, end))
    return None


def class_subgraph(graph: nx.MultiDiGraph, cls: str) -> nx.MultiDiGraph:
    """The forwarding edges of one class: a cycle there is a forwarding loop of that class's packets. A load
    balancer's edges are left out: a packet passes one once (after it, it no longer goes to the frontend)."""
    keep = [(a, b, k) for a, b, k, d in graph.edges(keys=True, data=True) if d["cls"] == cls
            and d["kind"] not in BALANCING]
    return graph.edge_subgraph(keep)


def find_loop(graph: nx.MultiDiGraph) -> list[str] | None:
    """The vertices of a forwarding loop of one class in ``graph`` (None: none). A destination graph follows no
    edge out of the vertices where its classes arrive, so every cycle of one class is a loop. A graph without load
    balancers (a pod's, a node's, an address's) has no other cycles: ``nx.find_cycle`` on it finds the same loops;
    a Service's or a NodePort's graph passes its load balancers once, and a cycle through one is not a loop."""
    for cls in graph.graph.get("classes", {}):
        sub = class_subgraph(graph, cls)
        try:
            cycle = nx.find_cycle(sub)
        except nx.NetworkXNoCycle:
            continue
        return [a for a, *_ in cycle]
    return None


def partitions(graph: nx.MultiDiGraph) -> list[set[str]]:
    """The graph's weakly connected components, largest first: vertices that no path joins in either direction
    are in different partitions."""
    return sorted((set(c) for c in nx.weakly_connected_components(graph)), key=len, reverse=True)


__all__ = ["class_subgraph", "destination_graph", "edge_key", "find_loop", "partitions", "route_to", "sinks",
           "sources"]
