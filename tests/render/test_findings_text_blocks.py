"""Findings text goes out in blocks (cnimodel/render/findings_text.py): where a block ends changes nothing, and a
finding reads as docs/checks.md shows it: severity and code line, message, objects, at, fix, ref."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cnimodel import examples
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.render import findings_text
from cnimodel.validate import validate


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
