"""Facts and answers as JSON-ready dicts. Every key here is documented in docs/json.md."""

from __future__ import annotations

from typing import Any

from cnimodel.cluster import Cluster, Lookup, NodeView
from cnimodel.dataplane import Device, Encap, FdbEntry, NatRule, Neighbor, Route, RouteTable, Vtep
from cnimodel.render import hns


def _s(v: object) -> str | None:
    return None if v is None else str(v)


def route(r: Route) -> dict[str, Any]:
    return {"dst": str(r.dst), "via": _s(r.via), "dev": r.dev, "onlink": r.onlink, "scope": r.scope,
            "kind": r.kind, "owner": r.owner, "src": _s(r.src), "proto": r.proto, "type": r.type,
            "nextHopType": r.next_hop_type, "name": r.name}


def device(d: Device) -> dict[str, Any]:
    return {"name": d.name, "kind": d.kind, "addresses": [str(a) for a in d.addresses], "mtu": d.mtu,
            "mac": d.mac, "owner": d.owner, "master": d.master, "vni": d.vni, "port": d.port,
            "local": _s(d.local), "underlayDev": d.underlay_dev, "sysctls": dict(d.sysctls), "remote": _s(d.remote)}


def neighbor(n: Neighbor) -> dict[str, Any]:
    return {"ip": str(n.ip), "mac": n.mac, "dev": n.dev, "state": n.state, "owner": n.owner}


def fdb(e: FdbEntry) -> dict[str, Any]:
    return {"mac": e.mac, "dev": e.dev, "dst": str(e.dst), "state": e.state, "owner": e.owner}


def nat_rule(r: NatRule) -> dict[str, Any]:
    return {"table": r.table, "hook": r.hook, "chain": r.chain, "src": _s(r.src), "srcNegate": r.src_negate,
            "dst": _s(r.dst), "dstNegate": r.dst_negate, "mark": r.mark, "action": r.action, "to": _s(r.to),
            "randomFully": r.random_fully, "owner": r.owner}


def vtep(v: Vtep) -> dict[str, Any]:
    return {"node": v.node, "os": v.os, "dev": v.dev, "vni": v.vni, "port": v.port, "mac": v.mac,
            "macSource": v.mac_source, "local": str(v.local), "mtu": v.mtu, "underlayMtu": v.underlay_mtu,
            "directRouting": v.direct_routing, "up": v.up, "reason": v.reason, "owner": v.owner, "kind": v.kind,
            "overhead": v.overhead}


def encap(e: Encap) -> dict[str, Any]:
    """One overlay hop; keys documented in docs/overlay.md."""
    return {"kind": e.kind, "peer": e.peer, "dst": str(e.dst), "dev": e.dev, "outerSrc": str(e.outer_src),
            "outerDst": str(e.outer_dst), "outerNextHop": str(e.outer_next_hop), "vni": e.vni,
            "dstPort": e.dst_port, "srcPortPolicy": e.src_port_policy, "srcPortRange": list(e.src_port_range),
            "innerSrcMac": e.inner_src_mac, "innerDstMac": e.inner_dst_mac, "innerMtu": e.inner_mtu,
            "outerMtu": e.outer_mtu, "overhead": e.overhead, "peerVni": e.peer_vni, "peerPort": e.peer_port,
            "mismatch": list(e.mismatch), "owner": e.owner}


def roles(v: NodeView) -> dict[str, Any]:
    """Who does what on the node: its plugin's roles, the IPAM that addressed it and who enforces policy."""
    r = v.roles
    return {"addressing": v.addressing, "forwarding": r.forwarding, "encapsulation": r.encapsulation.name,
            "services": {"by": r.services.by, "mode": r.services.mode}, "policy": v.enforcement.by}


def node_facts(v: NodeView) -> dict[str, Any]:
    f = v.facts
    return {
        "name": f.node, "os": f.os, "ip": str(v.ip), "plugin": v.plugin,
        "devices": [device(d) for d in f.devices],
        "routes": [route(r) for r in f.routes],
        "neighbors": [neighbor(n) for n in f.neighbors],
        "nat": [nat_rule(r) for r in f.nat],
        "fdb": [fdb(e) for e in f.fdb],
        "encapsulation": {"vteps": [vtep(v) for v in f.vteps], "hops": [encap(e) for e in f.encaps]},
        "hnsApi": f.hns_api if f.os == "windows" else None,
        "hns": hns.objects(f, api=2) if f.os == "windows" else [],
        "policy": {"enforced": f.policy.enforced, "by": f.policy.by, "mechanism": f.policy.mechanism,
                   "reason": f.policy.reason},
        "notes": list(f.notes),
        "roles": roles(v),
    }


def routes(views: list[NodeView], u: RouteTable) -> dict[str, Any]:
    return {"nodes": [node_facts(v) for v in views],
            "underlay": [{"name": u.name, "routes": [route(r) for r in u.routes]}]}


def lookup(res: Lookup) -> dict[str, Any]:
    return {"table": res.table, "dst": str(res.dst), "route": route(res.route) if res.route else None,
            "nextHop": _s(res.next_hop), "dev": res.dev}


def ipam(cluster: Cluster) -> dict[str, Any]:
    a = cluster.allocation
    plan = cluster.plan
    nodes = []
    for n in a.nodes.values():
        rng = n.range
        nodes.append({
            "name": n.name, "os": n.os, "podCIDRs": [str(n.pod_cidr)] if n.pod_cidr else [],
            "cidrSource": n.cidr_source,
            "gateway": _s(rng.gateway) if rng else None,
            "rangeStart": _s(rng.start) if rng else None, "rangeEnd": _s(rng.end) if rng else None,
            "reserved": [{"ip": str(ip), "reason": why} for ip, why in rng.reserved] if rng else [],
            "ipam": rng.ipam if rng else None,
            "capacity": n.capacity, "pods": n.pods, "note": rng.note if rng else "",
            "podAddFailure": a.add_failures.get(n.name),
        })
    pods = [{"namespace": p.pod.namespace, "name": p.pod.name, "node": p.pod.node, "ip": str(p.ip),
             "source": p.source, "workload": p.pod.workload, "running": p.pod.key not in a.not_running}
            for p in a.pods.values()]
    by_key = {p.key: p for p in plan.pods}
    stopped = [{"namespace": by_key[k].namespace, "name": by_key[k].name, "node": by_key[k].node,
                "ip": str(a.pods[k].ip) if k in a.pods else None, "workload": by_key[k].workload,
                "code": nr.code, "reason": nr.reason} for k, nr in a.not_running.items()]
    caps = [n.capacity for n in a.nodes.values()]
    capacity = {
        "clusterCIDR": _s(plan.cluster_cidr), "nodeCIDRMaskSize": plan.node_cidr_mask_size,
        "maxNodes": a.max_nodes, "nodes": len(a.nodes), "freeNodeCIDRs": a.free_node_cidrs,
        "podsPerNode": max(caps) if caps else 0, "podCapacity": sum(caps), "pods": len(pods),
    }
    return {"nodes": nodes, "pods": pods, "notRunning": stopped, "capacity": capacity,
            "warnings": [w.to_json() for w in cluster.warnings]}
