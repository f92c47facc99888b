"""Workloads as users write them (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob), expanded into
the pods their controllers would create and placed on nodes by ``schedule.Scheduler``.

Pod names (docs/workloads.md): StatefulSet ``name-0 …``; Deployment ``name-<hash>-0 …`` (``<hash>`` a stable
10-character digest of the pod template, also set as the ``pod-template-hash`` label); ReplicaSet,
ReplicationController and Job ``name-0 …``; CronJob ``name-next-0 …`` (one Job's worth of pods); DaemonSet
``name-<node>``, one per eligible node. Placement findings are warnings whose message starts with a stable
code and a colon, e.g. ``unschedulable: …`` (``CODES``, ``finding_code``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from cnimodel.bulk import frozen
from cnimodel.plan.errors import Origin, Problem, Problems
from cnimodel.plan.fields import Fields
from cnimodel.plan.images import image_findings
from cnimodel.plan.kube import controller_ref, parse_pod
from cnimodel.plan.model import NodeSpec, Plan, Pod, WorkloadRef
from cnimodel.plan.names import NameError_, resolve_pods
from cnimodel.plan.schedule import (
    DAEMON_HOSTNET_TOLERATION,
    DAEMON_TOLERATIONS,
    HostPorts,
    Placement,
    Requirement,
    Scheduler,
)

WORKLOAD_KINDS = frozenset({"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet",
                            "Job", "CronJob"})
CODES = {
    "unschedulable": "pods that fit no node; the message gives kube-scheduler's reasons",
    "max-pods": "pods whose eligible nodes are all at maxPods",
    "daemonset-no-nodes": "a DaemonSet whose nodeSelector, affinity and tolerations allow no node",
    "pinned-node-mismatch": "a pod whose spec.nodeName names a node its nodeSelector/affinity rejects",
    "image-os-mismatch": "a Windows container image on a Linux node, or a Linux image on a Windows node",
    "windows-build-newer": "a Windows image built for a newer Windows build than its node runs",
    "windows-build-older": "a Windows image older than the oldest build its node runs process-isolated",
}
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated name suffixes
_CODE = re.compile(r"^([a-z][a-z-]+): ")
_NO_PORTS: HostPorts = frozenset()


@dataclass(frozen=True)
class Workload:
    """One workload object. ``replicas`` is how many pods its controller keeps (None for a DaemonSet: one per
    eligible node); ``template`` its pod template as a Pod named after the workload."""

    kind: str
    namespace: str
    name: str
    replicas: int | None
    template: Pod
    origin: Origin
    owner: WorkloadRef | None = None
    template_hash: str = ""

    @property
    def ref(self) -> WorkloadRef:
        return WorkloadRef(self.kind, self.namespace, self.name)


def finding_code(problem: Problem) -> str | None:
    """The stable code of a workload finding (``unschedulable`` …), or None for other problems."""
    m = _CODE.match(problem.message)
    return m.group(1) if m and m.group(1) in CODES else None


def parse_workload(doc: dict[str, Any], origin: Origin, problems: Problems) -> Workload | None:
    """A Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet, Job or CronJob."""
    kind = str(doc.get("kind"))
    f = Fields(doc, origin, problems)
    meta = f.sub("metadata")
    name = meta.str("name")
    namespace = meta.str("namespace", default="default")
    spec = f.sub("spec")
    tpath = "spec.template"
    replicas: int | None = None
    if kind in ("Job", "CronJob"):
        job = spec
        if kind == "CronJob":
            job, tpath = spec.sub("jobTemplate").sub("spec"), "spec.jobTemplate.spec.template"
        parallelism = job.int("parallelism", default=1, lo=0)
        completions = job.int("completions", default=None, lo=0)
        replicas = parallelism if completions is None else min(parallelism, completions)
        if job.bool("suspend") or (kind == "CronJob" and spec.bool("suspend")):
            replicas = 0
    else:
        job = spec
        if kind != "DaemonSet":
            replicas = spec.int("replicas", default=1, lo=0)
    raw = job.raw("template")
    if not isinstance(raw, dict):  # the API server never holds such an object: skip it, as kubectl would fail
        problems.warn(origin.at(tpath), f"the {kind} has no pod template, so it makes no pods; it is ignored",
                      "add `template: {metadata: {labels: {app: x}}, spec: {containers: [...]}}`")
        return None
    if name is None:
        return None
    tmeta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    tdoc = {"metadata": {**tmeta, "name": name, "namespace": namespace}, "spec": raw.get("spec") or {}}
    template = parse_pod(tdoc, origin.at(tpath), problems)
    if template is None:
        return None
    _check_selector(doc, kind, spec, template, problems)
    owner = controller_ref(doc["metadata"], namespace) if isinstance(doc.get("metadata"), dict) else None
    thash = _template_hash(raw) if kind == "Deployment" else ""
    return Workload(kind, namespace, name, replicas, replace(template, owner=None), origin, owner, thash)


def _check_selector(doc: dict[str, Any], kind: str, spec: Fields, template: Pod, problems: Problems) -> None:
    """apps/v1 requires spec.selector and the API server rejects one the template labels do not match;
    older API versions (and ReplicationControllers) default it from the template labels. Jobs generate theirs."""
    if kind in ("Job", "CronJob"):
        return
    raw = spec.raw("selector")
    where = spec.origin.at("selector")
    if raw is None:
        if doc.get("apiVersion") == "apps/v1":
            problems.error(where, "is required for apps/v1 workloads",
                           f"add `selector: {{matchLabels: {_labels_hint(template)}}}`")
        return
    if not isinstance(raw, dict) or not raw:
        problems.error(where, "expected a non-empty label selector", "use matchLabels and/or matchExpressions")
        return
    reqs: list[Requirement] = []
    pairs = raw if kind == "ReplicationController" else raw.get("matchLabels") or {}
    reqs += [Requirement(str(k), "In", (str(v),)) for k, v in (pairs.items() if isinstance(pairs, dict) else ())]
    for i, e in enumerate(raw.get("matchExpressions") or () if kind != "ReplicationController" else ()):
        ef = Fields(e, where.at(f"matchExpressions[{i}]"), problems)
        op = ef.str("operator", choices=("In", "NotIn", "Exists", "DoesNotExist"))
        reqs.append(Requirement(ef.str("key") or "", op or "In", tuple(str(v) for v in ef.list("values"))))
    if not all(r.matches(template.labels) for r in reqs):
        problems.error(where, f"does not match the pod template's labels {dict(template.labels)}",
                       "make spec.template.metadata.labels carry every label the selector asks for")


def _labels_hint(template: Pod) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in template.labels.items()) + "}" if template.labels else "{app: x}"


def _template_hash(template: Any) -> str:
    """A stable 10-character digest of the pod template (not the API server's FNV value, which hashes Go
    structures; like it, it changes when the template does)."""
    text = json.dumps(template, sort_keys=True, default=str, separators=(",", ":"))
    n = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    out = []
    for _ in range(10):
        n, r = divmod(n, len(_HASH_ALPHABET))
        out.append(_HASH_ALPHABET[r])
    return "".join(out)


def _host_ports(pod: Pod) -> HostPorts:
    """Host ports a pod takes on its node; with hostNetwork every container port is one."""
    if not pod.host_network and all(p.host_port is None for p in pod.ports):
        return _NO_PORTS
    out = set()
    for p in pod.ports:
        port = p.host_port or (p.port if pod.host_network else None)
        if port:
            out.add((port, p.protocol))
    return frozenset(out)


def pod_names(w: Workload, count: int) -> list[str]:
    """The names the controller would give ``count`` pods (DaemonSets are named per node instead)."""
    if w.kind == "Deployment":
        return [f"{w.name}-{w.template_hash}-{i}" for i in range(count)]
    if w.kind == "CronJob":
        return [f"{w.name}-next-{i}" for i in range(count)]
    return [f"{w.name}-{i}" for i in range(count)]


def _make_pods(w: Workload, names: Sequence[str], nodes: Sequence[str | None]) -> list[Pod]:
    """The pods named ``names`` on ``nodes`` (a None node drops the pod unless the plan has no nodes at all),
    with the labels the controller adds: pod-template-hash, job-name, a StatefulSet pod's own name."""
    t, ref = w.template, w.ref
    shared: MappingProxyType[str, str] | None = t.labels
    if w.kind == "Deployment":
        shared = MappingProxyType({**t.labels, "pod-template-hash": w.template_hash})
    elif w.kind in ("Job", "CronJob"):
        job = f"{w.name}-next" if w.kind == "CronJob" else w.name
        shared = MappingProxyType({**t.labels, "job-name": job, "batch.kubernetes.io/job-name": job})
    elif w.kind == "StatefulSet":
        shared = None
    out = []
    for k, (name, node) in enumerate(zip(names, nodes, strict=True)):
        labels = shared if shared is not None else MappingProxyType(
            {**t.labels, "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": str(k)})
        out.append(Pod(w.namespace, name, node, None, t.host_network, labels, t.ports, t.images, t.origin, ref,
                       t.placement))
    return out


