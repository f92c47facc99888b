"""Place pods on nodes the way kube-scheduler's filters would, as far as networking cares.

Modelled filters, in the scheduler's own order: TaintToleration (NoSchedule/NoExecute), NodeAffinity
(``nodeSelector`` and required node affinity), NodePorts (host ports) and NodeResourcesFit for the pod
count only (``maxPods``). Scoring is replaced by one deterministic rule: each pod of a workload goes to the
eligible node with the fewest pods of that workload, then the fewest pods in all, then the earliest in plan
order — which spreads replicas evenly, round by round. CPU, memory, pod (anti-)affinity and topology spread
constraints are not modelled (docs/workloads.md). The last part says whether a node can run a pod's images:
its OS, and for Windows the build (cnimodel/winbuild.py: which builds a host runs process-isolated).
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cnimodel.plan.errors import Origin, Problems
from cnimodel.plan.fields import Fields
from cnimodel.plan.model import NodeSpec

OS_LABEL, OS_LABEL_BETA = "kubernetes.io/os", "beta.kubernetes.io/os"
BUILD_LABEL = "node.kubernetes.io/windows-build"
NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
FILTERING = ("NoSchedule", "NoExecute")  # PreferNoSchedule only scores


@dataclass(frozen=True)
class Requirement:
    """One ``matchExpressions`` (or ``matchFields``) entry of a node selector term."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        has = self.key in labels
        op = self.operator
        if op == "In":
            return has and labels[self.key] in self.values
        if op == "NotIn":
            return not has or labels[self.key] not in self.values
        if op == "Exists":
            return has
        if op == "DoesNotExist":
            return not has
        # Gt/Lt compare integers; a missing or non-integer label never matches.
        try:
            value, bound = int(labels[self.key]), int(self.values[0])
        except (KeyError, ValueError, IndexError):
            return False
        return value > bound if op == "Gt" else value < bound


@dataclass(frozen=True)
class NodeTerm:
    """A node selector term: its expressions and fields are ANDed; an empty term matches no node."""

    expressions: tuple[Requirement, ...] = ()
    fields: tuple[Requirement, ...] = ()

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        if not self.expressions and not self.fields:
            return False
        field_view = {"metadata.name": name}
        return all(r.matches(labels) for r in self.expressions) and all(r.matches(field_view) for r in self.fields)


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str

    def __str__(self) -> str:
        return f"{{{self.key}: {self.value}}}"  # the scheduler's wording: {key: value}


@dataclass(frozen=True)
class Toleration:
    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""

    def tolerates(self, taint: Taint) -> bool:
        """Kubernetes' rule: empty effect matches every effect; empty key with Exists matches every taint."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        return self.operator == "Exists" or self.value == taint.value


# DefaultTolerationSeconds admission gives every pod these two (for 300 s, which does not matter here).
ADMISSION_TOLERATIONS = (Toleration("node.kubernetes.io/not-ready", "Exists", "", "NoExecute"),
                         Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoExecute"))
# The DaemonSet controller adds these to its pods (pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations).
DAEMON_TOLERATIONS = ADMISSION_TOLERATIONS + tuple(
    Toleration(f"node.kubernetes.io/{k}", "Exists", "", "NoSchedule")
    for k in ("disk-pressure", "memory-pressure", "pid-pressure", "unschedulable"))
DAEMON_HOSTNET_TOLERATION = Toleration("node.kubernetes.io/network-unavailable", "Exists", "", "NoSchedule")


@dataclass(frozen=True)
class Placement:
    """A pod's scheduling constraints. ``terms`` is None without required node affinity."""

    node_selector: tuple[tuple[str, str], ...] = ()
    terms: tuple[NodeTerm, ...] | None = None
    tolerations: tuple[Toleration, ...] = ()

    def selects(self, name: str, labels: Mapping[str, str]) -> bool:
        """nodeSelector and required node affinity both hold (the NodeAffinity filter)."""
        if not all(labels.get(k) == v for k, v in self.node_selector):
            return False
        return self.terms is None or any(t.matches(name, labels) for t in self.terms)

    def untolerated(self, taints: Sequence[Taint], extra: tuple[Toleration, ...] = ADMISSION_TOLERATIONS
                    ) -> Taint | None:
        """The first NoSchedule/NoExecute taint no toleration covers, or None."""
        tols = self.tolerations + extra
        for t in taints:
            if t.effect in FILTERING and not any(tol.tolerates(t) for tol in tols):
                return t
        return None

    def os(self) -> str | None:
        """The OS the pod asks for by nodeSelector (current or beta label), if any."""
        sel = dict(self.node_selector)
        return sel.get(OS_LABEL) or sel.get(OS_LABEL_BETA)


