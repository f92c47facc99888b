"""``cnimodel routes PLAN --node N -o FORMAT`` for the apply formats: scripts that put a node's (or the cloud
route table's) routes in place — ``ip -batch``/``bridge -batch`` input and systemd-networkd files (Linux),
PowerShell (Windows), cloud CLI lines, Terraform and Bicep (the underlay's route table). docs/routes.md."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cnimodel.commands.base import ERR, UsageProblem, table_name

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

LINUX = ("ip-batch", "bridge-batch", "networkd")
WINDOWS = ("powershell",)
CLOUD = {"az": "azure", "bicep": "azure", "terraform-azure": "azure", "aws": "aws", "terraform-aws": "aws",
         "gcloud": "gce", "terraform-gcp": "gce"}
FORMATS = [*LINUX, *WINDOWS, *CLOUD]
HELP = ("ip-batch/bridge-batch: `ip -batch`/`bridge -batch` input, networkd: systemd-networkd files (Linux "
        "nodes); powershell: HNS objects and NetRoutes (Windows nodes); az, aws, gcloud, terraform-azure, "
        "terraform-aws, terraform-gcp, bicep: the underlay's cloud route table (--node underlay).")


def check_options(output: str, devices: bool, scope: str, out: str | None, route_table_limit: int | None) -> None:
    """The apply options belong to their formats: one given with another format is an error, not ignored."""
    given = {"--out": (out is not None, ("networkd",)), "--scope": (scope != "static", ("networkd",)),
             "--no-devices": (not devices, ("ip-batch",)),
             "--route-table-limit": (route_table_limit is not None, tuple(CLOUD))}
    for flag, (used, formats) in given.items():
        if used and output not in formats:
            raise UsageProblem(f"{flag} is for -o {', '.join(formats)}, not -o {output}")


def render(cluster: Cluster, nodes: tuple[str, ...], output: str, devices: bool, scope: str, out: str | None,
           route_table_limit: int | None) -> str | None:
    """The script for one node (or the underlay table) in ``output``; None when the files were written to
    ``out``."""
    check_options(output, devices, scope, out, route_table_limit)
    if len(nodes) != 1:
        raise UsageProblem(f"-o {output} writes one node's script: give exactly one --node"
                           + (" (the underlay's table: --node underlay)" if output in CLOUD else ""))
    name = table_name(cluster, nodes[0])
    if output in CLOUD:
        return _cloud(cluster, name, output, route_table_limit)
    if name == cluster.plan.underlay.name:
        raise UsageProblem(f"-o {output} writes a node's script; {name} is the underlay's route table (its formats: "
                           f"{', '.join(CLOUD)})")
    from cnimodel.commands.base import check_node

    check_node(cluster, name)
    node = cluster.node(name)
    if output in WINDOWS:
        if node.os != "windows":
            raise UsageProblem(f"-o powershell writes a Windows node's script; {name} is Linux (use -o ip-batch)")
        from cnimodel.apply import windows_script
        from cnimodel.render.scripts import powershell

        return powershell.render(windows_script(cluster.facts(name), cluster.plan.name))
    if node.os != "linux":
        raise UsageProblem(f"-o {output} writes a Linux node's script; {name} is Windows (use -o powershell)")
    from cnimodel.apply import linux_script

    script = linux_script(cluster.facts(name), node.ip, cluster.plan.name)
    if output == "networkd":
        return _networkd(script, scope, out)
    from cnimodel.render.scripts import ip_batch

    return ip_batch.render(script, devices) if output == "ip-batch" else ip_batch.render_bridge(script)


def _networkd(script: object, scope: str, out: str | None) -> str | None:
    from cnimodel.apply import networkd_links
    from cnimodel.render.scripts import networkd

    named = networkd.files(script, networkd_links(script, scope), scope)  # type: ignore[arg-type]
    if out is None:
        return networkd.stream(named)
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for file, text in named:
            (folder / file).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageProblem(f"--out {out}: cannot write there ({e.strerror})") from None
    ERR.print(f"wrote {len(named)} file(s) to {folder}: {', '.join(f for f, _ in named)}", markup=False)
    return None


def _cloud(cluster: Cluster, name: str, output: str, limit: int | None) -> str:
    from cnimodel.apply import RouteLimitError, cloud_table
    from cnimodel.render.scripts import bicep, cloud_cli, terraform

    if name != cluster.plan.underlay.name:
        raise UsageProblem(f"-o {output} writes the cloud route table: give --node {cluster.plan.underlay.name} "
                           "(or --node underlay)")
    net = cluster.plan.network
    try:
        table = cloud_table(cluster.underlay(), CLOUD[output], cluster.plan.name,
                            dict(net.config) if net is not None else None, limit)
    except RouteLimitError as e:
        raise UsageProblem(f"{e}\n    fix: {e.fix}") from None
    if not table.routes:
        raise UsageProblem(f"the underlay table {name} holds no route to write: its routes are the cloud's own "
                           f"({table.system_routes} system route(s)); pod routes go in the cloud's route table with "
                           "`underlay.routes: cloud` (kubenet, win-bridge)")
    writers = {"az": cloud_cli.az, "aws": cloud_cli.aws, "gcloud": cloud_cli.gcloud, "bicep": bicep.render,
               "terraform-azure": terraform.azure, "terraform-aws": terraform.aws, "terraform-gcp": terraform.gcp}
    return writers[output](table)


def echo(text: str | None) -> None:
    if text is not None:
        click.echo(text, nl=False)