def expand_plan(plan: Plan, workloads: Sequence[Workload], problems: Problems, expand: bool = True,
                max_pods: Callable[[NodeSpec], int] | None = None) -> Plan:
    """The plan with every workload's pods added and every unplaced pod scheduled (see the module doc).

    Pods a kubectl dump already lists stand for their workload: a Deployment with listed pods (directly or
    through its ReplicaSet) is not expanded again, and a ReplicaSet or Job whose owner is in the plan is
    covered by that owner. With ``expand`` False only the listed pods are used. ``max_pods`` gives each
    node's pod limit; by default the network plugin's (``plugin_max_pods``).
    """
    index: dict[tuple[str, str, str], Workload] = {}
    for w in workloads:
        k = (w.namespace, w.kind, w.name)
        if k in index:  # a second document of the same object: the loader reported it, naming both places
            continue
        index[k] = w

    def top(ref: WorkloadRef) -> WorkloadRef:
        for _ in range(4):  # Pod → ReplicaSet → Deployment at most; the bound guards against cycles
            w = index.get((ref.namespace, ref.kind, ref.name))
            if w is None or w.owner is None or (w.namespace, w.owner.kind, w.owner.name) not in index:
                return ref
            ref = w.owner
        return ref

    listed: list[Pod] = []
    live: set[WorkloadRef] = set()
    for pod in plan.pods:
        if pod.owner is not None:
            owner = top(_deployment_of(pod, pod.owner, index))
            if (owner.namespace, owner.kind, owner.name) in index:
                live.add(owner)
            if owner != pod.owner:
                pod = frozen(Pod, **(pod.__dict__ | {"owner": owner}))  # replace(): 8 µs × 150,000 pods
        listed.append(pod)
    todo = [w for w in index.values() if expand and w.ref not in live and top(w.ref) == w.ref]
    pods = _place(plan, listed, todo, problems, max_pods)
    return replace(plan, pods=tuple(pods), workloads=tuple(index.values()))