NO_PLACEMENT = Placement()
PLACEMENT_KEYS = ("nodeSelector", "affinity", "tolerations")


def parse_placement(spec: Mapping[str, Any], origin: Origin, problems: Problems) -> Placement | None:
    """The scheduling fields of a pod spec at ``origin``; None when it has none. Invalid ones are errors."""
    if not any(k in spec for k in PLACEMENT_KEYS):
        return None
    f = Fields(spec, origin, problems)
    selector = tuple(sorted(f.str_map("nodeSelector").items()))
    terms = None
    required = f.sub("affinity").sub("nodeAffinity").sub("requiredDuringSchedulingIgnoredDuringExecution")
    if required.data:
        raw_terms = required.list("nodeSelectorTerms")
        if not raw_terms:
            problems.error(required.origin.at("nodeSelectorTerms"), "must hold at least one term",
                           "add `- matchExpressions: [{key: kubernetes.io/os, operator: In, values: [linux]}]`")
        terms = tuple(_term(Fields(t, required.origin.at(f"nodeSelectorTerms[{i}]"), problems))
                      for i, t in enumerate(raw_terms))
    tolerations = tuple(_toleration(Fields(t, f.origin.at(f"tolerations[{i}]"), problems))
                        for i, t in enumerate(f.list("tolerations")))
    return Placement(selector, terms, tolerations)


def _term(f: Fields) -> NodeTerm:
    exprs = tuple(_requirement(Fields(r, f.origin.at(f"matchExpressions[{i}]"), f.problems), False)
                  for i, r in enumerate(f.list("matchExpressions")))
    fields = tuple(_requirement(Fields(r, f.origin.at(f"matchFields[{i}]"), f.problems), True)
                   for i, r in enumerate(f.list("matchFields")))
    return NodeTerm(exprs, fields)


def _requirement(f: Fields, is_field: bool) -> Requirement:
    key = f.str("key") or ""
    op = f.str("operator", choices=("In", "NotIn") if is_field else NODE_OPERATORS) or "In"
    values = tuple(str(v) for v in f.list("values"))
    if is_field and key != "metadata.name":
        f.problems.error(f.origin.at("key"), f"unsupported field {key!r}", "matchFields supports only metadata.name")
    if op in ("In", "NotIn") and (not values or (is_field and len(values) != 1)):
        f.problems.error(f.origin.at("values"), f"operator {op} needs {'one value' if is_field else 'values'}",
                         "list the label values to match")
    elif op in ("Exists", "DoesNotExist") and values:
        f.problems.error(f.origin.at("values"), f"operator {op} takes no values", "remove values")
    elif op in ("Gt", "Lt") and (len(values) != 1 or not values[0].lstrip("-").isdigit()):
        f.problems.error(f.origin.at("values"), f"operator {op} needs exactly one integer value",
                         "write e.g. values: [\"20348\"]")
    return Requirement(key, op, values)


def _toleration(f: Fields) -> Toleration:
    key = f.str("key", default="")
    op = f.str("operator", default="Equal", choices=("Equal", "Exists")) or "Equal"
    value = f.str("value", default="")
    effect = f.str("effect", default="", choices=(*EFFECTS, ""))
    if not key and op != "Exists":
        f.problems.error(f.origin.at("operator"), "a toleration without a key must use operator Exists",
                         "set operator: Exists (tolerates every taint) or give a key")
    if op == "Exists" and value:
        f.problems.error(f.origin.at("value"), "operator Exists takes no value", "remove value, or use Equal")
    return Toleration(key, op, value, effect or "")


