"""Routing checks: pod CIDRs a node has no way to reach (host routes without L2 adjacency), the cloud route
table's limit, routes per node, the neighbour table and the Linux bridge's port limit
(tools-and-planning.md §3.7, §3.8.11–13, §3.8.17, §4.1).

Each is answered on one representative node per kind of node (OS, underlay subnet, plugin description):
nodes of one kind hold the same tables but for their own pod CIDR.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network

from cnimodel.dataplane import Route
from cnimodel.net import PrefixTable
from cnimodel.plan import NodeSpec
from cnimodel.validate.context import CLOUD_ROUTE_LIMITS, Context, first, node_obj, phrase
from cnimodel.validate.registry import Hit, check

GC_THRESH3 = 1024  # net.ipv4.neigh.default.gc_thresh3: the hard limit of the (per-family) neighbour table
BR_MAX_PORTS = 1024  # Linux bridge: port numbers are 10 bits and port 0 is never used
ROUTES_PER_NODE_NOTE = 1000
DEFAULT_ROUTE_TABLE_LIMIT = 400  # kubenet on Azure (unverified); used when the cloud is unknown


def _probe(cidr: IPv4Network) -> IPv4Address:
    return cidr.network_address + (1 if cidr.prefixlen < 32 else 0)


def _reached_by_overlay(ctx: Context, name: str) -> PrefixTable[bool]:
    """Prefixes the node reaches through its overlay: VXLAN hops and HNS remote subnet routes."""
    f = ctx.facts(name)
    t: PrefixTable[bool] = PrefixTable()
    for e in f.encaps:
        t.add(e.dst, True)
    for net in f.hns_networks:
        for p in net.policies:
            prefix = p.settings.get("DestinationPrefix") if p.type == "RemoteSubnetRoute" else None
            if prefix:
                t.add(IPv4Network(str(prefix)), True)
    return t


def unreachable_from(ctx: Context, rep: NodeSpec) -> list[str]:
    """Nodes whose pod CIDR ``rep`` cannot reach: no route, no overlay hop, and (when its route is the default
    one) no route in the underlay's table either."""
    cluster = ctx.cluster
    table = cluster.table(rep.name)
    overlay = _reached_by_overlay(ctx, rep.name)
    underlay = cluster.table(ctx.plan.underlay.name)
    out = []
    for name, a in cluster.allocation.nodes.items():
        if a.pod_cidr is None or name == rep.name:
            continue
        probe = _probe(a.pod_cidr)
        hit = table.lookup(probe)
        if hit is not None and hit[1].kind != "default":
            continue
        if overlay.lookup(probe) is not None:
            continue
        if hit is not None:  # the default route: the underlay router must know the way
            u = underlay.lookup(probe)
            if u is not None and u[1].kind != "default":
                continue
        out.append(name)
    return out


@check("CNI-ROUTE-001", "error", "routing", "Nodes have no route to other nodes' pods (no L2 adjacency)",
       "tools-and-planning.md §3.7, §3.8.11 (kube-router#21, flannel-io/flannel#1520); cni-plugins.md §3.6, §8")
def no_route_to_pods(ctx: Context) -> Iterator[Hit]:
    for (os_, subnet, what), nodes in ctx.kinds.items():
        rep = ctx.representative(nodes)
        if rep is None or rep.name in ctx.vteps:  # overlay nodes: their gaps are the overlay checks' findings
            continue
        missing = unreachable_from(ctx, rep)
        if not missing:
            continue
        by_subnet: dict[str, list[str]] = defaultdict(list)
        for n in missing:
            by_subnet[ctx.plan.node(n).subnet].append(n)
        where = "; ".join(f"{len(ns)} on subnet {s} ({phrase(ns, 3)})" for s, ns in by_subnet.items())
        yield Hit(f"{len(nodes)} {os_} node(s) on subnet {subnet} like {rep.name} ({what}) have no route to the pods "
                  f"of {len(missing)} node(s): {where}. Host routes need the next hop on the same L2 segment, and "
                  "the underlay's route table has no route for those pod CIDRs",
                  "use an overlay (vxlan, or DirectRouting to keep host-gw on each subnet), put pod routes in the "
                  "cloud route table (underlay.routes: cloud), or put the nodes on one subnet",
                  (node_obj(rep.name), *(node_obj(n) for n in first(missing, 5))), (rep.origin,))


