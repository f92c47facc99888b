"""A plugin's listing (cnimodel.plugin.listing.Listing) as text: its fixed-width columns, as its own tool prints it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from cnimodel.plugin.listing import Column, Listing


def _cell(value: str, col: Column) -> str:
    value = value if col.keep is None else value[:col.keep]
    if not col.width:
        return value
    if len(value) >= col.width:
        return value + " "
    return value.rjust(col.width) if col.right else value.ljust(col.width)


def listing(console: Console, t: Listing) -> None:
    console.print(t.title, markup=False)
    if t.header:
        console.print("".join(_cell(c.title, c) for c in t.columns).rstrip(), markup=False, highlight=False)
    for row in t.rows:
        line = row[0] if len(row) == 1 else "".join(_cell(v, c) for v, c in zip(row, t.columns, strict=False))
        console.print(line.rstrip(), markup=False, highlight=False)
    for n in t.notes:
        console.print(f"note: {n}", markup=False)
    console.print()


__all__ = ["listing"]
