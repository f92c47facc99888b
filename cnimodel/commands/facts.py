"""The commands that show a plan's facts: ``summary`` (the main job), ``ipam``, ``routes`` (with the apply
scripts), ``lookup``, and ``topologies`` (the example plans)."""

from __future__ import annotations

from ipaddress import AddressValueError, IPv4Address
from typing import Any

import click
from rich.markup import escape

from cnimodel import examples
from cnimodel.commands import apply
from cnimodel.commands.base import OUT, UsageProblem, build, check_node, handle_errors, plan_inputs, table_name
from cnimodel.render import json_text


def _emit_json(data: Any) -> None:
    click.echo(json_text.dumps(data))


# Past this many nodes the summary leaves out the nodes' route tables (each holds about a route per peer, so the
# whole would be some nodes² lines: 25 million for 5,000 nodes).
SUMMARY_NODES = 50


@click.command("summary")
@plan_inputs(optional=True)
@handle_errors
def main_job(plan: tuple[str, ...] = ()) -> None:
    """Summarise a plan: allocation, every node's routes, the underlay (default: the embedded plan).

    Past 50 nodes the route tables are left out (each holds about a route per peer); `routes --node NAME` lists
    one node's."""
    from cnimodel.render import text

    paths = plan or (str(examples.path("default.yaml")),)
    cluster = build(paths)
    OUT.print(f"[bold]cnimodel[/bold] — plan {escape(repr(cluster.plan.name))} ({escape(' '.join(paths))})")
    OUT.print(f"{len(cluster.plan.nodes)} nodes, {len(cluster.allocation.pods)} pods, network plugin "
              f"{cluster.plugin.name}", markup=False)
    text.settings(OUT, cluster.plan)
    OUT.print()
    text.ipam(OUT, cluster)
    OUT.print()
    nodes = cluster.plan.nodes
    if len(nodes) <= SUMMARY_NODES:
        for node in nodes:
            text.node_facts(OUT, cluster.view(node.name))
            OUT.print()
    else:  # every node's table holds a route per peer: the whole would be some nodes² lines
        OUT.print(f"{len(nodes):,} nodes: their route tables are left out of the summary (each holds about a "
                  f"route per peer); list one node's with `cnimodel routes PLAN --node NAME` (docs/routes.md)",
                  markup=False)
        OUT.print()
    text.underlay(OUT, cluster.underlay())
    text.warnings(OUT, cluster)
    from cnimodel.render import findings_text
    from cnimodel.validate import validate

    OUT.print()  # the checks (docs/checks.md); the loader's warnings were printed just above
    findings_text.render(OUT, validate(cluster.plan, cluster, skip_concepts=("plan",)))
    if not plan:  # the embedded plan's HTML report (docs/render.md), kept in the temp directory
        import tempfile
        from pathlib import Path

        from cnimodel.commands.render import default_html_path, write_html

        report = default_html_path(cluster, Path(tempfile.gettempdir()))
        write_html(cluster, report, source=paths[0])
        OUT.print(f"\nHTML report: {report}", markup=False)


@click.command()
@plan_inputs
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def ipam(plan: tuple[str, ...], output: str) -> None:
    """Pod CIDRs per node, pod IPs, reserved addresses and capacity."""
    from cnimodel.render import facts_json, text

    cluster = build(plan)
    if output == "json":
        _emit_json(facts_json.ipam(cluster))
    else:
        text.ipam(OUT, cluster)
        text.warnings(OUT, cluster)


@click.command()
@plan_inputs
@click.option("--node", "nodes", multiple=True, help="Only this node (repeatable). Default: every node.")
@click.option("-o", "--output", type=click.Choice(["text", "json", "ip", "hns", *apply.FORMATS]), default="text",
              show_default=True, help="ip: `ip route`/`ip neigh`/`bridge fdb` lines (Linux nodes); "
              "hns: HNS JSON (Windows nodes). Apply scripts for one --node (docs/routes.md): " + apply.HELP)
@click.option("--hns-api", type=click.Choice(["1", "2"]), default="2", show_default=True,
              help="HNS schema for -o hns: 2 = HCN (hcsshim hcn field names), 1 = HNS v1.")
