"""Findings as text for people: one block per finding, most severe first, and a closing count."""

from __future__ import annotations

from rich.console import Console
from rich.control import strip_control_codes
from rich.text import Text

from cnimodel.plan import Origin
from cnimodel.render.text import writes_plain
from cnimodel.validate import Finding, Report

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
BLOCK = 256  # findings per print


def where(o: Origin) -> str:
    doc = f" (document {o.document + 1})" if o.document else ""
    return f"{o.file}{doc}{' ' + o.path if o.path else ''}"


def render(console: Console, report: Report, title: bool = True) -> None:
    """Every finding of ``report``, then ``N errors, N warnings, N info (M checks)``."""
    if title:
        console.print(Text(f"checks on plan {report.plan!r}", style="bold"))
    # Findings go out in blocks: a print per line costs more than the checks on a large plan.
    plain = writes_plain(console)
    pieces: list[tuple[str, str | None]] = []
    for n, f in enumerate(report.findings, 1):
        pieces += _pieces(f)
        if n % BLOCK == 0 or n == len(report.findings):
            _write(console, pieces, plain)
            pieces = []
        else:
            pieces.append(("\n", None))
    c = report.counts
    skipped = f", {len(report.skipped)} skipped: no ClusterPlan" if report.skipped else ""
    console.print(Text(f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info "
                       f"({len(report.ran)} checks{skipped})"))


def _pieces(f: Finding) -> list[tuple[str, str | None]]:
    """One finding's text, in pieces with their styles."""
    out = [(f"{f.severity:<8}", STYLE[f.severity]), (f"{f.code}  {f.title}", "bold"), (f"\n  {f.message}", None)]
    if f.objects:
        out.append((f"\n  objects: {', '.join(f.objects)}", None))
    out += [(f"\n  at: {where(o)}", None) for o in f.locations[:3]]
    if f.fix:
        out.append((f"\n  fix: {f.fix}", None))
    out += [("\n", None), (f"  ref: {f.reference}", "dim")]
    return out


def _write(console: Console, pieces: list[tuple[str, str | None]], plain: bool) -> None:
    text = "".join(t for t, _ in pieces)
    if plain and "\t" not in text:  # (rich expands tabs by cell width: left to it)
        console.file.write(strip_control_codes(text) + "\n")  # what rich prints of it
        return
    block = Text()
    for t, style in pieces:
        block.append(t, style=style)
    console.print(block)
