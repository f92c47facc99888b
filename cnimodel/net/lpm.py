"""Longest-prefix match over IPv4 prefixes.

One dict per prefix length, probed from the longest length present: a lookup costs at most 33
dict probes whatever the table size, which keeps a 5,000-route table well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network
from typing import Generic, TypeVar

V = TypeVar("V")

__all__ = ["PrefixTable"]


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
        # Bulk build: a host-gw node's table holds a route per peer (5,000 at Kubernetes' limit) and a trace
        # builds the table of every node it visits, so this loop is on the hot path. It reads ipaddress' slots
        # (_prefixlen, _ip) directly: the properties cost as much again as the rest of the loop.
        by_len = self._by_len
        for net, value in items:
            bucket = by_len.get(net._prefixlen)
            if bucket is None:
                bucket = by_len[net._prefixlen] = {}
            key = net.network_address._ip
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
        a = int(addr)
        for length in self._lengths:
            key = a & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF)
            hit = self._by_len[length].get(key)
            if hit is not None:
                return hit
        return None

    def __len__(self) -> int:
        return sum(len(b) for b in self._by_len.values())

    def __iter__(self) -> Iterator[tuple[IPv4Network, V]]:
        for length in self._lengths:
            yield from self._by_len[length].values()
