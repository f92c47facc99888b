"""The checks ovn-kubernetes contributes to ``cnimodel check`` (cnimodel.plugin.findings), beyond the PlanErrors
ovnkube itself raises (its own ranges overlapping each other, cluster-subnets full: config.py, nodes.py).

- CNI-OVN-001 (warning): cluster-subnets (or the hybrid overlay's) have fewer than a tenth of their host subnets
  left: ovnkube-cluster-manager fails to allocate a subnet for the node after the last one
  (subnet_allocator.go:156-170, the error nodes.py reports).
- CNI-OVN-002: retired. An underlay MTU below ``[default] mtu`` + 58 is the GENEVE endpoint's refusal (the node's
  ``Vtep`` is not up, its reason quoting validateVTEPInterfaceMTU), reported by the overlay checks as CNI-OVL-006.
- CNI-OVN-003 (error): the join, transit switch or masquerade subnet overlaps an underlay subnet, a node's address,
  an underlay static route's prefix, the plan's clusterCIDR or serviceCIDR, or a range given with ``--external``:
  ovnkube checks its ranges against each other only (ConfigSubnets.CheckForOverlaps, pkg/config/utils.go:211-222),
  but every gateway router holds a join address, every node the masquerade addresses, so the overlapped hosts
  become unreachable from the cluster's pods and nodes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from ipaddress import IPv4Network
from typing import TYPE_CHECKING

from cnimodel.plugin.findings import PluginCheck, PluginFinding

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin

REF = "ovn-org/ovn-kubernetes@6c366bb4:go-controller/"
CHECKS = (
    PluginCheck("CNI-OVN-001", "warning", "address", "ovnkube's cluster subnets are nearly out of host subnets",
                REF + "pkg/clustermanager/node/subnet_allocator.go:156-170 (no free host subnet: the node gets none)"),
    PluginCheck("CNI-OVN-003", "error", "address",
                "ovnkube's join, transit or masquerade subnet overlaps the cluster's or the underlay's addresses",
                REF + "pkg/config/utils.go:211-222 (CheckForOverlaps compares ovnkube's own ranges only); "
                "pkg/clustermanager/node/node_allocator.go:225-253 (join addresses); pkg/config/utils.go:283-305 "
                "(masquerade addresses)"),
)


def findings(plugin: OvnKubernetesPlugin, cluster: Cluster,
             external: tuple[IPv4Network, ...] = ()) -> Iterator[PluginFinding]:
    yield from _headroom(plugin)
    yield from _internal_overlaps(plugin, cluster, external)


def _headroom(plugin: OvnKubernetesPlugin) -> Iterator[PluginFinding]:
    c = plugin.config
    for role, entries, path in (("ovn", c.cluster_subnets, "default.cluster-subnets"),
                                ("hybrid", c.hybrid_subnets, "hybridoverlay.cluster-subnets")):
        if not entries:
            continue
        capacity = sum(2 ** (e.host_len - e.cidr.prefixlen) for e in entries)
        used = sum(1 for n in plugin.nodes.values() if n.role == role and n.subnet is not None
                   and any(n.subnet.subnet_of(e.cidr) for e in entries))
        free = capacity - used
        if used and free < max(1, math.ceil(capacity / 10)):
            yield PluginFinding(
                "CNI-OVN-001", f"{path} ({', '.join(map(str, entries))}) hold {capacity} host subnet(s); {used} "
                f"are taken, {free} left: ovnkube-cluster-manager gives the {'next' if free == 0 else f'{free + 1}th'}"
                " new node none, and its pods get no network",
                f"widen {path} or use a longer host prefix before adding nodes", at=(plugin.origin.at(path),))


def _internal_overlaps(plugin: OvnKubernetesPlugin, cluster: Cluster,
                       external: tuple[IPv4Network, ...]) -> Iterator[PluginFinding]:
    c = plugin.config
    plan = cluster.plan
    mine = [("join subnet", "gateway.v4-join-subnet", c.join_subnet,
             "every gateway router holds an address there (100.64.0.2, .3, … by node ID) and the cluster router "
             "routes to them"),
            ("transit switch subnet", "clustermanager.v4-transit-switch-subnet", c.transit_subnet,
             "with interconnect every node's transit switch port holds an address there"),
            ("masquerade subnet", "gateway.v4-masquerade-subnet", c.masquerade_subnet,
             "every node routes it to breth0 and its gateway router to the dummy next hop")]
    theirs: list[tuple[str, IPv4Network]] = [(f"underlay subnet {s.name}", s.cidr) for s in plan.underlay.subnets]
    theirs += [(f"node {n.name}'s address", IPv4Network(f"{n.ip}/32")) for n in plan.nodes]
    theirs += [(f"underlay static route {r.prefix}", r.prefix) for r in plan.underlay.static_routes
               if r.prefix.prefixlen > 0]
    if plan.cluster_cidr is not None:
        theirs.append(("the plan's clusterCIDR", plan.cluster_cidr))
    if plan.service_cidr is not None:
        theirs.append(("the plan's serviceCIDR", plan.service_cidr))
    theirs += [(f"external range {e}", e) for e in external]
    for kind, path, net, why in mine:
        hits = [(what, other) for what, other in theirs if net.overlaps(other)]
        nodes = [w for w, _ in hits if w.startswith("node ")]
        others = [w for w, _ in hits if not w.startswith("node ")]
        if not hits:
            continue
        shown = others + ([f"{len(nodes)} node address(es)"] if nodes else [])
        yield PluginFinding(
            "CNI-OVN-003", f"ovnkube's {kind} {net} overlaps {', '.join(shown)}: {why}, so those addresses are "
            "unreachable from the cluster's pods and nodes (ovnkube checks its ranges against each other only)",
            f"set {path} to a range nothing else in the network uses", at=(plugin.origin.at(path),))


__all__ = ["CHECKS", "findings"]
