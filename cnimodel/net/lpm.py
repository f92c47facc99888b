"""The longest-prefix match over IPv4 prefixes: the one every engine uses (route tables, Encap facts, the
forwarding graph's lookups, policy CIDRs).

One dict per prefix length, probed from the longest length present: a lookup costs at most 33
dict probes whatever the table size. When several values share a prefix the first added wins, as the
first of equal routes does in a kernel's table listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from ipaddress import IPv4Address, IPv4Network
from operator import attrgetter
from typing import Any, Generic, TypeVar

import numpy as np

V = TypeVar("V")

__all__ = ["NetworkRows", "PrefixColumns", "PrefixTable", "longest_match"]


class PrefixTable(Generic[V]):
    """A map from IPv4 prefixes to values with longest-prefix-match lookup.

    >>> t = PrefixTable()
    >>> t.add(IPv4Network("10.244.0.0/16"), "cluster")
    >>> t.add(IPv4Network("10.244.2.0/24"), "win1")
    >>> t.lookup(IPv4Address("10.244.2.9"))
    (IPv4Network('10.244.2.0/24'), 'win1')
    """

    def __init__(self, items: Iterable[tuple[IPv4Network, V]] = ()) -> None:
        self._by_len: dict[int, dict[int, tuple[IPv4Network, V]]] = {}
        by_len = self._by_len
        for net, value in items:
            bucket = by_len.get(net.prefixlen)
            if bucket is None:
                bucket = by_len[net.prefixlen] = {}
            key = int(net.network_address)
            if key not in bucket:  # the first value added for a prefix wins, as in add()
                bucket[key] = (net, value)
        self._lengths: list[int] = sorted(by_len, reverse=True)

    def add(self, net: IPv4Network, value: V) -> None:
        """Insert ``net``; the first value added for a prefix wins (later duplicates are ignored)."""
        bucket = self._by_len.get(net.prefixlen)
        if bucket is None:
            bucket = self._by_len[net.prefixlen] = {}
            self._lengths = sorted(self._by_len, reverse=True)
        bucket.setdefault(int(net.network_address), (net, value))

    def lookup(self, addr: IPv4Address) -> tuple[IPv4Network, V] | None:
        """The longest prefix holding ``addr`` and its value, or None."""
        return next(self.matches(addr), None)

    def matches(self, addr: IPv4Address) -> Iterator[tuple[IPv4Network, V]]:
        """Every prefix holding ``addr`` with its value, longest first (``lookup`` is the first of them)."""
        a = int(addr)
        for length in self._lengths:
            hit = self._by_len[length].get(a & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF))
            if hit is not None:
                yield hit

    @classmethod
    def positions(cls, prefixes: Iterable[IPv4Network]) -> PrefixTable[list[int]]:
        """Each distinct prefix with the positions it holds in ``prefixes``, in order (for callers that skip
        some entries of a prefix: a node's own among its peers')."""
        at: dict[IPv4Network, list[int]] = {}
        for i, net in enumerate(prefixes):
            at.setdefault(net, []).append(i)
        return cls(at.items())  # type: ignore[return-value]

    def __len__(self) -> int:
        return sum(len(b) for b in self._by_len.values())

    def __iter__(self) -> Iterator[tuple[IPv4Network, V]]:
        for length in self._lengths:
            yield from self._by_len[length].values()


def longest_match(items: Iterable[tuple[IPv4Network, V]], addr: IPv4Address) -> V | None:
    """The value of the longest prefix holding ``addr`` among ``items`` (the first of equal prefixes), for a
    handful of items asked once: ``PrefixTable(items).lookup(addr)``'s value."""
    hit = PrefixTable(items).lookup(addr)
    return None if hit is None else hit[1]


_U32 = np.uint64(0xFFFFFFFF)
_DST = attrgetter("dst")


class NetworkRows:
    """The same match for many tables that share their prefixes' IPv4Network objects (a peer's pod CIDR is one
    object in every node's routes and Encap facts): each object's network address and length kept once, as a
    numpy row found again by the object's identity, so indexing one more table of 5,000 routes costs a
    vectorised search instead of reading 5,000 prefixes (tools/bench_trace.py keeps the figures: a trace's
    first visit to a host-gw node). Holding the objects keeps their identities unique while the rows exist."""

    def __init__(self) -> None:
        self.keep: list[IPv4Network] = []
        self.ids = np.empty(0, dtype=np.uint64)
        self.nets = np.empty(0, dtype=np.uint64)
        self.lens = np.empty(0, dtype=np.int64)

    def rows(self, items: Sequence[Any]) -> np.ndarray:
        """Row numbers of the ``dst`` networks of ``items``, adding the networks not seen before."""
        dsts = list(map(_DST, items))
        ids = np.fromiter(map(id, dsts), dtype=np.uint64, count=len(dsts))
        pos = self._find(ids)
        new = np.flatnonzero(pos < 0)
        if len(new):
            fresh = list({id(dsts[i]): dsts[i] for i in new}.values())  # one row per object
            self.keep += fresh
            nets = np.array([int(n.network_address) for n in fresh], dtype=np.uint64)
            lens = np.array([n.prefixlen for n in fresh], dtype=np.int64)
            all_ids = np.concatenate([self.ids, np.fromiter(map(id, fresh), dtype=np.uint64, count=len(fresh))])
            order = np.argsort(all_ids, kind="stable")
            self.ids = all_ids[order]
            self.nets = np.concatenate([self.nets, nets])[order]
            self.lens = np.concatenate([self.lens, lens])[order]
            pos = self._find(ids)
        return pos

    def _find(self, ids: np.ndarray) -> np.ndarray:
        if not len(self.ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return np.where(self.ids[pos] == ids, pos, -1)


class PrefixColumns:
    """Items with a ``dst`` prefix (routes, Encap facts) as columns — network, length, mask — in the items'
    order; ``lookup`` answers as a PrefixTable of them would (the first of the longest prefixes)."""

    def __init__(self, items: Sequence[Any], rows: NetworkRows) -> None:
        self.items = items
        pos = rows.rows(items)
        self.nets, self.lens = rows.nets[pos], rows.lens[pos]
        self.masks = (_U32 << (32 - self.lens).astype(np.uint64)) & _U32

    def lookup(self, dst: IPv4Address) -> Any:
        if not self.items:
            return None
        score = np.where((np.uint64(int(dst)) & self.masks) == self.nets, self.lens, -1)
        best = int(np.argmax(score))  # argmax keeps the first of equal scores: the first of the longest
        return self.items[best] if score[best] >= 0 else None
