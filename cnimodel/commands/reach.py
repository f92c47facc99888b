"""``cnimodel reach`` (which pod reaches which, on what, and why) and ``cnimodel diff`` (what changed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cnimodel.commands import progress
from cnimodel.commands.base import ERR, UsageProblem, handle_errors, hold, load, plan_inputs
from cnimodel.plan.names import WORKLOAD_KINDS
from cnimodel.render import json_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cnimodel.policy import Connection, Peer, Reachability
    from cnimodel.policy.enforcement import Unenforced

FORMATS = ["txt", "json", "csv", "md", "dot", "matrix"]


def _analyse(paths: tuple[str, ...] | list[str]) -> tuple[Reachability, Unenforced | None]:
    """The plan's reachability, and the policies its nodes do not enforce (said in every format)."""
    from cnimodel.cluster import Cluster
    from cnimodel.policy import Reachability
    from cnimodel.policy.enforcement import unenforced

    plan = load(paths)
    gaps = None
    if plan.has_cluster:
        cluster = Cluster.build(plan)
        r, gaps, plan = Reachability.from_cluster(cluster), unenforced(cluster), cluster.plan
    else:
        r = Reachability.from_plan(plan)
    hold(r)  # (to the program's end: a large model is not freed object by object)
    for w in plan.warnings:
        ERR.print(w.render(), markup=False)
    for w in r.warnings:
        ERR.print(f"warning: {w}", markup=False)
    return r, gaps


_KINDS = {k.lower() for k in (*WORKLOAD_KINDS, "Pod")}


def _endpoints(r: Reachability, spec: str | None, default: list[Peer], option: str) -> list[Peer]:
    from cnimodel.plan.errors import EndpointError

    if spec is None:
        return default
    try:
        named = _named(r, spec.strip(), option)
        return named if named is not None else r.resolve(spec)
    except EndpointError as e:
        raise UsageProblem(f"{option} {spec!r}: {e}") from None


def _named(r: Reachability, spec: str, option: str) -> list[Peer] | None:
    """A pod or a workload by name: ``ns/name`` (a pod of that name, else the workload), ``ns/name[Kind]``.
    A workload becomes one endpoint standing for its pods, named as netpol-analyzer names workloads."""
    from cnimodel.plan.names import parse_endpoint, resolve_pods
    from cnimodel.policy.groups import group

    e = parse_endpoint(spec)
    if e.kind != "object" or not e.namespace or (e.object_kind or "Pod").lower() not in _KINDS:
        return None  # wildcards, nodes, addresses, ranges: Reachability.resolve reads them
    if e.object_kind is None and e.key in r.u.by_key:
        return [r.pod(r.u.by_key[e.key])]
    pods = resolve_pods(r.plan, e)
    ends = [r.pod(r.u.by_key[p.key]) for p in pods if p.key in r.u.by_key]  # a pod that never runs is absent
    if not ends:
        raise UsageProblem(f"{option} {spec!r}: " + "; ".join(r.never_runs(p.key) for p in pods[:3]
                                                              if p.key in r.not_running))
    if e.object_kind == "Pod" or pods[0].owner is None:  # a pod named as ns/name[Pod]
        return ends
    return [group(str(pods[0].owner), ends)]


@click.command("reach")
@plan_inputs
@click.option("--from", "src", metavar="NS/NAME", help="Sources: NS/POD (wildcards * ?), a workload NS/NAME or "
              "NS/NAME[Kind] (all its pods), NODE[Node], an IP or a CIDR. Default: every pod and external range.")
@click.option("--to", "dst", metavar="NS/NAME|CIDR", help="Destinations: NS/POD (wildcards), a workload NS/NAME or "
              "NS/NAME[Kind], NODE[Node], an IP or a CIDR (its pods, nodes and external ranges). Default: every pod "
              "and external range.")
@click.option("--port", metavar="PORT[/PROTO]", help="Only this destination port (protocol TCP unless given: 53/UDP).")
@click.option("--explain", is_flag=True, help="Say why, per direction: the policies selecting each side and the rule, "
              "end of tier or profile that decided (txt and json); pairs with nothing allowed are explained too.")
@click.option("--all-pairs", is_flag=True, help="Also list pairs with nothing allowed (No Connections).")
@click.option("--workloads", is_flag=True, help="One endpoint per workload, ns/name[Kind], for its pods (as "
              "netpol-analyzer lists them); bare pods stay pods.")
@click.option("-o", "--output", type=click.Choice(FORMATS), default="txt", show_default=True,
              help="txt: netpol-analyzer lines; matrix: a ./X truth table for --port.")