def _route_limit(ctx: Context) -> tuple[int, str]:
    if ctx.options.route_table_limit:
        return ctx.options.route_table_limit, "--route-table-limit"
    net = ctx.plan.network
    given = net.config.get("routeTableLimit") if net is not None else None
    if isinstance(given, int) and not isinstance(given, bool):
        return given, "network.config.routeTableLimit"
    cloud = ctx.cloud
    if cloud in CLOUD_ROUTE_LIMITS:
        return CLOUD_ROUTE_LIMITS[cloud], f"{cloud}'s default"
    return DEFAULT_ROUTE_TABLE_LIMIT, "assumed (Azure's, unverified; give --cloud or --route-table-limit)"


@check("CNI-ROUTE-002", "error", "routing", "The cloud route table needs more routes than it holds",
       "tools-and-planning.md §3.7, §3.8.12 (flannel-io/flannel#164 AWS 50/100, GCE 100, OpenStack 256, Azure ~400)")
def cloud_route_limit(ctx: Context) -> Iterator[Hit]:
    if ctx.plan.underlay.routes != "cloud":
        return
    routes = [r for r in ctx.cluster.underlay().routes if r.kind == "pod-route"]
    limit, source = _route_limit(ctx)
    if len(routes) > limit:
        past = [r.name for r in routes[limit:] if r.name]
        yield Hit(f"the route table {ctx.plan.underlay.name} needs {len(routes):,} pod routes (one per node pod CIDR) "
                  f"but holds {limit:,} ({source}): the routes past the limit are not created and those nodes' pods "
                  f"are unreachable{(' (' + phrase(past, 3) + ')') if past else ''}",
                  "use fewer nodes, ask the cloud for a higher limit, or a plugin without per-node routes "
                  "(an overlay, or pods on VNet addresses)", tuple(node_obj(n) for n in first(past, 5)),
                  (ctx.plan.origin.at("spec.underlay.routes"),))


@check("CNI-ROUTE-003", "info", "routing", "Every node holds a route per other node",
       "tools-and-planning.md §4.1 (host-gw: N−1 routes per node, N(N−1) in all; churn, not the FIB, is the limit)")
def routes_per_node(ctx: Context) -> Iterator[Hit]:
    for (os_, subnet, _), nodes in ctx.kinds.items():
        rep = ctx.representative(nodes)
        if rep is None:
            continue
        pod_routes = sum(1 for r in ctx.facts(rep.name).routes if r.kind == "pod-route")
        if pod_routes > ROUTES_PER_NODE_NOTE:
            n = len(ctx.plan.nodes)
            yield Hit(f"{len(nodes)} {os_} node(s) on subnet {subnet} like {rep.name} hold {pod_routes:,} pod routes "
                      f"each (a flat cluster of {n:,} nodes holds N−1 per node, {n * (n - 1):,} in all); every node "
                      "added or removed changes every node's table",
                      "nothing to fix below the route limits; an overlay or cloud routes keep node tables small",
                      (node_obj(rep.name),), (rep.origin,))


@check("CNI-ROUTE-004", "warning", "routing", "The neighbour table overflows its default limit",
       "tools-and-planning.md §3.7, §3.8.13 (kops#4533, image-builder#333, flannel-io/flannel#928); gc_thresh3 1024")
def neighbour_table(ctx: Context) -> Iterator[Hit]:
    alloc = ctx.cluster.allocation
    per_subnet: dict[str, int] = defaultdict(int)
    for n in ctx.plan.nodes:
        per_subnet[n.subnet] += 1
    flat_pods: dict[str, int] = defaultdict(int)  # pods whose addresses live in the underlay subnet itself
    cidrs = {s.name: s.cidr for s in ctx.plan.underlay.subnets}
    for n in ctx.plan.nodes:
        a = alloc.nodes.get(n.name)
        if a is not None and a.range is not None and a.pod_cidr is None and a.range.subnet == cidrs.get(n.subnet):
            flat_pods[n.subnet] += a.pods
    for (os_, subnet, _), nodes in ctx.kinds.items():
        if os_ != "linux":
            continue
        rep = ctx.representative(nodes)
        if rep is None:
            continue
        permanent = len(ctx.facts(rep.name).neighbors)
        peers = per_subnet[subnet] - 1 + 1  # every other node on the segment, and the gateway
        local = ctx.cluster.plugin.max_pods(rep)
        total = peers + permanent + local + flat_pods[subnet]
        if total > GC_THRESH3:
            parts = [f"{peers:,} on-link nodes and gateway", f"{local} local pods"]
            if permanent:
                parts.append(f"{permanent:,} permanent overlay entries")
            if flat_pods[subnet]:
                parts.append(f"{flat_pods[subnet]:,} pods on the same subnet")
            yield Hit(f"{len(nodes)} Linux node(s) on subnet {subnet} like {rep.name} may need {total:,} neighbour "
                      f"entries ({', '.join(parts)}), over gc_thresh3 {GC_THRESH3}: 'neighbour table overflow' and "
                      "dropped connections", "raise net.ipv4.neigh.default.gc_thresh1/2/3 (e.g. 4096/8192/16384) "
                      "or split the nodes over smaller subnets", (node_obj(rep.name),), (rep.origin,))


