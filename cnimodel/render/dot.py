"""Graphviz DOT of the data-plane graph: one cluster per host."""

from __future__ import annotations

import networkx as nx

SHAPES = {"router": "doubleoctagon", "subnet": "box3d", "host": "box", "device": "ellipse",
          "vswitch": "component", "pod": "oval", "pod-group": "folder"}


def _q(s: object) -> str:
    """A DOT string: backslashes and quotes escaped, newlines as DOT's ``\\n`` line break."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(g: nx.Graph) -> str:
    lines = [f"graph {_q(g.graph.get('name', 'cluster'))} {{", "  rankdir=TB;", "  node [fontsize=10];"]
    members: dict[str, list[str]] = {}
    for n in g.nodes:
        host = _host_of(n)
        if host:
            members.setdefault(host, []).append(n)
    for n, attrs in g.nodes(data=True):
        if _host_of(n):
            continue
        shape = SHAPES.get(attrs["kind"], "ellipse")
        lines.append(f"  {_q(n)} [label={_q(attrs.get('label', n))}, shape={shape}];")
    for i, (host, ids) in enumerate(members.items()):
        h = g.nodes.get(f"host:{host}", {})
        lines.append(f"  subgraph cluster_{i} {{")
        title = f"{host} ({h.get('os', '')}, {h.get('ip', '')})"
        lines.append(f"    label={_q(title)};")
        for n in ids:
            attrs = g.nodes[n]
            label = attrs.get("label", n)
            if attrs["kind"] == "device" and attrs.get("addresses"):
                label = f"{label}\n{', '.join(attrs['addresses'])}"
            lines.append(f"    {_q(n)} [label={_q(label)}, shape={SHAPES.get(attrs['kind'], 'ellipse')}];")
        lines.append("  }")
    for a, b, attrs in g.edges(data=True):
        lines.append(f"  {_q(a)} -- {_q(b)} [label={_q(attrs.get('kind', ''))}, fontsize=8];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _host_of(node_id: str) -> str | None:
    kind, _, rest = node_id.partition(":")
    if kind == "host":
        return rest
    if kind in ("dev", "vswitch"):
        return rest.split("/", 1)[0]
    if kind == "pods":
        return rest
    return None
