"""Longest-prefix match for the walk, cheap on a node the trace has not visited before.

A host-gw or vxlan node holds a route per peer (5,000 at Kubernetes' limit), and a trace visits a node once
or twice: what costs is indexing the node's table, not probing it. The cluster's PrefixTable reads every
route's prefix and fills a dict (2–6 ms at 5,000 routes, memory-bound). But plugins share Route objects
between nodes (one subnet's peer routes are built once), so the walk keeps each Route object's prefix as a
numpy row, found again by the object's id: a node it has not seen costs a vectorised id search over its
routes, and only its few routes of its own are read. The answer is the cluster's: the longest prefix
holding the address, the first route of that prefix when several share it (tests/trace check it).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address

import numpy as np

from cnimodel.cluster import Cluster, Lookup
from cnimodel.dataplane import Route

U32 = np.uint64(0xFFFFFFFF)


class RouteRows:
    """Every Route object indexed so far, one row each (network, prefix length), sorted by object id."""

    def __init__(self) -> None:
        self.keep: list[Route] = []  # holding the objects keeps their ids unique while the rows exist
        self.ids = np.empty(0, dtype=np.uint64)
        self.nets = np.empty(0, dtype=np.uint64)
        self.lens = np.empty(0, dtype=np.int64)

    def rows(self, routes: Sequence[Route]) -> np.ndarray:
        """Row numbers of ``routes``, adding the routes not seen before."""
        ids = np.fromiter(map(id, routes), dtype=np.uint64, count=len(routes))
        pos = self._find(ids)
        new = np.flatnonzero(pos < 0)
        if len(new):
            fresh = [routes[i] for i in new]
            self.keep += fresh
            # ipaddress' slots (_ip, _prefixlen) are read directly: the properties would double the cost.
            nets = np.array([r.dst.network_address._ip for r in fresh], dtype=np.uint64)
            lens = np.array([r.dst._prefixlen for r in fresh], dtype=np.int64)
            all_ids = np.concatenate([self.ids, ids[new]])
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
    """One node's routes as columns: network, prefix length and mask, in the table's order."""

    def __init__(self, routes: Sequence[Route], rows: RouteRows) -> None:
        self.routes = routes
        pos = rows.rows(routes)
        self.nets = rows.nets[pos]
        self.lens = rows.lens[pos]
        self.masks = (U32 << (32 - self.lens).astype(np.uint64)) & U32

    def lookup(self, dst: IPv4Address) -> Route | None:
        if not self.routes:
            return None
        score = np.where((np.uint64(int(dst)) & self.masks) == self.nets, self.lens, -1)
        best = int(np.argmax(score))  # the first of the longest, as PrefixTable keeps the first of a prefix
        return self.routes[best] if score[best] >= 0 else None


def lookup(cluster: Cluster, name: str, dst: IPv4Address) -> Lookup:
    """``cluster.lookup(name, dst)`` for a node, indexed the cheaper way; the underlay keeps the cluster's."""
    if name == cluster.plan.underlay.name:
        return cluster.lookup(name, dst)
    rows = cluster.memo(("trace-route-rows",), RouteRows)
    index = cluster.memo(("trace-routes", name), lambda: RouteIndex(cluster.facts(name).routes, rows))
    return Lookup(name, dst, index.lookup(dst))
