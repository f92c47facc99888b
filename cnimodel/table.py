"""Answers as tables: rows under stable column names, rendered to text, JSON, CSV and Markdown, or handed to
pandas (pybatfish's shape: a question's answer is a frame).

>>> t = Table(("node", "ip"), [("lin1", "10.240.0.10"), ("win1", "10.240.0.20")])
>>> t[0]
{'node': 'lin1', 'ip': '10.240.0.10'}
>>> print(t.to_csv(), end="")
node,ip
lin1,10.240.0.10
win1,10.240.0.20
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any


class Table:
    """Rows of one answer. Iterating gives each row as a dict; ``columns`` never change for a question."""

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.columns = tuple(columns)
        self.rows = [tuple(r) for r in rows]
        for r in self.rows:
            if len(r) != len(self.columns):
                raise ValueError(f"a row of {len(r)} values for {len(self.columns)} columns")

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (dict(zip(self.columns, r, strict=True)) for r in self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return dict(zip(self.columns, self.rows[i], strict=True))

    def column(self, name: str) -> list[Any]:
        """The values of one column, in row order."""
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def to_json(self) -> list[dict[str, Any]]:
        return list(self)

    def to_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(self.columns)
        w.writerows([_text(v) for v in r] for r in self.rows)
        return out.getvalue()

    def to_markdown(self) -> str:
        def cell(v: Any) -> str:
            return _text(v).replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in self.rows]
        return "\n".join(lines) + "\n"

    def to_text(self) -> str:
        """Aligned plain columns, as kubectl prints tables."""
        cells = [list(self.columns), *([_text(v) for v in r] for r in self.rows)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        return "".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n"
                       for row in cells)

    def to_pandas(self) -> Any:
        """A pandas DataFrame (pandas is not a dependency of cnimodel: install it to use this)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Table.to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame(self.rows, columns=list(self.columns))

    def __repr__(self) -> str:
        shown = Table(self.columns, self.rows[:20]).to_text()
        more = f"… {len(self.rows) - 20} more rows\n" if len(self.rows) > 20 else ""
        return shown + more


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple):
        return ",".join(map(_text, v))
    return str(v)
