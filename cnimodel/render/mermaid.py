"""Mermaid flowcharts for Markdown: the data-plane graph with one subgraph per host, or reachability with
one subgraph per namespace. Vertex ids are generated (``v0``, ``v1`` …); every label is written with
Mermaid's ``#code;`` escapes, so a name is shown as text and never read as markup."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise

import networkx as nx

from cnimodel.render.dot import PATH_COLORS, edge_label, host_of, ns_color, shape_kind

_PLAIN = re.compile(r"[A-Za-z0-9 .,:/_+=*()\-]")
SHAPES = {"router": ('{{"', '"}}'), "subnet": ('[/"', '"/]'), "host": ('["', '"]'), "interface": ('("', '")'),
          "bridge": ('("', '")'), "tunnel": ('>"', '"]'), "table": ('[("', '")]'), "lb": ('{"', '"}'),
          "port": ('("', '")'),
          "vswitch": ('[["', '"]]'), "pod": ('(["', '"])'), "pod-group": ('[("', '")]'), "internet": ('(("', '"))')}


def label(text: object) -> str:
    """``text`` for a quoted Mermaid label: characters other than letters, digits and a few safe marks
    become ``#<code>;`` (``<`` → ``#60;``); a newline becomes a ``<br>`` break."""
    out = []
    for ch in str(text):
        if ch == "\n":
            out.append("<br>")
        else:
            out.append(ch if _PLAIN.fullmatch(ch) else f"#{ord(ch)};")
    return "".join(out)


class _Ids:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def __call__(self, key: str) -> str:
        if key not in self.ids:
            self.ids[key] = f"v{len(self.ids)}"
        return self.ids[key]


def render(g: nx.Graph, paths: Sequence[Sequence[str]] = ()) -> str:
    """A ``flowchart TB``: the underlay and subnets on top, a subgraph per host; trace edges numbered. A directed
    graph (one destination's forwarding graph) gets arrows."""
    vid = _Ids()
    out = ["flowchart TB"]
    namespaces = sorted({a["namespace"] for _, a in g.nodes(data=True) if a.get("kind") == "pod"})
    ns_class = {ns: f"ns{i}" for i, ns in enumerate(namespaces)}
    members: dict[str, list[str]] = {}
    for n, attrs in g.nodes(data=True):
        host = host_of(g, n)
        if host:
            members.setdefault(host, []).append(n)
        else:
            out.append(f"  {_vertex(vid, n, attrs)}")
    for i, (host, ids) in enumerate(members.items()):
        h = g.nodes.get(f"host:{host}", {})
        title = label(f"{host} ({h.get('os', '')}, {h.get('ip', '')})" if h else host)
        out.append(f'  subgraph c{i} ["{title}"]')
        out += [f"    {_vertex(vid, n, g.nodes[n])}" for n in ids]
        out.append("  end")
    links = 0
    line = "-->" if g.is_directed() else "---"
    for a, b, attrs in g.edges(data=True):
        kind = edge_label(attrs)
        out.append(f'  {vid(a)} {line}|"{label(kind)}"| {vid(b)}' if kind else f"  {vid(a)} {line} {vid(b)}")
        links += 1
    for k, path in enumerate(paths):
        color = PATH_COLORS[k % len(PATH_COLORS)]
        styled = []
        for step, (a, b) in enumerate(pairwise(path), start=1):
            if a != b and a in vid.ids and b in vid.ids:
                out.append(f'  {vid(a)} ==>|"{k + 1}.{step}"| {vid(b)}')
                styled.append(str(links))
                links += 1
        if styled:
            out.append(f"  linkStyle {','.join(styled)} stroke:{color},stroke-width:3px")
    for i, ns in enumerate(namespaces):
        pods = [vid.ids[n] for n, a in g.nodes(data=True) if a.get("kind") == "pod" and a.get("namespace") == ns]
        out.append(f"  classDef {ns_class[ns]} fill:{ns_color(i)},stroke:{ns_color(i, light=False)}")
        out.append(f"  class {','.join(pods)} {ns_class[ns]}")
    return "\n".join(out) + "\n"


def _vertex(vid: _Ids, n: str, attrs: dict) -> str:
    text = attrs.get("label", n)
    if attrs.get("kind") in ("interface", "bridge", "tunnel") and attrs.get("addresses"):
        text = f"{text}\n{', '.join(attrs['addresses'])}"
    if attrs.get("kind") == "host":
        text = f"{text} ({attrs.get('os', '')})"
    left, right = SHAPES.get(shape_kind(n, attrs), ('["', '"]'))
    return f"{vid(n)}{left}{label(text)}{right}"


def policy(conns: Iterable) -> str:
    """Reachability (``cnimodel.policy`` Connections) as a ``flowchart LR``: a subgraph per namespace, an edge
    per pair labelled with what is allowed; pairs with nothing allowed are dotted."""
    from cnimodel.render.policy_txt import conn_text

    rows = list(conns)
    vid = _Ids()
    out = ["flowchart LR"]
    ends: dict[str, object] = {}
    for c in rows:
        ends.setdefault(c.src.label, c.src)
        ends.setdefault(c.dst.label, c.dst)
    by_ns: dict[str, list] = {}
    for e in ends.values():
        by_ns.setdefault(e.namespace or "", []).append(e)  # type: ignore[attr-defined]
    for i, (ns, members) in enumerate(sorted(by_ns.items())):
        if ns:
            out.append(f'  subgraph n{i} ["{label(ns)}"]')
        for e in members:
            name = e.name.split("/", 1)[1] if ns else e.label  # type: ignore[attr-defined]
            out.append(f'    {vid(e.label)}["{label(name)}"]')  # type: ignore[attr-defined]
        if ns:
            out.append("  end")
    for c in rows:
        arrow = "-->" if c.conns else "-.->"
        out.append(f'  {vid(c.src.label)} {arrow}|"{label(conn_text(c))}"| {vid(c.dst.label)}')
    return "\n".join(out) + "\n"
