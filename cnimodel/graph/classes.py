"""Destination classes: the addresses that share one forwarding behaviour, so one graph serves them all.

A pod's, a node's, a host address's (a bridge's, a Windows overlay's SourceVIP) and a Service frontend's address
is a class of its own: what happens at its last hop is its own. Every other address falls in an interval between
the boundaries of the plan's prefixes — the cluster and service CIDRs, the underlay's subnets, gateways and route
table, every node's pod CIDR and pod range, and the routes one node of each kind holds besides its per-peer ones
(a plugin's own subnets) — and shares its class with the rest of that interval. The plugins build their routes
from those prefixes (a peer's pod CIDR, the cluster CIDR, a subnet, the default route), so every route table
treats an interval alike; tests/graph checks it on every example plan.

Who owns an address (``owner_of``) is the question the walk asked first; it lives here because classes are
built on it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from cnimodel.cluster import Cluster
from cnimodel.dataplane import NodeFacts
from cnimodel.ipam import PodAddress
from cnimodel.net import PrefixTable

ClassKind = Literal["pod", "node", "host", "vip", "net"]


@dataclass(frozen=True)
class Owner:
    """What an address is in the plan."""

    kind: Literal["pod", "node", "pod-subnet", "underlay", "external"]
    node: str | None = None
    pod: PodAddress | None = None
    subnet: str | None = None


@dataclass(frozen=True)
class DestClass:
    """A destination class: ``key`` names it (``pod:web/iis-0``, ``node:lin1``, ``host:lin1/10.244.1.1``,
    ``vip:10.96.0.10``, ``net:10.244.3.0-10.244.3.255``); ``first``/``last`` bound its addresses (a single
    address for all but ``net``; a ``net`` class is that interval less the single-address classes inside it);
    ``owner`` is what the plan holds there; ``rep`` the address decisions were computed for (any of a ``net`` class's
    addresses is alike)."""

    key: str
    kind: ClassKind
    first: IPv4Address
    last: IPv4Address
    owner: Owner
    rep: IPv4Address  # the address the class was first met at: decisions are computed for it

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "kind": self.kind, "first": str(self.first), "last": str(self.last),
                "owner": self.owner.kind, "node": self.owner.node,
                "pod": self.owner.pod.pod.key if self.owner.pod is not None else None}


def _index(cluster: Cluster) -> tuple[dict[IPv4Address, PodAddress], dict[IPv4Address, str], PrefixTable[str]]:
    def build() -> tuple[dict[IPv4Address, PodAddress], dict[IPv4Address, str], PrefixTable[str]]:
        pods = {a.ip: a for a in cluster.allocation.pods.values() if not a.pod.host_network}
        nodes = {n.ip: n.name for n in cluster.plan.nodes}
        cidrs: PrefixTable[str] = PrefixTable(
            (a.range.subnet if a.range else a.pod_cidr, name) for name, a in cluster.allocation.nodes.items()
            if a.range is not None or a.pod_cidr is not None)
        return pods, nodes, cidrs

    return cluster.memo(("trace-index",), build)


def owner_of(cluster: Cluster, ip: IPv4Address) -> Owner:
    """The pod, node, node pod subnet or underlay subnet an address belongs to (or external)."""
    pods, nodes, cidrs = _index(cluster)
    if ip in pods:
        return Owner("pod", pods[ip].pod.node, pods[ip])
    if ip in nodes:
        return Owner("node", nodes[ip])
    hit = cidrs.lookup(ip)
    if hit is not None:
        return Owner("pod-subnet", hit[1])
    for s in cluster.plan.underlay.subnets:
        if ip in s.cidr:
            return Owner("underlay", subnet=s.name)
    return Owner("external")


def host_address(facts: NodeFacts, ip: IPv4Address) -> bool:
    """Whether ``ip`` is one of the node's own addresses: a device's, or an HNS endpoint the host uses (the
    l2bridge ``cbr0_ep``, the overlay SourceVIP)."""
    for d in facts.devices:
        if any(a.ip == ip for a in d.addresses):
            return True
    return any(e.ip == ip and e.role in ("host", "source-vip") for e in facts.hns_endpoints)


def frontend_ips(cluster: Cluster) -> frozenset[IPv4Address]:
    """Every address a Service answers on (ClusterIPs, external and load-balancer IPs); none without Services."""
    def build() -> frozenset[IPv4Address]:
        if not any(o.kind == "Service" for o in cluster.plan.objects):
            return frozenset()
        from cnimodel.services.catalog import catalog

        cat = catalog(cluster)
        ips = {ip for ip, _, _ in cat.frontends} | {ip for s in cat.services for ip in s.cluster_ips}
        return frozenset(ip for ip in ips if isinstance(ip, IPv4Address))

    return cluster.memo(("graph-frontends",), build)


def _bounds(cluster: Cluster) -> list[int]:
    """The sorted first addresses of the elementary intervals the plan's prefixes cut the address space into."""
    def build() -> list[int]:
        plan = cluster.plan
        nets: list[IPv4Network] = [IPv4Network("0.0.0.0/0")]
        nets += [c for c in (plan.cluster_cidr, plan.service_cidr) if c is not None]
        nets += [s.cidr for s in plan.underlay.subnets]
        nets += [IPv4Network(s.gateway) for s in plan.underlay.subnets]  # a gateway is a next hop of its own
        nets += [r.dst for r in cluster.underlay().routes]
        for a in cluster.allocation.nodes.values():
            nets += [n for n in (a.pod_cidr, a.range.subnet if a.range else None) if n is not None]
        kinds: dict[tuple[str, str, str], str] = {}
        for n in plan.nodes:  # prefixes every node of a kind holds alike (a plugin's own: a join or service subnet)
            kinds.setdefault((n.os, n.subnet, cluster.plugin.describe(n)), n.name)
        for name in kinds.values():
            nets += [r.dst for r in cluster.local_facts(name).routes]
        cuts = {0}
        for n in nets:
            cuts.add(int(n.network_address))
            end = int(n.broadcast_address) + 1
            if end <= 0xFFFFFFFF:
                cuts.add(end)
        return sorted(cuts)

    return cluster.memo(("graph-bounds",), build)


