"""Azure CNI's plan rules per mode: the subnets' sizes, the overlay pod CIDR, the pod subnet, and which VNet
addresses each node holds (node-subnet: its secondary IPs; pod-subnet: its network container's primary IP and
CNS pool).

Sizing follows the AKS IP planning rules (tools-and-planning.md §3.1): Azure keeps 5 addresses of a subnet,
a node-subnet node takes 1 + maxPods, a pod-subnet node one address of its own subnet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from cnimodel.plan import NodeSpec, Origin, Plan, Problems, UnderlaySubnet
from cnimodel.plugins import _azure_ipam as vnet

MaxPods = Callable[[NodeSpec], int]


def spec_origin(plan: Plan, path: str) -> Origin:
    """An origin in the ClusterPlan document (``spec.underlay.subnets[0].cidr``)."""
    assert plan.network is not None
    return Origin(plan.network.origin.file, plan.network.origin.document, path)


def find_pod_subnet(plan: Plan, name: str | None, source: str, problems: Problems) -> UnderlaySubnet | None:
    """The underlay subnet ``network.config.podSubnet`` names; none holds a node."""
    assert plan.network is not None
    subnets = plan.underlay.subnets
    at = plan.network.origin.at("config.podSubnet")
    if name is None:
        problems.error(at, f"Azure CNI in pod-subnet mode (from {source}) takes pod addresses from a pod subnet, "
                       "and the plan names none", "set network.config.podSubnet to the underlay subnet that holds "
                       "the pods (AKS --pod-subnet-id)")
        return None
    found = next((s for s in subnets if s.name == name), None)
    if found is None:
        problems.error(at, f"no underlay subnet named {name!r}", f"use one of: "
                       f"{', '.join(s.name for s in subnets) or '(none defined)'}, or add the pod subnet under "
                       "spec.underlay.subnets")
        return None
    for node in plan.nodes:
        if node.subnet == name:
            problems.error(node.origin.at("ip"), f"node {node.name!r} sits in the pod subnet {name} ({found.cidr})",
                           "put nodes in their own subnet (AKS --vnet-subnet-id); the pod subnet holds pods only")
    return found


def check_node_subnet_sizes(plan: Plan, max_pods: MaxPods, surge: int, problems: Problems) -> None:
    """Node-subnet mode, AKS's rule: (nodes + surge) × (1 + maxPods) addresses must fit the subnet's usable ones."""
    for i, s in enumerate(plan.underlay.subnets):
        pods = [max_pods(n) for n in plan.nodes if n.subnet == s.name]
        if not pods:
            continue
        needed = vnet.addresses_needed(pods, surge, max(pods))
        have = vnet.usable(s.cidr.prefixlen)
        if needed <= have:
            continue
        fit = vnet.smallest_prefix(needed)
        per = f"1 + maxPods {pods[0]}" if len(set(pods)) == 1 else "1 + each node's maxPods"
        hint = (f"use a /{fit} or larger subnet (a /{fit} offers {vnet.usable(fit):,}), lower maxPods, or "
                "spread the nodes over more subnets") if fit else "split the nodes over several subnets"
        problems.error(spec_origin(plan, f"spec.underlay.subnets[{i}].cidr"), f"subnet {s.name} ({s.cidr}) offers "
                       f"{have:,} addresses (Azure reserves 5) but Azure CNI needs {needed:,}: ({len(pods)} nodes + "
                       f"{surge} surge) × ({per})", hint)


def check_pod_mode_node_subnets(plan: Plan, surge: int, problems: Problems) -> None:
    """Pod-subnet mode: a node takes one address of its own subnet (its pods live in the pod subnet)."""
    for i, s in enumerate(plan.underlay.subnets):
        count = sum(1 for n in plan.nodes if n.subnet == s.name)
        have = vnet.usable(s.cidr.prefixlen)
        if count and count + surge > have:
            problems.error(spec_origin(plan, f"spec.underlay.subnets[{i}].cidr"), f"subnet {s.name} ({s.cidr}) "
                           f"offers {have:,} addresses (Azure reserves 5) but {count} nodes + {surge} surge need "
                           f"{count + surge:,}", "use a larger node subnet")


def check_overlay(plan: Plan, problems: Problems) -> None:
    """Overlay: a pod CIDR outside the VNet, carved into one /24 per node."""
    assert plan.network is not None
    if plan.cluster_cidr is None:
        problems.error(plan.network.origin.at("config.networkPluginMode"), "overlay needs a pod CIDR",
                       "set spec.clusterCIDR (AKS --pod-cidr, e.g. 10.244.0.0/16)")
        return
    if plan.node_cidr_mask_size != 24:
        problems.error(spec_origin(plan, "spec.nodeCIDRMaskSize"),
                       f"Azure CNI overlay gives every node a /24, not a /{plan.node_cidr_mask_size}",
                       "set nodeCIDRMaskSize: 24 or leave it out")
    for i, s in enumerate(plan.underlay.subnets):
        if s.cidr.overlaps(plan.cluster_cidr):
            problems.error(spec_origin(plan, f"spec.underlay.subnets[{i}].cidr"), f"the pod CIDR "
                           f"{plan.cluster_cidr} overlaps VNet subnet {s.name} ({s.cidr})",
                           "pick a pod CIDR outside the VNet")


def assign_node_subnet(plan: Plan, max_pods: MaxPods, problems: Problems) -> dict[str, vnet.NodeIps]:
    """Node-subnet mode: each node's maxPods secondary IPs, lowest free of its subnet, in plan order."""
    out: dict[str, vnet.NodeIps] = {}
    for s in plan.underlay.subnets:
        nodes = [n for n in plan.nodes if n.subnet == s.name]
        primaries = {int(n.ip): n.name for n in nodes}
        spans = vnet.assign_secondaries(s.cidr, [(n.name, max_pods(n)) for n in nodes], primaries)
        for n in nodes:
            if spans[n.name].count < max_pods(n):
                problems.error(n.origin, f"subnet {s.name} ({s.cidr}) has no {max_pods(n)} free addresses left for "
                               f"node {n.name!r}'s secondary IPs ({spans[n.name].count} found)",
                               "use a larger subnet or lower maxPods")
        out.update(spans)
    return out


def assign_pod_subnet(plan: Plan, pod_subnet: UnderlaySubnet, max_pods: MaxPods,
                      problems: Problems) -> dict[str, vnet.NodeIps]:
    """Pod-subnet mode: each node's network-container primary IP, then the pool CNS asks for its planned pods,
    lowest free of the pod subnet, in plan order (``start`` is the primary IP)."""
    assert plan.network is not None
    demand = Counter(p.node for p in plan.pods if p.node is not None and not p.host_network)
    wants = [(n.name, 1 + vnet.swift_pool(demand[n.name], max_pods(n))) for n in plan.nodes]
    spans = vnet.assign_secondaries(pod_subnet.cidr, wants, {})
    for name, want in wants:
        if spans[name].count < want:
            problems.error(plan.network.origin.at("config.podSubnet"), f"pod subnet {pod_subnet.name} "
                           f"({pod_subnet.cidr}) has no {want} free addresses left for node {name!r} (its network "
                           f"container's primary IP and a pool of {want - 1}; {spans[name].count} found)",
                           "use a larger pod subnet")
    return spans


__all__ = ["assign_node_subnet", "assign_pod_subnet", "check_node_subnet_sizes", "check_overlay",
           "check_pod_mode_node_subnets", "find_pod_subnet", "spec_origin"]
