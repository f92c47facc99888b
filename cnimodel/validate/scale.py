"""The Kubernetes scale envelope: nodes, pods per node, pods, containers and Services against the limits the
project designs and tests for (tools-and-planning.md §3.6, §3.8.7–8; kubernetes.io best-practices/cluster-large)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from cnimodel.validate.context import Context, first, node_obj, phrase
from cnimodel.validate.registry import Hit, check

MAX_NODES = 5_000
MAX_PODS_PER_NODE = 110
MAX_PODS = 150_000
MAX_CONTAINERS = 300_000
MAX_SERVICES = 10_000  # SIG-scalability's threshold (tools-and-planning.md marks it unverified)
REF = "tools-and-planning.md §3.6 (Kubernetes 'Considerations for large clusters')"


def _plan_hit(ctx: Context, message: str, fix: str) -> Hit:
    return Hit(message, fix, (f"{ctx.plan.name}[ClusterPlan]",), (ctx.plan.origin,))


@check("CNI-SCALE-001", "warning", "scale", "More nodes than Kubernetes supports", REF, needs_cluster=False)
def too_many_nodes(ctx: Context) -> Iterator[Hit]:
    n = max(len(ctx.plan.nodes), ctx.options.max_nodes or 0)
    if n > MAX_NODES:
        yield _plan_hit(ctx, f"the plan has {n:,} nodes; Kubernetes is designed and tested for at most "
                        f"{MAX_NODES:,}", "split the workload over several clusters")


@check("CNI-SCALE-002", "info", "scale", "maxPods above the 110 pods per node Kubernetes tests", REF,
       needs_cluster=False)
def pods_per_node(ctx: Context) -> Iterator[Hit]:
    plugin = ctx.cluster.plugin if ctx.has_cluster else None
    groups: dict[int, list[str]] = defaultdict(list)
    for node in ctx.plan.nodes:
        m = plugin.max_pods(node) if plugin is not None else node.max_pods
        if m > MAX_PODS_PER_NODE:
            groups[m].append(node.name)
    for m, names in sorted(groups.items()):
        node = ctx.plan.node(names[0])
        yield Hit(f"{len(names)} node(s) ({phrase(names, 3)}) allow {m} pods; Kubernetes' envelope is "
                  f"{MAX_PODS_PER_NODE} per node (some managed offerings allow up to 250)",
                  f"keep maxPods at or below {MAX_PODS_PER_NODE} unless the platform documents more",
                  tuple(node_obj(n) for n in first(names, 5)),
                  (node.origin.at("maxPods") if node.max_pods_given else ctx.plan.origin,))


@check("CNI-SCALE-003", "warning", "scale", "More pods than Kubernetes supports", REF, needs_cluster=False)
def too_many_pods(ctx: Context) -> Iterator[Hit]:
    n = len(ctx.plan.pods)
    if n > MAX_PODS:
        yield _plan_hit(ctx, f"the plan has {n:,} pods; Kubernetes is designed for at most {MAX_PODS:,}",
                        "split the workload over several clusters")


@check("CNI-SCALE-004", "warning", "scale", "More containers than Kubernetes supports", REF, needs_cluster=False)
def too_many_containers(ctx: Context) -> Iterator[Hit]:
    n = sum(len(p.images) for p in ctx.plan.pods)
    if n > MAX_CONTAINERS:
        yield _plan_hit(ctx, f"the plan has {n:,} containers; Kubernetes is designed for at most {MAX_CONTAINERS:,}",
                        "split the workload over several clusters")


@check("CNI-SCALE-005", "warning", "scale", "More Services than the tested threshold",
       REF + "; ~10,000 Services per cluster (unverified)", needs_cluster=False)
def too_many_services(ctx: Context) -> Iterator[Hit]:
    n = sum(1 for o in ctx.plan.objects if o.kind == "Service")
    if n > MAX_SERVICES:
        yield _plan_hit(ctx, f"the plan has {n:,} Services; SIG scalability tests up to about {MAX_SERVICES:,}, "
                        "and kube-proxy's iptables mode grows with every Service port and endpoint",
                        "use fewer Services, or kube-proxy's nftables/IPVS mode at this size")
