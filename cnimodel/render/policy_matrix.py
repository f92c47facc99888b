"""A truth table for one port, as the Kubernetes e2e tests and cyclonus print it: rows are sources, columns
destinations; ``.`` allowed, ``X`` blocked, ``-`` not evaluated (a pod and itself)."""

from __future__ import annotations

from collections.abc import Sequence

from cnimodel.policy.analysis import Connection, Peer


def render(sources: Sequence[Peer], destinations: Sequence[Peer], cells: dict[tuple[str, str], Connection],
           title: str) -> str:
    """``cells`` maps (source label, destination label) to the connection already restricted to the port."""
    names = [e.name for e in destinations]
    first = max([len(title), *(len(e.name) for e in sources)])
    widths = [max(1, len(n)) for n in names]
    out = ["  ".join([title.ljust(first), *(n.ljust(w) for n, w in zip(names, widths, strict=True))]).rstrip()]
    for s in sources:
        row = [s.name.ljust(first)]
        for d, w in zip(destinations, widths, strict=True):
            c = cells.get((s.label, d.label))
            mark = "-" if c is None or c.conns is None else "." if c.conns else "X"
            row.append(mark.ljust(w))
        out.append("  ".join(row).rstrip())
    return "\n".join(out) + "\n"
