"""Windows node and pod checks: the node OS build, container images against the node build, host networking,
DNS from the CNI config and ICMP through NAT (services-lb.md §4.1–4.2, §4.4; cni-plugins.md §8; origin.md).

Image findings are made by the plan loader while it places pods (``plan.warnings``, codes
``windows-build-newer``/``-older``, ``image-os-mismatch``); these checks give them their codes and severity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from cnimodel.plan import Origin, Pod, Problem
from cnimodel.plan.workloads import finding_code
from cnimodel.validate.context import Context, first, node_obj, phrase
from cnimodel.validate.registry import Hit, check

PASSTHROUGH_LIMIT = 50  # loader findings of one code shown one by one; the rest are summed up in one finding
SUPPORTED = {20348: "Windows Server 2022", 26100: "Windows Server 2025"}
FORMERLY = {17763: "Windows Server 2019 (1809)", 25398: "Windows Server 23H2 Annual Channel"}
NEVER = {14393: "Windows Server 2016", 16299: "Windows Server 1709", 17134: "Windows Server 1803",
         18362: "Windows Server 1903", 18363: "Windows Server 1909", 19041: "Windows Server 2004",
         19042: "Windows Server 20H2"}


def _builds(ctx: Context) -> dict[int | None, list[str]]:
    out: dict[int | None, list[str]] = defaultdict(list)
    for n in ctx.windows:
        out[n.windows_build].append(n.name)
    return out


def _build_at(ctx: Context, name: str) -> tuple[Origin, ...]:
    node = ctx.plan.node(name)
    return (node.origin.at("windowsBuild") if node.windows_build is not None else node.origin,)


@check("CNI-WIN-001", "error", "windows", "A Windows node runs a build Kubernetes does not support",
       "services-lb.md §4.1, §4.4 rule 1 (WS2016, 1709, 1803 and the SAC releases are out of support)")
def node_os_unsupported(ctx: Context) -> Iterator[Hit]:
    for build, names in _builds(ctx).items():
        if build in NEVER:
            yield Hit(f"{len(names)} Windows node(s) ({phrase(names)}) run {NEVER[build]} (build {build}), which "
                      "current Kubernetes does not support (no RemoteSubnet/overlay, no DSR, out of servicing)",
                      "run Windows Server 2022 (20348) or 2025 (26100)", tuple(node_obj(n) for n in first(names)),
                      _build_at(ctx, names[0]))


@check("CNI-WIN-002", "warning", "windows", "A Windows node runs a build outside the current support list",
       "services-lb.md §4.1 (current Kubernetes docs list WS2022 and WS2025; Calico for Windows 2019/2022)")
def node_os_old(ctx: Context) -> Iterator[Hit]:
    for build, names in _builds(ctx).items():
        if build is None or build in SUPPORTED or build in NEVER:
            continue
        what = FORMERLY.get(build, f"build {build}, which no Kubernetes release lists")
        yield Hit(f"{len(names)} Windows node(s) ({phrase(names)}) run {what}: current Kubernetes documents "
                  "Windows Server 2022 and 2025 only", "plan Windows Server 2022 (20348) or 2025 (26100) nodes",
                  tuple(node_obj(n) for n in first(names)), _build_at(ctx, names[0]))


@check("CNI-WIN-003", "info", "windows", "A Windows node's build is not given",
       "services-lb.md §4.1 (image/host matching needs the node build)")
def node_build_missing(ctx: Context) -> Iterator[Hit]:
    names = _builds(ctx).get(None, [])
    if names:
        yield Hit(f"{len(names)} Windows node(s) ({phrase(names)}) have no windowsBuild: image-build, OS-support "
                  "and build-dependent Service checks assume a supported build",
                  "give windowsBuild (or the node.kubernetes.io/windows-build label)",
                  tuple(node_obj(n) for n in first(names)), (ctx.plan.node(names[0]).origin,))


def _pod_index(ctx: Context) -> dict[tuple[str, int, str], str]:
    """A pod's (or its workload's) origin → ``ns/name[Kind]``, to name the objects of loader findings."""
    out: dict[tuple[str, int, str], str] = {}
    for p in ctx.plan.pods:
        out.setdefault((p.origin.file, p.origin.document, p.origin.path), p.workload)
    for w in ctx.plan.workloads:  # workloads whose pods were never made (nothing fits) are named too
        for o in (w.template.origin, w.origin):
            out.setdefault((o.file, o.document, o.path), str(w.ref))
    return out


def _objects_of(ctx: Context, problem: Problem, index: dict[tuple[str, int, str], str]) -> tuple[str, ...]:
    o = problem.origin
    path: str | None = o.path
    while path is not None:  # the finding's field, then each enclosing object up to the document
        hit = index.get((o.file, o.document, path))
        if hit:
            return (hit,)
        path = (path.rsplit(".", 1)[0] if "." in path else "") if path else None
    return ()


def coded_warnings(ctx: Context) -> list[tuple[str | None, Problem]]:
    """Every loader and plugin warning with its workload code (None for others), classified once per run."""
    return ctx.memo("coded-warnings", lambda: [(finding_code(p), p) for p in ctx.warnings])


def passthrough(ctx: Context, codes: tuple[str, ...]) -> Iterator[Hit]:
    """The plan loader's findings with one of ``codes``, as hits."""
    problems = [p for code, p in coded_warnings(ctx) if code in codes]
    if not problems:
        return
    index = _pod_index(ctx)
    shown = problems if len(problems) <= PASSTHROUGH_LIMIT else problems[:PASSTHROUGH_LIMIT - 1]
    for p in shown:
        yield Hit(p.message.split(": ", 1)[1], p.hint, _objects_of(ctx, p, index), (p.origin,))
    rest = problems[len(shown):]
    if rest:  # bare pods get one warning each: at scale, one finding stands for the rest
        objects = tuple(o for p in rest[:20] for o in _objects_of(ctx, p, index))
        yield Hit(f"{len(rest):,} more like the above, e.g. {rest[0].message.split(': ', 1)[1]}", rest[0].hint,
                  objects, tuple(p.origin for p in rest[:5]))