@handle_errors
def reach_cmd(plan: tuple[str, ...], src: str | None, dst: str | None, port: str | None, explain: bool, all_pairs: bool,
              workloads: bool, output: str) -> None:
    """Which pods (and external ranges) reach which, on which protocols and ports, and why.

    Kubernetes NetworkPolicy, Calico v3 policies and tiers, and AdminNetworkPolicy/Baseline are evaluated
    together; a pod on a node that enforces no policy is not isolated. Pairs of a pod with itself are left
    out unless asked for by --from and --to. A workload (Deployment, StatefulSet, DaemonSet, Job …) named
    in --from or --to is one endpoint, ns/name[Kind]: what all its pods allow, with a note when they differ.
    """
    from cnimodel.policy import groups
    from cnimodel.policy.analysis import BIG
    from cnimodel.policy.connset import ConnSet, parse_port_spec
    from cnimodel.policy.explain import explain as explain_pair
    from cnimodel.policy.pairs import Pairs
    from cnimodel.render import policy_dot, policy_json, policy_matrix, policy_stream, policy_txt

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
    bar = progress.for_command(enabled=output != "json")
    bar.stage("reading the plan and its policies")
    r, gaps = _analyse(plan)
    header = f"warning: {gaps.sentence()}" if gaps is not None else None
    if header and output in ("txt", "matrix"):
        click.echo(header)
    elif header and output == "md":
        click.echo(f"> {header}\n")
    elif header and output == "dot":
        click.echo(f"// {header}")
    elif header and output == "csv":
        ERR.print(header, markup=False)  # a CSV holds rows only
    default = r.pods() if output == "matrix" else r.everything()
    sources = _endpoints(r, src, default, "--from")
    destinations = _endpoints(r, dst, default, "--to")
    if workloads:
        sources, destinations = groups.by_workload(r, sources), groups.by_workload(r, destinations)
    keep_self = src is not None and dst is not None and len(sources) == 1 and len(destinations) == 1
    if output == "matrix":
        cells = {(c.src.label, c.dst.label): c for c in groups.connections(
            r, sources, destinations, all_pairs=True, port=port_spec, keep_self=True)}
        title = f"{port_spec[0]}/{port_spec[1]}"  # type: ignore[index]
        click.echo(policy_matrix.render(sources, destinations, cells, title), nl=False)
        return
    if explain:  # policies select pods, so a workload is explained pod by pod
        sources, destinations = groups.expand(sources), groups.expand(destinations)
        keep_self = keep_self and len(sources) == len(destinations) == 1
    # --explain also explains the pairs with nothing allowed: why not is half the question.
    conns = groups.connections(r, sources, destinations, all_pairs=all_pairs or explain, port=port_spec,
                               keep_self=keep_self)
    if explain:
        restrict = ConnSet.ports(port_spec[0], port_spec[1], port_spec[1]) if port_spec else None
        xs = (explain_pair(r, c, restrict) for c in conns)
        if output == "json":
            click.echo(json_text.dumps(policy_json.document([], xs, gaps)))
        else:
            click.echo(policy_txt.explanations(xs), nl=False)
        return
    if output == "dot":
        click.echo(policy_dot.render(conns), nl=False)
        return
    # Written as produced; a large selection of pods and ranges goes by class rows (cnimodel/policy/pairs.py).
    answer: Pairs | Iterable[Connection] = conns
    if len(sources) * len(destinations) > BIG:
        answer = Pairs(r, sources, destinations, all_pairs=all_pairs, port=port_spec, keep_self=keep_self,
                       grouped=groups.connection)
    write = click.get_text_stream("stdout").write
    if click.get_text_stream("stdout").isatty():  # lines on a terminal are progress enough
        bar.close()
    elif isinstance(answer, Pairs):
        bar.stage("writing pairs", total=len(answer.sources))
        answer = answer.reporting(bar.update)
    if output == "json":
        policy_stream.json(write, answer, gaps)
    elif output == "csv":
        policy_stream.csv_rows(write, answer)
    elif output == "md":
        policy_stream.md_rows(write, answer)
    else:
        policy_stream.txt(write, answer)


@click.command("diff")
@click.argument("plan_a", type=click.Path(exists=False))
@click.argument("plan_b", type=click.Path(exists=False))
@click.option("--workloads", is_flag=True, help="Compare workloads, ns/name[Kind], matched by name whatever their "
              "pods are called (netpol-analyzer's unit); bare pods stay pods.")
@click.option("-o", "--output", type=click.Choice(["txt", "json", "md"]), default="txt", show_default=True)
@handle_errors
def diff_cmd(plan_a: str, plan_b: str, workloads: bool, output: str) -> None:
    """Pairs whose connections differ between PLAN_A and PLAN_B: added, removed or changed."""
    from cnimodel.policy.diff import diff
    from cnimodel.policy.diff_workloads import diff_workloads
    from cnimodel.render import policy_diff

    rows = list((diff_workloads if workloads else diff)(_analyse([plan_a])[0], _analyse([plan_b])[0]))
    if output == "json":
        click.echo(json_text.dumps(policy_diff.document(rows)))
    elif output == "md":
        click.echo(policy_diff.md(rows), nl=False)
    else:
        click.echo(policy_diff.txt(rows), nl=False)


COMMANDS = [reach_cmd, diff_cmd]
