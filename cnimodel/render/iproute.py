"""Linux facts in the exact syntax of ``ip route``, ``ip neigh`` and ``bridge fdb``."""

from __future__ import annotations

from cnimodel.dataplane import NodeFacts
from cnimodel.syntax import fdb_line, kernel_order, neigh_line, route_line


def render(f: NodeFacts) -> str:
    """What ``ip route; ip neigh; bridge fdb`` would print on the node (sections marked by comments)."""
    lines = [f"# {f.node}: ip route"] + [route_line(r) for r in kernel_order(f.routes)]
    if f.neighbors:
        lines += [f"# {f.node}: ip neigh"] + [neigh_line(n) for n in f.neighbors]
    if f.fdb:
        lines += [f"# {f.node}: bridge fdb"] + [fdb_line(e) for e in f.fdb]
    return "\n".join(lines)
