"""The answers the HTML report shows, asked of each engine (docs/render.md): the nodes given full detail and
their facts, each node's load-balancer rules, the checks' findings, reachability by namespace, the policies
some nodes do not enforce, and the traces asked for. ``cnimodel.render.html`` only lays them out.

>>> page(collect(overview(cluster, runs, Options())))      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cnimodel.cluster import Cluster
from cnimodel.dataplane import NodeFacts, RouteTable

if TYPE_CHECKING:
    from cnimodel.policy.enforcement import Unenforced
    from cnimodel.policy.matrix import NamespaceMatrix
    from cnimodel.services import IptablesView, VfpRule, WinkernelView
    from cnimodel.trace import Trace
    from cnimodel.validate import Report

DETAIL_LIMIT = 500      # nodes whose facts are computed and embedded (routes, neighbours, HNS, LB rules)


@dataclass
class Options:
    """What goes into a report. ``nodes`` are always given full detail, over the limit too."""

    detail_limit: int = DETAIL_LIMIT
    nodes: Sequence[str] = ()
    findings: bool = True
    reach: bool = True
    lb: bool = True
    source: str = ""


@dataclass
class TraceRun:
    """One ``--trace SRC DST --port N`` and the traces it gave (forward and reply)."""

    src: str
    dst: str
    port: int | None
    traces: list[Trace] = field(default_factory=list)


@dataclass(frozen=True)
class NodeServices:
    """What kube-proxy programs on a node: ``iptables`` on a Linux node, ``winkernel`` (with its VFP rules) on
    a Windows one; ``config`` is kube-proxy's configuration as ``cnimodel lb -o json`` shows it."""

    config: dict[str, Any]
    iptables: IptablesView | None = None
    winkernel: WinkernelView | None = None
    vfp: tuple[VfpRule, ...] = ()


@dataclass(frozen=True)
class Overview:
    """Everything the report shows; ``services[node]`` is None where the plan has no Services or the node's
    plugin balances them itself (the report shows kube-proxy's views; a plugin's own load balancers are in
    ``cnimodel lb``); ``findings``/``reach`` are None when not asked for."""

    cluster: Cluster
    options: Options
    runs: tuple[TraceRun, ...]
    detailed: tuple[str, ...]
    facts: dict[str, NodeFacts]
    plugins: dict[str, str]
    underlay: RouteTable
    services: dict[str, NodeServices | None]
    findings: Report | None
    reach: NamespaceMatrix | None
    unenforced: Unenforced | None


def overview(cluster: Cluster, runs: Sequence[TraceRun] = (), options: Options | None = None) -> Overview:
    """Ask each engine what the report shows (see the module doc)."""
    from cnimodel.policy.enforcement import unenforced
    from cnimodel.policy.matrix import namespace_matrix
    from cnimodel.validate import validate

    options = options or Options()
    detailed = detail_nodes(cluster, options, runs)
    return Overview(
        cluster=cluster, options=options, runs=tuple(runs), detailed=tuple(detailed),
        facts={n: cluster.facts(n) for n in detailed},
        plugins={n.name: cluster.plugin.describe(n) for n in cluster.plan.nodes},
        underlay=cluster.underlay(),
        services={n: node_services(cluster, n) for n in detailed} if options.lb else {},
        findings=validate(cluster.plan, cluster) if options.findings else None,
        reach=namespace_matrix(cluster) if options.reach else None,
        unenforced=unenforced(cluster))


def detail_nodes(cluster: Cluster, options: Options, runs: Sequence[TraceRun]) -> list[str]:
    """Nodes given full detail: every node up to the limit; past it, the named ones, those traces pass,
    then the first nodes in plan order up to the limit."""
    names = [n.name for n in cluster.plan.nodes]
    if len(names) <= options.detail_limit:
        return names
    known = set(names)
    chosen: dict[str, None] = {n: None for n in options.nodes if n in known}
    for run in runs:
        for t in run.traces:
            for h in t.hops:
                if h.kind == "node" and h.node in known:
                    chosen[h.node] = None
    for n in names:
        if len(chosen) >= options.detail_limit:
            break
        chosen.setdefault(n, None)
    return list(chosen)


def node_services(cluster: Cluster, node: str) -> NodeServices | None:
    """What kube-proxy programs on ``node``; None when the plan has no Services or the node's plugin balances
    them itself."""
    from cnimodel.services import catalog, iptables_view, vfp_rules, winkernel_view
    from cnimodel.services.decide import proxy_of

    cat = catalog(cluster)
    if not cat.services:
        return None
    proxy = proxy_of(cluster, node)
    if proxy == "plugin":
        return None
    config = cluster.memo(("overview", "kube-proxy"), lambda: cat.config.to_json())
    if proxy == "winkernel":
        view = winkernel_view(cluster, node)
        return NodeServices(config, winkernel=view, vfp=tuple(vfp_rules(view)))
    return NodeServices(config, iptables=iptables_view(cluster, node))


__all__ = ["DETAIL_LIMIT", "NodeServices", "Options", "Overview", "TraceRun", "detail_nodes", "node_services",
           "overview"]
