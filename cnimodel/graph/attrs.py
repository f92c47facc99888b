"""The data of the core's vertices, for the people and programs that draw or query the graph (the walk needs
none of it): what kind of place it is, on which node, and what the plan and the node's facts say of it."""

from __future__ import annotations

from typing import Any

from cnimodel.cluster import Cluster
from cnimodel.graph import vertices as V


def vertex_attrs(cluster: Cluster, vertex: str) -> dict[str, Any]:
    prefix, rest = V.split(vertex)
    node = V.node_of(vertex)
    if prefix == "pod":
        pa = cluster.allocation.pods.get(rest)
        out: dict[str, Any] = {"kind": "pod", "label": rest, "namespace": rest.partition("/")[0]}
        if pa is not None:
            out.update(node=pa.pod.node, ip=str(pa.ip), hostNetwork=pa.pod.host_network)
        return out
    if prefix == "host":
        spec = cluster.node(rest)
        alloc = cluster.allocation.nodes.get(rest)
        return {"kind": "host", "node": rest, "label": rest, "os": spec.os, "ip": str(spec.ip),
                "plugin": cluster.plugin.describe(spec),
                "podCIDR": str(alloc.pod_cidr) if alloc is not None and alloc.pod_cidr else ""}
    if prefix == "table":
        return {"kind": "table", "node": rest, "table": "node", "label": f"{rest} routes"}
    if prefix == "lb":
        roles = cluster.roles(rest).services
        by = f"{roles.by} {roles.mode}" if roles.mode else roles.by
        return {"kind": "lb", "node": rest, "label": f"Services ({by})", "services": by}
    if prefix == "nic":
        f = cluster.local_facts(rest)
        uplink = f.devices[0] if f.devices else None
        return {"kind": "interface", "node": rest, "label": uplink.name if uplink else "uplink",
                "device": uplink.kind if uplink else None,
                "addresses": [str(a) for a in uplink.addresses] if uplink else [str(cluster.node(rest).ip)],
                "mtu": uplink.mtu if uplink else None, "uplink": True}
    if prefix in ("dev", "tunnel") and node is not None:
        name = rest.rpartition("/")[2]
        d = cluster.local_facts(node).device(name)
        kind = "tunnel" if prefix == "tunnel" else "bridge" if d is not None and d.kind == "bridge" else "interface"
        out = {"kind": kind, "node": node, "label": name}
        if d is not None:
            out.update(device=d.kind, addresses=[str(a) for a in d.addresses], mtu=d.mtu, owner=d.owner)
        if prefix == "tunnel":
            vtep = cluster.endpoint(node)
            if vtep is not None:
                out.update(encapsulation=vtep.kind, vni=vtep.vni, port=vtep.port, local=str(vtep.local))
        return out
    if prefix == "port":
        pa = cluster.allocation.pods.get(rest)
        return {"kind": "port", "node": pa.pod.node if pa is not None else None, "label": f"port of {rest}",
                "pod": rest}
    if prefix == "router":
        u = cluster.plan.underlay
        return {"kind": "table", "table": "cloud" if u.routes == "cloud" else "underlay", "label": u.name,
                "routes": len(cluster.underlay().routes)}
    if prefix == "subnet":
        s = cluster.plan.underlay.subnet(rest)
        return {"kind": "subnet", "label": f"{s.name} {s.cidr}", "cidr": str(s.cidr), "gateway": str(s.gateway),
                "mtu": s.mtu}
    if prefix == "internet":
        return {"kind": "internet", "label": "internet"}
    return {"kind": prefix, "label": rest}


__all__ = ["vertex_attrs"]
