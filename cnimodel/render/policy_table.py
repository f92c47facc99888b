"""Reachability as CSV or Markdown: columns ``src,dst,conn`` as netpol-analyzer writes them, plus ``note``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from cnimodel.policy.analysis import Connection
from cnimodel.render.policy_txt import conn_text

HEADER = ("src", "dst", "conn", "note")


def csv_text(conns: Iterable[Connection]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for c in conns:
        w.writerow((c.src.label, c.dst.label, conn_text(c), c.note))
    return buf.getvalue()


def _md(s: str) -> str:
    return s.replace("|", "\\|")


def md_text(conns: Iterable[Connection]) -> str:
    out = ["| src | dst | conn | note |", "|-----|-----|------|------|"]
    out += [f"| {_md(c.src.label)} | {_md(c.dst.label)} | {_md(conn_text(c))} | {_md(c.note)} |" for c in conns]
    return "\n".join(out) + "\n"
