"""``cnimodel render``: the cluster as an interactive offline HTML report, SVG, Graphviz DOT or Mermaid."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from cnimodel.cluster import Cluster
from cnimodel.commands import progress
from cnimodel.commands.base import ERR, UsageProblem, build, check_node, handle_errors, plan_inputs

FORMATS = ["html", "svg", "dot", "mermaid"]


def default_html_path(cluster: Cluster, directory: Path | None = None) -> Path:
    """Where an HTML report goes when no --out is given: ``cnimodel-<plan name>.html``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", cluster.plan.name).strip("-.") or "plan"
    return (directory or Path.cwd()) / f"cnimodel-{slug}.html"


def write_html(cluster: Cluster, out: Path, runs: list | None = None, **options: object) -> int:
    """Write the HTML report of ``cluster`` to ``out``; returns its size in bytes."""
    from cnimodel.overview import Options, overview
    from cnimodel.render.html import collect, page

    text = page(collect(overview(cluster, runs or [], Options(**options))))  # type: ignore[arg-type]
    out.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def _runs(cluster: Cluster, traces: tuple[tuple[str, str], ...], ports: tuple[int, ...]) -> list:
    from cnimodel.overview import TraceRun
    from cnimodel.trace import EndpointError, trace

    if ports and not traces:
        raise UsageProblem("--port sets the destination port of a --trace; give --trace SRC DST first")
    if len(ports) > 1 and len(ports) != len(traces):
        raise UsageProblem(f"{len(ports)} --port values for {len(traces)} --trace: give one --port for every "
                           "--trace (in order), or one for all")
    runs = []
    for i, (src, dst) in enumerate(traces):
        port = ports[i] if len(ports) > 1 else ports[0] if ports else 80
        try:
            runs.append(TraceRun(src, dst, port, trace(cluster, src, dst, port=port, both=True)))
        except EndpointError as e:
            raise UsageProblem(f"--trace {src} {dst}: {e}") from None
    return runs


@click.command("render")
@plan_inputs
@click.option("-o", "--output", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: one self-contained interactive page; svg: Graphviz drawing; dot: Graphviz text; "
              "mermaid: a flowchart for Markdown.")
@click.option("--trace", "traces", nargs=2, multiple=True, metavar="SRC DST",
              help="Draw the path of a packet from SRC to DST and its reply (as for `cnimodel trace`). Repeatable.")
@click.option("--port", "ports", type=int, multiple=True, metavar="N",
              help="Destination port of the --trace before it (default 80): one --port per --trace in order, "
              "or one for all.")
@click.option("--view", type=click.Choice(["network", "policy"]), default="network", show_default=True,
              help="svg/dot/mermaid: the data plane (a cluster per node) or reachability (a cluster per namespace).")
@click.option("--out", "out", type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write; - for standard output. Default: html to ./cnimodel-<plan>.html, the others "
              "to standard output.")
@click.option("--node", "nodes", multiple=True, metavar="NAME",
              help="html: embed this node's facts even past --detail-limit. Repeatable.")
@click.option("--detail-limit", type=click.IntRange(min=0), default=500, show_default=True,
              help="html: embed route tables, neighbours, HNS objects and LB rules of up to this many nodes.")
@click.option("--reach/--no-reach", default=True, show_default=True, help="html: the reachability matrix.")
@click.option("--checks/--no-checks", default=True, show_default=True, help="html: the findings of the checks.")
@handle_errors
def render_cmd(plan: tuple[str, ...], output: str, traces: tuple[tuple[str, str], ...], ports: tuple[int, ...],
               view: str, out: str | None, nodes: tuple[str, ...], detail_limit: int, reach: bool,
               checks: bool) -> None:
    """Draw PLAN: an offline HTML report (topology, per-node facts, traces, reachability, findings), SVG, DOT
    or Mermaid."""
    bar = progress.for_command()
    bar.stage("reading the plan")
    cluster = build(plan)
    for n in nodes:
        check_node(cluster, n)
    bar.stage("tracing" if traces or ports else "drawing")
    runs = _runs(cluster, traces, ports)
    bar.stage("drawing")
    if output == "html":
        options = {"detail_limit": detail_limit, "nodes": nodes, "reach": reach, "findings": checks,
                   "source": " ".join(plan)}
        if out == "-":
            from cnimodel.overview import Options, overview
            from cnimodel.render.html import collect, page

            html = page(collect(overview(cluster, runs, Options(**options))))  # type: ignore[arg-type]
            bar.close()
            sys.stdout.write(html)
            return
        path = Path(out) if out else default_html_path(cluster)
        size = write_html(cluster, path, runs, **options)
        bar.close()
        click.echo(f"wrote {path} ({size:,} bytes)")
        return
    text = _drawing(cluster, output, view, runs)
    bar.close()
    if out and out != "-":
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


def _drawing(cluster: Cluster, output: str, view: str, runs: list) -> str:
    from cnimodel.policy.enforcement import unenforced
    from cnimodel.render import dot, mermaid, svg

    if view == "policy":
        if runs:
            raise UsageProblem("--trace draws on the network view; leave out --view policy")
        conns = _policy_connections(cluster)
        if output == "mermaid":
            text = mermaid.policy(conns)
        else:
            from cnimodel.render import policy_dot

            text = policy_dot.render(conns)
    else:
        from cnimodel.graph.wiring import drawn_path, wiring

        g = wiring(cluster)
        paths = [drawn_path(g, [v for h in t.hops for v in h.vertices]) for r in runs for t in r.traces]
        text = mermaid.render(g, paths) if output == "mermaid" else dot.render(g, paths)
    gaps = unenforced(cluster)
    if gaps is not None:  # a comment the picture's reader sees in the source, and on stderr
        ERR.print(f"warning: {gaps.sentence()}", markup=False)
        text = f"{'%%' if output == 'mermaid' else '//'} warning: {gaps.sentence()}\n" + text
    if output in ("dot", "mermaid"):
        return text
    if len(cluster.plan.nodes) > 200:
        ERR.print(f"note: Graphviz lays out {len(cluster.plan.nodes)} nodes slowly; -o html stays quick", markup=False)
    try:
        return svg.to_svg(text)
    except svg.GraphvizMissing as e:
        raise UsageProblem(str(e)) from None


POLICY_VIEW_LIMIT = 300


def _policy_connections(cluster: Cluster) -> list:
    from cnimodel.policy import Reachability

    r = Reachability.from_plan(cluster.plan)
    pods = r.pods()
    if len(pods) > POLICY_VIEW_LIMIT:
        raise UsageProblem(f"--view policy draws every pair of pods; {len(pods)} pods is over {POLICY_VIEW_LIMIT} "
                           "(use -o html for the namespace matrix, or cnimodel reach --from/--to)")
    return list(r.connections(pods, pods))


COMMANDS = [render_cmd]
