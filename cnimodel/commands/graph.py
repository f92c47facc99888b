"""``cnimodel graph``: the wiring, or the forwarding graph toward one destination, as JSON, DOT or Mermaid."""

from __future__ import annotations

import click

from cnimodel.commands.base import UsageProblem, build, handle_errors, plan_inputs
from cnimodel.render import json_text


@click.command()
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
        click.echo(json_text.dumps(graph_json.to_json(g)))


COMMANDS = [graph]
