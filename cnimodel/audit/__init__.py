"""``cnimodel audit PLAN --node N --from FILE…``: state people paste (Linux `ip -j`/`bridge -j`/`iptables-save`,
Windows `Get-NetRoute`/`Get-HnsNetwork`/`Get-HnsEndpoint`/`Get-HnsPolicyList`/`hnsdiag list all`, the clouds'
route listings) compared with the model's node or cloud route table, with the fix for each difference as a line
of the apply script (`cnimodel routes --node N -o FORMAT`). docs/routes.md.

>>> report = audit_files(cluster, "lin1", [("routes.json", None)])   # doctest: +SKIP
>>> [(d.status, d.key, d.fix) for d in report.differences]           # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from cnimodel.audit import cloud as cloud_audit
from cnimodel.audit import detect, linux, win_compare, win_read
from cnimodel.audit.model import AuditReport, Difference, Fix, InputError, Source
from cnimodel.cluster import Cluster

__all__ = ["AuditReport", "Difference", "Fix", "InputError", "Source", "audit_files"]
CLOUD_OF = {"az-routes": "azure", "aws-route-tables": "aws", "gcloud-routes": "gce"}
T = TypeVar("T")
# What a reader meets in a hand-edited or mangled capture that it does not name itself (a number where a list
# belongs, a list where a mapping does): the file's fault, said as such.
SHAPE_ERRORS = (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError, RecursionError)


def _read(path: str, kind: str, reader: Callable[..., T], *args: Any) -> T:
    try:
        return reader(path, *args)
    except InputError:
        raise
    except SHAPE_ERRORS as e:
        raise InputError(path, f"is not `{detect.KINDS[kind]}` output as audit knows it: {type(e).__name__} "
                         f"({str(e)[:120]})", f"capture `{detect.KINDS[kind]}` again, unedited") from None


def _target_check(path: str, kind: str, cluster: Cluster, node: str) -> None:
    table = cluster.plan.underlay.name
    what = detect.KINDS[kind]
    if kind in detect.CLOUD_KINDS:
        if node != table:
            raise InputError(path, f"is `{what}` output: a cloud route table, and {node} is a node",
                             f"audit it against the underlay's table: --node {table} (or --node underlay)")
        return
    if node == table:
        raise InputError(path, f"is `{what}` output: a node's state, and {table} is the underlay's route table",
                         "give --node the node it was captured on")
    os_ = cluster.node(node).os
    if (kind in detect.LINUX_KINDS) != (os_ == "linux"):
        raise InputError(path, f"is `{what}` output ({'Linux' if kind in detect.LINUX_KINDS else 'Windows'}), and "
                         f"node {node} is {os_.capitalize()}", "give --node the node it was captured on")


def audit_files(cluster: Cluster, node: str, specs: list[tuple[str, str | None]]) -> AuditReport:
    """Read each ``(file, kind or None)`` and compare it with node ``node`` (or the underlay's table)."""
    loaded: dict[str, list[tuple[str, Any]]] = {}
    report = AuditReport(node)
    for path, kind in specs:
        found, content = detect.load(path, kind)
        _target_check(path, found, cluster, node)
        loaded.setdefault(found, []).append((path, content))
    if node == cluster.plan.underlay.name:
        _cloud(cluster, loaded, report)
    elif cluster.node(node).os == "linux":
        _linux(cluster, node, loaded, report)
    else:
        _windows(cluster, node, loaded, report)
    return report


def _source(report: AuditReport, path: str, kind: str, entries: int) -> None:
    report.sources.append(Source(path, kind, entries))


def _linux(cluster: Cluster, node: str, loaded: dict[str, list[tuple[str, Any]]], report: AuditReport) -> None:
    facts = cluster.facts(node)
    ip = cluster.node(node).ip
    routes = neighbors = fdb = None
    for path, data in loaded.get("ip-route", []):
        got, other = _read(path, "ip-route", linux.read_routes, data)
        if got and not linux.belongs(got, ip):
            raise InputError(path, f"no route has node {node}'s address {ip} as source and no connected subnet holds "
                             "it: these are another host's routes", f"capture `ip -j route show table all` on {node}")
        routes = (routes or []) + got
        _source(report, path, "ip-route", len(got))
        if other:
            report.notes.append(f"{path}: {other} entries of other tables, types or IPv6 passed by (the main IPv4 "
                                "table is compared)")
    for path, data in loaded.get("ip-neigh", []):
        got_n = _read(path, "ip-neigh", linux.read_neighbors, data)
        neighbors = (neighbors or []) + got_n
        _source(report, path, "ip-neigh", len(got_n))
    for path, data in loaded.get("bridge-fdb", []):
        got_f = _read(path, "bridge-fdb", linux.read_fdb, data)
        fdb = (fdb or []) + got_f
        _source(report, path, "bridge-fdb", len(got_f))
    diffs, checked = linux.compare_linux(facts, routes, neighbors, fdb)
    report.differences += diffs
    report.checked.update(checked)
    for path, text in loaded.get("iptables-save", []):
        live = _read(path, "iptables-save", linux.read_iptables, text)
        got_i, count = linux.compare_iptables(path, _iptables_model(cluster, node), live)
        report.differences += got_i
        report.checked["iptablesRules"] = count
        _source(report, path, "iptables-save", sum(len(v) for v in live.values()))
        report.notes.append("kube-proxy rewrites its chains on every sync: a difference that stays after a sync is "
                            "the one to chase")


def _iptables_model(cluster: Cluster, node: str) -> linux.Chains:
    from cnimodel.services import iptables_view
    from cnimodel.services.iptables import Rule

    view = iptables_view(cluster, node, None)
    return {(table, chain): [" ".join(Rule.save(r).split()) for r in rules]
            for table, chains in view.tables.items() for chain, rules in chains.items()}


def _model_lbs(cluster: Cluster, node: str) -> list[Any]:
    if not any(o.kind == "Service" for o in cluster.plan.objects):
        return []
    from cnimodel.services import winkernel_view

    view = winkernel_view(cluster, node, None)
    return [lb for sp in view.service_ports for lb in sp.load_balancers if not lb.rejected]


def _windows(cluster: Cluster, node: str, loaded: dict[str, list[tuple[str, Any]]], report: AuditReport) -> None:
    facts = cluster.facts(node)
    ids: dict[str, str] = {}
    for path, data in loaded.get("netroute", []):
        got, other = _read(path, "netroute", win_read.read_netroutes, data)
        report.differences += win_compare.diff_netroutes(facts, got)
        report.checked["netroutes"] = len(facts.routes)
        _source(report, path, "netroute", len(got))
        if other:
            report.notes.append(f"{path}: {other} IPv6 or persistent-store routes passed by")
    for path, data in loaded.get("hns-network", []):
        nets = _read(path, "hns-network", win_read.read_networks, data)
        ids.update({n.id.lower(): n.name for n in nets})
        report.differences += win_compare.diff_networks(path, facts, nets)
        report.checked["hnsNetworks"] = len(facts.hns_networks)
        _source(report, path, "hns-network", len(nets))
    endpoint_ips: dict[str, str] = {}
    for path, data in loaded.get("hns-endpoint", []):
        eps = _read(path, "hns-endpoint", win_read.read_endpoints, data)
        endpoint_ips.update({e.id.lower(): e.ip for e in eps})
        report.differences += win_compare.diff_endpoints(path, facts, eps)
        report.checked["hnsEndpoints"] = len(facts.hns_endpoints)
        report.checked["endpointPolicies"] = sum(len(e.policies) for e in facts.hns_endpoints)
        _source(report, path, "hns-endpoint", len(eps))
    for path, data in loaded.get("hns-policylist", []):
        lbs = _read(path, "hns-policylist", win_read.read_load_balancers, data)
        model = _model_lbs(cluster, node)
        report.differences += win_compare.diff_load_balancers(path, model, lbs, cluster.plan.service_cidr,
                                                              endpoint_ips)
        report.checked["hnsLoadBalancers"] = len(model)
        _source(report, path, "hns-policylist", len(lbs))
        if not endpoint_ips:
            report.notes.append(f"{path}: backends compared by number (give the Get-HnsEndpoint output too to "
                                "compare them by address)")
    for path, text in loaded.get("hnsdiag", []):
        diag = _read(path, "hnsdiag", win_read.read_hnsdiag, text)
        report.differences += win_compare.diff_hnsdiag(facts, diag, _model_lbs(cluster, node))
        report.checked["hnsdiagNetworks"] = len(facts.hns_networks)
        _source(report, path, "hnsdiag", len(diag.networks) + len(diag.endpoints) + len(diag.load_balancers))


def _cloud(cluster: Cluster, loaded: dict[str, list[tuple[str, Any]]], report: AuditReport) -> None:
    from cnimodel.apply import cloud_table

    nodes = {n.name: str(n.ip) for n in cluster.plan.nodes}
    for kind, cloud in CLOUD_OF.items():
        for path, data in loaded.get(kind, []):
            table = cloud_table(cluster.underlay(), cloud, cluster.plan.name, limit=1 << 30)
            if kind == "az-routes":
                live, other = _read(path, kind, cloud_audit.read_az, data)
            elif kind == "gcloud-routes":
                live, other = _read(path, kind, cloud_audit.read_gcloud, data)
            else:
                live, other, rtb = _read(path, kind, cloud_audit.read_aws, data, table.table)
                report.notes.append(f"{path}: route table {rtb}; next hops are ENIs or instances the plan does not "
                                    "know: destinations and states are compared")
            report.differences += cloud_audit.compare(path, table, live, cloud, cluster.plan.cluster_cidr, nodes)
            report.checked["cloudRoutes"] = len(table.routes)
            _source(report, path, kind, len(live))
            if other:
                report.notes.append(f"{path}: {other} of the cloud's own routes passed by")
