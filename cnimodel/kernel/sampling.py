"""Sample pods: a plan without pods (or with few) still needs pods in the namespaces to send packets from.

Sample pods are added to the plan itself, after the plan's own pods, so the model allocates their addresses
exactly as host-local would and the trace engine knows them; the plan's own pods keep their addresses.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from cnimodel.cluster import Cluster
from cnimodel.kernel.blueprint import Blueprint, build
from cnimodel.kernel.naming import Names
from cnimodel.plan import Origin, Plan, Pod

SAMPLE_NAMESPACE = "netns-sample"
SAMPLE_LABELS = MappingProxyType({"app.kubernetes.io/managed-by": "cnimodel-netns"})


def with_samples(plan: Plan, pods_per_node: int) -> Cluster:
    """The plan's cluster with sample pods ``netns-sample/<node>-<j>`` topping each node with a pod network up
    to ``pods_per_node`` pods (never past its capacity)."""
    cluster = Cluster.build(plan)
    extra: list[Pod] = []
    for node in plan.nodes:
        a = cluster.allocation.nodes[node.name]
        if a.range is None:
            continue
        have = sum(1 for p in cluster.allocation.pods_on(node.name) if not p.pod.host_network)
        room = max(0, a.capacity - a.pods)
        for j in range(have, min(pods_per_node, have + room)):
            extra.append(Pod(SAMPLE_NAMESPACE, f"{node.name}-{j}", node.name, labels=SAMPLE_LABELS,
                             origin=Origin("<netns sample pod>")))
    if not extra:
        return cluster
    return Cluster.build(replace(plan, pods=plan.pods + tuple(extra)))


def blueprint(plan: Plan, pods_per_node: int, policy: str | None = None) -> Blueprint:
    """Everything ``netns up`` builds for ``plan`` with ``pods_per_node`` pods per node (and the policy
    verdicts as ``policy`` rules, nftables or iptables, when given)."""
    bp = build(with_samples(plan, pods_per_node), Names(plan.name), pods_per_node)
    bp.policy = policy
    return bp
