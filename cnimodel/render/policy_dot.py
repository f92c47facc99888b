"""Reachability as Graphviz DOT: one cluster per namespace, an edge per allowed pair labelled with its
connections (netpol-analyzer's layout)."""

from __future__ import annotations

from collections.abc import Iterable

from cnimodel.policy.analysis import Connection, Peer
from cnimodel.render.policy_txt import conn_text


def _q(s: object) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(conns: Iterable[Connection]) -> str:
    rows = list(conns)
    ends: dict[str, Peer] = {}
    for c in rows:
        ends.setdefault(c.src.label, c.src)
        ends.setdefault(c.dst.label, c.dst)
    by_ns: dict[str, list[Peer]] = {}
    others: list[Peer] = []
    for e in ends.values():
        if e.namespace is not None:
            by_ns.setdefault(e.namespace, []).append(e)
        else:
            others.append(e)
    out = ["digraph reachability {", "  node [fontsize=10];", "  edge [fontsize=8];"]
    for i, (ns, members) in enumerate(sorted(by_ns.items())):
        out.append(f"  subgraph cluster_{i} {{")
        out.append(f"    label={_q(ns)};")
        for e in members:
            shape = "box" if e.host_network else "oval"
            out.append(f"    {_q(e.label)} [label={_q(e.name.split('/', 1)[1])}, shape={shape}];")
        out.append("  }")
    for e in others:
        shape = "box3d" if e.kind == "node" else "octagon"
        out.append(f"  {_q(e.label)} [label={_q(e.name)}, shape={shape}];")
    for c in rows:
        style = "" if c.conns else ", style=dashed, color=red"
        out.append(f"  {_q(c.src.label)} -> {_q(c.dst.label)} [label={_q(conn_text(c))}{style}];")
    out.append("}")
    return "\n".join(out) + "\n"