@check("CNI-ROUTE-005", "error", "routing", "maxPods exceeds the Linux bridge's port limit",
       "tools-and-planning.md §3.6, §3.8.17 (BR_MAX_PORTS 1024, flannel-io/flannel#2094)")
def bridge_ports(ctx: Context) -> Iterator[Hit]:
    plugin = ctx.cluster.plugin
    for (os_, _, _), nodes in ctx.kinds.items():
        big = [n for n in nodes if os_ == "linux" and plugin.max_pods(n) >= BR_MAX_PORTS]
        if not big:
            continue
        bridges = [d.name for d in ctx.facts(big[0].name).devices if d.kind == "bridge"]
        if bridges:
            names = [n.name for n in big]
            yield Hit(f"{len(big)} Linux node(s) ({phrase(names)}) allow {plugin.max_pods(big[0])} pods on bridge "
                      f"{bridges[0]}, which takes at most {BR_MAX_PORTS - 1} ports (one veth per pod): pods past it "
                      "fail to attach ('exchange full')", f"keep maxPods below {BR_MAX_PORTS}",
                      tuple(node_obj(n) for n in first(names)), (big[0].origin,))


@check("CNI-ROUTE-006", "error", "routing", "Packets to a prefix loop between route tables",
       "torvalds/linux@c57d5621:net/ipv4/ip_forward.c:108 (TTL ≤ 1: dropped, ICMP time exceeded); stale cloud "
       "routes: kubernetes-sigs/cloud-provider-azure#8175, kubernetes/kubernetes#98359")
def forwarding_loop(ctx: Context) -> Iterator[Hit]:
    from cnimodel.graph import ForwardingGraph
    from cnimodel.graph.loops import forwarding_loops
    from cnimodel.graph.vertices import node_of

    reps = [rep.name for nodes in ctx.kinds.values() if (rep := ctx.representative(nodes)) is not None]
    u = ctx.plan.underlay
    for loop in forwarding_loops(ForwardingGraph.of(ctx.cluster), reps):
        nodes = sorted({n for v in loop.cycle if (n := node_of(v)) is not None})
        tables = [u.name if v.startswith("router:") else node_of(v) for v in loop.cycle if v.startswith(("router:",
                                                                                                          "table:"))]
        hops = "; ".join(f"{t} routes it by {_route(r)}" for t, r in loop.routes)
        start = f"{loop.route.dst} via {loop.route.via}" + (f" ({loop.route.name})" if loop.route.name else "")
        where = ([ctx.plan.origin.at(f"spec.underlay.staticRoutes[{i}]") for i, s in enumerate(u.static_routes)
                  if s.prefix == loop.route.dst and s.next_hop == loop.route.via]
                 or [ctx.cluster.node(n).origin for n in nodes[:1]])
        yield Hit(f"packets to {loop.prefix} (e.g. {loop.probe}) loop between {' and '.join(dict.fromkeys(tables))}: "
                  f"{hops}; they go round until their TTL runs out and are never delivered",
                  f"remove or correct the route {start} in {loop.table} (a stale route of a node that left, or "
                  f"one pointing at a node that does not hold {loop.prefix}), or give {phrase(nodes)} a route "
                  "that delivers it", tuple(node_obj(n) for n in nodes), tuple(where))


def _route(r: Route) -> str:
    how = f"{r.dst} via {r.via}" if r.via is not None else f"{r.dst} dev {r.dev}"
    return how + (f" ({r.name})" if r.name else "")
