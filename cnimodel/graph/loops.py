"""Forwarding loops: a destination class whose packets come back to a route table they left (a stale cloud route
pointing at a node whose table sends the prefix back to the underlay; two nodes routing a prefix via each other).
The kernel forwards such a packet until its TTL runs out (torvalds/linux@c57d5621:net/ipv4/ip_forward.c:108: TTL ≤ 1
is ``too_many_hops``, an ICMP time exceeded) and it is never delivered.

Finding every loop of every class would ask every table for every class; a loop needs a route that sends a prefix
to a node that does not hold it, so only those routes are followed: every such route of the underlay's table and of
the tables of the nodes asked (one per kind of node, as the other routing checks), each from where it starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from cnimodel.dataplane import Route
from cnimodel.graph import vertices as V
from cnimodel.graph.build import ForwardingGraph


@dataclass(frozen=True)
class Loop:
    """A forwarding loop: the class's packets go round ``cycle`` (vertex ids, the first not repeated), starting from
    ``route`` of ``table``; ``routes`` are the routes along the cycle, as ``(table, route)``."""

    prefix: IPv4Network
    probe: IPv4Address
    cls: str
    cycle: tuple[str, ...]
    table: str
    route: Route
    routes: tuple[tuple[str, Route], ...]


def _probe(prefix: IPv4Network) -> IPv4Address:
    return prefix.network_address + (1 if prefix.prefixlen < 31 else 0)


def suspects(g: ForwardingGraph, nodes: Iterable[str]) -> list[tuple[str, str, Route]]:
    """``(vertex, table, route)`` for every route — of the underlay's table and of ``nodes``' — whose gateway is a
    node's address while the prefix is not that node's pod CIDR or range: the routes a loop needs."""
    c = g.cluster
    node_ips = {n.ip: n.name for n in c.plan.nodes}
    own: dict[str, tuple[IPv4Network, ...]] = {}
    for name, a in c.allocation.nodes.items():
        own[name] = tuple(n for n in (a.pod_cidr, a.range.subnet if a.range else None) if n is not None)

    def suspect(r: Route, me: str | None) -> bool:
        target = node_ips.get(r.via) if r.via is not None else None
        if target is None or target == me:
            return False
        mine = own.get(target, ())
        return r.dst not in mine and not any(r.dst.subnet_of(n) for n in mine)  # (equal: the common case, cheap)

    u = c.plan.underlay.name
    out = [(V.router(u), u, r) for r in c.underlay().routes if suspect(r, None)]
    for name in nodes:
        out += [(V.table(name), name, r) for r in c.facts(name).routes if suspect(r, name)]
    return out


def forwarding_loops(g: ForwardingGraph, nodes: Iterable[str]) -> list[Loop]:
    """The forwarding loops the suspect routes lead into, each once (by its cycle)."""
    found: dict[frozenset[str], Loop] = {}
    todo = suspects(g, nodes)
    if not todo:
        return []
    from cnimodel.graph.materialise import destination_graph, find_loop  # networkx, only when there is a suspect

    for vertex, table, route in todo:
        probe = _probe(route.dst)
        cls = g.classify(probe)
        sub = destination_graph(g, cls, start=[vertex])
        cycle = find_loop(sub)
        if cycle is None or frozenset(cycle) in found:
            continue
        routes = []
        for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            for data in sub.get_edge_data(a, b, default={}).values():
                r = getattr(data["fact"], "route", None)
                if isinstance(r, Route):
                    routes.append((V.split(a)[1], r))
        found[frozenset(cycle)] = Loop(route.dst, probe, cls.key, tuple(cycle), table, route, tuple(routes))
    return list(found.values())


__all__ = ["Loop", "forwarding_loops", "suspects"]