def interval(cluster: Cluster, ip: IPv4Address) -> tuple[IPv4Address, IPv4Address]:
    """The elementary interval of the plan's prefixes that holds ``ip``."""
    cuts = _bounds(cluster)
    i = bisect_right(cuts, int(ip)) - 1
    last = cuts[i + 1] - 1 if i + 1 < len(cuts) else 0xFFFFFFFF
    return IPv4Address(cuts[i]), IPv4Address(last)


def classify(cluster: Cluster, ip: IPv4Address) -> DestClass:
    """The destination class of ``ip`` (cached per address)."""
    memo: dict[IPv4Address, DestClass] = cluster.memo(("graph-classes",), dict)
    cls = memo.get(ip)
    if cls is None:
        cls = memo[ip] = _classify(cluster, ip)
    return cls


def _classify(cluster: Cluster, ip: IPv4Address) -> DestClass:
    owner = owner_of(cluster, ip)
    if owner.kind == "pod" and owner.pod is not None:
        return DestClass(f"pod:{owner.pod.pod.key}", "pod", ip, ip, owner, ip)
    if owner.kind == "node":
        return DestClass(f"node:{owner.node}", "node", ip, ip, owner, ip)
    if ip in frontend_ips(cluster):
        return DestClass(f"vip:{ip}", "vip", ip, ip, owner, ip)
    if owner.kind == "pod-subnet" and owner.node is not None and \
            host_address(cluster.local_facts(owner.node), ip):
        return DestClass(f"host:{owner.node}/{ip}", "host", ip, ip, owner, ip)
    first, last = interval(cluster, ip)
    key = f"net:{first}-{last}"
    known: dict[str, DestClass] = cluster.memo(("graph-net-classes",), dict)
    cls = known.get(key)
    if cls is None:  # the interval's first address met stands for all (the single-address classes are apart)
        cls = known[key] = DestClass(key, "net", first, last, owner, ip)
    return cls


def plan_address(cluster: Cluster, cls: DestClass) -> str | None:
    """What the plan holds in ``cls`` when it is one of its pod or Service addresses (None otherwise): such an
    address is routed inside the cluster or nowhere, never by the internet. ``{dst}`` stands for the address."""
    owner = cls.owner
    if owner.kind == "pod" and owner.pod is not None:
        return f"pod {owner.pod.pod.key} on node {owner.node}"
    if owner.kind == "pod-subnet":
        return f"in node {owner.node}'s pod range"
    plan = cluster.plan
    if plan.cluster_cidr is not None and cls.rep in plan.cluster_cidr:
        return f"in the cluster CIDR {plan.cluster_cidr}"
    if plan.service_cidr is not None and cls.rep in plan.service_cidr:
        return f"in the service CIDR {plan.service_cidr}: only kube-proxy on the nodes answers it"
    return None


__all__ = ["DestClass", "Owner", "classify", "frontend_ips", "host_address", "interval", "owner_of", "plan_address"]
