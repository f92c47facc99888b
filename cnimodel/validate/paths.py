"""Field paths as findings carry them (``spec.nodes[3].ip``, ``items[7].spec.containers[0].image``,
``metadata.annotations['flannel.alpha.coreos.com/backend-data']``): split them, follow them through a loaded
document, or through a composed YAML node tree to a line and column (for SARIF)."""

from __future__ import annotations

from typing import Any

import yaml

Token = str | int


def split(path: str) -> list[Token]:
    """``spec.nodes[3].ip`` → ``["spec", "nodes", 3, "ip"]``; a bracketed key may hold dots or quotes."""
    out: list[Token] = []
    word = ""
    i = 0
    while i < len(path):
        c = path[i]
        if c == ".":
            if word:
                out.append(word)
            word = ""
        elif c == "[":
            if word:
                out.append(word)
            word = ""
            end = path.find("]", i + 1)
            if path[i + 1:i + 2] in ("'", '"'):
                quote = path[i + 1]
                end = path.find(quote + "]", i + 2)
                out.append(path[i + 2:end] if end >= 0 else path[i + 2:])
                i = (end + 1) if end >= 0 else len(path)
            else:
                inner = path[i + 1:end] if end >= 0 else path[i + 1:]
                out.append(int(inner) if inner.isdigit() else inner)
                i = end if end >= 0 else len(path)
        else:
            word += c
        i += 1
    if word:
        out.append(word)
    return out


def walk(doc: Any, path: str) -> Any:
    """The value at ``path`` inside a loaded document, or None when a step is missing."""
    node = doc
    for t in split(path):
        if isinstance(t, int) and isinstance(node, list) and 0 <= t < len(node):
            node = node[t]
        elif isinstance(node, dict) and str(t) in node:
            node = node[str(t)]
        else:
            return None
    return node


def mark(root: yaml.Node, path: str) -> tuple[int, int]:
    """The 1-based (line, column) of the deepest node ``path`` reaches in a composed document: the key of a
    mapping entry when the path ends on one (that is where a reader looks), else the value."""
    node: yaml.Node = root
    best = node.start_mark
    for t in split(path):
        if isinstance(node, yaml.SequenceNode) and isinstance(t, int) and 0 <= t < len(node.value):
            node = node.value[t]
            best = node.start_mark
        elif isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(t)), None)
            if hit is None:
                break
            best = hit[0].start_mark
            node = hit[1]
        else:
            break
    return best.line + 1, best.column + 1
