"""The picture of the forwarding graph: its vertices as the cluster holds them, joined by what joins them
physically (a NIC on its subnet, a pod on its bridge or vSwitch, a route table over a node's devices), not per
destination. ``cnimodel graph`` without ``--dst``, ``render -o dot|svg|mermaid`` and the HTML report draw it; a
trace's vertices (``Hop.vertices``) are highlighted on it as they are.

Vertex ids are the forwarding graph's (``cnimodel.graph.vertices``), plus two that only pictures have: a node's
vSwitch (``vswitch:<node>/<hns network>``, where its pods' ports are drawn) and ``pods:<node>``, the group a node's
pods are drawn as when it has many. ``graph.graph["aliases"]`` names the drawn vertex that stands for a vertex the
picture leaves out (a pod's vSwitch port: its vSwitch; a grouped pod: its group).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import networkx as nx

from cnimodel.cluster import Cluster
from cnimodel.graph import vertices as V
from cnimodel.graph.attrs import vertex_attrs
from cnimodel.graph.build import ForwardingGraph
from cnimodel.ipam import PodAddress

DETAIL_LIMIT = 200  # above this many nodes, hosts are drawn without per-device detail
TUNNEL_DEVICES = ("vxlan", "geneve", "ipip")


def wiring(cluster: Cluster, detail: bool | None = None, group_pods_over: int = 16) -> nx.Graph:
    """The cluster drawn: the underlay's table and subnets, and per node its host, route table, NIC, bridges,
    tunnel endpoints, vSwitches, load balancer and pods.

    ``detail`` draws each node's devices (it needs every node's facts, so it defaults to on only up to
    ``DETAIL_LIMIT`` nodes; without it a node is its host vertex). A node with more than ``group_pods_over`` pods
    gets one ``pods:<node>`` group instead of a vertex per pod.
    """
    plan = cluster.plan
    if detail is None:
        detail = len(plan.nodes) <= DETAIL_LIMIT
    g = nx.Graph(name=plan.name, aliases={})
    router = V.router(plan.underlay.name)
    g.add_node(router, **vertex_attrs(cluster, router))
    for s in plan.underlay.subnets:
        sid = V.subnet(s.name)
        g.add_node(sid, **vertex_attrs(cluster, sid))
        g.add_edge(router, sid, kind="routes", via=str(s.gateway))
    services = any(o.kind == "Service" for o in plan.objects)
    pods_by_node: dict[str, list[PodAddress]] = defaultdict(list)
    for pa in cluster.allocation.pods.values():
        pods_by_node[pa.pod.node or ""].append(pa)
    fg = ForwardingGraph.of(cluster)
    for node in plan.nodes:
        hid = V.host(node.name)
        g.add_node(hid, **vertex_attrs(cluster, hid))
        if detail:
            attach = _node(g, cluster, node.name, services)
            _contributed(g, fg, node.name)
        else:
            g.add_edge(hid, V.subnet(node.subnet), kind="uplink", ip=str(node.ip))
            attach = {}
        _pods(g, fg, node.name, pods_by_node.get(node.name, []), attach, group_pods_over)
    return g


def _node(g: nx.Graph, cluster: Cluster, name: str, services: bool) -> dict[str, str]:
    """A node's devices; returns where its pods hang, by HNS network name (``vswitch:…``) and device name."""
    f = cluster.facts(name)
    node = cluster.node(name)
    hid, tid, nid = V.host(name), V.table(name), V.nic(name)
    for v in (tid, nid):
        g.add_node(v, **vertex_attrs(cluster, v))
    g.add_edge(hid, tid, kind="stack")
    g.add_edge(tid, nid, kind="routes")
    g.add_edge(nid, V.subnet(node.subnet), kind="uplink", ip=str(node.ip))
    if services:
        g.add_node(V.lb(name), **vertex_attrs(cluster, V.lb(name)))
        g.add_edge(V.lb(name), tid, kind="lb")
    attach: dict[str, str] = {}
    for d in f.devices[1:]:
        if d.kind == "veth":
            continue  # drawn with its pod
        v = V.tunnel(name, d.name) if d.kind in TUNNEL_DEVICES else V.dev(name, d.name)
        g.add_node(v, **vertex_attrs(cluster, v))
        g.add_edge(tid, v, kind="routes")
        if d.kind in TUNNEL_DEVICES:
            g.add_edge(v, nid, kind="underlay")
        attach[d.name] = v
    for t in f.vteps:
        v = V.tunnel(name, t.dev)
        if v not in g:  # a Windows overlay network's endpoint (VFP encapsulates in the vSwitch)
            g.add_node(v, **vertex_attrs(cluster, v))
            g.add_edge(tid, v, kind="routes")
            g.add_edge(v, nid, kind="underlay")
    for n in f.hns_networks:
        vid = f"vswitch:{name}/{n.name}"
        g.add_node(vid, kind="vswitch", node=name, label=f"{n.name} ({n.type})", type=n.type, prefix=str(n.prefix))
        g.add_edge(nid, vid, kind="external-port")
        for d in f.devices[1:]:
            if d.kind == "vnic":
                g.add_edge(vid, V.dev(name, d.name), kind="host-port")
        attach[f"hns:{n.name}"] = vid
    for e in f.hns_endpoints:
        if e.pod is not None:
            attach[f"port:{e.pod}"] = attach.get(f"hns:{e.network}", "")
    return attach


