"""``cnimodel check``: run the plan validator; exit 1 when a finding is an error, 2 on unreadable input."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from ipaddress import IPv4Network
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cnimodel.commands import progress
from cnimodel.commands.base import OUT, UsageProblem, handle_errors, hold, plan_inputs
from cnimodel.plan import Origin, Plan, PlanError
from cnimodel.render import json_text

if TYPE_CHECKING:
    from cnimodel.validate import Report
from cnimodel.validate.context import CLOUDS
from cnimodel.validate.registry import SEVERITIES


def _networks(values: tuple[str, ...]) -> tuple[IPv4Network, ...]:
    out = []
    for v in values:
        try:
            out.append(IPv4Network(v))
        except ValueError as e:
            raise UsageProblem(f"--external {v!r} is not an IPv4 CIDR ({e}); write it like 10.50.0.0/16") from None
    return tuple(out)




def object_names(plan: Plan, spec: str) -> set[str]:
    """The object names (as findings list them, ``ns/name[Kind]``) that ``--object spec`` stands for: a pod
    and its workload, a workload and its pods, a node, or any other object of the plan by kind and name."""
    from cnimodel.plan.errors import EndpointError
    from cnimodel.plan.names import WORKLOAD_KINDS, parse_endpoint, resolve_pods

    try:
        e = parse_endpoint(spec)
    except EndpointError as err:
        raise UsageProblem(f"--object {spec!r}: {err}") from None
    if e.kind not in ("object", "node"):
        raise UsageProblem(f"--object {spec!r}: write NAMESPACE/NAME, NAMESPACE/NAME[Kind] or NODE[Node]")
    kinds = {k.lower(): k for k in WORKLOAD_KINDS}
    kind = kinds.get(e.object_kind.lower(), e.object_kind) if e.object_kind else None  # [deployment] reads as in reach
    if e.kind == "node":
        if e.name not in {n.name for n in plan.nodes}:
            shown = ", ".join(n.name for n in plan.nodes[:8]) + (" …" if len(plan.nodes) > 8 else "")
            raise UsageProblem(f"--object {spec!r}: no node named {e.name!r} in the plan (nodes: {shown or 'none'}); "
                               "name a pod or workload as NAMESPACE/NAME")
        return {f"{e.name}[Node]"}
    if e.namespace and (kind is None or kind == "Pod" or kind in WORKLOAD_KINDS):
        # A workload whose pods all stay Pending still has findings (unschedulable …): name it from the plan.
        idle = {str(w.ref) for w in plan.workloads if (w.namespace, w.name) == (e.namespace, e.name)
                and (kind is None or w.kind == kind)}
        try:
            pods = resolve_pods(plan, e)
        except EndpointError as err:
            if idle and kind != "Pod":
                return idle
            raise UsageProblem(f"--object {spec!r}: {err}") from None
        out = {f"{p.key}[Pod]" for p in pods}
        if len(pods) == 1 and pods[0].key == e.key:  # a pod: its workload's findings concern it too
            return out | ({pods[0].workload} if pods[0].owner is not None else set())
        return out | {str(p.owner) for p in pods if p.owner is not None} | idle
    full = e.key
    if (kind == "ClusterPlan" and full == plan.name) or any(o.kind == kind and o.key == full for o in plan.objects):
        return {f"{full}[{kind}]"}
    same = sorted(f"{o.key}[{o.kind}]" for o in plan.objects if o.kind == kind)
    raise UsageProblem(f"--object {spec!r}: no {kind} {full} in the plan"
                       + (f"; {kind} objects: {', '.join(same[:6])}" if same else ""))


@click.command("check")
@plan_inputs
@click.option("-o", "--output", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--min-severity", type=click.Choice(list(reversed(SEVERITIES))), default="info", show_default=True,
              help="Leave out findings below this severity (and the checks that cannot reach it).")
@click.option("--surge", type=click.IntRange(0), default=1, show_default=True,
              help="Nodes an upgrade adds on top of the plan's (address-space checks).")
@click.option("--max-nodes", type=click.IntRange(1), help="The node count the cluster must grow to.")
@click.option("--cloud", type=click.Choice(CLOUDS), help="Where the cluster runs (default: from the plugin and "
              "the nodes' labels); decides reserved ranges and route-table limits.")
@click.option("--external", multiple=True, metavar="CIDR",
              help="A peered, on-premises or other connected range the cluster must not overlap (repeatable).")
@click.option("--route-table-limit", type=click.IntRange(1), help="Routes the cloud route table holds.")
@click.option("--object", "objects", multiple=True, metavar="NS/NAME[Kind]",
              help="Only findings about this object (repeatable): a pod or workload NS/NAME or NS/NAME[Kind] (a "
              "workload also matches its pods' findings, a pod its workload's), a node NAME[Node], or another "
              "object as findings name it (NS/NAME[NetworkPolicy], NS/NAME[Service], NAME[GlobalNetworkPolicy]).")
@handle_errors
def check_cmd(plan: tuple[str, ...], output: str, min_severity: str, surge: int, max_nodes: int | None,
              cloud: str | None, external: tuple[str, ...], route_table_limit: int | None,
              objects: tuple[str, ...]) -> None:
    """Validate PLAN: address plan, overlay, routing, Windows, policy and scale checks (docs/checks.md).

    Exit status 1 when any finding is an error, 0 otherwise, 2 when the plan cannot be read or built.
    With --object, only the findings naming those objects count, for the listing and the exit status.
    """
    from cnimodel.cluster import Cluster
    from cnimodel.infer import load_complete
    from cnimodel.validate import CheckOptions, validate

    options = CheckOptions(surge=surge, max_nodes=max_nodes, cloud=cloud, external=_networks(external),
                           route_table_limit=route_table_limit)
    bar = progress.for_command(enabled=output == "text")
    try:
        bar.stage("reading the plan")
        loaded = load_complete(list(plan))  # a cluster's dump becomes a whole plan (cnimodel.infer)
        wanted = set().union(*(object_names(loaded, o) for o in objects)) if objects else None
        bar.stage("building the cluster")
        cluster = Cluster.build(loaded) if loaded.has_cluster else None
        hold(cluster)
    except PlanError as e:
        bar.close()  # before the errors: the display leaves nothing behind
        if output == "text":
            raise
        _stopped(plan, e, output)  # a CI job uploading the document gets one, with the errors as findings
        raise SystemExit(2) from None
    bar.stage("running the checks")
    report = validate(loaded, cluster, options, min_severity=min_severity)  # type: ignore[arg-type]
    if wanted is not None:
        report.findings = [f for f in report.findings if wanted.intersection(f.objects)]
    if output == "json":
        click.echo(json_text.dumps(report.to_json()))
    elif output == "sarif":
        contributed = {c.code: c for c in cluster.plugin.checks()} if cluster is not None else {}
        _sarif(report, loaded.origin if loaded.has_cluster else None, contributed)
    else:
        from cnimodel.render import findings_text

        bar.close()  # before the findings: the display leaves nothing behind
        findings_text.render(OUT, report)
    if report.failed:
        raise SystemExit(1)


def _sarif(report: Report, origin: Origin | None, contributed: dict[str, Any] | None = None) -> None:
    """The SARIF log; its rules are the registered checks that ran and those the network plugin contributes."""
    from cnimodel.render import findings_sarif
    from cnimodel.validate import CHECKS
    from cnimodel.validate.locate import marks

    try:
        ver = version("cnimodel")
    except PackageNotFoundError:
        ver = "0"
    rules = {**(contributed or {}), **CHECKS}
    log = findings_sarif.render(report, [rules[c] for c in report.ran], marks(report.findings), ver, Path.cwd(),
                                origin)
    click.echo(json_text.dumps(log))


def _stopped(plan: tuple[str, ...], error: PlanError, output: str) -> None:
    """The errors that stopped the build on stderr as usual, and as findings in the JSON or SARIF document."""
    from cnimodel.commands.base import ERR
    from cnimodel.validate import stopped

    for p in error.problems + error.warnings:
        ERR.print(p.render(), markup=False)
    ERR.print(f"{len(error.problems)} error(s) in the plan; nothing was computed.", markup=False)
    report = stopped(" ".join(plan), error.problems, error.warnings)
    if output == "json":
        click.echo(json_text.dumps(report.to_json()))
    else:
        _sarif(report, None)


COMMANDS = [check_cmd]
