"""Address plan checks: overlaps, reserved ranges, node and pod capacity, the service range and DNS IP,
pod addresses and duplicates (tools-and-planning.md §3.1–3.4, §3.7–3.8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network

from cnimodel.plan import Origin
from cnimodel.validate.context import Context, first, node_obj, phrase
from cnimodel.validate.registry import Hit, check

LINK_LOCAL = IPv4Network("169.254.0.0/16")
# Ranges AKS keeps for itself (legacy Azure CNI and kubenet): never usable for pods, Services or the VNet.
CLOUD_RESERVED = {"azure": (IPv4Network("172.30.0.0/16"), IPv4Network("172.31.0.0/16"), IPv4Network("192.0.2.0/24"))}
SERVICE_FILL = 0.8  # warn when Services take more than this share of the service range
SERVICE_MAX_PREFIX = 12  # kube-apiserver: an IPv4 --service-cluster-ip-range may span at most 20 host bits


def ranges(ctx: Context) -> list[tuple[str, IPv4Network, Origin]]:
    """The plan's named ranges: cluster CIDR, service CIDR and each underlay subnet, with their fields."""
    plan = ctx.plan
    out = []
    if plan.cluster_cidr is not None:
        out.append(("clusterCIDR", plan.cluster_cidr, plan.origin.at("spec.clusterCIDR")))
    if plan.service_cidr is not None:
        out.append(("serviceCIDR", plan.service_cidr, plan.origin.at("spec.serviceCIDR")))
    for i, s in enumerate(plan.underlay.subnets):
        out.append((f"underlay subnet {s.name}", s.cidr, plan.origin.at(f"spec.underlay.subnets[{i}].cidr")))
    return out


def _plan_obj(ctx: Context) -> str:
    return f"{ctx.plan.name}[ClusterPlan]"


@check("CNI-ADDR-001", "error", "address", "Cluster, service and underlay ranges overlap",
       "tools-and-planning.md §3.7 (coredns/coredns#3704, kubernetes/kubeadm#1591, projectcalico/calico#2720)")
def ranges_overlap(ctx: Context) -> Iterator[Hit]:
    named = ranges(ctx)
    for i, (a_name, a, a_at) in enumerate(named):
        for b_name, b, b_at in named[i + 1:]:
            if a.overlaps(b):
                yield Hit(f"{b_name} {b} overlaps {a_name} {a}: addresses in both are captured by the wrong "
                          "table (Service VIPs, pod routes or the hosts' own subnet)",
                          "give pods, Services and the underlay disjoint ranges", (_plan_obj(ctx),), (b_at, a_at))


@check("CNI-ADDR-002", "error", "address", "A range lies in the link-local block 169.254.0.0/16",
       "tools-and-planning.md §3.8.2; AKS IP planning (169.254.0.0/16 reserved everywhere)")
def link_local(ctx: Context) -> Iterator[Hit]:
    for name, net, at in ranges(ctx):
        if net.overlaps(LINK_LOCAL):
            yield Hit(f"{name} {net} overlaps {LINK_LOCAL}: hosts and clouds use link-local addresses for their "
                      "own services (metadata 169.254.169.254, Azure CNI's 169.254.1.1 gateway, node-local DNS)",
                      "move the range out of 169.254.0.0/16", (_plan_obj(ctx),), (at,))


@check("CNI-ADDR-003", "error", "address", "A range overlaps the cloud's reserved ranges",
       "tools-and-planning.md §3.1 (AKS reserves 172.30.0.0/16, 172.31.0.0/16, 192.0.2.0/24)")
def cloud_reserved(ctx: Context) -> Iterator[Hit]:
    reserved = CLOUD_RESERVED.get(ctx.cloud or "", ())
    for name, net, at in ranges(ctx):
        for r in reserved:
            if net.overlaps(r):
                yield Hit(f"{name} {net} overlaps {r}, which {ctx.cloud} keeps for itself: the cluster is refused "
                          "or its traffic to that range is lost",
                          f"pick a range outside {', '.join(map(str, reserved))}",
                          (_plan_obj(ctx),), (at,))


