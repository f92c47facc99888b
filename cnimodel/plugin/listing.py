"""A listing a plugin gives in the shape its own tool prints it (``ovn-nbctl lb-list``, ``lr-route-list``): a title,
fixed-width columns, rows, notes, and the same content as JSON. The renderer only lays it out
(cnimodel.render.listing_text); ``lb`` and ``routes`` print the listings a plugin gives for a node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    """A fixed-width column: its title, its width (0: as wide as its value), how many characters of a value it
    keeps (None: all), and whether values are right-aligned."""

    title: str
    width: int
    keep: int | None = None
    right: bool = False


@dataclass(frozen=True)
class Listing:
    """A title, fixed-width columns, rows (a row's empty leading cells continue the row above; a row of one cell
    is a line of its own, as a sub-heading), notes, and the same content as JSON (``data``)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    header: bool = True  # print the columns' titles


__all__ = ["Column", "Listing"]
