"""Decisions at a node's vertices: a pod's way out, where packets enter the node, the route table, the tunnel
endpoint. Each answers for one destination class and reads only what it needs of the node's facts (a delivery to
a Windows pod reads none; a route lookup reads the node's table, indexed once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnimodel.dataplane import Encap, NodeFacts, Route
from cnimodel.graph import vertices as V
from cnimodel.graph.classes import DestClass, host_address, owner_of
from cnimodel.graph.facts import (
    DST,
    Balance,
    Decapsulate,
    Decision,
    Drop,
    Edge,
    Encapsulate,
    Forward,
    Input,
    LocalDelivery,
    PodDelivery,
    PodEgress,
    PodRoute,
    Switch,
    ToPod,
    TunnelRoute,
)
from cnimodel.graph.lookup import encap_for, lookup
from cnimodel.ipam import PodAddress
from cnimodel.net import longest_match

if TYPE_CHECKING:
    from ipaddress import IPv4Address

    from cnimodel.cluster import Cluster
    from cnimodel.graph.build import ForwardingGraph


def pod_port(cluster: Cluster, node: str, ip: IPv4Address, route: Route | None = None) -> Route | None:
    """The node's route to its own pod ``ip`` (``route``, when already looked up) when it names the pod's own veth
    (a /32: routed pods, no bridge), else None."""
    r = route if route is not None else lookup(cluster, node, ip).route
    if r is None or r.dst.prefixlen != 32 or r.dev is None:
        return None
    d = cluster.local_facts(node).device(r.dev)
    return r if d is not None and d.kind == "veth" else None


def pod_mtu(facts: NodeFacts) -> int:
    """The MTU a pod's eth0 gets: its veth's (both ends carry the CNI's MTU), the bridge's (set from flannel's
    MTU), or the VTEP's on overlay."""
    veths = [d.mtu for d in facts.devices if d.kind == "veth"]
    if veths:
        return min(veths)
    bridges = [d.mtu for d in facts.devices if d.kind == "bridge"]
    if bridges:
        return min(bridges)
    if facts.vteps:
        return min(v.mtu for v in facts.vteps)
    return facts.devices[0].mtu if facts.devices else 1500


def windows(cluster: Cluster, node: str) -> bool:
    return cluster.plan.node(node).os == "windows"


def entry(g: ForwardingGraph, pa: PodAddress) -> tuple[str, Route | None]:
    """Where a pod's packets enter its node, and the /32 route naming a routed pod's veth: the Windows pod's
    vSwitch port, the routed pod's host-side veth, the bridge it hangs on (the device of the node's route to it),
    or the host for a hostNetwork pod."""
    node = pa.pod.node
    assert node is not None
    if pa.pod.host_network:
        return V.host(node), None
    if windows(g.cluster, node):
        return V.port(pa.pod.key), None
    cluster = g.cluster
    if cluster.deferred(node):  # the node's own routes hold its pods' (per-peer routes never match them)
        r = longest_match(((x.dst, x) for x in cluster.local_facts(node).routes), pa.ip)
    else:
        r = lookup(cluster, node, pa.ip).route
    port = pod_port(cluster, node, pa.ip, r)
    if port is not None:
        return V.dev(node, port.dev or ""), port
    return (V.dev(node, r.dev) if r is not None and r.dev else V.host(node)), None


def from_pod(g: ForwardingGraph, vertex: str, cls: DestClass) -> Decision:
    """A pod's default route into its node, whatever the destination (a pod sends everything to its gateway)."""
    key = vertex[4:]
    pa = g.cluster.allocation.pods[key]
    node = pa.pod.node
    assert node is not None
    cluster = g.cluster
    facts = cluster.local_facts(node)
    rng = cluster.allocation.nodes[node].range
    to, port = g.pod_entry(pa)
    egress = PodEgress(key, node, windows(cluster, node), g.enforcement(node))
    fact = PodRoute(rng.gateway if rng else None, pod_mtu(facts), egress, port.dev if port is not None else None)
    return Decision((Edge(vertex, to, "route", fact, cls.key),))


def _balance(g: ForwardingGraph, vertex: str, node: str, cls: DestClass) -> Edge | None:
    """The edge to the node's load balancer when the class is one of its frontends: a Service address, or the
    node's own address (its NodePorts)."""
    fronts = g.frontends(node, cls)
    return Edge(vertex, V.lb(node), "lb", Balance(node, fronts), cls.key) if fronts else None


def local_pod(g: ForwardingGraph, node: str, cls: DestClass) -> PodAddress | None:
    o = cls.owner
    return o.pod if cls.kind == "pod" and o.node == node else None


def entering(g: ForwardingGraph, vertex: str, node: str, cls: DestClass, frontend: bool) -> Decision:
    """Where a packet enters a node (its NIC, the host, a pod's bridge, vSwitch port or veth): the load balancer
    for a Service frontend; a pod on the same bridge or vSwitch is switched to directly; everything else goes
    to the node's routing."""
    if frontend and (b := _balance(g, vertex, node, cls)) is not None:
        return Decision((b,))  # kube-proxy's PREROUTING (VFP's load balancer on Windows) takes it first
    edges: list[Edge] = []
    pa = local_pod(g, node, cls)
    prefix = V.split(vertex)[0]
    if prefix == "host" and cls.kind in ("node", "host") and cls.owner.node == node:
        return Decision(here=LocalDelivery(node))  # the node's own address, from the node: it never leaves the host
    if pa is not None and prefix in ("dev", "port"):
        down = g.cluster.allocation.not_running.get(pa.pod.key)
        if down is not None:
            return Decision(tuple(edges), _not_running(pa, down))
        to, port = g.pod_entry(pa)
        if to == vertex:  # the pod's own bridge, vSwitch port or veth: handed to the pod from here
            edges.append(Edge(vertex, V.pod(pa.pod.key), "deliver", delivery(g, pa, port), cls.key))
            return Decision(tuple(edges))
        if prefix == "port" and to.startswith("port:"):  # one vSwitch: port to port
            edges.append(Edge(vertex, to, "l2", Switch(node), cls.key))
            return Decision(tuple(edges))
    edges.append(Edge(vertex, V.table(node), "input", Input(vertex), cls.key))
    return Decision(tuple(edges))


def _not_running(pa: PodAddress, down: object) -> Drop:
    key = pa.pod.key
    return Drop("POD_NOT_RUNNING", "POD_NOT_RUNNING", f"{key} never runs, so nothing receives the packet: {down}",
                (("pod", key), ("code", getattr(down, "code", None)), ("reason", getattr(down, "reason", None))))


def delivery(g: ForwardingGraph, pa: PodAddress, port: Route | None) -> PodDelivery:
    node = pa.pod.node
    assert node is not None
    win = windows(g.cluster, node)
    via = "vSwitch port" if win else port.dev if port is not None and port.dev else "cni bridge → veth"
    return PodDelivery(pa, via, win, g.enforcement(node), port)


def at_table(g: ForwardingGraph, vertex: str, node: str, cls: DestClass) -> Decision:
    """The node's routing decision: its own pod (no route lookup: the pod's bridge, port or veth), its own
    address, a tunnel, or a route to the next hop."""
    cluster = g.cluster
    pa = local_pod(g, node, cls)
    if pa is not None:
        down = cluster.allocation.not_running.get(pa.pod.key)
        if down is not None:  # its sandbox holds the address, but no container listens
            return Decision(drop=_not_running(pa, down))
        to, port = g.pod_entry(pa)
        return Decision((Edge(vertex, to, "route", ToPod(port), cls.key),))
    rep = cls.rep
    facts = cluster.local_facts(node)
    if rep == cluster.node(node).ip or host_address(facts, rep):
        return Decision((Edge(vertex, V.host(node), "deliver", LocalDelivery(node), cls.key),))
    encap = encap_for(cluster, node, rep)
    route = lookup(cluster, node, rep).route
    if encap is not None and (route is None or route.dst.prefixlen <= encap.dst.prefixlen or route.dev == encap.dev):
        fact = TunnelRoute(route if route is not None and route.dev == encap.dev else None, encap)
        g.encaps[(node, cls.key)] = encap  # the tunnel endpoint's decision needs it next
        return Decision((Edge(vertex, V.tunnel(node, encap.dev), "route", fact, cls.key),))
    if route is None:
        return Decision(drop=Drop("NO_ROUTE", "NO_ROUTE", f"node {node} has no route to {{dst}}", (("table", node),)))
    if route.type == "blackhole":
        return Decision(drop=Drop("NULL_ROUTED", "NULL_ROUTED", f"{route.dst} is a blackhole route on {node}",
                                  (("route", route),)))
    return _next_hop(g, vertex, node, cls, facts, route)


def _next_hop(g: ForwardingGraph, vertex: str, node: str, cls: DestClass, facts: NodeFacts, route: Route) -> Decision:
    """Hand the packet to its L2 next hop on the egress device's segment: a node's NIC, the NIC whose secondary
    address it is (Azure CNI), the subnet's gateway (the underlay), an address no node holds, or nobody."""
    cluster = g.cluster
    spec = cluster.node(node)
    subnet = cluster.plan.underlay.subnet(spec.subnet)
    nh = route.via if route.via is not None else cls.rep
    shown = route.via if route.via is not None else DST
    d = facts.device(route.dev) if route.dev else None
    base = Forward(node, route, facts.nat, d.mtu if d is not None else None,
                   d.addresses[0].ip if d is not None and d.addresses else None, spec.ip, None)

    def drop(action: str, reason: str, **detail: object) -> Decision:
        return Decision(drop=Drop(action, action, reason, tuple(detail.items()), base))

    def to(vertex_to: str, name: str, via: str, segment: str) -> Decision:
        fact = Forward(base.table, route, base.nat, base.mtu, base.dev_address, base.node_ip, name, via, segment)
        return Decision((Edge(vertex, vertex_to, "route", fact, cls.key),))

    target = owner_of(cluster, nh)
    text = "{dst}" if shown is DST else str(nh)
    if target.kind == "node" and target.node is not None:
        peer = cluster.node(target.node)
        if peer.subnet != spec.subnet:
            return drop("NEIGHBOR_UNREACHABLE", f"{text} ({peer.name}) is not on {node}'s subnet {subnet.name}",
                        nextHop=shown)
        return to(V.nic(peer.name), peer.name, "node", f"{subnet.name} {node}→{peer.name}")
    if target.kind == "pod" and target.node is not None and target.node != node and nh in subnet.cidr:
        return to(V.nic(target.node), target.node, "nic-owner", f"{subnet.name} {node}→{target.node}")
    if nh == subnet.gateway:
        u = cluster.plan.underlay.name
        return to(V.router(u), u, "gateway", f"{subnet.name} {node}→gateway")
    if target.kind == "underlay" and nh in subnet.cidr:
        return to(V.subnet(subnet.name), subnet.name, "subnet", "")
    if target.kind == "pod-subnet" and target.node == node:
        return drop("NEIGHBOR_UNREACHABLE", f"no pod on {node} has the address {text}", address=shown)
    return drop("NEIGHBOR_UNREACHABLE", f"next hop {text} is not reachable from {node} on {route.dev}", nextHop=shown)


def at_tunnel(g: ForwardingGraph, vertex: str, node: str, cls: DestClass) -> Decision:
    """A tunnel endpoint: the one that wraps the class's packets (the node's Encap fact) sends them to the peer's
    endpoint — unless the peer refuses the hop (another kind, id or port): then they end here; any other endpoint
    unwraps what arrives for its node's routing."""
    if cls.owner.node == node:  # the class is this node's own (its pod, range, address): it wraps none of it
        return Decision((Edge(vertex, V.table(node), "decap", Decapsulate(node), cls.key),))
    e = g.encaps.get((node, cls.key)) or encap_for(g.cluster, node, cls.rep)
    if e is not None and V.tunnel(node, e.dev) == vertex:
        if e.mismatch:
            return Decision(drop=_refused(e))
        return Decision((Edge(vertex, V.tunnel(e.peer, e.remote.dev), "encap", Encapsulate(e), cls.key),))
    return Decision((Edge(vertex, V.table(node), "decap", Decapsulate(node), cls.key),))


def _refused(e: Encap) -> Drop:
    """The receiving endpoint drops the hop: another kind, id or port than it decapsulates."""
    k, theirs = e.encapsulation, e.remote.encapsulation
    if e.mismatch == ("kind",):
        return Drop("ENCAP_MISMATCH", "NEIGHBOR_UNREACHABLE", f"{e.peer}'s tunnel endpoint drops the packet: {e.node} "
                    f"sends {k.label}, it decapsulates {theirs.label}", (("sent", k.label), ("expected", theirs.label)),
                    Encapsulate(e))
    what = " and ".join(f"VNI {e.vni} (it expects {e.peer_vni})" if m == "vni" else
                        f"UDP port {e.dst_port} (it listens on {e.peer_port})" for m in e.mismatch)
    return Drop(f"{k.label}_MISMATCH", "NEIGHBOR_UNREACHABLE",
                f"{e.peer}'s VTEP drops the frame: {e.node} sends {what}",
                (("sent", f"VNI {e.vni} port {e.dst_port}"), ("expected", f"VNI {e.peer_vni} port {e.peer_port}")),
                Encapsulate(e))


__all__ = ["at_table", "at_tunnel", "delivery", "entering", "entry", "from_pod", "pod_mtu", "pod_port"]
