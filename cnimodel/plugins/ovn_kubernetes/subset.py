"""The part of the Northbound database a sample of flows crosses, for ``ovn verify`` on a large plan.

ovn-northd's compile and ovn-trace's read of the result grow with the whole database (1,000 nodes: 112,000
logical flows), while a 500-flow sample crosses a part of it: the node switches of the pods it starts and ends
at, the gateway routers and external switches of the nodes its flows leave by, the cluster router and the join
switch. The subset keeps exactly those datapaths, and of the shared ones (``ovn_cluster_router``, ``join``) the
ports, routes, policies and static MAC bindings that name a kept node; every load balancer a kept datapath
holds, every port group (with its kept ports) and every address set stay. A flow's routing on a kept datapath
is unchanged: the cluster router's longest-prefix match for a kept node's subnet, its policies for a kept input
port, a gateway router's routes are the same rows. A flow that ovn-trace would take to a datapath the subset
left out is dropped there — a mismatch with cnimodel's walk, reported, never passed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.nbmodel import LogicalRouter, LogicalSwitch, Northbound, StaticRoute

_INPORT = re.compile(r'inport == "([^"]+)"')
_SRC = re.compile(r"ip4\.src == ([0-9.]+)(?:/32)?(?![0-9./])")


def subset(nb: Northbound, datapaths: set[str]) -> Northbound:
    """The Northbound rows of ``datapaths`` (switch and router names) and what they need."""
    switches = [s for s in nb.switches if s.name in datapaths or s.name == names.JOIN_SWITCH]
    routers = {r.name: r for r in nb.routers if r.name in datapaths or r.name == names.CLUSTER_ROUTER}
    kept_lrp = {p.name for r in routers.values() for p in r.ports}
    cr = routers.get(names.CLUSTER_ROUTER)
    if cr is not None:
        gr_join = {IPv4Interface(n).ip for r in routers.values() if r.name.startswith("GR_")
                   for p in r.ports if p.name.startswith("rtoj-") for n in p.networks}
        routers[cr.name] = _cluster_router(cr, {s.name for s in switches}, gr_join)
        kept_lrp = {p.name for r in routers.values() for p in r.ports}
    out_switches: list[LogicalSwitch] = []
    for s in switches:
        if s.name == names.JOIN_SWITCH:  # its ports to routers that stay
            s = replace(s, ports=tuple(p for p in s.ports if dict(p.options).get("router-port") in kept_lrp))
        out_switches.append(s)
    lsps = {p.name for s in out_switches for p in s.ports}
    used_lbs = {n for dp in (*out_switches, *routers.values()) for n in dp.load_balancers}
    grouped = {n for g in nb.load_balancer_groups for n in g.load_balancers}
    lbs = tuple(lb for lb in nb.load_balancers if lb.name in used_lbs or lb.name in grouped)
    return Northbound(
        tuple(out_switches), tuple(routers[r.name] for r in nb.routers if r.name in routers), lbs,
        nb.load_balancer_groups,
        tuple(replace(pg, ports=tuple(p for p in pg.ports if p in lsps)) for pg in nb.port_groups),
        nb.address_sets,
        tuple(b for b in nb.static_mac_bindings if b.logical_port in kept_lrp), nb.notes)


def _cluster_router(r: LogicalRouter, switches: set[str], gr_join: set[IPv4Address]) -> LogicalRouter:
    """ovn_cluster_router with the ports of the kept node switches, the routes and policies whose next hop is a
    kept node's (its subnet's address, or its kept gateway router's join address), and the kept nodes' source
    routes (their next hop's router may be left out: the routing stage still matches as on the whole)."""
    ports = tuple(p for p in r.ports if not p.name.startswith("rtos-") or p.name[5:] in switches)
    kept = {p.name for p in ports}
    subnets = [IPv4Interface(n).network for p in ports if p.name.startswith("rtos-") for n in p.networks]

    def kept_hop(nexthop: str) -> bool:
        ip = IPv4Address(nexthop)
        return ip in gr_join or any(ip in n for n in subnets)

    def kept_source(route: StaticRoute) -> bool:  # a kept node's pods' source route: it decides their routing stage
        return route.policy == "src-ip" and IPv4Network(route.ip_prefix, strict=False) in subnets

    routes = tuple(s for s in r.static_routes if kept_hop(s.nexthop) or kept_source(s))
    policies = []
    for p in r.policies:
        inport = _INPORT.search(p.match)
        src = _SRC.search(p.match)
        if (inport and inport.group(1) not in kept) or (src and IPv4Address(src.group(1)) not in gr_join):
            continue
        if p.nexthops and not all(kept_hop(n) for n in p.nexthops):
            continue
        policies.append(p)
    return replace(r, ports=ports, static_routes=routes, policies=tuple(policies))


__all__ = ["subset"]
