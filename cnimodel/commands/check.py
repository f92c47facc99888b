"""``cnimodel check``: run the plan validator; exit 1 when a finding is an error, 2 on unreadable input."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from ipaddress import IPv4Network
from pathlib import Path

import click

from cnimodel.commands import progress
from cnimodel.commands.base import OUT, UsageProblem, handle_errors, plan_inputs
from cnimodel.plan import Plan
from cnimodel.render import json_text
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


_OBJECT = re.compile(r"(?:([\w.-]+)/)?([\w.:-]+)(?:\[([A-Za-z]+)\])?")


def object_names(plan: Plan, spec: str) -> set[str]:
    """The object names (as findings list them, ``ns/name[Kind]``) that ``--object spec`` stands for: a pod
    and its workload, a workload and its pods, a node, or any other object of the plan by kind and name."""
    from cnimodel.plan.names import NameError_, resolve_pods
    from cnimodel.plan.workloads import WORKLOAD_KINDS

    m = _OBJECT.fullmatch(spec.strip())
    if m is None:
        raise UsageProblem(f"--object {spec!r}: write NAMESPACE/NAME, NAMESPACE/NAME[Kind] or NODE[Node]")
    ns, name, kind = m.groups()
    kinds = {k.lower(): k for k in (*WORKLOAD_KINDS, "Pod", "Node")}
    kind = kinds.get(kind.lower(), kind) if kind else None  # [deployment] reads as [Deployment], as in reach
    if kind == "Node" or (kind is None and ns is None):
        if name not in {n.name for n in plan.nodes}:
            shown = ", ".join(n.name for n in plan.nodes[:8]) + (" …" if len(plan.nodes) > 8 else "")
            raise UsageProblem(f"--object {spec!r}: no node named {name!r} in the plan (nodes: {shown or 'none'}); "
                               "name a pod or workload as NAMESPACE/NAME")
        return {f"{name}[Node]"}
    if kind is None or kind == "Pod" or kind in WORKLOAD_KINDS:
        key = f"{ns or 'default'}/{name}"
        # A workload whose pods all stay Pending still has findings (unschedulable …): name it from the plan.
        idle = {str(w.ref) for w in plan.workloads if (w.namespace, w.name) == (ns or "default", name)
                and (kind is None or w.kind == kind)}
        try:
            pods = resolve_pods(plan, spec)
        except NameError_ as e:
            if idle and kind != "Pod":
                return idle
            raise UsageProblem(f"--object {spec!r}: {e}") from None
        out = {f"{p.key}[Pod]" for p in pods}
        if len(pods) == 1 and pods[0].key == key:  # a pod: its workload's findings concern it too
            return out | ({pods[0].workload} if pods[0].owner is not None else set())
        return out | {str(p.owner) for p in pods if p.owner is not None} | idle
    full = f"{ns}/{name}" if ns else name
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
    from cnimodel.infer import complete
    from cnimodel.plan import load_plan
    from cnimodel.validate import CHECKS, CheckOptions, validate

    options = CheckOptions(surge=surge, max_nodes=max_nodes, cloud=cloud, external=_networks(external),
                           route_table_limit=route_table_limit)
    bar = progress.for_command(enabled=output == "text")
    bar.stage("reading the plan")
    loaded = complete(load_plan(list(plan)))  # a cluster's dump becomes a whole plan (cnimodel.infer)
    wanted = set().union(*(object_names(loaded, o) for o in objects)) if objects else None
    bar.stage("building the cluster")
    cluster = Cluster.build(loaded) if loaded.has_cluster else None
    bar.stage("running the checks")
    report = validate(loaded, cluster, options, min_severity=min_severity)  # type: ignore[arg-type]
    if wanted is not None:
        report.findings = [f for f in report.findings if wanted.intersection(f.objects)]
    if output == "json":
        click.echo(json_text.dumps(report.to_json()))
    elif output == "sarif":
        from cnimodel.render import findings_sarif
        from cnimodel.validate.locate import marks

        try:
            ver = version("cnimodel")
        except PackageNotFoundError:
            ver = "0"
        log = findings_sarif.render(report, [CHECKS[c] for c in report.ran], marks(report.findings), ver,
                                    Path.cwd(), loaded.origin if loaded.has_cluster else None)
        click.echo(json_text.dumps(log))
    else:
        from cnimodel.render import findings_text

        bar.close()  # before the findings: the display leaves nothing behind
        findings_text.render(OUT, report)
    if report.failed:
        raise SystemExit(1)


COMMANDS = [check_cmd]
