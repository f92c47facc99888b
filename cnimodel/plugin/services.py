"""The optional Services capability of a plugin that implements Services itself (``ServiceRole("plugin")``: its
own load balancers, no kube-proxy). ``NetworkPlugin.services()`` returns it; ``cnimodel lb`` shows its tables, and
the Services engine (``cnimodel.services.decide``) asks it for the load-balancing decision a trace takes.

A table is data in the shape the plugin's own tool prints it (``ovn-nbctl lb-list``'s columns and widths); the
renderer only lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.services.decision import Decision, SourceKind
    from cnimodel.services.model import IPAddress


@dataclass(frozen=True)
class Column:
    """A fixed-width column: its title, its width, and how many characters of a value it keeps (None: all)."""

    title: str
    width: int
    keep: int | None = None


@dataclass(frozen=True)
class LbTable:
    """One listing of a node's load balancers: a title, fixed-width columns, rows (a row's empty leading cells
    continue the row above), notes, and the same content as JSON (``data``)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


class PluginServices(Protocol):
    """A plugin's own Services implementation."""

    def decide(self, cluster: Cluster, node: str, base: dict[str, Any], service: str, frontend: str,
               source_kind: SourceKind, source: IPAddress | None) -> Decision:
        """How ``node`` load-balances a new connection to a frontend of ``service`` (``base``: the Decision's
        node, os, vip, port, protocol and source fields)."""
        ...

    def tables(self, cluster: Cluster, node: str, services: list[str] | None) -> tuple[LbTable, ...]:
        """The node's load balancers (only ``services``' when given, as ``NS/NAME``)."""
        ...


__all__ = ["Column", "LbTable", "PluginServices"]
