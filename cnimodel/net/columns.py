"""The longest-prefix match of cnimodel/net/lpm.py over many tables at once, as numpy columns: the forwarding
graph's index of every node's routes and Encap facts (numpy is imported with this module only: a command that
never builds the graph starts without it)."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network
from operator import attrgetter
from typing import Any

import numpy as np

__all__ = ["NetworkRows", "PrefixColumns"]

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
