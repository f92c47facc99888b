"""The data the HTML report embeds: the cluster's drawing (underlay, nodes, devices, pods), per-node detail
for up to a limit of nodes, traces with the graph vertices they pass, and the answers of the other engines
(findings, reachability, load-balancer rules) when they are installed.

Every key is documented in docs/render.md. Vertex ids follow ``cnimodel.graph`` (``host:lin1``,
``pod:web/iis-0``, ``router:underlay``) so the page, ``cnimodel graph`` and the DOT output agree; a trace's path is
drawn at the places of the forwarding graph's vertices its hops crossed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cnimodel.cluster import Cluster
from cnimodel.dataplane import NodeFacts
from cnimodel.render import facts_json, hns
from cnimodel.render.html.extras import lb_rules, reachability
from cnimodel.render.html.pool import Pool

SCHEMA = 1
DETAIL_LIMIT = 500      # nodes whose facts are computed and embedded (routes, neighbours, HNS, LB rules)
POD_LABEL_LIMIT = 5000  # pods whose labels are embedded
INTERNET = "internet"


@dataclass
class Options:
    """What goes into a report. ``nodes`` are always given full detail, over the limit too."""

    detail_limit: int = DETAIL_LIMIT
    nodes: Sequence[str] = ()
    findings: bool = True
    reach: bool = True
    lb: bool = True
    source: str = ""


@dataclass
class TraceRun:
    """One ``--trace SRC DST --port N`` and the traces it gave (forward and reply)."""

    src: str
    dst: str
    port: int | None
    traces: list[Any] = field(default_factory=list)  # cnimodel.trace.Trace


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


def detail_nodes(cluster: Cluster, options: Options, runs: Sequence[TraceRun]) -> list[str]:
    """Nodes given full detail: every node up to the limit; past it, the named ones, those traces pass,
    then the first nodes in plan order up to the limit."""
    names = [n.name for n in cluster.plan.nodes]
    if len(names) <= options.detail_limit:
        return names
    known = set(names)
    chosen: dict[str, None] = {n: None for n in options.nodes if n in known}
    for run in runs:
        for t in run.traces:
            for h in t.hops:
                if h.kind == "node" and h.node in known:
                    chosen[h.node] = None
    for n in names:
        if len(chosen) >= options.detail_limit:
            break
        chosen.setdefault(n, None)
    return list(chosen)


def _unenforced(cluster: Cluster) -> dict[str, Any] | None:
    """The policies some nodes do not enforce (docs/policy.md), with the sentence the page shows."""
    from cnimodel.policy.enforcement import unenforced

    gaps = unenforced(cluster)
    return None if gaps is None else {**gaps.to_json(), "text": gaps.sentence()}


def collect(cluster: Cluster, runs: Sequence[TraceRun] = (), options: Options | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data."""
    options = options or Options()
    plan = cluster.plan
    pools = {k: Pool() for k in ("routes", "neighbors", "fdb", "nat", "hns", "hnsPolicies", "encaps")}
    strings = Pool()
    namespaces = sorted({pa.pod.namespace for pa in cluster.allocation.pods.values()})
    ns_index = {ns: i for i, ns in enumerate(namespaces)}
    reach_classes: dict[str, int] = {}
    reach = _reach(cluster, options)
    if reach is not None:
        reach_classes = reach.pop("_classes")
    pods_by_node: dict[str, list[list[Any]]] = defaultdict(list)
    labels: dict[str, dict[str, str]] = {}
    unscheduled: list[list[Any]] = []
    for pa in cluster.allocation.pods.values():
        p = pa.pod
        row = [p.name, ns_index[p.namespace], str(pa.ip), 1 if p.host_network else 0, reach_classes.get(p.key, -1)]
        (pods_by_node[p.node] if p.node else unscheduled).append(row)
        if len(cluster.allocation.pods) <= POD_LABEL_LIMIT and p.labels:
            labels[p.key] = dict(p.labels)
    detailed = detail_nodes(cluster, options, runs)
    detail_of = {n: i for i, n in enumerate(detailed)}
    subnet_index = {s.name: i for i, s in enumerate(plan.underlay.subnets)}
    nodes = []
    for node in plan.nodes:
        alloc = cluster.allocation.nodes.get(node.name)
        nodes.append({
            "id": f"host:{node.name}", "name": node.name, "os": node.os, "ip": str(node.ip),
            "subnet": subnet_index.get(node.subnet, -1),
            "podCIDR": str(alloc.pod_cidr) if alloc and alloc.pod_cidr else None,
            "plugin": strings.add(cluster.plugin.describe(node)),
            "labels": dict(node.labels), "pods": sorted(pods_by_node.get(node.name, [])),
            "detail": detail_of.get(node.name, -1),
        })
    details = [_detail(cluster, cluster.facts(n), pools, options) for n in detailed]
    u = cluster.underlay()
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
        "unenforced": _unenforced(cluster),
        "traces": [_trace_run(cluster, r) for r in runs],
        "findings": _findings(cluster, options),
        "reach": reach,
    }
    data["pools"] = {k: p.rows for k, p in pools.items()}
    return data


def _detail(cluster: Cluster, f: NodeFacts, pools: dict[str, Pool], options: Options) -> dict[str, Any]:
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
        "lb": lb_rules(cluster, f.node, pools) if options.lb else None,
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


def _trace_run(cluster: Cluster, run: TraceRun) -> dict[str, Any]:
    out = []
    for t in run.traces:
        body = t.to_json()
        body["path"] = [vertex_of(h) for h in t.hops]
        out.append(body)
    return {"src": run.src, "dst": run.dst, "port": run.port, "traces": out}


def _findings(cluster: Cluster, options: Options) -> dict[str, Any] | None:
    """The validator's findings (docs/checks.md), or None when the validator is not installed."""
    if not options.findings:
        return None
    try:
        from cnimodel.validate import validate
    except ImportError:
        return None
    report = validate(cluster.plan, cluster).to_json()
    for f in report["findings"]:
        f["targets"] = [v for v in (object_vertex(o) for o in f["objects"]) if v]
    return report


def _reach(cluster: Cluster, options: Options) -> dict[str, Any] | None:
    return reachability(cluster) if options.reach else None
