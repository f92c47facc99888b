"""Tables past PLAIN_ROWS rows are written without rich's layout. Rich itself is the oracle: where no cell
needs wrapping, the plain form must be what rich prints, line for line (trailing spaces aside)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table

from cnimodel.render.text import PLAIN_ROWS, TextTable, cells, plain_cells, print_rows, print_table


def table(pad_edge: bool, title: str | None, rows: int = 3, columns: int = 3) -> Table:
    t = TextTable(title=title, title_justify="left", show_edge=False, pad_edge=pad_edge)
    for c in ("service port", "chains", "verdict without endpoints")[:columns]:
        t.add_column(c)
    for i in range(rows):
        t.add_row(*cells(f"shop/web-{i}:http", "KUBE-SVC-" + "X" * (i % 7), "-" if i % 2 else "REJECT")[:columns])
    return t


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


@pytest.mark.parametrize("pad_edge", [False, True])
@pytest.mark.parametrize("title", [None, "  routes"])
@pytest.mark.parametrize("columns", [1, 3])
def test_plain_form_is_richs_layout(pad_edge: bool, title: str | None, columns: int) -> None:
    rich_out, plain_out = io.StringIO(), io.StringIO()
    Console(file=rich_out, width=300, soft_wrap=True).print(table(pad_edge, title, columns=columns))
    print_table(Console(file=plain_out, width=300), table(pad_edge, title, columns=columns), limit=0)
    assert lines(plain_out.getvalue()) == lines(rich_out.getvalue())


def test_a_large_table_prints_one_line_per_row_whatever_the_width() -> None:
    out = io.StringIO()
    t = table(False, None, rows=PLAIN_ROWS + 1)
    t.add_row(*cells("shop/long:http", "KUBE-SVC-" + "Y" * 250, "-"))  # wider than the console
    print_table(Console(file=out, width=80), t)
    got = out.getvalue().splitlines()
    assert len(got) == 2 + PLAIN_ROWS + 2  # header, rule, every row on its own line
    assert [c.strip() for c in got[-1].split(" │ ")] == ["shop/long:http", "KUBE-SVC-" + "Y" * 250, "-"]
    assert len({line.index("│") for line in got[2:]}) == 1  # columns stay aligned


@pytest.mark.parametrize("odd", ["", "bell\x07 and\rreturn", "two\nlines"])
def test_print_rows_from_cell_text_is_print_table_of_their_cells(odd: str) -> None:
    # a renderer that knows its table is past the limit hands the cells' text; rich's Text is the oracle for
    # what becomes of control characters and newlines in a cell
    values = [[f"shop/web-{i}:http", f"KUBE-SVC-{odd}{i}", "-"] for i in range(PLAIN_ROWS + 1)]
    t = TextTable(show_edge=False, pad_edge=False)
    for c in ("service port", "chains", "verdict without endpoints"):
        t.add_column(c)
    for row in values:
        t.add_row(*cells(*row))
    via_table, via_rows = io.StringIO(), io.StringIO()
    print_table(Console(file=via_table, width=80), t)
    print_rows(Console(file=via_rows, width=80), ["service port", "chains", "verdict without endpoints"],
               plain_cells(values), pad_edge=False)
    assert via_rows.getvalue() == via_table.getvalue()
