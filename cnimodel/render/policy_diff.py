"""The reachability diff of two plans as text, JSON or Markdown (netpol-analyzer's ``diff`` shapes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cnimodel.policy.diff import DiffRow


def txt(rows: Iterable[DiffRow]) -> str:
    """``diff-type: changed, source: a[Pod], destination: b[Pod], dir1: TCP 80, dir2: All Connections``."""
    out = []
    for r in rows:
        text = (f"diff-type: {r.kind}, source: {r.src.label}, destination: {r.dst.label}, "
                f"dir1: {r.before.text()}, dir2: {r.after.text()}")
        out.append(text + (f", workloads-diff-info: {r.info}" if r.info else ""))
    return "".join(line + "\n" for line in out)


def document(rows: Iterable[DiffRow]) -> dict[str, Any]:
    return {"diffs": [{"diff_type": r.kind, "src": r.src.json_name, "dst": r.dst.json_name,
                       "before": r.before.to_json(), "after": r.after.to_json(), "info": r.info} for r in rows]}


def md(rows: Iterable[DiffRow]) -> str:
    out = ["| diff-type | source | destination | dir1 | dir2 | workloads-diff-info |",
           "|-----------|--------|-------------|------|------|---------------------|"]
    out += [f"| {r.kind} | {r.src.label} | {r.dst.label} | {r.before.text()} | {r.after.text()} | {r.info} |"
            for r in rows]
    return "\n".join(out) + "\n"
