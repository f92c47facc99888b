"""Shared rows for the report's embedded data: each distinct row is stored once, and each node's table is a
list of runs of row numbers.

Nodes of one cluster hold mostly the same rows (on a host-gw cluster every node has a route to every other
node's pod CIDR), so a table of N rows on N nodes costs N pooled rows plus a few runs per node, not N².
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from typing import Any


class Pool:
    """Distinct JSON rows in first-seen order; ``runs(rows)`` gives a table as ``[start, length, …]``.

    >>> p = Pool()
    >>> p.runs([{"a": 1}, {"a": 2}]), p.runs([{"a": 1}, {"a": 2}, {"a": 3}])
    ([0, 2], [0, 3])
    >>> p.rows
    [{'a': 1}, {'a': 2}, {'a': 3}]
    """

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self._ids: dict[str, int] = {}
        self._facts: dict[Hashable, int] = {}
        self._seen: dict[int, tuple[Hashable, int]] = {}

    def add(self, row: Any) -> int:
        key = json.dumps(row, sort_keys=True, separators=(",", ":"))
        i = self._ids.get(key)
        if i is None:
            i = self._ids[key] = len(self.rows)
            self.rows.append(row)
        return i

    def runs(self, rows: Iterable[Any]) -> list[int]:
        return encode_runs(self.add(r) for r in rows)

    def add_fact(self, fact: Hashable, to_json: Callable[[Any], Any]) -> int:
        """Pool a frozen fact by its value: ``to_json`` runs once per distinct fact, not once per node.

        Plugins share one fact object among many nodes, so the object's identity is tried first (hashing a
        route's addresses two million times costs seconds); the entry keeps the object alive, so its id is
        never reused."""
        hit = self._seen.get(id(fact))
        if hit is not None:
            return hit[1]
        i = self._facts.get(fact)
        if i is None:
            i = self._facts[fact] = self.add(to_json(fact))
        self._seen[id(fact)] = (fact, i)
        return i

    def fact_runs(self, facts: Iterable[Hashable], to_json: Callable[[Any], Any]) -> list[int]:
        return encode_runs(self.add_fact(f, to_json) for f in facts)


def encode_runs(ids: Iterable[int]) -> list[int]:
    """``[3, 4, 5, 9]`` → ``[3, 3, 9, 1]``: pairs of (first row, count) for consecutive row numbers."""
    out: list[int] = []
    for i in ids:
        if out and out[-2] + out[-1] == i:
            out[-1] += 1
        else:
            out += [i, 1]
    return out


def decode_runs(runs: list[int]) -> list[int]:
    """The inverse of ``encode_runs`` (the page does the same in JavaScript)."""
    return [s + k for s, n in zip(runs[::2], runs[1::2], strict=True) for k in range(n)]
