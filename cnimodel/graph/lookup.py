"""The route and Encap lookups the graph's vertices make, cheap on a node no trace has visited before.

A host-gw or vxlan node holds a route per peer (5,000 at Kubernetes' limit) and a trace visits a node once or
twice: what costs is indexing the node's table, not probing it. Node tables share their prefixes' objects, so
the graph indexes them as ``PrefixColumns`` over one cluster-wide ``NetworkRows`` (cnimodel/net/columns.py: the
same longest-prefix match as ``cluster.lookup``'s PrefixTable, held to it by tests/trace/test_trace_lookup.py).
A node whose plugin answers for one destination (``cluster.deferred``) is asked through the cluster, which
builds none of its per-peer entries.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from cnimodel.cluster import Cluster, Lookup
from cnimodel.dataplane import Encap
from cnimodel.net import NetworkRows, PrefixColumns


def _fresh(cluster: Cluster, name: str, key: str) -> bool:
    return not cluster.has_memo((key, name)) and cluster.deferred(name)


def lookup(cluster: Cluster, name: str, dst: IPv4Address) -> Lookup:
    """``cluster.lookup(name, dst)`` for a node, indexed the cheaper way; the underlay keeps the cluster's."""
    if name == cluster.plan.underlay.name or _fresh(cluster, name, "graph-routes"):
        return cluster.lookup(name, dst)
    rows = cluster.memo(("graph-network-rows",), NetworkRows)
    index = cluster.memo(("graph-routes", name), lambda: PrefixColumns(cluster.facts(name).routes, rows))
    return Lookup(name, dst, index.lookup(dst))


def encap_for(cluster: Cluster, name: str, dst: IPv4Address) -> Encap | None:
    """The node's Encap fact (any encapsulation kind) for ``dst``: ``cluster.encap``, indexed the cheaper way."""
    if _fresh(cluster, name, "graph-encaps"):
        return cluster.encap(name, dst)
    rows = cluster.memo(("graph-network-rows",), NetworkRows)
    index = cluster.memo(("graph-encaps", name), lambda: PrefixColumns(cluster.facts(name).encaps, rows))
    return index.lookup(dst)  # type: ignore[no-any-return]
