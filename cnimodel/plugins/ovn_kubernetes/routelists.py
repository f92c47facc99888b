"""The logical routers' routes and policies on a node, as ``ovn-nbctl lr-route-list`` and ``lr-policy-list`` print
them, for ``cnimodel routes``: the distributed ``ovn_cluster_router`` (its pipeline runs on every chassis) and the
node's gateway router ``GR_<node>``, with the gateway router's NAT (``lr-nat-list``).

Shapes (ovn-org/ovn@ba5710ed:utilities/ovn-nbctl.c; checked against the installed ovn-nbctl in tests/ovn): routes
under ``IPv4 Routes`` / ``Route Table <main>:`` (:6718-6741), one per line (print_route, :6585-6625): the prefix and
the next hop right-aligned in 25 characters, the policy (``dst-ip``/``src-ip``), the output port, ``ecmp`` when the
route's neighbour in the order has the same priority and prefix; ordered by priority (2 × prefix length, + 1 for
dst-ip) descending, address, next hop (as a string) and output port (ipv4_route_cmp, route_cmp_details,
:6495-6548). Policies under ``Routing Policies`` (print_routing_policy, :4200-4215): the priority right-aligned in
10, the match in 50, the action in 15, the first next hop in 25 and the others after ``, ``; highest priority first,
then by match. NAT rules in ``lr-nat-list``'s columns (nbctl_lr_nat_list, :5260-5305), sorted by
type, gateway port and external address; rules equal in those keep no defined order there (smap_sort), the model
sorts them by logical address.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Any

from cnimodel.plugin.listing import Column, Listing
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.nbmodel import LogicalRouter

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin

LINE = (Column("", 0),)


def _route_key(s: Any) -> tuple[int, int]:
    """lr-route-list's order: priority (2 × prefix length, + 1 for dst-ip) descending, then the address."""
    net = IPv4Network(s.ip_prefix, strict=False)
    return (-(2 * net.prefixlen + (0 if s.policy == "src-ip" else 1)), int(net.network_address))


def route_lines(r: LogicalRouter) -> list[str]:
    routes = sorted(r.static_routes, key=lambda s: (*_route_key(s), s.nexthop, s.output_port is not None,
                                                     s.output_port or ""))
    lines = ["IPv4 Routes", "Route Table <main>:"]
    for i, s in enumerate(routes):
        k = _route_key(s)
        ecmp = (i + 1 < len(routes) and _route_key(routes[i + 1]) == k) or (i > 0 and _route_key(routes[i - 1]) == k)
        line = f"{s.ip_prefix:>25} {s.nexthop:>25} {s.policy or 'dst-ip'}"
        if s.output_port:
            line += f" {s.output_port}"
        if ecmp:
            line += " ecmp"
        lines.append(line)
    return lines


def policy_lines(r: LogicalRouter) -> list[str]:
    lines = ["Routing Policies"]
    for p in sorted(r.policies, key=lambda p: (-p.priority, p.match)):
        line = f"{p.priority:>10} {p.match:>50} {p.action:>15}"
        for i, nh in enumerate(p.nexthops):
            line += f", {nh}" if i else f" {nh:>25}"
        lines.append(line)
    return lines


def nat_lines(r: LogicalRouter) -> list[str]:
    lines = [f"{'TYPE':<17}{'GATEWAY_PORT':<22}{'EXTERNAL_IP':<19}{'EXTERNAL_PORT':<17}{'LOGICAL_IP':<20}"
             f"{'EXTERNAL_MAC':<21}LOGICAL_PORT"]
    for n in sorted(r.nat, key=lambda n: (n.type, n.external_ip, n.logical_ip)):
        lines.append(f"{n.type:<17}{'':<22}{n.external_ip:<19}{'':<17}{n.logical_ip:<20}")
    return lines


def listings(plugin: OvnKubernetesPlugin, cluster: Cluster, node: str) -> tuple[Listing, ...]:
    n = plugin.nodes.get(node)
    if n is None or n.role != "ovn" or n.subnet is None:
        return ()
    nb = plugin.northbound(cluster)
    out: list[Listing] = []
    for name, what in ((names.CLUSTER_ROUTER, "the distributed cluster router (its pipeline runs on every chassis)"),
                       (names.gateway_router(node), f"{node}'s gateway router")):
        r = nb.router(name)
        if r is None:
            continue
        data: dict[str, Any] = {"router": name, "routes": [
            {"prefix": s.ip_prefix, "nexthop": s.nexthop, "policy": s.policy or "dst-ip", "outputPort": s.output_port}
            for s in r.static_routes],
            "policies": [{"priority": p.priority, "match": p.match, "action": p.action, "nexthops": list(p.nexthops)}
                         for p in r.policies],
            "nat": [{"type": x.type, "externalIp": x.external_ip, "logicalIp": x.logical_ip} for x in r.nat]}
        lines = [f"$ ovn-nbctl lr-route-list {name}", *route_lines(r)]
        if r.policies:
            lines += ["", f"$ ovn-nbctl lr-policy-list {name}", *policy_lines(r)]
        if r.nat:
            lines += ["", f"$ ovn-nbctl lr-nat-list {name}", *nat_lines(r)]
        out.append(Listing(f"OVN logical router {name}: {what}", LINE, tuple((x,) for x in lines),
                           header=False, data=data))
    return tuple(out)


__all__ = ["listings", "nat_lines", "policy_lines", "route_lines"]
