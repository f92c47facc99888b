"""Reachability written as it is produced: txt, JSON, CSV and Markdown, in blocks, never whole in memory.

The answers come as ``cnimodel.policy.pairs`` runs (a source, the destinations it gets an answer for, the answers'
ids) and single connections. A run's lines are made by joining three columns — the source's part, each
destination's part, each answer's part — each worked out once, not once per line. The text is the same, byte for
byte, as the whole-answer renderers write (policy_txt.line, policy_json.document, policy_table).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from cnimodel.policy.endpoint import Connection, Peer
from cnimodel.policy.enforcement import Unenforced
from cnimodel.policy.pairs import Pairs, Run
from cnimodel.render import json_text
from cnimodel.render.policy_json import connection as json_connection
from cnimodel.render.policy_table import HEADER, _md
from cnimodel.render.policy_txt import conn_text, line

BLOCK = 1 << 20  # characters gathered before a write


class _Columns:
    """A format's parts: before a destination (per source), the destination's, after it (per answer id)."""

    def __init__(self, pairs: Pairs | None, dst_part: Callable[[Peer], str], answer_part: Callable[[Any], str]):
        self.pairs = pairs
        self._dst_part, self._answer_part = dst_part, answer_part
        self._dsts: np.ndarray | None = None
        self._answers: np.ndarray | None = None

    def run(self, src_part: str, run: Run) -> str:
        assert self.pairs is not None
        if self._dsts is None:
            self._dsts = np.array([self._dst_part(d) for d in self.pairs.destinations], dtype=object)
            self._answers = np.array([self._answer_part(c) for c in self.pairs.table], dtype=object)
        n = len(run.idx)
        parts = np.empty(3 * n, dtype=object)
        parts[0::3] = src_part
        parts[1::3] = self._dsts[run.idx]
        parts[2::3] = self._answers[run.ids]  # type: ignore[index]
        return "".join(parts.tolist())


def _pump(write: Callable[[str], object], pieces: Iterable[str]) -> None:
    buf: list[str] = []
    size = 0
    for piece in pieces:
        buf.append(piece)
        size += len(piece)
        if size >= BLOCK:
            write("".join(buf))
            buf, size = [], 0
    if buf:
        write("".join(buf))


def txt(write: Callable[[str], object], answer: Pairs | Iterable[Connection]) -> None:
    """netpol-analyzer's ``src => dst : conn`` lines (policy_txt.line), one per pair."""
    cols = _Columns(answer if isinstance(answer, Pairs) else None, lambda d: f"{d.label} : ",
                    lambda c: c.text() + "\n")

    def pieces() -> Iterable[str]:
        for item in answer:
            yield cols.run(f"{item.src.label} => ", item) if isinstance(item, Run) else line(item) + "\n"

    _pump(write, pieces())


def _indent(text: str, pad: str) -> str:
    return text.replace("\n", "\n" + pad)


def json(write: Callable[[str], object], answer: Pairs | Iterable[Connection],
         unenforced: Unenforced | None = None) -> None:
    """``json_text.dumps(policy_json.document(conns, unenforced=…))`` and a newline, written as produced."""
    pad = "    "
    # A run's pair is {"src": …, "dst": …, <the answer's fields>}; the answer's fields are the same per id.
    def answer_part(c: Any) -> str:
        fields = json_text.dumps({"dst": "", **c.to_json()})
        return _indent(fields[fields.index(",\n"):], pad) + ",\n" + pad

    cols = _Columns(answer if isinstance(answer, Pairs) else None, lambda d: json_text.dumps(d.json_name),
                    answer_part)

    def pieces() -> Iterable[str]:
        head = json_text.dumps({"unenforced": unenforced.to_json() if unenforced is not None else None})
        yield head[:-2] + ',\n  "connections": ['
        first = True
        for item in answer:
            if isinstance(item, Run):
                src = f'{{\n{pad}  "src": {json_text.dumps(item.src.json_name)},\n{pad}  "dst": '
                text = cols.run(src, item)
                text = text[:-len(",\n" + pad)]
            else:
                text = _indent(json_text.dumps(json_connection(item)), pad)
            yield ("\n" if first else ",\n") + pad + text
            first = False
        yield "]\n}\n" if first else "\n  ]\n}\n"

    _pump(write, pieces())


def _csv_fields(*fields: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def csv_rows(write: Callable[[str], object], answer: Pairs | Iterable[Connection]) -> None:
    """policy_table.csv_text: a header, then ``src,dst,conn,note`` rows."""
    cols = _Columns(answer if isinstance(answer, Pairs) else None, lambda d: _csv_fields(d.label)[:-1] + ",",
                    lambda c: _csv_fields(c.text(), ""))

    def pieces() -> Iterable[str]:
        yield _csv_fields(*HEADER)
        for item in answer:
            if isinstance(item, Run):
                yield cols.run(_csv_fields(item.src.label)[:-1] + ",", item)
            else:
                yield _csv_fields(item.src.label, item.dst.label, conn_text(item), item.note)

    _pump(write, pieces())


def md_rows(write: Callable[[str], object], answer: Pairs | Iterable[Connection]) -> None:
    """policy_table.md_text: the table's head, then a row per pair."""
    cols = _Columns(answer if isinstance(answer, Pairs) else None, lambda d: f"{_md(d.label)} | ",
                    lambda c: f"{_md(c.text())} |  |\n")

    def pieces() -> Iterable[str]:
        yield "| src | dst | conn | note |\n|-----|-----|------|------|\n"
        for item in answer:
            if isinstance(item, Run):
                yield cols.run(f"| {_md(item.src.label)} | ", item)
            else:
                yield (f"| {_md(item.src.label)} | {_md(item.dst.label)} | {_md(conn_text(item))} | "
                       f"{_md(item.note)} |\n")

    _pump(write, pieces())
