"""The optional speed capability: answer for one node and one destination without building the node's per-peer
entries (an overlay node holds a route, a neighbour, an FDB entry and a hop per peer: 5,000 each at Kubernetes'
limit, while one packet needs one of them).

A plugin that can answer cheaply returns an object of this shape from ``NetworkPlugin.fast_path()``; the
default, None, means "compute from the full facts" — every answer below is then read from
``node_facts``, which is always right and only slower. The answers must equal what the full facts give
(tests/trace/test_trace_deferred.py holds every built-in plugin to that).
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Protocol

from cnimodel.dataplane import Encap, NodeFacts, Route, Vtep
from cnimodel.plan import NodeSpec

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster


class FastPath(Protocol):
    """Cheap answers a plugin may give instead of the full facts (all five together)."""

    def prepare(self, cluster: Cluster) -> None:
        """Called once by ``Cluster.build`` after allocation: build what many nodes' answers share, when that is
        cheap enough to pay at load."""
        ...

    def endpoint(self, node: NodeSpec) -> Vtep | None:
        """The node's tunnel endpoint (kind, id, port, MAC, MTU, up or refused) without building its facts; None
        where the node has none."""
        ...

    def local_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts | None:
        """``node_facts`` without the per-peer entries ``peer_route``/``peer_encap`` answer for (routes to each
        peer, neighbours, FDB, Encaps, notes about peers); everything else identical. Per-peer routes must
        follow all others in the full table. None: this node cannot leave them out (its full facts are used)."""
        ...

    def peer_route(self, cluster: Cluster, node: NodeSpec, dst: IPv4Address) -> Route | None:
        """Among the routes ``local_facts`` leaves out, the first with the longest prefix holding ``dst``."""
        ...

    def peer_encap(self, cluster: Cluster, node: NodeSpec, dst: IPv4Address) -> Encap | None:
        """Among the node's Encap facts, the first with the longest prefix holding ``dst``."""
        ...


__all__ = ["FastPath"]
