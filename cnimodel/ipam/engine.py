"""Allocate node pod CIDRs and pod IPs for a whole plan, as the plugins' IPAM does it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from cnimodel.ipam.cidrset import CidrExhausted, CidrSet
from cnimodel.ipam.hostlocal import PodRange
from cnimodel.plan import Plan, Pod, Problems

if TYPE_CHECKING:
    from cnimodel.plugin import NetworkPlugin


@dataclass(frozen=True)
class NodeAllocation:
    name: str
    os: str
    pod_cidr: IPv4Network | None
    cidr_source: str
    range: PodRange | None
    capacity: int
    pods: int


@dataclass(frozen=True)
class PodAddress:
    pod: Pod
    ip: IPv4Address
    source: str  # "plan" (status.podIP), the IPAM that chose it, or "hostNetwork"


@dataclass
class Allocation:
    nodes: dict[str, NodeAllocation] = field(default_factory=dict)
    pods: dict[str, PodAddress] = field(default_factory=dict)
    max_nodes: int = 0
    free_node_cidrs: int = 0
    by_node: dict[str, list[str]] = field(default_factory=dict)

    def pods_on(self, node: str) -> list[PodAddress]:
        """The pods placed on one node, in plan order (an index, not a scan of every pod)."""
        return [self.pods[k] for k in self.by_node.get(node, ())]

    def pod_cidr(self, node: str) -> IPv4Network | None:
        return self.nodes[node].pod_cidr


def kube_node_cidrs(plan: Plan, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
    """kube-controller-manager ``--allocate-node-cidrs``: existing podCIDRs are occupied first, the
    service range too where it overlaps the cluster range, then nodes without one get the next free
    CIDR in plan order."""
    out: dict[str, tuple[IPv4Network, str]] = {}
    if plan.cluster_cidr is None:
        return out
    cidrs = CidrSet(plan.cluster_cidr, plan.node_cidr_mask_size)
    if plan.service_cidr is not None:
        cidrs.occupy(plan.service_cidr)
    for node in plan.nodes:
        if node.pod_cidr is not None:
            cidrs.occupy(node.pod_cidr)
            out[node.name] = (node.pod_cidr, "plan")
    for node in plan.nodes:
        if node.pod_cidr is None:
            try:
                out[node.name] = (cidrs.allocate_next(), "kube-controller-manager")
            except CidrExhausted:
                problems.error(node.origin, f"no pod CIDR left for node {node.name!r}: {plan.cluster_cidr} "
                               f"holds {cidrs.max_cidrs} /{plan.node_cidr_mask_size} ranges",
                               "widen spec.clusterCIDR or raise spec.nodeCIDRMaskSize")
    return out


def allocate(plan: Plan, plugin: NetworkPlugin, problems: Problems) -> Allocation:
    """Node pod CIDRs, then pod IPs node by node in plan order (host-local's sequential walk)."""
    alloc = Allocation()
    if plan.cluster_cidr is not None:
        alloc.max_nodes = 1 << max(0, plan.node_cidr_mask_size - plan.cluster_cidr.prefixlen)
    max_nodes = plugin.max_nodes()
    if max_nodes is not None:
        alloc.max_nodes = max_nodes
    cidrs = plugin.node_cidrs(problems)
    by_node: dict[str, list[Pod]] = defaultdict(list)
    for pod in plan.pods:
        if pod.node is not None:
            by_node[pod.node].append(pod)
    for node in plan.nodes:
        cidr, source = cidrs.get(node.name, (None, "none"))
        rng = plugin.pod_range(node, cidr)
        pods = by_node.get(node.name, [])
        max_pods = plugin.max_pods(node)
        capacity = (max_pods if rng.dynamic else min(max_pods, rng.usable())) if rng is not None else 0
        alloc.nodes[node.name] = NodeAllocation(node.name, node.os, cidr, source, rng, capacity, len(pods))
        if len(pods) > max_pods:
            problems.error(pods[max_pods].origin.at("spec.nodeName"),
                           f"node {node.name!r} holds {len(pods)} pods but its maxPods is {max_pods}",
                           "move pods to other nodes or raise the node's maxPods")
        _allocate_pods(node.name, node.ip, rng, pods, alloc, problems)
    alloc.free_node_cidrs = max(0, alloc.max_nodes - sum(1 for n in alloc.nodes.values() if n.pod_cidr))
    for node_name, node_pods in by_node.items():
        alloc.by_node[node_name] = [p.key for p in node_pods if p.key in alloc.pods]
    return alloc


def _allocate_pods(node: str, node_ip: IPv4Address, rng: PodRange | None, pods: list[Pod],
                   alloc: Allocation, problems: Problems) -> None:
    taken: list[IPv4Address] = []
    waiting: list[Pod] = []
    for pod in pods:
        if pod.host_network:
            alloc.pods[pod.key] = PodAddress(pod, node_ip, "hostNetwork")
        elif pod.ip is not None:
            # The range, not the subnet: a VNet subnet holds every node's addresses, a node only its own.
            if rng is None or not rng.start <= pod.ip <= rng.end:
                where = f"{rng.start}-{rng.end} in {rng.subnet}" if rng else "no pod range"
                problems.error(pod.origin.at("status.podIP"), f"{pod.ip} is outside node {node!r}'s pod "
                               f"range ({where})", "leave status.podIP out to have it allocated")
                continue
            why = dict(rng.reserved).get(pod.ip)
            if why:
                problems.error(pod.origin.at("status.podIP"), f"{pod.ip} is reserved on node {node!r} ({why})",
                               "use another address or leave status.podIP out")
                continue
            taken.append(pod.ip)
            alloc.pods[pod.key] = PodAddress(pod, pod.ip, "plan")
        else:
            waiting.append(pod)
    if not waiting:
        return
    if rng is None:
        problems.error(waiting[0].origin.at("spec.nodeName"), f"node {node!r} has no pod network",
                       "give the node a podCIDR or check the network plugin")
        return
    free = rng.addresses(taken)
    for pod in waiting:
        ip = next(free, None)
        if ip is None:
            problems.error(pod.origin.at("spec.nodeName"), f"no IP addresses available in range set: "
                           f"{rng.start}-{rng.end} on node {node!r} ({rng.usable()} usable)",
                           "spread pods over more nodes or give nodes larger pod CIDRs")
            return
        alloc.pods[pod.key] = PodAddress(pod, ip, rng.ipam)
