"""Findings as text for people: one block per finding, most severe first, and a closing count."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from cnimodel.plan import Origin
from cnimodel.validate import Report

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def where(o: Origin) -> str:
    doc = f" (document {o.document + 1})" if o.document else ""
    return f"{o.file}{doc}{' ' + o.path if o.path else ''}"


def render(console: Console, report: Report, title: bool = True) -> None:
    """Every finding of ``report``, then ``N errors, N warnings, N info (M checks)``."""
    if title:
        console.print(Text(f"checks on plan {report.plan!r}", style="bold"))
    for f in report.findings:
        head = Text()
        head.append(f"{f.severity:<8}", style=STYLE[f.severity])
        head.append(f"{f.code}  {f.title}", style="bold")
        console.print(head)
        console.print(Text(f"  {f.message}"))
        if f.objects:
            console.print(Text(f"  objects: {', '.join(f.objects)}"))
        for o in f.locations[:3]:
            console.print(Text(f"  at: {where(o)}"))
        if f.fix:
            console.print(Text(f"  fix: {f.fix}"))
        console.print(Text(f"  ref: {f.reference}", style="dim"))
    c = report.counts
    skipped = f", {len(report.skipped)} skipped: no ClusterPlan" if report.skipped else ""
    console.print(Text(f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info "
                       f"({len(report.ran)} checks{skipped})"))
