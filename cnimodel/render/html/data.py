"""The data the HTML report embeds: the cluster's drawing (underlay, nodes, devices, pods), per-node detail
for up to a limit of nodes, traces with the graph vertices they pass, and the answers of the other engines
(findings, reachability, load-balancer rules), all from ``cnimodel.overview.Overview``: it computes nothing.

Every key is documented in docs/render.md. Vertex ids follow ``cnimodel.graph`` (``host:lin1``,
``pod:web/iis-0``, ``router:underlay``) so the page, ``cnimodel graph`` and the DOT output agree; a trace's path is
drawn at the places of the forwarding graph's vertices its hops crossed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cnimodel.dataplane import NodeFacts
from cnimodel.overview import NodeServices, Overview, TraceRun
from cnimodel.render import facts_json, hns
from cnimodel.render.html.extras import lb_rules, reachability
from cnimodel.render.html.pool import Pool

SCHEMA = 1
POD_LABEL_LIMIT = 5000  # pods whose labels are embedded
INTERNET = "internet"


def vertex_of(hop: Any) -> str:
    """Where the page draws a trace hop: the place holding the forwarding graph's vertices the hop crossed (its
    ``vertices``, embedded with it) — a node's host, a pod, the underlay, the internet."""
    if hop.kind == "pod":
        return f"pod:{hop.node}"
    if hop.kind == "underlay":
        return f"router:{hop.node}"
    return INTERNET if hop.kind == "external" else f"host:{hop.node}"


def object_vertex(obj: str) -> str | None:
    """A finding's object (``lin1[Node]``, ``web/iis-0[Pod]``) as a vertex id, when it is drawn."""
    for suffix, prefix in (("[Node]", "host:"), ("[Pod]", "pod:")):
        if obj.endswith(suffix):
            return prefix + obj[: -len(suffix)]
    return None


