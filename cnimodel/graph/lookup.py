"""Longest-prefix match for the walk, cheap on a node the trace has not visited before.

A host-gw or vxlan node holds a route per peer (5,000 at Kubernetes' limit), and a trace visits a node once
or twice: what costs is indexing the node's table, not probing it. The cluster's PrefixTable reads every
route's prefix and fills a dict (2–6 ms at 5,000 routes, memory-bound). But nodes share their prefixes'
IPv4Network objects (a peer's pod CIDR is one object in every node's routes and Encap facts), so the walk
keeps each network object's address and length as a numpy row, found again by the object's id: a node it
has not seen costs a vectorised id search, and only the few networks of its own are read. The answer is
the cluster's: the longest prefix holding the address, the first route of that prefix when several share
it (tests/trace check it).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network
from operator import attrgetter
from typing import Any

import numpy as np

from cnimodel.cluster import Cluster, Lookup
from cnimodel.dataplane import Encap

U32 = np.uint64(0xFFFFFFFF)
DST = attrgetter("dst")


class RouteRows:
    """Every IPv4Network object indexed so far (the ``dst`` of routes and Encap facts), one row each
    (network address, prefix length), sorted by object id."""

    def __init__(self) -> None:
        self.keep: list[IPv4Network] = []  # holding the objects keeps their ids unique while the rows exist
        self.ids = np.empty(0, dtype=np.uint64)
        self.nets = np.empty(0, dtype=np.uint64)
        self.lens = np.empty(0, dtype=np.int64)

    def rows(self, items: Sequence[Any]) -> np.ndarray:
        """Row numbers of the ``dst`` networks of ``items``, adding the networks not seen before."""
        dsts = list(map(DST, items))
        ids = np.fromiter(map(id, dsts), dtype=np.uint64, count=len(dsts))
        pos = self._find(ids)
        new = np.flatnonzero(pos < 0)
        if len(new):
            fresh = list({id(dsts[i]): dsts[i] for i in new}.values())  # one row per object
            self.keep += fresh
            # ipaddress' slots (_ip, _prefixlen) are read directly: the properties would double the cost.
            nets = np.array([n.network_address._ip for n in fresh], dtype=np.uint64)
            lens = np.array([n._prefixlen for n in fresh], dtype=np.int64)
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


class RouteIndex:
    """Prefixed items (routes, Encap facts) as columns: network, prefix length and mask, in the items' order."""

    def __init__(self, items: Sequence[Any], rows: RouteRows) -> None:
        self.items = items
        pos = rows.rows(items)
        self.nets, self.lens = rows.nets[pos], rows.lens[pos]
        self.masks = (U32 << (32 - self.lens).astype(np.uint64)) & U32

    def lookup(self, dst: IPv4Address) -> Any:
        if not self.items:
            return None
        score = np.where((np.uint64(int(dst)) & self.masks) == self.nets, self.lens, -1)
        best = int(np.argmax(score))  # the first of the longest, as PrefixTable keeps the first of a prefix
        return self.items[best] if score[best] >= 0 else None


def _fresh(cluster: Cluster, name: str, key: str) -> bool:
    """Whether the trace has not indexed the node and its full facts are not built: then the cluster answers
    for one destination from the node's own entries and the plugin's one peer entry (an overlay node's
    facts hold thousands of per-peer entries a first visit would build for one packet)."""
    return not cluster.has_memo((key, name)) and cluster.deferred(name)


def lookup(cluster: Cluster, name: str, dst: IPv4Address) -> Lookup:
    """``cluster.lookup(name, dst)`` for a node, indexed the cheaper way; the underlay keeps the cluster's."""
    if name == cluster.plan.underlay.name or _fresh(cluster, name, "trace-routes"):
        return cluster.lookup(name, dst)
    rows = cluster.memo(("trace-route-rows",), RouteRows)
    index = cluster.memo(("trace-routes", name), lambda: RouteIndex(cluster.facts(name).routes, rows))
    return Lookup(name, dst, index.lookup(dst))


def encap_for(cluster: Cluster, name: str, dst: IPv4Address) -> Encap | None:
    """The node's Encap fact (any encapsulation kind) with the longest prefix holding ``dst`` (the first of equal
    ones)."""
    if _fresh(cluster, name, "trace-encaps"):
        return cluster.encap(name, dst)
    rows = cluster.memo(("trace-route-rows",), RouteRows)
    index = cluster.memo(("trace-encaps", name), lambda: RouteIndex(cluster.facts(name).encaps, rows))
    return index.lookup(dst)  # type: ignore[no-any-return]