@check("CNI-ADDR-004", "error", "address", "A range overlaps a peered, on-premises or other external range",
       "tools-and-planning.md §3.7 (Azure/AKS#1175, #2727, #1117 ServiceCidrOverlapExistingSubnetsCidr)")
def external_overlap(ctx: Context) -> Iterator[Hit]:
    for ext in ctx.options.external:
        for name, net, at in ranges(ctx):
            if net.overlaps(ext):
                yield Hit(f"{name} {net} overlaps the external range {ext}: traffic to the real hosts there is "
                          "captured by the cluster (Service VIPs, pod routes)",
                          "pick cluster ranges disjoint from every connected network", (_plan_obj(ctx),), (at,))


@check("CNI-ADDR-005", "error", "address", "The address space holds fewer nodes than planned plus surge",
       "tools-and-planning.md §3.4, §3.7, §3.8.4 (kubernetes/kubernetes#85866, gravitational/gravity#2088)")
def node_capacity(ctx: Context) -> Iterator[Hit]:
    plan, alloc = ctx.plan, ctx.cluster.allocation
    capacity = alloc.max_nodes
    if capacity <= 0:
        return
    by_plugin = ctx.cluster.plugin.max_nodes() is not None
    skipped = ""
    if not by_plugin and plan.network is not None and plan.network.subnet_manager == "etcd":
        capacity -= 1  # flannel's etcd subnet manager never leases the first subnet (SubnetMin default)
        skipped = " (the etcd subnet manager skips the first subnet)"
    planned = max(len(plan.nodes), ctx.options.max_nodes or 0)
    needed = planned + ctx.options.surge
    if needed <= capacity:
        return
    if by_plugin:
        where = (f"the node subnets hold {capacity:,} nodes at 1 + maxPods addresses each")
        at = tuple(plan.origin.at(f"spec.underlay.subnets[{i}].cidr") for i in range(len(plan.underlay.subnets)))
        fix = "use larger node subnets, more subnets or a lower maxPods"
    else:
        where = (f"clusterCIDR {plan.cluster_cidr} holds {capacity:,} node pod CIDRs of "
                 f"/{plan.node_cidr_mask_size}{skipped}")
        at = (plan.origin.at("spec.clusterCIDR"),)
        bigger = max(0, (needed - 1).bit_length() - (plan.node_cidr_mask_size - (plan.cluster_cidr.prefixlen
                                                                                  if plan.cluster_cidr else 0)))
        fix = (f"widen clusterCIDR by {bigger} bit(s) or raise nodeCIDRMaskSize" if bigger
               else "widen clusterCIDR or raise nodeCIDRMaskSize")
    yield Hit(f"{planned:,} nodes + {ctx.options.surge} surge need {needed:,}, but {where}: the node past the "
              "last gets no pod CIDR ('CIDR allocation failed', 'out of subnets') and stays NotReady",
              fix, (_plan_obj(ctx),), at)


@check("CNI-ADDR-006", "warning", "address", "A node's pod range holds fewer addresses than its maxPods",
       "tools-and-planning.md §3.8.5 (flannel SubnetLen hosts ≥ maxPods + gateway); cni-plugins.md §2")
def range_below_max_pods(ctx: Context) -> Iterator[Hit]:
    groups = _range_groups(ctx)
    for (usable, max_pods), names in groups.items():
        if usable < max_pods:
            yield Hit(f"{len(names)} node(s) ({phrase(names)}) have {usable} pod addresses but maxPods {max_pods}: "
                      f"the kubelet admits up to {max_pods} pods and those past {usable} fail with 'no IP "
                      "addresses available in range set'", "use a shorter nodeCIDRMaskSize or lower maxPods",
                      tuple(node_obj(n) for n in first(names)), _node_at(ctx, names, "maxPods"))


