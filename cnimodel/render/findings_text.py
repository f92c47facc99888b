"""Findings as text for people: one block per finding, most severe first, and a closing count."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from cnimodel.plan import Origin
from cnimodel.validate import Report

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
BLOCK = 256  # findings per print


def where(o: Origin) -> str:
    doc = f" (document {o.document + 1})" if o.document else ""
    return f"{o.file}{doc}{' ' + o.path if o.path else ''}"


def render(console: Console, report: Report, title: bool = True) -> None:
    """Every finding of ``report``, then ``N errors, N warnings, N info (M checks)``."""
    if title:
        console.print(Text(f"checks on plan {report.plan!r}", style="bold"))
    # Findings go out in blocks of one Text each: a print per line costs more than the checks on a large plan.
    block = Text()
    for n, f in enumerate(report.findings, 1):
        block.append(f"{f.severity:<8}", style=STYLE[f.severity])
        block.append(f"{f.code}  {f.title}", style="bold")
        block.append(f"\n  {f.message}")
        if f.objects:
            block.append(f"\n  objects: {', '.join(f.objects)}")
        for o in f.locations[:3]:
            block.append(f"\n  at: {where(o)}")
        if f.fix:
            block.append(f"\n  fix: {f.fix}")
        block.append("\n")
        block.append(f"  ref: {f.reference}", style="dim")
        if n % BLOCK == 0 or n == len(report.findings):
            console.print(block)
            block = Text()
        else:
            block.append("\n")
    c = report.counts
    skipped = f", {len(report.skipped)} skipped: no ClusterPlan" if report.skipped else ""
    console.print(Text(f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info "
                       f"({len(report.ran)} checks{skipped})"))
