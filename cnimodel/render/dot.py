"""Graphviz DOT of the forwarding graph: its picture (``cnimodel.graph.wiring``, undirected) or one destination's
graph (directed, an arrow per forwarding decision); one cluster per node (its table, NIC, devices, vSwitches, pods),
pods filled with their namespace's colour, and traces drawn as numbered, highlighted edges."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from itertools import pairwise

import networkx as nx

SHAPES = {"router": "doubleoctagon", "subnet": "box3d", "host": "box", "interface": "ellipse", "bridge": "ellipse",
          "table": "tab", "tunnel": "cds", "port": "ellipse", "lb": "diamond", "vswitch": "component", "pod": "oval",
          "pod-group": "folder", "internet": "egg"}
PATH_COLORS = ("#e8590c", "#7048e8", "#0c8599", "#c2255c", "#5c940d")


def _q(s: object) -> str:
    """A DOT string: backslashes and quotes escaped, newlines as DOT's ``\\n`` line break."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def ns_color(i: int, light: bool = True) -> str:
    """The colour of the i-th namespace (sorted by name), as the HTML report draws it."""
    h = ((i * 137.508 + 200) % 360) / 360
    r, g, b = colorsys.hls_to_rgb(h, 0.9 if light else 0.45, 0.7 if light else 0.6)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def render(g: nx.Graph, paths: Sequence[Sequence[str]] = ()) -> str:
    """DOT text. ``paths``: vertex ids a trace passes, in order (``cnimodel.graph.wiring.drawn_path``), drawn as
    numbered edges. A directed graph (one destination's) is a ``digraph``."""
    directed = g.is_directed()
    link = "->" if directed else "--"
    lines = [f"{'digraph' if directed else 'graph'} {_q(g.graph.get('name', 'cluster'))} {{", "  rankdir=TB;",
             "  node [fontsize=10];"]
    on_path = {v for p in paths for v in p}
    namespaces = sorted({a["namespace"] for _, a in g.nodes(data=True) if a.get("kind") == "pod"})
    colors = {ns: ns_color(i) for i, ns in enumerate(namespaces)}
    members: dict[str, list[str]] = {}
    for n in g.nodes:
        host = host_of(g, n)
        if host:
            members.setdefault(host, []).append(n)
    for n, attrs in g.nodes(data=True):
        if not host_of(g, n):
            lines.append(f"  {_q(n)} [{_node_attrs(n, attrs, colors, on_path)}];")
    for i, (host, ids) in enumerate(members.items()):
        h = g.nodes.get(f"host:{host}", {})
        lines.append(f"  subgraph cluster_{i} {{")
        title = f"{host} ({h.get('os', '')}, {h.get('ip', '')})" if h else host  # a graph without its host
        lines.append(f"    label={_q(title)};")
        for n in ids:
            lines.append(f"    {_q(n)} [{_node_attrs(n, g.nodes[n], colors, on_path)}];")
        lines.append("  }")
    for a, b, attrs in g.edges(data=True):
        lines.append(f"  {_q(a)} {link} {_q(b)} [label={_q(edge_label(attrs))}, fontsize=8];")
    for k, path in enumerate(paths):
        color = PATH_COLORS[k % len(PATH_COLORS)]
        for step, (a, b) in enumerate(pairwise(path), start=1):
            if a != b:
                lines.append(f"  {_q(a)} {link} {_q(b)} [dir=forward, color={_q(color)}, penwidth=2.5, "
                             f"fontcolor={_q(color)}, label={_q(f'{k + 1}.{step}')}, constraint=false];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def edge_label(attrs: dict) -> str:
    """An edge's kind; a DNAT's also names the class it leads into."""
    kind = str(attrs.get("kind", ""))
    return f"{kind} → {attrs['to_cls']}" if attrs.get("to_cls") else kind


def shape_kind(n: str, attrs: dict) -> str:
    return "router" if n.startswith("router:") else str(attrs.get("kind", ""))


def _node_attrs(n: str, attrs: dict, colors: dict[str, str], on_path: set[str]) -> str:
    label = attrs.get("label", n)
    if attrs.get("kind") in ("interface", "bridge", "tunnel") and attrs.get("addresses"):
        label = f"{label}\n{', '.join(attrs['addresses'])}"
    out = [f"label={_q(label)}", f"shape={SHAPES.get(shape_kind(n, attrs), 'ellipse')}"]
    if attrs.get("kind") == "pod" and attrs.get("namespace") in colors:
        out += ["style=filled", f"fillcolor={_q(colors[attrs['namespace']])}"]
    if n in on_path:
        out += [f"color={_q(PATH_COLORS[0])}", "penwidth=2.5"]
    return ", ".join(out)


def host_of(g: nx.Graph, node_id: str) -> str | None:
    """The node whose cluster a vertex is drawn in: the node holding it (its ``node``), for a pod its node."""
    node = g.nodes[node_id].get("node") if node_id in g else None
    if node:
        return str(node)
    kind, _, rest = node_id.partition(":")
    if kind in ("host", "pods"):
        return rest
    return None