@check("CNI-ADDR-007", "info", "address", "A node's pod range is smaller than twice its maxPods",
       "tools-and-planning.md §3.2 (GKE sizes each node's range to at least 2 × maxPods), §3.8.5")
def range_headroom(ctx: Context) -> Iterator[Hit]:
    for (usable, max_pods), names in _range_groups(ctx, carved_only=True).items():
        if max_pods <= usable < 2 * max_pods:
            yield Hit(f"{len(names)} node(s) ({phrase(names)}) have {usable} pod addresses for maxPods {max_pods}: "
                      "addresses of deleted pods are reused at once and there is no room for churn",
                      f"size node ranges to at least {2 * max_pods} addresses (GKE's rule)",
                      tuple(node_obj(n) for n in first(names)), _node_at(ctx, names, "maxPods"))


def _range_groups(ctx: Context, carved_only: bool = False) -> dict[tuple[int, int], list[str]]:
    """Nodes by (pod addresses their range holds, maxPods). ``carved_only``: only nodes with a pod CIDR."""
    def build() -> dict[tuple[int, int, bool], list[str]]:
        plugin = ctx.cluster.plugin
        out: dict[tuple[int, int, bool], list[str]] = defaultdict(list)
        for node in ctx.plan.nodes:
            a = ctx.cluster.allocation.nodes.get(node.name)
            if a is not None and a.range is not None and not a.range.dynamic:  # a pool that grows is no limit
                out[(a.range.usable(), plugin.max_pods(node), a.pod_cidr is not None)].append(node.name)
        return out

    out: dict[tuple[int, int], list[str]] = defaultdict(list)
    for (u, m, carved), names in ctx.memo("range-groups", build).items():
        if carved or not carved_only:
            out[(u, m)] += names
    return out


def _node_at(ctx: Context, names: list[str], field: str) -> tuple[Origin, ...]:
    node = ctx.plan.node(names[0])
    return (node.origin.at(field) if node.max_pods_given else node.origin,)


@check("CNI-ADDR-008", "error", "address", "The service CIDR is larger than kube-apiserver accepts",
       "kubernetes/kubernetes cmd/kube-apiserver/app/options/validation.go (maxCIDRBits 20); AKS: smaller than /12")
def service_cidr_too_large(ctx: Context) -> Iterator[Hit]:
    svc = ctx.plan.service_cidr
    if svc is not None and svc.prefixlen < SERVICE_MAX_PREFIX:
        yield Hit(f"serviceCIDR {svc} spans {32 - svc.prefixlen} host bits: kube-apiserver refuses it ('specified "
                  f"--service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= "
                  f"{SERVICE_MAX_PREFIX}') unless MultiCIDRServiceAllocator and DisableAllocatorDualWrite are on",
                  f"use a /{SERVICE_MAX_PREFIX} or smaller range", (_plan_obj(ctx),),
                  (ctx.plan.origin.at("spec.serviceCIDR"),))


def _cluster_ip_services(ctx: Context) -> list[tuple[str, str | None, Origin]]:
    """(namespace/name, clusterIP as written or None, origin) of every Service that takes a ClusterIP."""
    out = []
    for o in ctx.plan.objects:
        if o.kind != "Service":
            continue
        spec = o.body.get("spec") or {}
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
            continue
        ip = spec.get("clusterIP")
        out.append((o.key, ip if isinstance(ip, str) and ip else None, o.origin))
    return out


@check("CNI-ADDR-009", "warning", "address", "The plan's Services take most of the service CIDR",
       "tools-and-planning.md §3.8.3; kube-apiserver's ClusterIP allocator (network and broadcast excluded)")
def service_cidr_small(ctx: Context) -> Iterator[Hit]:
    svc = ctx.plan.service_cidr
    if svc is None:
        return
    usable = svc.num_addresses - 2
    services = _cluster_ip_services(ctx)
    if len(services) > SERVICE_FILL * usable:
        yield Hit(f"{len(services):,} Services need a ClusterIP and serviceCIDR {svc} offers {usable:,} "
                  f"({len(services) / usable:.0%} used): new Services soon fail with 'range is full'",
                  "use a larger serviceCIDR (up to /12) before the range fills", (_plan_obj(ctx),),
                  (ctx.plan.origin.at("spec.serviceCIDR"),))


