"""Who can send and receive: pods, hostNetwork pods, nodes and external address ranges, folded into
equivalence classes.

Two peers land in one class when no policy can tell them apart: the same endpoint selectors match them,
the same referenced CIDRs hold their addresses, their named ports resolve alike, and their enforcement
agrees. Pods alike in namespace labels, pod labels, named ports and CIDR membership always share a class;
the fold goes further, since labels no selector reads do not split classes.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from cnimodel.net import PrefixTable
from cnimodel.plan import NodeSpec, Plan, Pod
from cnimodel.policy.model import EndpointSel, PolicySet
from cnimodel.policy.selectors import Sel, label_keys

Kind = Literal["pod", "host", "external"]
NS_NAME = "kubernetes.io/metadata.name"
CALICO_NS_NAME = "projectcalico.org/name"
CALICO_POD_NS = "projectcalico.org/namespace"
CALICO_ORCH = "projectcalico.org/orchestrator"
CALICO_SA = "projectcalico.org/serviceaccount"
CALICO_NAME = "projectcalico.org/name"  # conversion.NameLabel, on namespace and service-account profiles
SA_PREFIX, NS_PREFIX = "pcsa.", "pcns."  # conversion.ServiceAccountLabelPrefix, NamespaceLabelPrefix
PROFILE_PREFIXES = (SA_PREFIX, NS_PREFIX)
EMPTY: frozenset = frozenset()


@dataclass(frozen=True)
class Enforcement:
    """Whether policy is enforced for a pod, and the sentence that says why."""

    enforced: bool
    reason: str


@dataclass(frozen=True)
class PolicyPod:
    """A pod as the engine sees it: its address and whether its node enforces policy."""

    pod: Pod
    ip: IPv4Address | None
    enforcement: Enforcement

    @property
    def key(self) -> str:
        return self.pod.key

    @property
    def host_network(self) -> bool:
        return self.pod.host_network


@dataclass
class PeerClass:
    """Peers no policy can tell apart. ``cidrs``: the referenced CIDRs that hold the peer's address."""

    index: int
    kind: Kind
    atoms: frozenset[int] = EMPTY           # ids of the endpoint selectors matching it (pods only)
    cidrs: frozenset[IPv4Network] = EMPTY
    named: tuple[tuple[str, str, int], ...] = ()  # referenced named ports: (name, protocol, port)
    node_atoms: frozenset[int] = EMPTY      # ids of the node selectors matching its node (host only)
    enforced: bool = True
    members: int = 0

    def resolve(self, name: str, protocol: str | None) -> list[tuple[str, int]]:
        """The (protocol, port) pairs a named port means on this peer (none for a non-pod)."""
        return [(p, n) for nm, p, n in self.named if nm == name and (protocol is None or p == protocol)]


@dataclass
class Interval:
    """A range of external addresses that every referenced CIDR holds wholly or not at all."""

    lo: int
    hi: int
    cls: int

    @property
    def text(self) -> str:
        return f"{IPv4Address(self.lo)}-{IPv4Address(self.hi)}"


