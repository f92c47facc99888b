"""The audit's fixes (``cnimodel.audit.Fix``) as the lines of the apply scripts that put each difference right:
``ip``/``bridge`` on Linux, PowerShell on Windows, the cloud's CLI for a route table; and the audit's report as
JSON (docs/audit.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnimodel.audit.model import AuditReport, Difference, Fix
from cnimodel.render.scripts import cloud_cli
from cnimodel.render.scripts import powershell as ps
from cnimodel.render.scripts.ip_batch import fdb_cmd, neigh_cmd, route_cmd

KUBE_PROXY = "Restart-Service kubeproxy  # kube-proxy programs the Services' load balancers on its next sync"


def _hns_network_del(name: str, api: int | None) -> str:
    return f"{ps.GET_NETWORKS[api or 2]} | Where-Object Name -eq {ps.quote(name)} | Remove-HnsNetwork"


def _pod_restart(pod: str) -> str:
    ns, _, name = pod.partition("/")
    return f"kubectl delete pod -n {ns} {name}  # the CNI makes the pod's endpoint again when it starts"


def _az_route_del(table: str, name: str) -> str:
    return f'az network route-table route delete --resource-group "$RESOURCE_GROUP" --route-table-name {table} ' \
           f"--name {name}"


# One writer per Fix.action, taking the Fix's args.
LINES: dict[str, Callable[..., str]] = {
    "ip-route": lambda r: "ip " + route_cmd(r),
    "ip-route-del": lambda r: "ip " + route_cmd(r, "del"),
    "ip-neigh": lambda n: "ip " + neigh_cmd(n),
    "ip-neigh-del": lambda n: "ip " + neigh_cmd(n, "del"),
    "bridge-fdb": lambda e: "bridge " + fdb_cmd(e),
    "bridge-fdb-del": lambda e: "bridge " + fdb_cmd(e, "del"),
    "iptables-rule": lambda table, chain, rule: f"iptables -t {table} -A {chain} {rule}",
    "iptables-rule-del": lambda table, chain, rule: f"iptables -t {table} -D {chain} {rule}",
    "iptables-chain-flush": lambda table, chain: f"iptables -t {table} -F {chain}  # then restart kube-proxy to "
                                                 "rewrite it",
    "az-route": cloud_cli.az_line,
    "az-route-del": _az_route_del,
    "aws-route": cloud_cli.aws_line,
    "aws-route-del": lambda prefix: f'aws ec2 delete-route --route-table-id "$ROUTE_TABLE_ID" '
                                    f"--destination-cidr-block {prefix}",
    "gce-route": cloud_cli.gcloud_line,
    "gce-route-del": lambda name: f"gcloud compute routes delete {name} --quiet",
    "netroute": ps.new_route_line,
    "netroute-del": ps.remove_route_line,
    "hns-network": ps.new_network_line,
    "hns-network-del": _hns_network_del,
    "hns-network-policy": ps.network_policy_line,
    "hns-network-policy-del": lambda name, p: ps.network_policy_line(name, p, "Remove"),
    "hns-host-endpoint": ps.new_host_endpoint_line,
    "hns-endpoint-del": lambda i: f"Get-HnsEndpoint | Where-Object ID -eq {ps.quote(i)} | Remove-HnsEndpoint",
    "endpoint-policy": ps.endpoint_policy_line,
    "endpoint-policy-del": lambda i, p: ps.endpoint_policy_line(i, p, "Remove"),
    "pod-restart": _pod_restart,
    "kube-proxy-restart": lambda note="": KUBE_PROXY + note,
}
# Fixes whose steps must each succeed before the next (a GCE route cannot be changed: deleted, then created).
AND_THEN = {"gce-route-del"}


def fix_line(fix: tuple[Fix, ...]) -> str:
    """The line that puts a difference right: its steps in order."""
    out = ""
    for i, f in enumerate(fix):
        line = LINES[f.action](*f.args)
        out = line if i == 0 else out + (" && " if fix[i - 1].action in AND_THEN else "; ") + line
    return out


def difference(d: Difference) -> dict[str, str]:
    return {"status": d.status, "kind": d.kind, "key": d.key, "model": d.model, "live": d.live,
            "fix": fix_line(d.fix)}


def live_report_json(r: AuditReport) -> dict[str, Any]:
    """``cnimodel audit … -o json`` of a live host or namespace."""
    return {"node": r.node, "netns": r.netns, "checked": r.checked,
            "differences": [{"status": d.status, "kind": d.kind, "key": d.key, "model": d.model, "live": d.live}
                            for d in r.differences]}


def report_json(r: AuditReport) -> dict[str, Any]:
    """``cnimodel audit --from … -o json``."""
    return {"node": r.node, "from": [s.to_json() for s in r.sources], "checked": r.checked,
            "differences": [difference(d) for d in r.differences], "notes": r.notes}