def _contributed(g: nx.Graph, fg: ForwardingGraph, name: str) -> None:
    """What a plugin's graph contribution asks the picture to draw on a node (``drawn(graph, node)``: vertices
    with the vertices they are wired to, e.g. OVS's GENEVE port between the node's table and its NIC)."""
    drawn = getattr(fg.contrib, "drawn", None)
    if drawn is None:
        return
    for v, links in drawn(fg, name):
        if v not in g:
            g.add_node(v, **fg.attrs(v))
        for other, kind in links:
            if other in g:
                g.add_edge(v, other, kind=kind)


def _contributed_pods(g: nx.Graph, fg: ForwardingGraph, name: str) -> dict[str, tuple[str, str]]:
    """Where a plugin's graph contribution hangs a node's pods (``drawn_pods(graph, node)``: each pod's drawn
    vertex and edge kind, and the forwarding-graph vertices the picture shows as a drawn one — e.g. every port of
    an OVN logical switch as that switch), when the vertex is in the picture; the rest hang where the node's
    routes put them."""
    hook = getattr(fg.contrib, "drawn_pods", None)
    if hook is None:
        return {}
    places, aliases = hook(fg, name)
    g.graph["aliases"].update((v, a) for v, a in aliases.items() if a in g)
    return {k: (v, kind) for k, (v, kind) in places.items() if v in g}


def _pods(g: nx.Graph, fg: ForwardingGraph, name: str, pods: Sequence[PodAddress], attach: dict[str, str],
          group_over: int) -> None:
    aliases: dict[str, str] = g.graph["aliases"]
    hid = V.host(name)
    hung = _contributed_pods(g, fg, name) if attach else {}
    places = {pa.pod.key: hung.get(pa.pod.key) or _place(g, fg, name, pa, attach) for pa in pods}
    if len(pods) > group_over:
        gid = f"pods:{name}"
        g.add_node(gid, kind="pod-group", node=name, label=f"{len(pods)} pods", count=len(pods))
        hubs = {v for v, _ in places.values() if not v.startswith("dev:") or v in g} or {hid}
        for hub in sorted(hubs):
            g.add_edge(hub, gid, kind="pods", veths=sum(1 for _, e in places.values() if e == "veth"))
        for key, (v, edge) in places.items():
            aliases[V.pod(key)] = gid
            if edge == "veth" and v not in g:
                aliases[v] = gid
        return
    for pa in pods:
        pid = V.pod(pa.pod.key)
        g.add_node(pid, **vertex_attrs(fg.cluster, pid))
        v, kind = places[pa.pod.key]
        if kind == "veth" and v not in g:  # a routed pod: its own veth on the host, drawn with it
            g.add_node(v, **vertex_attrs(fg.cluster, v))
            if V.table(name) in g:
                g.add_edge(V.table(name), v, kind="routes")
        g.add_edge(v, pid, kind=kind)


def _place(g: nx.Graph, fg: ForwardingGraph, name: str, pa: PodAddress, attach: dict[str, str]) -> tuple[str, str]:
    """Where a pod hangs in the picture, and how: its bridge, its own veth, its vSwitch (for its port), the host."""
    hid = V.host(name)
    if pa.pod.host_network:
        return hid, "host-network"
    if not attach:
        return hid, "veth"
    entry = fg.entry(pa.pod.key)
    prefix, rest = V.split(entry)
    if prefix == "port":
        vs = attach.get(f"port:{pa.pod.key}") or next((v for k, v in attach.items() if k.startswith("hns:")), hid)
        g.graph["aliases"][entry] = vs
        return vs, "port"
    if prefix == "dev":
        dev = rest.rpartition("/")[2]
        return attach.get(dev, entry), "veth"
    return hid, "veth"


def drawn_path(g: nx.Graph, path: Sequence[str]) -> list[str]:
    """A trace's vertices (``Hop.vertices``, in order) as vertices of the picture ``g``: a vertex the picture leaves
    out stands as its alias (a port as its vSwitch, a grouped pod as its group) or its node's host; the internet
    is added when a trace reaches it. Repeats in a row are dropped."""
    aliases = g.graph.get("aliases", {})
    out: list[str] = []
    for v in path:
        if v not in g:
            v = aliases.get(v, v)
        if v not in g and v != V.INTERNET:
            v = V.place_of(v)
            v = aliases.get(v, v)
        if v == V.INTERNET and v not in g:
            g.add_node(v, kind="internet", label="internet")
        if v in g and (not out or out[-1] != v):
            out.append(v)
    return out


__all__ = ["DETAIL_LIMIT", "drawn_path", "wiring"]