@check("CNI-ADDR-010", "error", "address", "The DNS service IP is an address the Service range keeps for others",
       "tools-and-planning.md §3.1, §3.8.3 (DNS IP inside the range, not its first address: kubernetes.default)")
def dns_ip_reserved(ctx: Context) -> Iterator[Hit]:
    svc, dns = ctx.plan.service_cidr, ctx.plan.dns_service_ip
    if svc is None or dns is None or dns not in svc:
        return
    at = (ctx.plan.origin.at("spec.dnsServiceIP"),)
    if int(dns) == int(svc.network_address) + 1:
        yield Hit(f"dnsServiceIP {dns} is the first address of {svc}, which the API server gives the kubernetes "
                  "Service (kubernetes.default)", f"use another address, e.g. {svc.network_address + 10}",
                  (_plan_obj(ctx),), at)
    elif dns == svc.broadcast_address:
        yield Hit(f"dnsServiceIP {dns} is the broadcast address of {svc}, which no ClusterIP may take",
                  f"use another address, e.g. {svc.network_address + 10}", (_plan_obj(ctx),), at)


@check("CNI-ADDR-011", "error", "address", "A Service holds the DNS service IP or the kubernetes Service's IP",
       "tools-and-planning.md §3.8.3; kubeadm clusterDNS (the 10th address) and kubernetes.default (the first)")
def service_ip_taken(ctx: Context) -> Iterator[Hit]:
    svc, dns = ctx.plan.service_cidr, ctx.plan.dns_service_ip
    if svc is None:
        return
    first_ip = str(svc.network_address + 1)
    for key, ip, origin in _cluster_ip_services(ctx):
        ns, name = key.split("/", 1)
        if dns is not None and ip == str(dns) and not (ns == "kube-system" and "dns" in name):
            yield Hit(f"Service {key} has clusterIP {ip}, the cluster DNS address every pod's resolv.conf names: "
                      "kube-dns cannot take it and name resolution breaks", "give the Service another clusterIP "
                      "or leave it out", (f"{key}[Service]",), (origin.at("spec.clusterIP"),))
        elif ip == first_ip and key != "default/kubernetes":
            yield Hit(f"Service {key} has clusterIP {ip}, the address the API server gives the kubernetes Service",
                      "give the Service another clusterIP or leave it out", (f"{key}[Service]",),
                      (origin.at("spec.clusterIP"),))


@check("CNI-ADDR-012", "error", "address", "A pod's IP is outside its node's pod range",
       "tools-and-planning.md §3.8; cni-plugins.md §2 (host-local hands out addresses of the node's range only)")
def pod_ip_outside(ctx: Context) -> Iterator[Hit]:
    alloc = ctx.cluster.allocation
    bad: dict[str, list[str]] = defaultdict(list)
    origins: dict[str, Origin] = {}
    bounds: dict[str, tuple[int, int]] = {}  # a node's range as integers: one conversion per node, not per pod
    for name, na in alloc.nodes.items():
        bounds[name] = (int(na.range.start), int(na.range.end)) if na.range is not None else (1, 0)
    for key, a in alloc.pods.items():
        node = a.pod.node
        if a.source == "hostNetwork" or node is None:
            continue
        lo, hi = bounds.get(node, (1, 0))
        if not lo <= int(a.ip) <= hi:
            bad[node].append(f"{key} ({a.ip})")
            origins.setdefault(node, a.pod.origin.at("status.podIP"))
    for node, pods in bad.items():
        rng = alloc.nodes[node].range if node in alloc.nodes else None
        where = f"{rng.start}-{rng.end}" if rng else "no pod range"
        yield Hit(f"{len(pods)} pod(s) on node {node} have addresses outside its pod range ({where}): "
                  f"{phrase(pods)}; replies to them are routed to another node", "leave status.podIP out to have "
                  "it allocated, or fix the node's podCIDR", (node_obj(node),), (origins[node],))


