"""Every (source, destination) pair of a selection, enumerated by class with numpy and handed out in runs.

Pods of one class share every answer, so a source's answers for all destinations are one row of the class matrix
indexed by the destinations' classes. A *run* holds a source and the destinations (positions in the list) that
get a listed answer, with the answer's id; a writer expands it to lines only when writing. The pairs a class
cannot decide (a host end, a pair with itself) come out one by one as ``Connection``s from
``Reachability.connection``, in their place. Expanding the runs and the single connections in order gives
``Reachability.connections`` exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cnimodel.policy.connset import ConnSet
from cnimodel.policy.endpoint import Connection, Peer

if TYPE_CHECKING:
    from cnimodel.policy.analysis import Reachability


# groups.connection: what a pair with a workload end allows (restricted to a port when given)
Grouped = Callable[["Reachability", Peer, Peer, "ConnSet | None"], Connection]


@dataclass(frozen=True, eq=False)
class Run:
    """``src`` may open ``Pairs.table[ids[i]]`` to ``destinations[idx[i]]``, for each i, in destination order."""

    src: Peer
    idx: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.idx)


class Pairs:
    """The answers of ``Reachability.connections(sources, destinations, …)`` as runs and single connections.

    ``table`` holds the answers runs refer to (restricted to ``port`` when given); ``destinations`` the list
    runs index."""

    def __init__(self, r: Reachability, sources: Sequence[Peer], destinations: Sequence[Peer], *,
                 all_pairs: bool = False, port: tuple[str, int] | None = None, keep_self: bool = False,
                 grouped: Grouped | None = None) -> None:
        self.r = r
        self.grouped = grouped
        self.sources, self.destinations = list(sources), list(destinations)
        self.all_pairs, self.port, self.keep_self = all_pairs, port, keep_self
        self.restrict = ConnSet.ports(port[0], port[1], port[1]) if port else None
        self._matrix = r.class_matrix()  # first: filling it interns the answers the table holds
        conns = r.engine.conns
        self.table = conns if self.restrict is None else [c & self.restrict for c in conns]
        self._listed = np.fromiter((all_pairs or bool(c) for c in self.table), bool, len(self.table))
        dsts = self.destinations
        self._dcls = np.fromiter((d.cls for d in dsts), np.int64, len(dsts))
        self._dext = np.fromiter((d.kind == "external" for d in dsts), bool, len(dsts))
        # decided pair by pair: host ends (their own node, their notes), workloads whose pods differ
        self._dhost = np.fromiter((self._alone(d) for d in dsts), bool, len(dsts))
        self._host_at = np.flatnonzero(self._dhost)
        self._at: dict[tuple[str, str], list[int]] = {}
        for j, d in enumerate(dsts):
            self._at.setdefault((d.kind, d.name), []).append(j)
            for m in d.members:  # a workload meets its own pods pair by pair (a pod and itself is left out)
                self._at.setdefault(("pod", m.name), []).append(j)
        self._rows: dict[tuple[int, bool], tuple[np.ndarray, np.ndarray]] = {}
        self._report: Callable[[int], object] | None = None

    def reporting(self, done: Callable[[int], object]) -> Pairs:
        """These pairs, telling ``done`` how many sources have been gone through as the iteration goes."""
        self._report = done
        return self

    def __len__(self) -> int:
        """How many pairs are asked about (listed or not)."""
        return len(self.sources) * len(self.destinations)

    def _alone(self, e: Peer) -> bool:
        """Whether ``e``'s pairs are decided one by one: a host end, or a workload whose pods are not all of its
        class (a workload of one class answers as one pod of it: ``groups.connection`` finds one answer)."""
        if e.members and self.grouped is None:
            raise ValueError("workload endpoints need grouped=cnimodel.policy.groups.connection")
        return e.is_host or any(m.is_host or m.cls != e.cls for m in e.members)

    def _own(self, s: Peer) -> set[int]:
        """The destinations ``s`` shares a pod with: decided pair by pair."""
        own = set(self._at.get((s.kind, s.name), ()))
        for m in s.members:
            own.update(self._at.get(("pod", m.name), ()))
        return own

    def _row(self, cls: int, external: bool) -> tuple[np.ndarray, np.ndarray]:
        """The listed destinations of a source of class ``cls`` that its class decides, and their answers."""
        key = (cls, external)
        got = self._rows.get(key)
        if got is None:
            ids = self._matrix[cls][self._dcls]
            keep = self._listed[ids] & ~self._dhost
            if external:  # no policy sits between two outside addresses
                keep &= ~self._dext
            idx = np.flatnonzero(keep)
            got = self._rows[key] = (idx, ids[idx])
            if len(self._rows) > 4096:  # many classes: keep the memory of a few rows, not of all
                self._rows.clear()
        return got

    def one(self, s: Peer, d: Peer) -> Connection | None:
        """The pair as ``Reachability.connections`` lists it, or None when it is not listed."""
        if s.kind == d.kind == "external":
            return None
        if (s.members or d.members) and self.grouped is not None:
            c = self.grouped(self.r, s, d, self.restrict)
            if c.conns is None:
                return c if self.keep_self else None
            return c if c.conns or c.variants or self.all_pairs else None
        c = self.r.connection(s, d)
        if c.conns is None:
            return c if self.keep_self else None
        if self.restrict is not None:
            c = Connection(s, d, c.conns & self.restrict, c.note)
        return c if c.conns or self.all_pairs else None

    def __iter__(self) -> Iterator[Run | Connection]:
        dsts, report = self.destinations, self._report
        for n, s in enumerate(self.sources):
            if report is not None and n % 64 == 0:
                report(n)
            if self._alone(s):  # every pair of a host end is decided on its own
                for d in dsts:
                    c = self.one(s, d)
                    if c is not None:
                        yield c
                continue
            idx, ids = self._row(s.cls, s.kind == "external")
            own = self._own(s)
            if not own and not len(self._host_at):
                if len(idx):
                    yield Run(s, idx, ids)
                continue
            start = 0
            for j in sorted({*own, *self._host_at.tolist()}):
                k = int(np.searchsorted(idx, j))
                if k > start:
                    yield Run(s, idx[start:k], ids[start:k])
                start = k + 1 if k < len(idx) and idx[k] == j else k
                c = self.one(s, dsts[j])
                if c is not None:
                    yield c
            if start < len(idx):
                yield Run(s, idx[start:], ids[start:])

    def connections(self) -> Iterator[Connection]:
        """Every listed pair as a ``Connection``, in order."""
        dsts, table = self.destinations, self.table
        for item in self:
            if isinstance(item, Run):
                s = item.src
                for j, i in zip(item.idx.tolist(), item.ids.tolist(), strict=True):
                    yield Connection(s, dsts[j], table[i])
            else:
                yield item