def node_labels(node: NodeSpec) -> dict[str, str]:
    """The labels the scheduler sees: the kubelet's well-known ones (OS, arch, hostname, Windows build)
    under the node's own. The architecture is assumed amd64 unless the node says otherwise."""
    labels = {OS_LABEL: node.os, OS_LABEL_BETA: node.os, "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/arch": "amd64", "kubernetes.io/hostname": node.name}
    if node.os == "windows" and node.windows_build:
        labels[BUILD_LABEL] = f"10.0.{node.windows_build}"  # the kubelet's major.minor.build
    labels.update(node.labels)
    return labels


def node_taints(node: NodeSpec) -> tuple[Taint, ...]:
    return tuple(Taint(str(t.get("key", "")), str(t.get("value") or ""), str(t.get("effect", "")))
                 for t in node.taints)


HostPorts = frozenset[tuple[int, str]]
_SHIFT = 20  # plan indices below 2**20 (Kubernetes stops at 5,000 nodes)
_MASK = (1 << _SHIFT) - 1


class Scheduler:
    """Node state (pods placed, host ports taken) and the placement rule. Eligibility is computed once
    per distinct placement and kept as a heap of (pods, plan index): placing a workload of R replicas
    costs O(R log N), not O(N)."""

    def __init__(self, nodes: Sequence[NodeSpec], max_pods: Callable[[NodeSpec], int] | None = None) -> None:
        self.nodes = nodes
        self.index = {n.name: i for i, n in enumerate(nodes)}
        self.labels = [node_labels(n) for n in nodes]
        self.taints = [node_taints(n) for n in nodes]
        self.capacity = [max_pods(n) if max_pods else n.max_pods for n in nodes]
        self.count = [0] * len(nodes)
        self.ports: dict[int, set[tuple[int, str]]] = {}
        self._by_label: dict[tuple[str, str], list[int]] | None = None
        self._eligible: dict[tuple[Placement, tuple[Toleration, ...]], tuple[int, ...]] = {}
        # Heap entries are ints, pods << 20 | plan index: they compare several times faster than tuples.
        self._heaps: dict[tuple[int, ...], list[int]] = {}

    def eligible(self, placement: Placement | None, extra: tuple[Toleration, ...] = ADMISSION_TOLERATIONS
                 ) -> tuple[int, ...]:
        """Plan indices of the nodes the pod's selector, affinity and tolerations allow (cached)."""
        p = placement or NO_PLACEMENT
        hit = self._eligible.get((p, extra))
        if hit is not None:
            return hit
        candidates: Sequence[int] = range(len(self.nodes))
        if p.node_selector:
            if self._by_label is None:
                self._by_label = {}
                for i, labels in enumerate(self.labels):
                    for kv in labels.items():
                        self._by_label.setdefault(kv, []).append(i)
            candidates = min((self._by_label.get(kv, []) for kv in p.node_selector), key=len)
        taint_ok: dict[tuple[Taint, ...], bool] = {}
        out = []
        for i in candidates:
            t = self.taints[i]
            ok = taint_ok.get(t)
            if ok is None:
                ok = taint_ok[t] = p.untolerated(t, extra) is None
            if ok and p.selects(self.nodes[i].name, self.labels[i]):
                out.append(i)
        result = self._eligible[(p, extra)] = tuple(out)
        return result

    def fits(self, i: int, ports: HostPorts) -> bool:
        """Room for one more pod, and its host ports free (NodeResourcesFit pods, NodePorts)."""
        if self.count[i] >= self.capacity[i]:
            return False
        return not ports or not (self.ports.get(i, set()) & ports)

    def take(self, i: int, ports: HostPorts) -> None:
        self.count[i] += 1
        if ports:
            self.ports.setdefault(i, set()).update(ports)

    def spread(self, replicas: int, eligible: tuple[int, ...], ports: HostPorts) -> list[int]:
        """Nodes for up to ``replicas`` pods of one workload, in placement order (shorter when full)."""
        heap = self._heaps.get(eligible)
        if heap is None:
            heap = self._heaps[eligible] = [self.count[i] << _SHIFT | i for i in eligible]
            heapq.heapify(heap)
        count, capacity = self.count, self.capacity
        order: list[int] = []
        aside: list[int] = []
        while len(order) < replicas and heap:
            key = heapq.heappop(heap)
            c, i = key >> _SHIFT, key & _MASK
            if count[i] >= capacity[i]:
                continue  # full for good: drop it from this class
            if c != count[i]:
                heapq.heappush(heap, count[i] << _SHIFT | i)  # placed on by another workload since: re-key
                continue
            (order if self.fits(i, ports) else aside).append(i)
        placed: list[int] = []
        active = order
        # Round by round: after each round every node has one more pod, so the order stays the same.
        while len(placed) < replicas and active:
            nxt = []
            for i in active:
                if len(placed) == replicas:
                    break
                self.take(i, ports)
                placed.append(i)
                if not ports and count[i] < capacity[i]:
                    nxt.append(i)  # host ports allow one pod of the workload per node
            active = nxt
        for i in order + aside:
            if count[i] < capacity[i]:
                heapq.heappush(heap, count[i] << _SHIFT | i)
        return placed

    def explain(self, placement: Placement | None, ports: HostPorts,
                extra: tuple[Toleration, ...] = ADMISSION_TOLERATIONS, only: Sequence[int] | None = None) -> str:
        """Why no node takes the pod, as kube-scheduler says it: ``0/4 nodes are available: 1 Too many pods,
        3 node(s) didn't match Pod's node affinity/selector.`` Each node counts under its first failing filter."""
        p = placement or NO_PLACEMENT
        reasons: Counter[str] = Counter()
        nodes = range(len(self.nodes)) if only is None else only
        for i in nodes:
            taint = p.untolerated(self.taints[i], extra)
            if taint is not None:
                reasons[f"node(s) had untolerated taint {taint}"] += 1
            elif not p.selects(self.nodes[i].name, self.labels[i]):
                reasons["node(s) didn't match Pod's node affinity/selector"] += 1
            elif ports and self.ports.get(i, set()) & ports:
                reasons["node(s) didn't have free ports for the requested pod ports"] += 1
            elif self.count[i] >= self.capacity[i]:
                reasons["Too many pods"] += 1
        listed = ", ".join(sorted(f"{n} {r}" for r, n in reasons.items()))
        return f"0/{len(nodes)} nodes are available" + (f": {listed}." if listed else ".")


