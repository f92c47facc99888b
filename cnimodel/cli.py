"""The command line: it wires arguments to engines and renderers, nothing more.

Exit codes: 0 success, 1 a check failed, 2 bad input, 3 an internal error (a bug to report), 130 interrupted
(Ctrl-C), 141 standard output closed early (``cnimodel … | head``).
"""

from __future__ import annotations

import cnimodel.startup  # noqa: F401  (first: a Ctrl-C during the imports below prints one line)

# isort: split
from ipaddress import AddressValueError, IPv4Address
from typing import Any

import click
from rich.markup import escape

from cnimodel import examples
from cnimodel.commands import LazyGroup, apply
from cnimodel.commands.base import (  # noqa: F401  (tests and third parties import these from cnimodel.cli)
    ERR,
    OUT,
    UsageProblem,
    build,
    check_node,
    handle_errors,
    plan_inputs,
    table_name,
)
from cnimodel.render import json_text


def _emit_json(data: Any) -> None:
    click.echo(json_text.dumps(data))


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="cnimodel")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Model Kubernetes container networking as the real CNI plugins build it, on Linux and Windows.

    With no command, runs the main job on the embedded default plan (a hybrid flannel host-gw cluster).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(main_job)


@cli.command("summary")
@plan_inputs(optional=True)
@handle_errors
def main_job(plan: tuple[str, ...] = ()) -> None:
    """Summarise a plan: allocation, every node's routes, the underlay (default: the embedded plan)."""
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
    for node in cluster.plan.nodes:
        text.node_facts(OUT, cluster.view(node.name))
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


@cli.command()
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


@cli.command()
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
        click.echo("\n".join(iproute.render(cluster.facts(n)) for n in linux))
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
            text.underlay(OUT, cluster.underlay())
        text.warnings(OUT, cluster)


@cli.command()
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


@cli.command()
@plan_inputs
@click.option("-o", "--output", type=click.Choice(["json", "dot", "mermaid"]), default="json", show_default=True)
@click.option("--dst", help="A destination (as trace's DST: a pod, Service, NODE:PORT or address): its forwarding "
              "graph, an edge per forwarding decision, instead of the cluster's picture.")
@click.option("--src", help="With --dst: only what this source's packets reach (a pod, node or address).")
@click.option("--detail/--no-detail", default=None, help="Per-device detail (default: on up to 200 nodes).")
@handle_errors
def graph(plan: tuple[str, ...], output: str, dst: str | None, src: str | None, detail: bool | None) -> None:
    """The forwarding graph: the cluster's picture (nodes' tables, NICs, bridges, tunnels, vSwitches, pods), or with
    --dst one destination's graph of forwarding decisions, as JSON, Graphviz DOT or Mermaid."""
    from cnimodel.api import Network, QuestionError
    from cnimodel.graph.wiring import wiring
    from cnimodel.render import dot, graph_json, mermaid

    cluster = build(plan)
    if dst is not None:
        net = Network(cluster.plan)
        net.cluster = cluster  # type: ignore[misc]  (already built)
        try:
            g = net.graph(dst=dst, src=src)
        except QuestionError as e:
            raise UsageProblem(f"--dst {dst}{f' --src {src}' if src else ''}: {e}") from None
    else:
        if src is not None:
            raise UsageProblem("--src goes with --dst: the graph of one destination, from one source")
        g = wiring(cluster, detail=detail)
    if output == "dot":
        click.echo(dot.render(g), nl=False)
    elif output == "mermaid":
        click.echo(mermaid.render(g), nl=False)
    else:
        _emit_json(graph_json.to_json(g))


@cli.command("topologies")
def list_topologies() -> None:
    """List the example plans shipped with cnimodel (and where they are)."""
    for name in examples.names():
        click.echo(f"{name}\t{examples.path(name)}")


def main() -> None:
    from cnimodel.commands.base import run_main

    run_main(cli)


if __name__ == "__main__":
    main()