@check("CNI-WIN-004", "error", "windows", "A Windows image's build cannot run process-isolated on its node",
       "microsoft/hcsshim osversion/platform_compat_windows.go CheckHostAndContainerCompat (before WS2022 the same "
       "build; from WS2022 on, the previous LTSC up to the host's build; Kubernetes does not run Hyper-V "
       "isolation); services-lb.md §4.1", needs_cluster=False)
def image_build_mismatch(ctx: Context) -> Iterator[Hit]:
    yield from passthrough(ctx, ("windows-build-newer", "windows-build-older"))


@check("CNI-WIN-005", "error", "windows", "A container image's OS differs from its node's OS",
       "origin.md (known issues: the container OS must match the host OS); services-lb.md §4.1", needs_cluster=False)
def image_os_mismatch(ctx: Context) -> Iterator[Hit]:
    yield from passthrough(ctx, ("image-os-mismatch",))


def _windows_host_network(ctx: Context) -> list[tuple[Pod, Any]]:
    """Windows pods with hostNetwork, each with its object as written (re-read: the plan keeps no securityContext
    or dnsPolicy); one entry per workload."""
    os_of = {n.name: n.os for n in ctx.windows}
    out, seen = [], set()
    for p in ctx.plan.pods:
        if p.host_network and p.node in os_of and p.workload not in seen:
            seen.add(p.workload)
            out.append((p, ctx.raw(p.origin) or {}))
    return out


def _host_process(raw: Any) -> bool:
    spec = raw.get("spec") if isinstance(raw, dict) else None
    if not isinstance(spec, dict):
        return False

    def hp(sc: Any) -> bool | None:
        opts = sc.get("windowsOptions") if isinstance(sc, dict) else None
        value = opts.get("hostProcess") if isinstance(opts, dict) else None
        return value if isinstance(value, bool) else None

    pod_level = hp(spec.get("securityContext"))
    containers = [c for c in spec.get("containers") or () if isinstance(c, dict)]
    return bool(containers) and all((hp(c.get("securityContext")) if hp(c.get("securityContext")) is not None
                                     else pod_level) for c in containers)


@check("CNI-WIN-006", "error", "windows", "A Windows pod uses hostNetwork without being a HostProcess pod",
       "services-lb.md §4.2, §4.4 rule 3 (Windows pods always run with a container network; WindowsHostNetwork "
       "was alpha and is deprecated; HostProcess containers GA in 1.26)")
def host_network_windows(ctx: Context) -> Iterator[Hit]:
    for pod, raw in _windows_host_network(ctx):
        if not _host_process(raw):
            yield Hit(f"{pod.workload} sets hostNetwork on Windows node {pod.node} without HostProcess containers: "
                      "ordinary Windows pods cannot share the host's network, so the pod gets a container network "
                      "(or is rejected)", "set securityContext.windowsOptions.hostProcess: true (with runAsUserName), "
                      "or drop hostNetwork", (pod.workload, node_obj(pod.node or "")),
                      (pod.origin.at("spec.hostNetwork"),))


