"""``cnimodel reach`` (which pod reaches which, on what, and why) and ``cnimodel diff`` (what changed)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from cnimodel.cli import ERR, UsageProblem, handle_errors

if TYPE_CHECKING:
    from cnimodel.policy import Endpoint, Reachability

FORMATS = ["txt", "json", "csv", "md", "dot", "matrix"]


def _analyse(path: str) -> Reachability:
    from cnimodel.plan import load_plan
    from cnimodel.policy import Reachability

    plan = load_plan([path])
    r = Reachability.from_plan(plan)
    for w in plan.warnings:
        ERR.print(w.render(), markup=False)
    for w in r.warnings:
        ERR.print(f"warning: {w}", markup=False)
    return r


def _endpoints(r: Reachability, spec: str | None, default: list[Endpoint]) -> list[Endpoint]:
    from cnimodel.policy import QueryError

    if spec is None:
        return default
    try:
        return r.resolve(spec)
    except QueryError as e:
        raise UsageProblem(str(e)) from None


@click.command("reach")
@click.argument("plan", type=click.Path(exists=False))
@click.option("--from", "src", metavar="NS/POD", help="Sources: NS/POD (wildcards * ?), NODE[Node], an IP or a CIDR. "
              "Default: every pod and external range.")
@click.option("--to", "dst", metavar="NS/POD|CIDR", help="Destinations: NS/POD (wildcards), NODE[Node], an IP or a "
              "CIDR (its pods, nodes and external ranges). Default: every pod and external range.")
@click.option("--port", metavar="PORT[/PROTO]", help="Only this destination port (protocol TCP unless given: 53/UDP).")
@click.option("--explain", is_flag=True, help="Say why, per direction: the policies selecting each side and the rule, "
              "end of tier or profile that decided (txt and json); pairs with nothing allowed are explained too.")
@click.option("--all-pairs", is_flag=True, help="Also list pairs with nothing allowed (No Connections).")
@click.option("-o", "--output", type=click.Choice(FORMATS), default="txt", show_default=True,
              help="txt: netpol-analyzer lines; matrix: a ./X truth table for --port.")
@handle_errors
def reach_cmd(plan: str, src: str | None, dst: str | None, port: str | None, explain: bool, all_pairs: bool,
              output: str) -> None:
    """Which pods (and external ranges) reach which, on which protocols and ports, and why.

    Kubernetes NetworkPolicy, Calico v3 policies and tiers, and AdminNetworkPolicy/Baseline are evaluated
    together; a pod on a node that enforces no policy is not isolated. Pairs of a pod with itself are left
    out unless asked for by --from and --to.
    """
    from cnimodel.policy.connset import ConnSet, parse_port_spec
    from cnimodel.policy.explain import explain as explain_pair
    from cnimodel.render import policy_dot, policy_json, policy_matrix, policy_table, policy_txt

    port_spec = None
    if port is not None:
        try:
            port_spec = parse_port_spec(port)
        except ValueError as e:
            raise UsageProblem(f"--port: {e}") from None
    if output == "matrix" and port_spec is None:
        raise UsageProblem("-o matrix draws one port: add --port PORT[/PROTO], e.g. --port 80")
    if explain and output not in ("txt", "json"):
        raise UsageProblem("--explain prints with -o txt or -o json")
    r = _analyse(plan)
    default = r.pods() if output == "matrix" else r.everything()
    sources = _endpoints(r, src, default)
    destinations = _endpoints(r, dst, default)
    keep_self = src is not None and dst is not None and len(sources) == 1 and len(destinations) == 1
    if output == "matrix":
        cells = {(c.src.label, c.dst.label): c for c in r.connections(
            sources, destinations, all_pairs=True, port=port_spec, keep_self=True)}
        title = f"{port_spec[0]}/{port_spec[1]}"  # type: ignore[index]
        click.echo(policy_matrix.render(sources, destinations, cells, title), nl=False)
        return
    # --explain also explains the pairs with nothing allowed: why not is half the question.
    conns = r.connections(sources, destinations, all_pairs=all_pairs or explain, port=port_spec, keep_self=keep_self)
    if explain:
        restrict = ConnSet.ports(port_spec[0], port_spec[1], port_spec[1]) if port_spec else None
        xs = (explain_pair(r, c, restrict) for c in conns)
        if output == "json":
            click.echo(json.dumps(policy_json.document([], xs), indent=2))
        else:
            click.echo(policy_txt.explanations(xs), nl=False)
        return
    if output == "json":
        click.echo(json.dumps(policy_json.document(conns), indent=2))
    elif output == "csv":
        click.echo(policy_table.csv_text(conns), nl=False)
    elif output == "md":
        click.echo(policy_table.md_text(conns), nl=False)
    elif output == "dot":
        click.echo(policy_dot.render(conns), nl=False)
    else:
        for c in conns:
            click.echo(policy_txt.line(c))


@click.command("diff")
@click.argument("plan_a", type=click.Path(exists=False))
@click.argument("plan_b", type=click.Path(exists=False))
@click.option("-o", "--output", type=click.Choice(["txt", "json", "md"]), default="txt", show_default=True)
@handle_errors
def diff_cmd(plan_a: str, plan_b: str, output: str) -> None:
    """Pairs whose connections differ between PLAN_A and PLAN_B: added, removed or changed."""
    from cnimodel.policy.diff import diff
    from cnimodel.render import policy_diff

    rows = list(diff(_analyse(plan_a), _analyse(plan_b)))
    if output == "json":
        click.echo(json.dumps(policy_diff.document(rows), indent=2))
    elif output == "md":
        click.echo(policy_diff.md(rows), nl=False)
    else:
        click.echo(policy_diff.txt(rows), nl=False)


COMMANDS = [reach_cmd, diff_cmd]
