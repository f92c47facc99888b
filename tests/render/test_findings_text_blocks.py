"""Findings text goes out in blocks (cnimodel/render/findings_text.py): where a block ends changes nothing, and a
finding reads as docs/checks.md shows it: severity and code line, message, objects, at, fix, ref."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cnimodel import examples
from cnimodel.cluster import Cluster
from cnimodel.plan import Origin, load_plan
from cnimodel.render import findings_text
from cnimodel.validate import Finding, validate


def _text(report: object, terminal: bool) -> str:
    buf = io.StringIO()
    findings_text.render(Console(file=buf, highlight=False, soft_wrap=True, width=200, force_terminal=terminal),
                         report)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize("terminal", [False, True])
def test_block_boundaries_change_nothing(monkeypatch: pytest.MonkeyPatch, terminal: bool) -> None:
    plan = load_plan([str(examples.path("check-hybrid-mistakes.yaml"))])
    report = validate(plan, Cluster.build(plan))
    assert len(report.findings) > 3
    whole = _text(report, terminal)
    for block in (1, 2, 3):
        monkeypatch.setattr(findings_text, "BLOCK", block)
        assert _text(report, terminal) == whole
    f = report.findings[0]
    lines = _text(report, False).splitlines()
    assert lines[1] == f"{f.severity:<8}{f.code}  {f.title}" and lines[2] == f"  {f.message}"
    assert lines[-1].endswith(f"({len(report.ran)} checks)")


def test_plain_writing_is_what_rich_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Into a file or pipe the findings are written as they are, without rich: the same characters as rich's
    own print, control characters dropped as rich drops them; text with a tab is left to rich."""
    plan = load_plan([str(examples.path("check-hybrid-mistakes.yaml"))])
    report = validate(plan, Cluster.build(plan))
    odd = Finding("CNI-X-001", "warning", "x", "odd text", "a bell\x07, a return\r and é ü 漢字", "fix",
                  ("a[Pod]",), (Origin("plan.yaml", 1, "items[2]"),), "ref")
    tab = Finding("CNI-X-002", "info", "x", "tab", "a\ttab", "", (), (), "ref")
    for findings in (report.findings, [odd], [*report.findings[:2], odd, tab], [tab]):
        report.findings = findings
        assert findings_text.writes_plain(Console(file=io.StringIO(), highlight=False, soft_wrap=True, width=200))
        fast = _text(report, False)
        monkeypatch.setattr(findings_text, "writes_plain", lambda _console: False)
        assert _text(report, False) == fast
        monkeypatch.undo()
        assert "\x07" not in fast and "\r" not in fast