@check("CNI-ADDR-013", "error", "address", "Two objects hold the same IP address",
       "tools-and-planning.md §3.8; Kubernetes ClusterIP allocation (one Service per address)")
def duplicate_ips(ctx: Context) -> Iterator[Hit]:
    plan, alloc = ctx.plan, ctx.cluster.allocation
    # Integer keys: IPv4Address hashes through hex(), which costs a second at 150,000 pods.
    owner: dict[int, str] = {int(n.ip): node_obj(n.name) for n in plan.nodes}
    for s in plan.underlay.subnets:
        owner.setdefault(int(s.gateway), f"{s.name}[Gateway]")
    seen_pod: dict[int, str] = {}
    clashes: list[tuple[str, str, Origin]] = []
    for key, a in alloc.pods.items():
        if a.source == "hostNetwork":
            continue
        ip = int(a.ip)
        other = owner.get(ip)
        if other is None and ip in seen_pod:
            other = f"{seen_pod[ip]}[Pod]"
        if other is not None:
            clashes.append((f"{key}[Pod]", other, a.pod.origin))
        seen_pod[ip] = key
    for key, text, origin in _cluster_ip_services(ctx):
        try:
            ip = int(IPv4Address(text)) if text else None
        except ValueError:
            ip = None
        if ip is None:
            continue
        other = owner.get(ip)
        if other is not None:
            clashes.append((f"{key}[Service]", other, origin.at("spec.clusterIP")))
        owner[ip] = f"{key}[Service]"
    for svc in ctx.catalog.services if ctx.catalog is not None else []:
        for eip in svc.external_ips:
            pod = seen_pod.get(int(eip))
            if pod is not None:
                clashes.append((f"{svc.key}[Service]", f"{pod}[Pod]", svc.origin.at("spec.externalIPs")))
    for a, b, origin in clashes[:20]:
        yield Hit(f"{a} and {b} hold the same address: one of them is unreachable, and kube-proxy or the "
                  "routes send its traffic to the other", "give every node, pod and Service its own address",
                  (a, b), (origin,))
    if len(clashes) > 20:
        yield Hit(f"{len(clashes) - 20} more address clashes like the ones above", "give every object its own address")
@check("CNI-ADDR-014", "error", "address", "The network plugin fails every pod ADD on a node",
       "the plugin's own ADD (win-overlay looks its HNS network up by the CNI conf's name: containernetworking/"
       "plugins win-overlay_windows.go; the flannel CNI reads flanneld's subnet.env: flannel-io/cni-plugin "
       "flannel.go); docs/checks.md")
def pod_add_fails(ctx: Context) -> Iterator[Hit]:
    alloc = ctx.cluster.allocation
    groups: dict[str, list[str]] = defaultdict(list)
    for name, why in alloc.add_failures.items():
        groups[why].append(name)
    for why, names in groups.items():
        pods = [key for n in names for key in _failed_pods(ctx, n)]
        held = f"{len(pods)} pod(s) ({phrase(pods)}) get" if pods else "any pod placed there would get"
        yield Hit(f"on {len(names)} node(s) ({phrase(names)}) every pod ADD fails: {why}; {held} no address and "
                  "never run (not Service backends, not in policy answers; trace ends POD_NOT_RUNNING)",
                  "fix the CNI config the node's plugin reads (its name, the network it names) or the daemon "
                  "it needs", tuple(node_obj(n) for n in first(names)) + tuple(f"{k}[Pod]" for k in first(pods)),
                  (ctx.plan.network.origin,) if ctx.plan.network is not None else ())


def _failed_pods(ctx: Context, node: str) -> list[str]:
    nr = ctx.cluster.allocation.not_running
    return [p.key for p in ctx.plan.pods if p.node == node and p.key in nr and nr[p.key].code == "pod-add-failed"]
