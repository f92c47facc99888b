"""Allocate node pod CIDRs and pod IPs for a whole plan, as the plugins' IPAM does it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from cnimodel.bulk import frozen
from cnimodel.ipam.cidrset import CidrExhausted, CidrSet
from cnimodel.ipam.hostlocal import PodRange
from cnimodel.plan import NodeSpec, NotRunning, Plan, Pod, Problems

if TYPE_CHECKING:
    from cnimodel.plugin.ipam import Addressing


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
    """Node pod CIDRs and pod addresses. ``pods`` holds every pod with an address; ``not_running`` every pod
    that never runs and why (``NotRunning``: Pending, rejected by the kubelet, images that cannot run on its
    node — those keep their sandbox's address in ``pods`` — or a CNI ADD the network plugin fails); the one
    answer every engine reads. ``add_failures``: the nodes whose plugin fails every pod ADD, and why."""

    nodes: dict[str, NodeAllocation] = field(default_factory=dict)
    pods: dict[str, PodAddress] = field(default_factory=dict)
    max_nodes: int = 0
    free_node_cidrs: int = 0
    by_node: dict[str, list[str]] = field(default_factory=dict)
    not_running: dict[str, NotRunning] = field(default_factory=dict)
    add_failures: dict[str, str] = field(default_factory=dict)

    def runs(self, key: str) -> bool:
        """Whether pod ``key`` (``ns/name``) runs: it is not among ``not_running``."""
        return key not in self.not_running

    def pods_on(self, node: str) -> list[PodAddress]:
        """The pods placed on one node, in plan order (an index, not a scan of every pod)."""
        return [self.pods[k] for k in self.by_node.get(node, ())]

    def pod_cidr(self, node: str) -> IPv4Network | None:
        return self.nodes[node].pod_cidr


def _address(pod: Pod, ip: IPv4Address, source: str) -> PodAddress:
    """One per pod (150,000 and more): built without the frozen ``__init__``."""
    return frozen(PodAddress, pod=pod, ip=ip, source=source)


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


def allocate(plan: Plan, plugin: Addressing, problems: Problems,
             add_failure: Callable[[NodeSpec], str | None] | None = None) -> Allocation:
    """Node pod CIDRs, then pod IPs node by node in plan order (host-local's sequential walk), as the IPAM
    ``plugin`` answers. ``add_failure`` says per node why the network plugin fails every pod ADD there (None:
    ADDs succeed; the network plugin's ``pod_add_failure``); default: every ADD succeeds."""
    alloc = Allocation()
    if plan.cluster_cidr is not None:
        alloc.max_nodes = 1 << max(0, plan.node_cidr_mask_size - plan.cluster_cidr.prefixlen)
    max_nodes = plugin.max_nodes()
    if max_nodes is not None:
        alloc.max_nodes = max_nodes
    cidrs = plugin.node_cidrs(problems)
    failure = add_failure or (lambda _node: None)
    by_node: dict[str, list[Pod]] = defaultdict(list)
    for pod in plan.pods:
        if pod.node is not None:
            by_node[pod.node].append(pod)
        elif pod.not_running is not None:  # Pending: no node, no address
            alloc.not_running[pod.key] = pod.not_running
    for node in plan.nodes:
        cidr, source = cidrs.get(node.name, (None, "none"))
        rng = plugin.pod_range(node, cidr)
        pods = by_node.get(node.name, [])
        max_pods = plugin.max_pods(node)
        capacity = (max_pods if rng.dynamic else min(max_pods, rng.usable())) if rng is not None else 0
        alloc.nodes[node.name] = NodeAllocation(node.name, node.os, cidr, source, rng, capacity, len(pods))
        held = pods if len(pods) <= max_pods else [  # (room for all: no need to count)
            p for p in pods if p.not_running is None or p.not_running.sandbox]  # a rejected pod holds nothing
        if len(held) > max_pods:
            problems.error(held[max_pods].origin.at("spec.nodeName"),
                           f"node {node.name!r} holds {len(held)} pods but its maxPods is {max_pods}",
                           "move pods to other nodes or raise the node's maxPods")
        why = failure(node)
        if why is not None:
            alloc.add_failures[node.name] = why
        held_keys = _allocate_pods(node.name, node.ip, rng, pods, alloc, problems, why)
        if pods:
            alloc.by_node[node.name] = held_keys
    alloc.free_node_cidrs = max(0, alloc.max_nodes - sum(1 for n in alloc.nodes.values() if n.pod_cidr))
    for node_name, node_pods in by_node.items():  # pods on a node the plan does not hold (a plan error)
        if node_name not in alloc.by_node:
            alloc.by_node[node_name] = [k for p in node_pods if (k := p.key) in alloc.pods]
    return alloc


def _allocate_pods(node: str, node_ip: IPv4Address, rng: PodRange | None, pods: list[Pod],
                   alloc: Allocation, problems: Problems, add_failure: str | None = None) -> list[str]:
    """Addresses for one node's pods: given ones (``status.podIP``) checked against the node's range and its
    reserved addresses, then the others drawn in host-local's order. Addresses are compared as integers (one
    ``int()`` per pod). Returns the keys of the pods given an address, in plan order."""
    taken: set[int] = set()
    waiting: list[Pod] = []
    held: list[str] = []  # keys given an address in the first pass, in plan order
    failed = None
    if add_failure is not None:
        failed = NotRunning("pod-add-failed", f"every pod ADD on node {node} fails ({add_failure}); the pod gets "
                            "no address and stays ContainerCreating")
    lo, hi = (int(rng.start), int(rng.end)) if rng is not None else (1, 0)
    reserved = {int(ip): why for ip, why in rng.reserved} if rng is not None else {}
    pods_out, not_running = alloc.pods, alloc.not_running
    for pod in pods:
        nr = pod.not_running
        if nr is not None:
            not_running[pod.key] = nr  # with the sandbox's address when it has one (below)
            if not nr.sandbox:
                continue
        if pod.host_network:  # the node's own network namespace: no CNI ADD
            held.append(key := pod.key)
            pods_out[key] = _address(pod, node_ip, "hostNetwork")
        elif failed is not None:
            not_running[pod.key] = failed
        elif (ip := pod.ip) is not None:
            # The range, not the subnet: a VNet subnet holds every node's addresses, a node only its own.
            a = int(ip)
            if not lo <= a <= hi:
                where = f"{rng.start}-{rng.end} in {rng.subnet}" if rng else "no pod range"
                problems.error(pod.origin.at("status.podIP"), f"{ip} is outside node {node!r}'s pod "
                               f"range ({where})", "leave status.podIP out to have it allocated")
                continue
            why = reserved.get(a)
            if why:
                problems.error(pod.origin.at("status.podIP"), f"{ip} is reserved on node {node!r} ({why})",
                               "use another address or leave status.podIP out")
                continue
            taken.add(a)
            held.append(key := pod.key)
            pods_out[key] = _address(pod, ip, "plan")
        else:
            waiting.append(pod)
    if not waiting:
        return held
    if rng is None:
        problems.error(waiting[0].origin.at("spec.nodeName"), f"node {node!r} has no pod network",
                       "give the node a podCIDR or check the network plugin")
        return held
    skip = taken | reserved.keys()
    a, source = lo, rng.ipam
    drawn: list[str] = []
    for pod in waiting:  # host-local's walk: sequential from the range's start, past taken and reserved ones
        while a in skip:
            a += 1
        if a > hi:
            problems.error(pod.origin.at("spec.nodeName"), f"no IP addresses available in range set: "
                           f"{rng.start}-{rng.end} on node {node!r} ({rng.usable()} usable)",
                           "spread pods over more nodes or give nodes larger pod CIDRs")
            break
        drawn.append(key := pod.key)
        pods_out[key] = _address(pod, IPv4Address(a), source)
        a += 1
    if not held:
        return drawn
    return [k for p in pods if (k := p.key) in pods_out]  # both kinds: back in plan order
