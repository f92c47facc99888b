"""Decisions of the underlay's route table (a router, a cloud VNet's route table) and of the internet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnimodel.dataplane import Route
from cnimodel.graph import vertices as V
from cnimodel.graph.classes import DestClass, owner_of, plan_address
from cnimodel.graph.facts import DST, Arrive, Decision, Drop, DstText, Edge

if TYPE_CHECKING:
    from cnimodel.graph.build import ForwardingGraph


@dataclass(frozen=True, slots=True)
class UnderlayRoute:
    """A route of the underlay's table: to a node (its NIC), to the NIC whose secondary address the destination
    is (``nic-owner``), out to the internet (``out``), or into a subnet where no node holds the address."""

    table: str
    route: Route
    to: str
    via: str  # node | nic-owner | out | subnet
    next_hop: Any  # the route's gateway, or DST: the destination itself (on-link)


def at_router(g: ForwardingGraph, vertex: str, cls: DestClass) -> Decision:
    cluster = g.cluster
    name = cluster.plan.underlay.name
    rep = cls.rep
    r = cluster.lookup(name, rep).route
    if r is None:
        return Decision(drop=Drop("NO_ROUTE", "NO_ROUTE", f"the underlay table {name} has no route to {{dst}}",
                                  (("table", name),)))
    out = r.next_hop_type == "Internet" or (r.kind == "default" and r.via is None)
    inside = plan_address(cluster, cls) if out else None
    if inside is not None:  # the way out is no way to an address the plan holds: nothing routes it back in
        return Decision(drop=Drop(
            "NO_ROUTE", "NO_ROUTE", f"not delivered: the underlay table {name} has no route to {{dst}} ({inside}); "
            "its default route would send it out of the network, where nothing holds that address",
            (("table", name), ("route", str(r.dst)), ("nextHopType", r.next_hop_type),
             ("address", DstText(f"{{dst}} ({inside})")))))
    hop = r.via if r.via is not None else DST
    if r.type == "blackhole":
        hop = None

    def to(v: str, target: str, via: str) -> Decision:
        return Decision((Edge(vertex, v, "route", UnderlayRoute(name, r, target, via, hop), cls.key),))

    if out:
        return to(V.INTERNET, "internet", "out")
    nh = r.via if r.via is not None else rep
    target = owner_of(cluster, nh) if hop is not None else None
    if target is not None and target.kind == "node" and target.node is not None:
        return to(V.nic(target.node), target.node, "node")
    if target is not None and target.kind == "pod" and target.node is not None and r.kind == "connected":
        return to(V.nic(target.node), target.node, "nic-owner")
    return to(V.subnet(str(r.dev)), str(r.dev), "subnet")


def at_internet(g: ForwardingGraph, vertex: str, cls: DestClass, frontend: bool) -> Decision:
    """Traffic from outside enters through the underlay; to a node's NodePort it reaches that node's address."""
    if frontend and cls.kind == "node" and cls.owner.node is not None:
        return Decision((Edge(vertex, V.nic(cls.owner.node), "ingress", Arrive(cls.owner.node), cls.key),))
    u = g.cluster.plan.underlay.name
    return Decision((Edge(vertex, V.router(u), "ingress", Arrive(u), cls.key),))


__all__ = ["UnderlayRoute", "at_internet", "at_router"]