# Windows images, by name (docs/workloads.md): a Windows base image or a Windows tag. Images published for
# both OSes (pause, agnhost, .NET, PowerShell) are never flagged; anything else counts as a Linux image.
_WINDOWS_HINTS = ("windows", "nanoserver", "servercore", "ltsc20", "dotnet/framework")
_MULTI_OS = ("pause", "agnhost", "mcr.microsoft.com/dotnet/", "mcr.microsoft.com/powershell")
# Windows version names in image tags → build (services-lb.md §4.1; 1903–20H2 marked [U] there).
_BUILDS = {"ltsc2016": 14393, "sac2016": 14393, "1607": 14393, "1709": 16299, "1803": 17134, "1809": 17763,
           "ltsc2019": 17763, "1903": 18362, "1909": 18363, "2004": 19041, "20h2": 19042, "ltsc2022": 20348,
           "ltsc2025": 26100}


def image_os(image: str) -> str | None:
    """``windows``, ``linux``, or None for images published for both."""
    ref = image.lower()
    if any(h in ref for h in _WINDOWS_HINTS):
        return "windows"
    repo = ref.split("@")[0].rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref.split("@")[0]
    return None if any(h in repo for h in _MULTI_OS) else "linux"


def image_build(image: str) -> int | None:
    """The Windows build an image's tag names (``ltsc2022`` → 20348, ``10.0.17763.1`` → 17763), or None."""
    last = image.lower().split("@")[0].rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if m := re.search(r"10\.0\.(\d{5})", tag):
        return int(m.group(1))
    return next((_BUILDS[t] for t in re.split(r"[-_.]", tag) if t in _BUILDS), None)
