"""The logical routers' routes and policies on a node, as ``ovn-nbctl lr-route-list`` and ``lr-policy-list`` print
them, for ``cnimodel routes``: the distributed ``ovn_cluster_router`` (its pipeline runs on every chassis) and the
node's gateway router ``GR_<node>``, with the gateway router's NAT (``lr-nat-list``).

Shapes (ovn-org/ovn utilities/ovn-nbctl.c, print_route and nbctl_lr_policy_list; checked against the installed
ovn-nbctl in tests/ovn): routes under ``IPv4 Routes`` / ``Route Table <main>:``, one per line, the prefix and the
next hop right-aligned in 25 characters, then the policy (``dst-ip``/``src-ip``), ``ecmp`` when several routes
share the prefix, and the output port; sorted by prefix length (longest first), prefix and next hop. Policies under
``Routing Policies``: the priority right-aligned in 10, the match in 50, the action in 15, the next hops in 25;
highest priority first, then by match. NAT rules in ``lr-nat-list``'s columns; ovn-nbctl prints them in an order
that follows their row UUIDs, the model sorts them by type, external and logical address.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Any

from cnimodel.plugin.listing import Column, Listing
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.nbmodel import LogicalRouter

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin

LINE = (Column("", 0),)


def route_lines(r: LogicalRouter) -> list[str]:
    def key(s: Any) -> tuple[int, int, str, int]:
        net = IPv4Network(s.ip_prefix, strict=False)
        return (-net.prefixlen, int(net.network_address), s.policy or "dst-ip", int(IPv4Address(s.nexthop)))

    routes = sorted(r.static_routes, key=key)
    shared: dict[tuple[str, str], int] = {}
    for s in routes:
        k = (s.ip_prefix, s.policy or "dst-ip")
        shared[k] = shared.get(k, 0) + 1
    lines = ["IPv4 Routes", "Route Table <main>:"]
    for s in routes:
        policy = s.policy or "dst-ip"
        line = f"{s.ip_prefix:>25} {s.nexthop:>25} {policy}"
        if shared[(s.ip_prefix, policy)] > 1:
            line += " ecmp"
        if s.output_port:
            line += f" {s.output_port}"
        lines.append(line)
    return lines


def policy_lines(r: LogicalRouter) -> list[str]:
    lines = ["Routing Policies"]
    for p in sorted(r.policies, key=lambda p: (-p.priority, p.match)):
        lines.append(f"{p.priority:>10} {p.match:>50} {p.action:>15} {','.join(p.nexthops):>25}")
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
