"""Checks that make a plan usable at all: bad addresses, overlaps, duplicates, dangling references.

Design mistakes that still leave a buildable plan (a VNI mismatch, a too-small subnet for growth) are
findings of ``cnimodel check``, not errors here.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from ipaddress import IPv4Network

from cnimodel.plan.errors import Problems
from cnimodel.plan.model import NodeSpec, Plan, Pod


def check_plan(plan: Plan, problems: Problems, cluster: bool = True, objects: bool = True) -> Plan:
    """Report every problem; return the plan with node subnets resolved. The checks of cluster-wide values
    (ranges, subnets, podCIDRs inside the cluster CIDR, pods' nodes) run with ``cluster``, the others (duplicate
    nodes, pods and addresses) with ``objects``: a dump's plan gets the second kind when it is loaded and the
    first once cnimodel.infer has read its cluster-wide values."""
    if cluster and plan.has_cluster:
        _check_ranges(plan, problems)
        plan = replace(plan, nodes=tuple(_resolve_subnet(plan, n, problems) for n in plan.nodes))
        _check_in_cluster(plan, problems)
    if objects:
        _check_nodes(plan, problems)
        _check_pods(plan, problems)
    return plan


def _check_ranges(plan: Plan, problems: Problems) -> None:
    spec = plan.origin.at("spec")
    named: list[tuple[str, IPv4Network]] = []
    if plan.cluster_cidr is not None:
        named.append(("spec.clusterCIDR", plan.cluster_cidr))
        if plan.node_cidr_mask_size < plan.cluster_cidr.prefixlen:
            problems.error(spec.at("nodeCIDRMaskSize"),
                           f"/{plan.node_cidr_mask_size} is shorter than the cluster CIDR {plan.cluster_cidr}",
                           f"use a mask of at least /{plan.cluster_cidr.prefixlen} (usually /24)")
    if plan.service_cidr is not None:
        named.append(("spec.serviceCIDR", plan.service_cidr))
        dns = plan.dns_service_ip
        if dns is not None and (dns not in plan.service_cidr or dns == plan.service_cidr.network_address):
            problems.error(spec.at("dnsServiceIP"), f"{dns} must be an address inside {plan.service_cidr} "
                           "other than the network address",
                           f"use {plan.service_cidr.network_address + 10} (kubeadm's default)")
    if not plan.underlay.subnets:
        problems.error(spec.at("underlay.subnets"), "is required: the nodes' underlay subnets",
                       "add `underlay: {subnets: [{name: nodes, cidr: 10.240.0.0/24}]}`")
    for i, s in enumerate(plan.underlay.subnets):
        named.append((f"spec.underlay.subnets[{i}].cidr", s.cidr))
    for i, (a_name, a) in enumerate(named):
        for b_name, b in named[i + 1:]:
            if a.overlaps(b):
                problems.error(plan.origin.at(b_name), f"{b} overlaps {a_name} ({a})",
                               "give pods, Services and the underlay disjoint ranges")


def _resolve_subnet(plan: Plan, node: NodeSpec, problems: Problems) -> NodeSpec:
    subnets = plan.underlay.subnets
    if node.subnet:
        match = next((s for s in subnets if s.name == node.subnet), None)
        if match is None:
            problems.error(node.at("subnet"), f"no underlay subnet named {node.subnet!r}",
                           f"use one of: {', '.join(s.name for s in subnets) or '(none defined)'}")
            return node
        if node.ip not in match.cidr:
            problems.error(node.at("ip"), f"{node.ip} is outside its subnet {match.name} ({match.cidr})",
                           "fix the address or the subnet name")
            return node
    else:
        match = next((s for s in subnets if node.ip in s.cidr), None)
    if match is None:
        if subnets:
            problems.error(node.at("ip"), f"{node.ip} is outside every underlay subnet",
                           "add the node's subnet under spec.underlay.subnets or fix the address")
        return node
    if node.ip in (match.cidr.network_address, match.cidr.broadcast_address, match.gateway):
        problems.error(node.at("ip"), f"{node.ip} is the network, broadcast or gateway address of "
                       f"{match.name} ({match.cidr})", "give the node a host address of the subnet")
    return replace(node, subnet=match.name)


def _check_nodes(plan: Plan, problems: Problems) -> None:
    by_name: dict[str, NodeSpec] = {}
    by_ip: dict[object, NodeSpec] = {}
    cidrs: list[tuple[IPv4Network, NodeSpec]] = []
    for node in plan.nodes:
        if not node.name:  # Kubernetes requires metadata.name; an empty one names nothing the commands can address
            problems.error(node.at("name"), "a node's name is empty", "give the node a name, e.g. lin1")
        elif node.name in by_name:
            first = by_name[node.name].origin
            problems.error(node.at("name"), f"duplicate node name {node.name!r} "
                           f"(first at {first.file} {first.path})", "give every node its own name")
        else:
            by_name[node.name] = node
        if node.ip in by_ip:
            problems.error(node.at("ip"), f"{node.ip} is also the address of node "
                           f"{by_ip[node.ip].name!r}", "give every node its own address")
        else:
            by_ip[node.ip] = node
        if node.pod_cidr is not None:
            cidrs.append((node.pod_cidr, node))
    cidrs.sort(key=lambda t: (t[0].network_address, t[0].prefixlen))
    for (a, na), (b, nb) in itertools.pairwise(cidrs):
        if a.overlaps(b):
            problems.error(nb.at("podCIDR"), f"{b} overlaps node {na.name!r}'s podCIDR {a}",
                           "give every node a disjoint podCIDR")


def _check_in_cluster(plan: Plan, problems: Problems) -> None:
    """Node podCIDRs inside the cluster CIDR; every pod on one of the plan's nodes."""
    for node in plan.nodes:
        if node.pod_cidr is not None and plan.cluster_cidr is not None \
                and not node.pod_cidr.subnet_of(plan.cluster_cidr):
            problems.error(node.at("podCIDR"), f"{node.pod_cidr} is outside the cluster CIDR "
                           f"{plan.cluster_cidr}", "use a range inside clusterCIDR, or leave podCIDR out "
                           "to have it allocated")
    names = {n.name for n in plan.nodes}
    for pod in plan.pods:
        if pod.node is None and pod.not_running is None:  # a Pending pod has no node
            problems.error(pod.origin.at("spec.nodeName"), f"pod {pod.key} has no node",
                           f"set spec.nodeName to one of the plan's nodes ({_some(names)})")
        elif pod.node is not None and pod.node not in names:
            problems.error(pod.origin.at("spec.nodeName"), f"pod {pod.key} is on unknown node "
                           f"{pod.node!r}", f"use one of the plan's nodes ({_some(names)})")


def _check_pods(plan: Plan, problems: Problems) -> None:
    seen: dict[str, Pod] = {}
    ips: dict[int, str] = {}  # by integer: IPv4Address hashes through hex()
    for pod in plan.pods:
        first = seen.get(pod.key)
        if first is not None and pod.owner == first.owner:  # two documents of one Pod
            problems.error(pod.origin.at("metadata.name"), f"Pod {pod.key} is given twice: also at "
                           f"{first.origin.where()}", "keep one of the two: remove it from one file, or leave one "
                           "of the inputs out")
        elif first is not None:
            problems.error(pod.origin.at("metadata.name"), f"pod {pod.key} is also made by {first.workload} "
                           f"({first.origin.where()})", "give every pod in a namespace its own name")
        seen[pod.key] = pod
        if pod.ip is not None and not pod.host_network:
            a = int(pod.ip)
            if a in ips:
                problems.error(pod.origin.at("status.podIP"), f"{pod.ip} is also the address of pod "
                               f"{ips[a]}", "give every pod its own address, or leave podIP out")
            ips[a] = pod.key


def _some(names: set[str]) -> str:
    shown = sorted(names)[:5]
    return ", ".join(shown) + (" …" if len(names) > 5 else "")
