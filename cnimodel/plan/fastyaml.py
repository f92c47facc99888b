"""YAML documents as ``yaml.load_all(text, Loader=CSafeLoader)`` returns them, about twice as fast.

libyaml parses and composes the node tree in C; PyYAML's constructor then turns nodes into Python values one
``construct_object`` call (and generator) at a time, and that is most of the cost on a large manifest. Here
mappings, sequences, strings and nulls — nearly every node of a Kubernetes manifest — are built directly; every
other scalar (ints, floats, bools, timestamps, binary, custom tags) and any mapping with merge keys or non-scalar
keys goes to PyYAML's own SafeConstructor, so the values are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Builder:
    def __init__(self) -> None:
        self._pyyaml = yaml.constructor.SafeConstructor()
        self._done: dict[int, Any] = {}  # containers by node: an alias gets the same object, as PyYAML gives

    def value(self, node: Node) -> Any:
        t = type(node)
        if t is ScalarNode:
            if node.tag == _STR:
                return node.value
            if node.tag == _NULL:
                return None
            return self._pyyaml.construct_object(node, deep=True)
        got = self._done.get(id(node))
        if got is not None:
            return got
        if t is MappingNode and node.tag == _MAP and all(type(k) is ScalarNode and k.tag != "tag:yaml.org,2002:merge"
                                                         for k, _ in node.value):
            out: dict[Any, Any] = {}
            self._done[id(node)] = out
            value = self.value
            for k, v in node.value:
                out[k.value if k.tag == _STR else value(k)] = value(v)
            return out
        if t is SequenceNode and node.tag == _SEQ:
            seq: list[Any] = []
            self._done[id(node)] = seq
            seq.extend(self.value(v) for v in node.value)
            return seq
        return self._pyyaml.construct_object(node, deep=True)


def load_all(text: str) -> Iterator[Any]:
    """Every document of ``text``; yaml.YAMLError on bad syntax, as yaml.load_all."""
    loader = Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            yield _Builder().value(node) if node is not None else None
    finally:
        loader.dispose()