def plugin_max_pods(plan: Plan) -> Callable[[NodeSpec], int] | None:
    """Each node's pod limit as the plan's network plugin sees it (Azure CNI's default is 30 or 250 where the
    node gives no maxPods), so placement agrees with allocation; None without a usable plugin."""
    if plan.network is None:
        return None
    from cnimodel.plugin import NetworkPlugin, load_plugin  # here: the plugin layer imports the plan layer

    try:
        return load_plugin(plan.network.plugin, NetworkPlugin)(plan, Problems()).max_pods
    except Exception:  # a plan this plugin cannot read: Cluster.build reports why
        return None


def _deployment_of(pod: Pod, ref: WorkloadRef, index: dict[tuple[str, str, str], Workload]) -> WorkloadRef:
    """A ReplicaSet missing from the plan named ``<deployment>-<pod-template-hash>`` belongs to that Deployment."""
    h = pod.labels.get("pod-template-hash")
    if ref.kind == "ReplicaSet" and (ref.namespace, ref.kind, ref.name) not in index and h \
            and ref.name.endswith(f"-{h}"):
        return WorkloadRef("Deployment", ref.namespace, ref.name[: -len(h) - 1])
    return ref


def _place(plan: Plan, listed: list[Pod], todo: list[Workload], problems: Problems,
           max_pods: Callable[[NodeSpec], int] | None) -> list[Pod]:
    if not plan.nodes:  # manifests without nodes: pods exist, nowhere in particular
        return listed + [p for w in todo for p in _unplaced(w)]
    s = Scheduler(plan.nodes, max_pods or plugin_max_pods(plan))
    # 1. Pods that name their node bypass the scheduler; they count against maxPods first.
    for pod in listed:
        if pod.node is not None and (i := s.index.get(pod.node)) is not None:
            s.take(i, _host_ports(pod))
            if pod.placement is not None and not pod.placement.selects(pod.node, s.labels[i]):
                _warn_pinned(f"pod {pod.key}", pod.node, pod.origin, problems)
    out: list[Pod] = []
    for pod in listed:  # 2. bare pods without a node, in plan order
        if pod.node is not None:
            out.append(pod)
            continue
        ports = _host_ports(pod)
        got = s.spread(1, s.eligible(pod.placement), ports)
        if got:
            out.append(replace(pod, node=plan.nodes[got[0]].name))
        else:
            code = _code(s, s.eligible(pod.placement))
            problems.warn(_constraint_origin(pod, pod.origin), f"{code}: pod {pod.key} fits no node "
                          f"({s.explain(pod.placement, ports)}); it stays Pending and gets no IP",
                          _fix(pod.placement, code))
    # 3. DaemonSets before other workloads: their pods run on every node they select.
    for w in sorted(todo, key=lambda w: w.kind != "DaemonSet"):
        out += _daemon(w, s, plan, problems) if w.kind == "DaemonSet" else _replicas(w, s, plan, problems)
    image_findings(out, plan, problems)
    return out