def collect(ov: Overview) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data."""
    cluster, options = ov.cluster, ov.options
    plan = cluster.plan
    pools = {k: Pool() for k in ("routes", "neighbors", "fdb", "nat", "hns", "hnsPolicies", "encaps")}
    strings = Pool()
    namespaces = sorted({pa.pod.namespace for pa in cluster.allocation.pods.values()})
    ns_index = {ns: i for i, ns in enumerate(namespaces)}
    reach_classes = ov.reach.classes if ov.reach is not None else {}
    pods_by_node: dict[str, list[list[Any]]] = defaultdict(list)
    labels: dict[str, dict[str, str]] = {}
    unscheduled: list[list[Any]] = []
    for pa in cluster.allocation.pods.values():
        p = pa.pod
        row = [p.name, ns_index[p.namespace], str(pa.ip), 1 if p.host_network else 0, reach_classes.get(p.key, -1)]
        (pods_by_node[p.node] if p.node else unscheduled).append(row)
        if len(cluster.allocation.pods) <= POD_LABEL_LIMIT and p.labels:
            labels[p.key] = dict(p.labels)
    detailed = ov.detailed
    detail_of = {n: i for i, n in enumerate(detailed)}
    subnet_index = {s.name: i for i, s in enumerate(plan.underlay.subnets)}
    nodes = []
    for node in plan.nodes:
        alloc = cluster.allocation.nodes.get(node.name)
        nodes.append({
            "id": f"host:{node.name}", "name": node.name, "os": node.os, "ip": str(node.ip),
            "subnet": subnet_index.get(node.subnet, -1),
            "podCIDR": str(alloc.pod_cidr) if alloc and alloc.pod_cidr else None,
            "plugin": strings.add(ov.plugins[node.name]),
            "labels": dict(node.labels), "pods": sorted(pods_by_node.get(node.name, [])),
            "detail": detail_of.get(node.name, -1),
        })
    details = [_detail(ov.facts[n], ov.services.get(n), pools) for n in detailed]
    u = ov.underlay
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "plan": {"name": plan.name, "source": options.source, "plugin": cluster.plugin.name,
                 "nodes": len(plan.nodes), "pods": len(cluster.allocation.pods),
                 "detailLimit": options.detail_limit, "detailed": len(detailed)},
        "underlay": {"id": f"router:{plan.underlay.name}", "name": plan.underlay.name,
                     "routes": pools["routes"].fact_runs(u.routes, facts_json.route)},
        "subnets": [{"id": f"subnet:{s.name}", "name": s.name, "cidr": str(s.cidr), "gateway": str(s.gateway),
                     "mtu": s.mtu} for s in plan.underlay.subnets],
        "namespaces": namespaces, "strings": strings.rows, "nodes": nodes, "details": details,
        "unscheduled": sorted(unscheduled), "podLabels": labels,
        "warnings": [w.render() for w in cluster.warnings],
        "unenforced": _unenforced(ov),
        "traces": [_trace_run(r) for r in ov.runs],
        "findings": _findings(ov),
        "reach": reachability(ov.reach) if ov.reach is not None else None,
    }
    data["pools"] = {k: p.rows for k, p in pools.items()}
    return data


def _unenforced(ov: Overview) -> dict[str, Any] | None:
    """The policies some nodes do not enforce (docs/policy.md), with the sentence the page shows."""
    gaps = ov.unenforced
    return None if gaps is None else {**gaps.to_json(), "text": gaps.sentence()}


def _detail(f: NodeFacts, services: NodeServices | None, pools: dict[str, Pool]) -> dict[str, Any]:
    return {
        "devices": [facts_json.device(d) for d in f.devices],
        "routes": pools["routes"].fact_runs(f.routes, facts_json.route),
        "neighbors": pools["neighbors"].fact_runs(f.neighbors, facts_json.neighbor),
        "fdb": pools["fdb"].fact_runs(f.fdb, facts_json.fdb),
        "nat": pools["nat"].fact_runs(f.nat, facts_json.nat_rule),
        "hnsApi": f.hns_api if f.os == "windows" else None,
        "hns": pools["hns"].runs(_hns_rows(f, pools["hnsPolicies"])) if f.os == "windows" else [],
        "vswitches": [{"name": n.name, "type": n.type, "prefix": str(n.prefix)} for n in f.hns_networks],
        "vteps": [facts_json.vtep(v) for v in f.vteps],
        "encaps": pools["encaps"].fact_runs(f.encaps, facts_json.encap),
        "policy": {"enforced": f.policy.enforced, "by": f.policy.by, "mechanism": f.policy.mechanism,
                   "reason": f.policy.reason},
        "notes": list(f.notes),
        "lb": lb_rules(services, pools),
    }


def _hns_rows(f: NodeFacts, policies: Pool) -> list[dict[str, Any]]:
    """HNS objects with their ``Policies`` list pooled apart (pod endpoints of a node share one list): the
    object holds ``PoliciesRef``, the row number of its list in the ``hnsPolicies`` pool."""
    out = []
    for obj in hns.objects(f, api=2):
        if "Policies" in obj:
            obj = {k: v for k, v in obj.items() if k != "Policies"} | {"PoliciesRef": policies.add(obj["Policies"])}
        out.append(obj)
    return out


def _trace_run(run: TraceRun) -> dict[str, Any]:
    out = []
    for t in run.traces:
        body = t.to_json()
        body["path"] = [vertex_of(h) for h in t.hops]
        out.append(body)
    return {"src": run.src, "dst": run.dst, "port": run.port, "traces": out}


def _findings(ov: Overview) -> dict[str, Any] | None:
    """The checks' findings (docs/checks.md), each with the vertices of the objects it names."""
    if ov.findings is None:
        return None
    report = ov.findings.to_json()
    for f in report["findings"]:  # type: ignore[attr-defined]
        f["targets"] = [v for v in (object_vertex(o) for o in f["objects"]) if v]
    return report
