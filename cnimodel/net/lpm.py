"""The longest-prefix match over IPv4 prefixes: the one every engine uses (route tables, Encap facts, the
forwarding graph's lookups, policy CIDRs).

One dict per prefix length, probed from the longest length present: a lookup costs at most 33
dict probes whatever the table size. When several values share a prefix the first added wins, as the
first of equal routes does in a kernel's table listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network
from typing import Generic, TypeVar

V = TypeVar("V")

__all__ = ["PrefixTable", "longest_match"]


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