@dataclass
class Universe:
    workloads: list[PolicyPod]
    by_key: dict[str, int]
    ns_labels: dict[str, Mapping[str, str]]          # Kubernetes view (with kubernetes.io/metadata.name)
    nodes: dict[str, NodeSpec]
    atom_ids: dict[EndpointSel, int]
    node_atom_ids: dict[Sel, int]
    classes: list[PeerClass] = field(default_factory=list)
    workload_class: list[int] = field(default_factory=list)
    node_class: dict[str, int] = field(default_factory=dict)
    intervals: list[Interval] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)          # interval starts, ascending
    cut_chains: list[frozenset[IPv4Network]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def chain(self, ip: IPv4Address | None) -> frozenset[IPv4Network]:
        """The referenced CIDRs holding ``ip`` (those of the interval it falls in)."""
        if ip is None:
            return EMPTY
        return self.cut_chains[bisect.bisect_right(self.cuts, int(ip)) - 1]

    def external_class(self, ip: IPv4Address) -> int:
        """The class of an address that is neither a pod's nor a node's."""
        a = int(ip)
        lo, hi = 0, len(self.intervals) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.intervals[mid].hi < a:
                lo = mid + 1
            else:
                hi = mid
        return self.intervals[lo].cls


def ns_view(name: str, labels: Mapping[str, str], flavor: str) -> dict[str, str]:
    view = dict(labels)
    view[NS_NAME] = name  # immutable label the control plane sets on every namespace
    if flavor == "calico":
        view[CALICO_NS_NAME] = name
    return view


def pod_view(ns: str, labels: Mapping[str, str], flavor: str, extra: Mapping[str, str] | None = None
             ) -> Mapping[str, str]:
    """The labels a selector of ``flavor`` sees on a pod. Calico's WorkloadEndpoint (libcalico-go's pod
    conversion and workload-endpoint update processor) drops the pod's own ``pcns.``/``pcsa.`` labels, adds
    its namespace, orchestrator and service account (``calico_extra``: the account's name and, inherited from
    its profile, its labels under ``pcsa.``)."""
    if flavor != "calico":
        return labels
    view = {k: v for k, v in labels.items() if not k.startswith(PROFILE_PREFIXES)} if any(
        k.startswith(PROFILE_PREFIXES) for k in labels) else dict(labels)
    view.update({CALICO_POD_NS: ns, CALICO_ORCH: "k8s", CALICO_SA: "default"})
    if extra:
        view.update(extra)
    return view


def service_accounts(plan: Plan) -> dict[tuple[str, str], Mapping[str, str]]:
    """The plan's ServiceAccount objects: (namespace, name) → their labels."""
    out: dict[tuple[str, str], Mapping[str, str]] = {}
    for o in plan.objects_of("ServiceAccount"):
        labels = (o.body.get("metadata") or {}).get("labels") or {}
        out[(o.namespace or "default", o.name)] = {str(k): str(v) for k, v in labels.items()}
    return out


def calico_extra(pod: Pod, accounts: Mapping[tuple[str, str], Mapping[str, str]]) -> dict[str, str]:
    """What Calico adds to a pod's labels for its service account: ``projectcalico.org/serviceaccount`` (the
    pod's ``spec.serviceAccountName``) and, when the plan holds that ServiceAccount, its labels prefixed
    ``pcsa.`` and ``pcsa.projectcalico.org/name`` (libcalico-go ServiceAccountToProfile)."""
    out = {CALICO_SA: pod.service_account}
    labels = accounts.get((pod.namespace, pod.service_account))
    if labels is not None:
        out.update({SA_PREFIX + k: v for k, v in labels.items()})
        out[SA_PREFIX + CALICO_NAME] = pod.service_account
    return out


def cidr_chains(cidrs: Iterable[IPv4Network]) -> PrefixTable[frozenset[IPv4Network]]:
    """Each referenced CIDR → itself and every referenced CIDR holding it (CIDRs nest, never cross)."""
    table: PrefixTable[frozenset[IPv4Network]] = PrefixTable()
    for c in sorted(set(cidrs), key=lambda n: (n.prefixlen, int(n.network_address))):
        parent = table.lookup(c.network_address)
        table.add(c, (parent[1] if parent else EMPTY) | {c})
    return table


def build_universe(plan: Plan, policies: PolicySet, enforcement: Callable[[Pod], Enforcement],
                   ips: Mapping[str, IPv4Address | None], pods: Sequence[Pod] | None = None) -> Universe:
    """Fold the plan's pods (``pods``: the ones that run; default every pod), nodes and the address space into
    classes (see the module docstring)."""
    atom_ids = {s: i for i, s in enumerate(sorted(policies.endpoint_selectors(), key=str))}
    node_atom_ids = {s: i for i, s in enumerate(sorted(policies.node_selectors(), key=str))}
    named_refs = {n for n, _ in policies.named_ports()}
    ref_keys = set().union(*(label_keys(s.pod) for s in atom_ids)) | {CALICO_POD_NS, CALICO_ORCH}
    chains = cidr_chains(policies.cidrs())
    # The referenced CIDRs cut the IPv4 space into intervals each CIDR holds wholly or not at all.
    bounds = {0, 1 << 32}
    for net, _ in chains:
        bounds.add(int(net.network_address))
        bounds.add(int(net.broadcast_address) + 1)
    cuts = sorted(bounds)[:-1]
    cut_chains = []
    for lo in cuts:
        hit = chains.lookup(IPv4Address(lo))
        cut_chains.append(hit[1] if hit else EMPTY)
    ns_labels: dict[str, Mapping[str, str]] = {}
    for ns in plan.namespaces:
        ns_labels[ns.name] = ns_view(ns.name, ns.labels, "k8s")
    pods = sorted(plan.pods if pods is None else pods, key=lambda p: (p.namespace, p.name))
    workloads = [PolicyPod(p, ips.get(f"{p.namespace}/{p.name}"), enforcement(p)) for p in pods]
    for w in workloads:
        if w.pod.namespace not in ns_labels:  # a namespace the plan does not declare still exists
            ns_labels[w.pod.namespace] = ns_view(w.pod.namespace, {}, "k8s")
    u = Universe(workloads, {f"{p.namespace}/{p.name}": i for i, p in enumerate(pods)}, ns_labels,
                 {n.name: n for n in plan.nodes}, atom_ids, node_atom_ids, cuts=cuts, cut_chains=cut_chains)

    def chain(ip: IPv4Address | None) -> frozenset[IPv4Network]:
        return u.chain(ip)

    # 1. Pods with identical inputs form a group; selectors are evaluated once per group.
    group_of: list[int] = []
    groups: dict[tuple, int] = {}
    group_info: list[tuple[str, Mapping[str, str], Mapping[str, str]]] = []
    accounts = service_accounts(plan)
    extras: dict[tuple[str, str], frozenset[tuple[str, str]]] = {}  # the pods of a namespace share few accounts
    for w in workloads:
        if w.host_network:
            group_of.append(-1)
            continue
        named = tuple(sorted((p.name, p.protocol, p.port) for p in w.pod.ports if p.name in named_refs))
        labels = frozenset((k, v) for k, v in w.pod.labels.items() if k in ref_keys)
        extra = extras.get((w.pod.namespace, w.pod.service_account))
        if extra is None:
            extra = extras[(w.pod.namespace, w.pod.service_account)] = frozenset(
                (k, v) for k, v in calico_extra(w.pod, accounts).items() if k in ref_keys)
        key = (w.pod.namespace, labels, extra, named, chain(w.ip), w.enforcement.enforced)
        g = groups.get(key)
        if g is None:
            g = groups[key] = len(group_info)
            group_info.append((w.pod.namespace, dict(labels), dict(extra)))
        group_of.append(g)
    group_keys = list(groups)
    group_atoms = _match_atoms(atom_ids, group_info, ns_labels)
    # 2. Groups whose atom sets agree fold into one class.
    classes: dict[tuple, int] = {}

    def class_of(key: tuple, make: Callable[[int], PeerClass]) -> int:
        c = classes.get(key)
        if c is None:
            c = classes[key] = len(u.classes)
            u.classes.append(make(c))
        u.classes[c].members += 1
        return c

    group_class: dict[int, int] = {}
    for w, g in zip(workloads, group_of, strict=True):
        if g < 0:
            u.workload_class.append(_host_class(u, class_of, w.pod.node, w.ip))
            continue
        c = group_class.get(g)
        if c is None:
            _, _, _, named, cidrs, enforced = group_keys[g]
            atoms = frozenset(group_atoms[g])
            c = group_class[g] = class_of(("pod", atoms, cidrs, named, enforced), lambda i, a=atoms, cc=cidrs,
                                          n=named, e=enforced: PeerClass(i, "pod", a, cc, n, enforced=e))
        else:
            u.classes[c].members += 1
        u.workload_class.append(c)
    for name, node in u.nodes.items():
        u.node_class[name] = _host_class(u, class_of, name, node.ip)
    # 3. External addresses: one class per distinct interval chain.
    for lo, nxt, cidrs in zip(cuts, [*cuts[1:], 1 << 32], cut_chains, strict=True):
        c = class_of(("external", cidrs), lambda i, cc=cidrs: PeerClass(i, "external", cidrs=cc))
        u.intervals.append(Interval(lo, nxt - 1, c))
    if any(w.ip is None and not w.host_network for w in workloads) and policies.cidrs():
        missing = sum(1 for w in workloads if w.ip is None and not w.host_network)
        u.warnings.append(f"{missing} pod(s) have no IP (no ClusterPlan and no status.podIP): ipBlock/nets "
                          "criteria cannot match them")
    return u


def _host_class(u: Universe, class_of: Callable, node: str | None, ip: IPv4Address | None) -> int:
    labels = u.nodes[node].labels if node in u.nodes else {}
    natoms = frozenset(i for s, i in u.node_atom_ids.items() if s.matches(labels))
    cidrs = u.chain(ip)
    return class_of(("host", cidrs, natoms), lambda i: PeerClass(i, "host", cidrs=cidrs, node_atoms=natoms))


def _match_atoms(atom_ids: Mapping[EndpointSel, int],
                 groups: list[tuple[str, Mapping[str, str], Mapping[str, str]]],
                 ns_labels: Mapping[str, Mapping[str, str]]) -> list[list[int]]:
    """For each group, the ids of the endpoint selectors that match it; each selector is tried only on
    candidates from a (key, value) index and from the namespaces its scope allows."""
    by_ns: dict[str, list[int]] = defaultdict(list)
    index: dict[tuple[str, str | None], set[int]] = defaultdict(set)
    for g, (ns, labels, extra) in enumerate(groups):
        by_ns[ns].append(g)
        for k, v in {**labels, **pod_view(ns, labels, "calico", extra)}.items():
            index[(k, v)].add(g)
            index[(k, None)].add(g)
    frozen = {k: frozenset(v) for k, v in index.items()}
    ns_names = sorted(ns_labels)
    ns_index: dict[tuple[str, str | None], set[int]] = defaultdict(set)
    for i, n in enumerate(ns_names):
        for k, v in ns_view(n, ns_labels[n], "calico").items():
            ns_index[(k, v)].add(i)
            ns_index[(k, None)].add(i)
    ns_frozen = {k: frozenset(v) for k, v in ns_index.items()}
    ns_cache: dict[tuple, set[str]] = {}
    out: list[list[int]] = [[] for _ in groups]
    for sel, aid in atom_ids.items():
        scope = sel.scope
        if scope.name is not None:
            namespaces: set[str] | None = {scope.name}
        elif scope.selector is not None:
            ck = (scope.selector, sel.flavor)
            if ck not in ns_cache:
                ns_cand = scope.selector.candidates(ns_frozen)
                ns_cache[ck] = {ns_names[i] for i in (range(len(ns_names)) if ns_cand is None else ns_cand)
                                if scope.selector.matches(ns_view(ns_names[i], ns_labels[ns_names[i]], sel.flavor))}
            namespaces = ns_cache[ck]
        else:
            namespaces = None
        cand = sel.pod.candidates(frozen)
        if namespaces is not None:
            in_scope = [g for n in namespaces for g in by_ns.get(n, ())]
            if cand is None or len(in_scope) < len(cand):
                cand = frozenset(in_scope)
        todo: Iterable[int] = range(len(groups)) if cand is None else cand
        for g in todo:
            ns, labels, extra = groups[g]
            if namespaces is not None and ns not in namespaces:
                continue
            if sel.pod.matches(pod_view(ns, labels, sel.flavor, extra)):
                out[g].append(aid)
    return out