def _unplaced(w: Workload) -> list[Pod]:
    names = [f"{w.name}-0"] if w.replicas is None else pod_names(w, w.replicas)  # one pod stands for a DaemonSet
    return _make_pods(w, names, [w.template.node] * len(names))


def _replicas(w: Workload, s: Scheduler, plan: Plan, problems: Problems) -> list[Pod]:
    t = w.template
    count = w.replicas or 0
    names = pod_names(w, count)
    ports = _host_ports(t)
    placed_names: list[str | None] = []
    if t.node is not None:  # the template pins every pod to one node; an unknown one is check_plan's error
        i = s.index.get(t.node)
        for _ in names:
            if i is not None and not s.fits(i, ports):
                placed_names.append(None)
                continue
            if i is not None:
                s.take(i, ports)
            placed_names.append(t.node)
        if i is not None and t.placement is not None and not t.placement.selects(t.node, s.labels[i]):
            _warn_pinned(str(w.ref), t.node, t.origin, problems)
    else:
        got = s.spread(count, s.eligible(t.placement), ports)
        placed_names = [plan.nodes[i].name for i in got] + [None] * (count - len(got))
    pods = [p for p in _make_pods(w, names, placed_names) if p.node is not None]
    missing = count - len(pods)
    if missing:
        pinned = [s.index[t.node]] if t.node is not None else None
        code = _code(s, pinned or s.eligible(t.placement))
        why = s.explain(t.placement, ports, only=pinned)
        problems.warn(_constraint_origin(t, t.origin), f"{code}: {missing} of {count} pods of {w.ref} fit no node "
                      f"({why}); they stay Pending and get no IP", _fix(t.placement, code))
    return pods


def _daemon(w: Workload, s: Scheduler, plan: Plan, problems: Problems) -> list[Pod]:
    t = w.template
    extra = DAEMON_TOLERATIONS + ((DAEMON_HOSTNET_TOLERATION,) if t.host_network else ())
    eligible = s.eligible(t.placement, extra)
    if not eligible:
        problems.warn(_constraint_origin(t, t.origin), f"daemonset-no-nodes: {w.ref} selects no node "
                      f"({s.explain(t.placement, frozenset(), extra)}); it runs no pods",
                      _fix(t.placement, "unschedulable"))
        return []
    ports = _host_ports(t)
    nodes, full = [], []
    for i in eligible:
        if s.fits(i, ports):
            s.take(i, ports)
            nodes.append(plan.nodes[i].name)
        else:
            full.append(i)
    pods = _make_pods(w, [f"{w.name}-{n}" for n in nodes], nodes)
    if full:
        shown = ", ".join(plan.nodes[i].name for i in full[:5]) + (" …" if len(full) > 5 else "")
        code = _code(s, full)
        problems.warn(_constraint_origin(t, t.origin), f"{code}: {len(full)} of {len(eligible)} pods of {w.ref} "
                      f"do not fit their nodes ({shown}): {s.explain(t.placement, ports, extra, full)}",
                      _fix(t.placement, code))
    return pods


def _code(s: Scheduler, eligible: Sequence[int]) -> str:
    """``max-pods`` when every node the pod may use is full, else ``unschedulable``."""
    return "max-pods" if eligible and all(s.count[i] >= s.capacity[i] for i in eligible) else "unschedulable"


def _warn_pinned(what: str, node: str, origin: Origin, problems: Problems) -> None:
    problems.warn(origin.at("spec.nodeName"), f"pinned-node-mismatch: {what} names node {node!r} in "
                  "spec.nodeName, but its nodeSelector/affinity does not select that node; the kubelet rejects "
                  "the pod (NodeAffinity)", "fix spec.nodeName or the node selector")


def _constraint_origin(pod: Pod, origin: Origin) -> Origin:
    p = pod.placement
    if p is not None and p.node_selector:
        return origin.at("spec.nodeSelector")
    if p is not None and p.terms is not None:
        return origin.at("spec.affinity")
    return origin.at("spec")


def _fix(placement: Placement | None, code: str) -> str:
    if code == "max-pods":
        return "raise the nodes' maxPods, add nodes, or lower the replicas"
    return ("check nodeSelector/affinity against the nodes' labels (kubernetes.io/os, "
            "node.kubernetes.io/windows-build …), tolerate the nodes' taints, or add a matching node")


def pods_of(plan: Plan, name: str) -> tuple[Pod, ...]:
    """The pods ``ns/name`` (or ``ns/name[Kind]``) stands for, or none: ``names.resolve_pods`` without its error,
    for callers that only ask whether a name stands for pods."""
    try:
        return tuple(resolve_pods(plan, name))
    except NameError_:
        return ()
