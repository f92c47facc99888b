"""The data plane as a networkx graph: underlay routers and subnets, hosts, their devices and vSwitches,
and pods (grouped per node when there are many). Attributes live in the graph's data dicts.

Node ids are readable strings: ``router:underlay``, ``subnet:nodes``, ``host:lin1``, ``dev:lin1/cni0``,
``vswitch:win1/cbr0``, ``pod:web/iis-0``, ``pods:lin1``.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device

DETAIL_LIMIT = 200  # above this many nodes, hosts are drawn without per-device detail


def build_graph(cluster: Cluster, detail: bool | None = None, group_pods_over: int = 16) -> nx.Graph:
    """The cluster's data-plane graph.

    ``detail`` adds each host's devices and vSwitches (it needs every node's facts, so it defaults to on
    only up to ``DETAIL_LIMIT`` nodes). A node with more than ``group_pods_over`` pods gets one
    ``pods:<node>`` group instead of a vertex per pod.

    >>> g = build_graph(Cluster.build(plan))        # doctest: +SKIP
    >>> g.nodes["host:lin1"]["os"]                    # doctest: +SKIP
    'linux'
    """
    plan = cluster.plan
    if detail is None:
        detail = len(plan.nodes) <= DETAIL_LIMIT
    g = nx.Graph(name=plan.name)
    router = f"router:{plan.underlay.name}"
    g.add_node(router, kind="router", label=plan.underlay.name, routes=len(cluster.underlay().routes))
    for s in plan.underlay.subnets:
        sid = f"subnet:{s.name}"
        g.add_node(sid, kind="subnet", label=f"{s.name} {s.cidr}", cidr=str(s.cidr), gateway=str(s.gateway),
                   mtu=s.mtu)
        g.add_edge(router, sid, kind="routes", via=str(s.gateway))
    pods_by_node: dict[str, list] = defaultdict(list)
    for pa in cluster.allocation.pods.values():
        pods_by_node[pa.pod.node or ""].append(pa)
    for node in plan.nodes:
        hid = f"host:{node.name}"
        alloc = cluster.allocation.nodes[node.name]
        g.add_node(hid, kind="host", label=node.name, os=node.os, ip=str(node.ip),
                   plugin=cluster.plugin.describe(node), podCIDR=str(alloc.pod_cidr or ""))
        attach = hid
        ports: dict[str, Device] = {}
        if detail:
            attach, ports = _devices(g, cluster, node.name, hid)
        else:
            g.add_edge(hid, f"subnet:{node.subnet}", kind="uplink", ip=str(node.ip))
        pods = pods_by_node.get(node.name, [])
        if len(pods) > group_pods_over:
            gid = f"pods:{node.name}"
            g.add_node(gid, kind="pod-group", label=f"{len(pods)} pods", count=len(pods))
            g.add_edge(attach, gid, kind="pods", veths=len(ports))
        else:
            for pa in pods:
                pid = f"pod:{pa.pod.key}"
                g.add_node(pid, kind="pod", label=pa.pod.key, namespace=pa.pod.namespace, ip=str(pa.ip),
                           hostNetwork=pa.pod.host_network)
                port = ports.get(str(pa.ip))
                if port is not None and not pa.pod.host_network:  # a routed pod: its own veth on the host
                    g.add_edge(_device(g, node.name, hid, port), pid, kind="veth")
                    continue
                g.add_edge(hid if pa.pod.host_network else attach, pid,
                           kind="host-network" if pa.pod.host_network else "veth")
    return g


def _device(g: nx.Graph, name: str, hid: str, d: Device) -> str:
    did = f"dev:{name}/{d.name}"
    g.add_node(did, kind="device", label=d.name, device=d.kind, addresses=[str(a) for a in d.addresses], mtu=d.mtu,
               owner=d.owner)
    g.add_edge(hid, did, kind="has")
    return did


def _devices(g: nx.Graph, cluster: Cluster, name: str, hid: str) -> tuple[str, dict[str, Device]]:
    """Add a host's devices; return the vertex pods attach to (the bridge or vSwitch) and the pods' own veths
    by pod address (routed pods: a /32 host route names the veth), which are drawn with their pods."""
    f = cluster.facts(name)
    node = cluster.node(name)
    attach = hid
    veths = {d.name: d for d in f.devices if d.kind == "veth"}
    ports = {str(r.dst.network_address): veths[r.dev] for r in f.routes
             if r.dst.prefixlen == 32 and r.dev in veths}
    for d in f.devices:
        if d.name in veths:
            continue
        did = _device(g, name, hid, d)
        if d.kind == "bridge":
            attach = did
    uplink = f"dev:{name}/{f.devices[0].name}" if f.devices else hid
    g.add_edge(uplink, f"subnet:{node.subnet}", kind="uplink", ip=str(node.ip))
    for n in f.hns_networks:
        vid = f"vswitch:{name}/{n.name}"
        g.add_node(vid, kind="vswitch", label=f"{n.name} ({n.type})", type=n.type, prefix=str(n.prefix))
        g.add_edge(uplink, vid, kind="external-port")
        for d in f.devices[1:]:
            if d.kind == "vnic":
                g.add_edge(vid, f"dev:{name}/{d.name}", kind="host-port")
        attach = vid
    return attach, ports


def to_json(g: nx.Graph) -> dict:
    return {"name": g.graph.get("name"),
            "nodes": [{"id": n, **attrs} for n, attrs in g.nodes(data=True)],
            "edges": [{"source": a, "target": b, **attrs} for a, b, attrs in g.edges(data=True)]}
