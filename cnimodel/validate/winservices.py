"""Service features the Windows kube-proxy (winkernel) does not honour, from the services engine's catalog:
IPv6 on overlay, externalTrafficPolicy Local without DSR, session affinity before WS2022 and its timeout,
SCTP, loadBalancerSourceRanges and more than 1,024 backends (services-lb.md §4.2, §4.4)."""

from __future__ import annotations

from collections.abc import Iterator

from cnimodel.plan import KubeObject
from cnimodel.services.config import AFFINITY_MIN_BUILD, DSR_MIN_BUILD
from cnimodel.services.hnslb import MAX_BACKENDS
from cnimodel.services.model import DEFAULT_AFFINITY_TIMEOUT, Service
from cnimodel.validate.context import Context, first, node_obj, phrase, pod_obj
from cnimodel.validate.registry import Hit, check


def _services(ctx: Context) -> list[Service]:
    """The catalog's Services, when the plan has Windows nodes (winkernel programs every Service on each)."""
    if not ctx.windows or ctx.catalog is None:
        return []
    return ctx.catalog.services


def _svc(svc: Service) -> str:
    return f"{svc.key}[Service]"


@check("CNI-WIN-011", "warning", "windows", "An IPv6 or dual-stack Service with Windows overlay nodes",
       "services-lb.md §4.2, §4.4 rule 5; cni-plugins.md §8 (no IPv6 between overlay pods; dual-stack only on "
       "l2bridge)")
def ipv6_overlay(ctx: Context) -> Iterator[Hit]:
    overlay = [v.node for v in ctx.vteps.values() if v.os == "windows"]
    if not overlay:
        return
    raw = {o.key: o for o in ctx.plan.objects if o.kind == "Service"}
    for svc in _services(ctx):
        if any(ip.version == 6 for ip in svc.cluster_ips) or "IPv6" in _families(raw.get(svc.key)):
            yield Hit(f"Service {svc.key} asks for IPv6, but {len(overlay)} Windows node(s) ({phrase(overlay, 3)}) "
                      "run an overlay network, which carries IPv4 only: winkernel programs it single-stack there",
                      "keep the Service IPv4 for Windows clients, or run Windows nodes on l2bridge",
                      (_svc(svc),), (svc.origin.at("spec.ipFamilies"),))


def _families(obj: KubeObject | None) -> tuple[str, ...]:
    """The families a Service asks for (``spec.ipFamilies``; RequireDualStack adds IPv6)."""
    spec = obj.body.get("spec") if obj is not None else None
    fams = spec.get("ipFamilies") if spec else None
    policy = spec.get("ipFamilyPolicy") if spec else None
    out = tuple(str(f) for f in fams) if isinstance(fams, tuple | list) else ()
    return (*out, "IPv6") if policy == "RequireDualStack" else out


def _no_dsr(ctx: Context) -> list[str]:
    """Windows nodes whose HNS lacks DSR (winkernel's hcn.DSRSupported), as the services engine decides it."""
    assert ctx.catalog is not None
    given = ctx.catalog.config.winkernel.dsr_supported
    if given is not None:
        return [] if given else [n.name for n in ctx.windows]
    return [n.name for n in ctx.windows if n.windows_build is not None and n.windows_build < DSR_MIN_BUILD]


@check("CNI-WIN-012", "warning", "windows", "externalTrafficPolicy Local on Windows nodes without DSR",
       "services-lb.md §4.2, §4.4 rule 6 (winkernel: localTrafficDSR needs hcn.DSRSupported, else Cluster)")
def etp_local_without_dsr(ctx: Context) -> Iterator[Hit]:
    services = [s for s in _services(ctx) if s.etp_local]
    if not services:
        return
    nodes = _no_dsr(ctx)
    if not nodes:
        return
    for svc in services:
        yield Hit(f"Service {svc.key} has externalTrafficPolicy Local, but {len(nodes)} Windows node(s) "
                  f"({phrase(nodes, 3)}) have no HNS DSR support: there Local is ignored and behaves as Cluster "
                  "(client IP not kept, an extra hop)",
                  "run Windows Server 2019 or later (DSR), or expect Cluster behaviour",
                  (_svc(svc), *(node_obj(n) for n in first(nodes, 3))),
                  (svc.origin.at("spec.externalTrafficPolicy"),))


@check("CNI-WIN-013", "warning", "windows", "Session affinity on Windows nodes older than Windows Server 2022",
       "services-lb.md §4.2, §4.4 rule 7 (ClientIP affinity needs HNS 12, WS2022)")