@click.option("--devices/--no-devices", default=True, show_default=True,
              help="-o ip-batch: create the plugin's devices first (`link add`; leave out on a node that has them).")
@click.option("--scope", type=click.Choice(["static", "all"]), default="static", show_default=True,
              help="-o networkd: the node's static configuration only, or the plugin's devices and routes too.")
@click.option("--out", "out", type=click.Path(file_okay=False), help="-o networkd: write the files to this folder.")
@click.option("--route-table-limit", type=click.IntRange(min=1),
              help="Cloud formats: the routes your route table holds (a raised quota).")
@handle_errors
def routes(plan: tuple[str, ...], nodes: tuple[str, ...], output: str, hns_api: str, devices: bool, scope: str,
           out: str | None, route_table_limit: int | None) -> None:
    """Every node's route table with its neighbour, FDB and HNS entries, and the underlay's table; or one node's
    (or the cloud route table's) apply script."""
    from cnimodel.render import facts_json, hns, iproute, text

    apply.check_options(output, devices, scope, out, route_table_limit)
    cluster = build(plan)
    if output in apply.FORMATS:
        apply.echo(apply.render(cluster, nodes, output, devices, scope, out, route_table_limit))
        return
    for n in nodes:
        check_node(cluster, n)
    names = list(nodes) or [n.name for n in cluster.plan.nodes]
    if output == "json":
        body = facts_json.routes([cluster.view(n) for n in names], cluster.underlay())
        for n, node in zip(names, body["nodes"], strict=True):
            own = cluster.plugin.listings(cluster, n)  # the plugin's own tables, when it keeps any
            if own:
                node["listings"] = [{"title": t.title, **t.data} for t in own]
        _emit_json(body)
    elif output == "ip":
        linux = [n for n in names if cluster.node(n).os == "linux"]
        if not linux:
            raise UsageProblem("-o ip prints Linux nodes; the nodes asked for are Windows (use -o hns)")
        for n in linux:  # written node by node (each echo ends the node's lines): every node's is a large answer
            click.echo(iproute.render(cluster.facts(n)))
            if not nodes:
                cluster.release(n)
    elif output == "hns":
        win = [n for n in names if cluster.node(n).os == "windows"]
        if not win:
            raise UsageProblem("-o hns prints Windows nodes; the nodes asked for are Linux (use -o ip)")
        _emit_json({n: hns.objects(cluster.facts(n), api=int(hns_api)) for n in win})
    else:
        from cnimodel.render.listing_text import listing

        for n in names:
            text.node_facts(OUT, cluster.view(n))
            OUT.print()
            for t in cluster.plugin.listings(cluster, n):  # the plugin's own tables (OVN's logical routers)
                listing(OUT, t)
            if not nodes:
                cluster.release(n)  # every node once: one node's facts in memory at a time
        if not nodes:
            text.underlay(OUT, cluster.underlay())
        text.warnings(OUT, cluster)


@click.command()
@plan_inputs
@click.argument("dst")
@click.option("--node", required=True, help="The node (or the underlay: its name or `underlay`) whose table to search.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def lookup(plan: tuple[str, ...], dst: str, node: str, output: str) -> None:
    """Longest-prefix match of DST in a node's (or the underlay's) route table."""
    from cnimodel.render import facts_json, text

    try:
        addr = IPv4Address(dst)
    except (AddressValueError, ValueError):
        raise UsageProblem(f"{dst!r} is not an IPv4 address (write it like 10.244.2.5)") from None
    cluster = build(plan)
    node = table_name(cluster, node)
    check_node(cluster, node, allow_underlay=True)
    from cnimodel.graph import ForwardingGraph

    res = ForwardingGraph.of(cluster).lookup(node, addr)  # the match the forwarding graph's table vertex makes
    if output == "json":
        _emit_json(facts_json.lookup(res))
    else:
        text.lookup(OUT, res)


@click.command("topologies")
def list_topologies() -> None:
    """List the example plans shipped with cnimodel (and where they are)."""
    for name in examples.names():
        click.echo(f"{name}\t{examples.path(name)}")


COMMANDS = [main_job, ipam, routes, lookup, list_topologies]