@check("CNI-WIN-007", "error", "windows", "A Windows pod asks for dnsPolicy ClusterFirstWithHostNet",
       "services-lb.md §4.2, §4.4 rule 4 (not supported on Windows)")
def dns_policy_windows(ctx: Context) -> Iterator[Hit]:
    for pod, raw in _windows_host_network(ctx):
        spec = raw.get("spec") if isinstance(raw, dict) else None
        if isinstance(spec, dict) and spec.get("dnsPolicy") == "ClusterFirstWithHostNet":
            yield Hit(f"{pod.workload} on Windows node {pod.node} sets dnsPolicy ClusterFirstWithHostNet, which "
                      "Windows does not support", "use dnsPolicy ClusterFirst (or Default for HostProcess pods)",
                      (pod.workload,), (pod.origin.at("spec.dnsPolicy"),))


def _windows_pod_endpoints(ctx: Context) -> Iterator[tuple[str, list[Any]]]:
    """Per kind of Windows node, the representative's pod HNS endpoints (one node with pods per kind)."""
    for (os_, _, _), nodes in ctx.kinds.items():
        if os_ != "windows":
            continue
        rep = ctx.representative(nodes, with_pods=True)
        if rep is None:
            continue
        eps = [e for e in ctx.facts(rep.name).hns_endpoints if e.role == "pod"]
        if eps:
            yield rep.name, eps


@check("CNI-WIN-008", "error", "windows", "Windows pods get no DNS server from the CNI config",
       "cni-plugins.md §8 (Windows DNS comes from the CNI conf `dns` or the runtime's dns capability); origin.md; "
       "docs/windows-cni.md (which binaries read runtimeConfig.dns)")
def windows_dns_missing(ctx: Context) -> Iterator[Hit]:
    # The endpoints hold what the plugin model put there: the conf's dns, or kubelet's pod DNS when the conf
    # declares capabilities.dns and its binary reads runtimeConfig.dns (all but wincni).
    for rep, eps in _windows_pod_endpoints(ctx):
        if not any(e.dns_servers for e in eps):
            yield Hit(f"pod endpoints on Windows node {rep} (and nodes like it) have no DNS server: Windows has no "
                      "resolv.conf, and neither the CNI config's dns.Nameservers nor the runtime's dns capability "
                      "gives them one, so names do not resolve",
                      f"set dns.Nameservers to the cluster DNS ({ctx.plan.dns_service_ip}) in the Windows CNI config, "
                      "or declare capabilities: {dns: true} so the runtime passes the pod's DNS",
                      (node_obj(rep),), _network_at(ctx))


@check("CNI-WIN-009", "warning", "windows", "Windows pods' DNS server is not the cluster DNS Service",
       "cni-plugins.md §8; services-lb.md §4.2 (DNS on Windows)")
def windows_dns_other(ctx: Context) -> Iterator[Hit]:
    dns = str(ctx.plan.dns_service_ip) if ctx.plan.dns_service_ip else None
    if dns is None:
        return
    for rep, eps in _windows_pod_endpoints(ctx):
        servers = sorted({s for e in eps for s in e.dns_servers})
        if servers and dns not in servers:
            yield Hit(f"pod endpoints on Windows node {rep} (and nodes like it) use DNS {', '.join(servers)}, not the "
                      f"cluster DNS Service {dns}: Service names do not resolve", f"put {dns} first in the Windows "
                      "CNI config's dns.Nameservers", (node_obj(rep),), _network_at(ctx))


@check("CNI-WIN-010", "info", "windows", "ICMP from Windows pods to remote networks is not translated by NAT",
       "cni-plugins.md §8; services-lb.md §4.2, §4.4 rule 14 (outbound ping fails through OutBoundNAT; TCP/UDP work)")
def windows_icmp_nat(ctx: Context) -> Iterator[Hit]:
    for rep, eps in _windows_pod_endpoints(ctx):
        if any(p.type == "OutBoundNAT" and not p.settings.get("Destinations") for e in eps for p in e.policies):
            yield Hit(f"Windows pods on {rep} (and nodes like it) reach outside networks through OutBoundNAT, which "
                      "does not translate ICMP: ping and ICMP-based probes to external targets fail",
                      "probe with TCP or HTTP, not ping", (node_obj(rep),), _network_at(ctx))
            return


def _network_at(ctx: Context) -> tuple[Origin, ...]:
    return (ctx.plan.network.origin,) if ctx.plan.network is not None else ()