def affinity_old_windows(ctx: Context) -> Iterator[Hit]:
    services = [s for s in _services(ctx) if s.client_ip_affinity]
    old = [n.name for n in ctx.windows if n.windows_build is not None and n.windows_build < AFFINITY_MIN_BUILD]
    if not old:
        return
    for svc in services:
        yield Hit(f"Service {svc.key} asks for ClientIP session affinity, which Windows nodes before Windows Server "
                  f"2022 do not provide: {len(old)} node(s) ({phrase(old, 3)}) spread a client's connections",
                  "run Windows Server 2022 or later, or do not rely on affinity", (_svc(svc),),
                  (svc.origin.at("spec.sessionAffinity"),))


@check("CNI-WIN-014", "info", "windows", "Session affinity timeout is not honoured on Windows",
       "services-lb.md §4.2, §4.4 rule 7 (timeoutSeconds ignored by winkernel)")
def affinity_timeout(ctx: Context) -> Iterator[Hit]:
    for svc in _services(ctx):
        if svc.client_ip_affinity and svc.affinity_timeout != DEFAULT_AFFINITY_TIMEOUT:
            yield Hit(f"Service {svc.key} sets sessionAffinityConfig.clientIP.timeoutSeconds "
                      f"{svc.affinity_timeout}, which Windows nodes ignore", "expect HNS's own affinity lifetime on "
                      "Windows nodes", (_svc(svc),), (svc.origin.at("spec.sessionAffinityConfig"),))


@check("CNI-WIN-015", "warning", "windows", "SCTP is used while the cluster has Windows nodes",
       "services-lb.md §4.2, §4.4 rule 11 (HNS does not support SCTP: Azure/azure-container-networking#1442)")
def sctp_windows(ctx: Context) -> Iterator[Hit]:
    if not ctx.windows:
        return
    for svc in _services(ctx):
        if any(sp.protocol == "SCTP" for sp in svc.ports):
            yield Hit(f"Service {svc.key} has an SCTP port; HNS on the Windows nodes does not load-balance SCTP",
                      "use TCP or UDP, or keep SCTP clients and backends on Linux nodes", (_svc(svc),),
                      (svc.origin.at("spec.ports"),))
    windows = {n.name for n in ctx.windows}
    seen = set()
    for pod in ctx.plan.pods:
        if pod.ports and pod.node in windows and any(p.protocol == "SCTP" for p in pod.ports) \
                and pod.workload not in seen:
            seen.add(pod.workload)
            yield Hit(f"{pod.workload} on Windows node {pod.node} declares an SCTP container port, which HNS does not "
                      "support", "use TCP or UDP on Windows", (pod_obj(pod),), (pod.origin.at("spec.containers"),))
    for o in ctx.plan.objects:
        if o.kind == "NetworkPolicy" and "SCTP" in str(o.body.get("spec")):
            yield Hit(f"NetworkPolicy {o.key} matches SCTP, which the Windows nodes' HNS ACLs cannot express",
                      "expect SCTP rules to have no effect on Windows pods", (f"{o.key}[NetworkPolicy]",),
                      (o.origin.at("spec"),))


@check("CNI-WIN-016", "warning", "windows", "loadBalancerSourceRanges are ignored on Windows nodes",
       "services-lb.md §4.2, §4.4 rule 8 (winkernel never reads loadBalancerSourceRanges)")
def lb_source_ranges(ctx: Context) -> Iterator[Hit]:
    for svc in _services(ctx):
        if svc.source_ranges:
            yield Hit(f"Service {svc.key} limits clients with loadBalancerSourceRanges, which the Windows nodes' "
                      "kube-proxy does not enforce: any client reaching a Windows node gets in",
                      "enforce the ranges in the cloud load balancer or a firewall, or keep the backends off "
                      "Windows nodes", (_svc(svc),), (svc.origin.at("spec.loadBalancerSourceRanges"),))


@check("CNI-WIN-017", "error", "windows", "A Service has more than 1,024 backends while the cluster has Windows nodes",
       "services-lb.md §4.2, §4.4 rule 10; tools-and-planning.md §3.6 (VFP: 'invalid number of destinations')")
def too_many_backends(ctx: Context) -> Iterator[Hit]:
    cat = ctx.catalog
    for svc in _services(ctx):
        assert cat is not None
        for sp in svc.ports:
            n = len(cat.endpoints_of(sp))
            if n > MAX_BACKENDS:
                yield Hit(f"Service port {sp.key} has {n:,} endpoints; Windows HNS load balancers take at most "
                          f"{MAX_BACKENDS:,}, so the Windows nodes cannot program it", "split the Service, or keep "
                          "it off Windows clients", (_svc(svc),), (svc.origin,))
                break
