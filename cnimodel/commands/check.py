"""``cnimodel check``: run the plan validator; exit 1 when a finding is an error, 2 on unreadable input."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from ipaddress import IPv4Network
from pathlib import Path

import click

from cnimodel.cli import OUT, UsageProblem, handle_errors
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


@click.command("check")
@click.argument("plan")
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
@handle_errors
def check_cmd(plan: str, output: str, min_severity: str, surge: int, max_nodes: int | None, cloud: str | None,
              external: tuple[str, ...], route_table_limit: int | None) -> None:
    """Validate PLAN: address plan, overlay, routing, Windows, policy and scale checks (docs/checks.md).

    Exit status 1 when any finding is an error, 0 otherwise, 2 when the plan cannot be read or built.
    """
    from cnimodel.cluster import Cluster
    from cnimodel.plan import load_plan
    from cnimodel.validate import CHECKS, CheckOptions, validate

    options = CheckOptions(surge=surge, max_nodes=max_nodes, cloud=cloud, external=_networks(external),
                           route_table_limit=route_table_limit)
    loaded = load_plan([plan])
    cluster = Cluster.build(loaded) if loaded.has_cluster else None
    report = validate(loaded, cluster, options, min_severity=min_severity)  # type: ignore[arg-type]
    if output == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    elif output == "sarif":
        from cnimodel.render import findings_sarif
        from cnimodel.validate.locate import marks

        try:
            ver = version("cnimodel")
        except PackageNotFoundError:
            ver = "0"
        log = findings_sarif.render(report, [CHECKS[c] for c in report.ran], marks(report.findings), ver,
                                    Path.cwd(), loaded.origin if loaded.has_cluster else None)
        click.echo(json.dumps(log, indent=2))
    else:
        from cnimodel.render import findings_text

        findings_text.render(OUT, report)
    if report.failed:
        raise SystemExit(1)


COMMANDS = [check_cmd]
