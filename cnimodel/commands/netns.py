"""``cnimodel netns up|verify|down`` and ``cnimodel audit``: the model against a real Linux kernel."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import click

from cnimodel.commands import progress
from cnimodel.commands.base import (
    ERR,
    OUT,
    Interrupted,
    UsageProblem,
    build,
    check_node,
    handle_errors,
    ignore_interrupts,
    load,
    plan_inputs,
    shown,
)
from cnimodel.render import json_text
from cnimodel.render.text import TextTable, cells, print_table

if TYPE_CHECKING:
    from cnimodel.kernel import Blueprint
    from cnimodel.plan import Plan


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C, so ``netns up`` cleans up whichever way it is stopped."""
    def stop(_sig: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _kernel():  # type: ignore[no-untyped-def]
    from cnimodel import kernel

    return kernel


def _steps(enabled: bool = True) -> Callable[[str, int, int], None]:
    """The kernel's steps shown on the command's progress display (commands/progress.py: on a terminal, after
    about two seconds)."""
    bar = progress.for_command(enabled=enabled)
    current: list[str] = []

    def step(stage: str, done: int, total: int) -> None:
        if current != [stage]:
            current[:] = [stage]
            bar.stage(stage, total=total)
        bar.update(done)

    return step


@click.group("netns")
def netns() -> None:
    """Build a plan's Linux data plane in network namespaces, verify it against the model, tear it down.

    Needs root (CAP_NET_ADMIN). Every namespace is named after the plan: cm<hash>-u (underlay), cm<hash>-n-NODE,
    cm<hash>-p-NS_POD. Nothing outside them is touched and no packet leaves them.
    """


@netns.command("up")
@plan_inputs
@click.option("--pods-per-node", "-k", type=click.IntRange(0, 1000), default=2, show_default=True,
              help="Pods realised per node: the plan's own first, then sample pods netns-sample/NODE-J.")
@click.option("--policy", type=click.Choice(["nftables", "iptables"]),
              help="Also install the policy engine's verdicts between the realised pods as nftables or iptables "
              "rules in the pods, so that verify checks what the kernel filters.")
@handle_errors
def up_cmd(plan: tuple[str, ...], pods_per_node: int, policy: str | None) -> None:
    """Create the namespaces, links, addresses, routes, neighbours and FDB entries of PLAN."""
    kernel = _kernel()
    p = load(plan)
    try:
        with _interruptible():
            bp = kernel.up(p, pods_per_node, progress=lambda m: ERR.print(f"  {m}", markup=False), policy=policy,
                           steps=_steps())
    except kernel.KernelProblem as e:
        raise UsageProblem(str(e)) from None
    try:
        _report_up(p, bp, plan)
        ignore_interrupts()  # up and said so: a Ctrl-C from here would only leave it up with status 130
    except (KeyboardInterrupt, Interrupted):  # an interrupted `up` leaves nothing behind, even while it reports
        kernel.down(p)
        raise


def _report_up(p: Plan, bp: Blueprint, plan: tuple[str, ...]) -> None:
    nodes = [s for s in bp.spaces if s.role == "node"]
    OUT.print(f"plan {p.name!r} is up: {len(bp.spaces)} namespaces named {bp.names.prefix}-* — "
              f"{len(nodes)} nodes, {len(bp.pods)} pods, underlay {bp.names.underlay}", markup=False)
    for s in nodes:
        OUT.print(f"  {s.node}: {s.emulates} ({s.name})", markup=False)
    for note in bp.notes:
        OUT.print(f"  note: {note}", markup=False)
    OUT.print(f"check it with `cnimodel netns verify {shown(plan)}`; look inside with "
              f"`ip netns exec {nodes[0].name} ip route`" if nodes else "", markup=False)


@netns.command("verify")
@plan_inputs
@click.option("--port", type=click.IntRange(1, 65535), default=80, show_default=True,
              help="Destination port of the TCP and UDP probes.")
@click.option("--max-pairs", type=click.IntRange(1), default=2000, show_default=True,
              help="At most this many pod pairs get packets (every pair when there are fewer).")
@click.option("--timeout", type=float, default=2.0, show_default=True, help="Seconds to wait for answers.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def verify_cmd(plan: tuple[str, ...], port: int, max_pairs: int, timeout: float, output: str) -> None:
    """Compare the kernel's route decisions and real packets with the model; exit 1 on any mismatch."""
    kernel = _kernel()
    p = load(plan)
    try:
        bp, report = kernel.verify(p, port=port, max_pairs=max_pairs, timeout=timeout,
                                   steps=_steps(enabled=output != "json"))
    except kernel.KernelProblem as e:
        raise UsageProblem(str(e)) from None
    if output == "json":
        click.echo(json_text.dumps({"plan": p.name, "prefix": bp.names.prefix, "podsPerNode": bp.pods_per_node,
                               **report.to_json(), "notes": bp.notes + report.notes}))
    else:
        if report.mismatches:
            t = TextTable(title=f"{len(report.mismatches)} mismatch(es)", title_justify="left", show_edge=False)
            for col in ("check", "where", "what", "model", "kernel"):
                t.add_column(col)
            for m in report.mismatches:
                t.add_row(*cells(m.check, m.where, m.what, m.model, m.kernel))
            print_table(OUT, t)
        OUT.print(f"plan {p.name!r}: {report.routes} route decisions and {report.packets} packets over {report.pairs} "
                  f"pod pairs checked ({report.delivered} delivered and {report.dropped} dropped as the model says); "
                  + (f"{len(report.mismatches)} mismatch(es)" if report.mismatches else "no mismatch"), markup=False)
        for note in report.notes:
            OUT.print(f"  note: {note}", markup=False)
    if not report.ok:
        raise SystemExit(1)


@netns.command("down")
@plan_inputs
@handle_errors
def down_cmd(plan: tuple[str, ...]) -> None:
    """Remove every namespace of PLAN (and with them every link, route and entry)."""
    kernel = _kernel()
    p = load(plan)
    try:
        gone = kernel.down(p)
    except kernel.KernelProblem as e:
        raise UsageProblem(str(e)) from None
    OUT.print(f"removed {len(gone)} namespaces of plan {p.name!r}" if gone else f"plan {p.name!r} was not up",
              markup=False)


@click.command("audit")
@plan_inputs
@click.option("--node", required=True, help="The plan's node this host (or namespace) is; with --from cloud route "
              "listings, the underlay's table (or `underlay`).")
@click.option("--netns", "ns", help="Read this network namespace instead of the host's own.")
@click.option("--from", "sources", multiple=True, metavar="[KIND=]FILE",
              help="Compare state captured elsewhere instead of this host's (repeatable): ip -j route/neigh, bridge "
              "-j fdb, iptables-save, Get-NetRoute/Get-HnsNetwork/Get-HnsEndpoint/Get-HnsPolicyList | ConvertTo-Json, "
              "hnsdiag list all, az/aws/gcloud route listings. The kind is read from the content, or named: "
              "KIND=FILE (docs/routes.md).")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def audit_cmd(plan: tuple[str, ...], node: str, ns: str | None, sources: tuple[str, ...], output: str) -> None:
    """Compare a live host's routes, neighbours and FDB (or captured state, --from) with the model's NODE; exit 1
    on any difference."""
    if sources:
        if ns is not None:
            raise UsageProblem("--netns reads a live namespace and --from reads files: give one of them")
        _audit_from(plan, node, sources, output)
        return
    kernel = _kernel()
    cluster = build(plan)
    check_node(cluster, node)
    if ns is None and cluster.node(node).os == "windows":
        raise UsageProblem(f"{node} is a Windows node: audit reads Linux tables; give --netns with the namespace "
                           "`netns up` built for it")
    if ns is not None and not kernel.nsutil.exists(ns):
        raise UsageProblem(f"no network namespace {ns!r} (see `ip netns`)")
    names = kernel.Names(cluster.plan.name)
    if ns is not None and ns == names.node(node) and kernel.realise.read_state(names) is not None:
        # this plan's own namespace: compare with what `netns up` built there (its sample pods included)
        bp = kernel.realised(cluster.plan)
        space = bp.node_space(node)
        report = kernel.audit(bp.cluster, node, ns, space)
    else:
        report = kernel.audit(cluster, node, ns)
    if output == "json":
        from cnimodel.render.scripts import fixes

        click.echo(json_text.dumps(fixes.live_report_json(report)))
    else:
        if report.differences:
            t = TextTable(title=f"{len(report.differences)} difference(s)", title_justify="left", show_edge=False)
            for col in ("status", "kind", "key", "model", "live"):
                t.add_column(col)
            for d in report.differences:
                t.add_row(*cells(d.status, d.kind, d.key, d.model, d.live))
            print_table(OUT, t)
        where = f"namespace {ns}" if ns else "this host"
        c = report.checked
        OUT.print(f"{where} against node {node!r}: {c['routes']} routes, {c['neighbors']} neighbours, {c['fdb']} FDB "
                  "entries in the model; " + (f"{len(report.differences)} difference(s)" if report.differences
                                              else "no difference"), markup=False)
    if not report.ok:
        raise SystemExit(1)


def _audit_from(plan: tuple[str, ...], node: str, sources: tuple[str, ...], output: str) -> None:
    from cnimodel.audit import InputError, audit_files
    from cnimodel.audit.detect import KINDS
    from cnimodel.commands.base import table_name
    from cnimodel.render.scripts import fixes

    cluster = build(plan)
    node = table_name(cluster, node)
    check_node(cluster, node, allow_underlay=True)
    specs: list[tuple[str, str | None]] = []
    for given in sources:
        kind, sep, path = given.partition("=")
        specs.append((path, kind) if sep and kind in KINDS else (given, None))
    try:
        report = audit_files(cluster, node, specs)
    except InputError as e:
        raise UsageProblem(e.render()) from None
    if output == "json":
        click.echo(json_text.dumps(fixes.report_json(report)))
    else:
        if report.differences:
            t = TextTable(title=f"{len(report.differences)} difference(s)", title_justify="left", show_edge=False)
            for col in ("status", "kind", "key", "model", "live"):
                t.add_column(col)
            for d in report.differences:
                t.add_row(*cells(d.status, d.kind, d.key, d.model, d.live))
            print_table(OUT, t)
            OUT.print("fix (lines of the apply script, `cnimodel routes PLAN --node N -o FORMAT`):", markup=False)
            for d in report.differences:
                OUT.print(f"  {fixes.fix_line(d.fix)}", markup=False)
        read = ", ".join(f"{s.file} ({s.kind}, {s.entries})" for s in report.sources)
        checked = ", ".join(f"{v} {k}" for k, v in report.checked.items())
        OUT.print(f"{read} against {node!r}: {checked} in the model; "
                  + (f"{len(report.differences)} difference(s)" if report.differences else "no difference"),
                  markup=False)
        for note in report.notes:
            OUT.print(f"  note: {note}", markup=False)
    if not report.ok:
        raise SystemExit(1)


COMMANDS = [netns, audit_cmd]
