"""Findings as JSON (keys documented in docs/checks.md)."""

from __future__ import annotations

from typing import Any

from cnimodel.validate import Report


def render(report: Report) -> dict[str, Any]:
    """``{"plan", "summary": {error, warning, info, checks, skipped}, "findings": [...]}``."""
    return report.to_json()
