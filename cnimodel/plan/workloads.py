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
from typing import Any

from cnimodel.bulk import replaced
from cnimodel.plan.errors import EndpointError, Origin, Problem, Problems
from cnimodel.plan.fields import Fields
from cnimodel.plan.kube import controller_ref, namespace_of, parse_pod
from cnimodel.plan.limits import LIMITS_DOC, MAX_PODS, MAX_REPLICAS
from cnimodel.plan.model import NodeSpec, Plan, Pod, WorkloadRef
from cnimodel.plan.names import resolve_pods
from cnimodel.plan.placement import place
from cnimodel.plan.schedule import Requirement

CODES = {
    "unschedulable": "pods that fit no node; the message gives kube-scheduler's reasons",
    "max-pods": "pods whose eligible nodes are all at maxPods",
    "daemonset-no-nodes": "a DaemonSet whose nodeSelector, affinity and tolerations allow no node",
    "pinned-node-mismatch": "a pod whose spec.nodeName names a node its nodeSelector/affinity rejects",
    "image-os-mismatch": "a Windows container image on a Linux node, or a Linux image on a Windows node",
    "windows-build-newer": "a Windows image built for a newer Windows build than its node runs",
    "windows-build-older": "a Windows image older than the oldest build its node runs process-isolated",
    "runtimeclass-conflict": "a pod whose nodeSelector contradicts its RuntimeClass's: the API server refuses it",
}
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated name suffixes
_CODE = re.compile(r"^([a-z][a-z-]+): ")


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
    namespace = namespace_of(meta, problems)
    spec = f.sub("spec")
    tpath = "spec.template"
    replicas: int | None = None
    if kind in ("Job", "CronJob"):
        job = spec
        if kind == "CronJob":
            job, tpath = spec.sub("jobTemplate").sub("spec"), "spec.jobTemplate.spec.template"
        parallelism = job.int("parallelism", default=1, lo=0, hi=MAX_REPLICAS)
        completions = job.int("completions", default=None, lo=0)
        replicas = parallelism if completions is None else min(parallelism, completions)
        if job.bool("suspend") or (kind == "CronJob" and spec.bool("suspend")):
            replicas = 0
    else:
        job = spec
        if kind != "DaemonSet":
            replicas = spec.int("replicas", default=1, lo=0, hi=MAX_REPLICAS)
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


def expand_plan(plan: Plan, workloads: Sequence[Workload], problems: Problems, expand: bool = True,
                max_pods: Callable[[NodeSpec], int] | None = None) -> Plan:
    """The plan with every workload's pods added and every unplaced pod scheduled (see the module doc).

    Pods a kubectl dump already lists stand for their workload: a Deployment with listed pods (directly or
    through its ReplicaSet) is not expanded again, and a ReplicaSet or Job whose owner is in the plan is
    covered by that owner. With ``expand`` False only the listed pods are used. ``max_pods`` gives each
    node's pod limit (the network plugin's: ``Installed.max_pods``); by default the node's own maxPods.
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
                pod = replaced(pod, owner=owner)  # (dataclasses.replace: 8 µs × 150,000 pods)
        listed.append(pod)
    todo = [w for w in index.values() if expand and w.ref not in live and top(w.ref) == w.ref]
    planned = len(listed) + sum(w.replicas or 0 for w in todo) + len(plan.nodes) * sum(
        w.replicas is None for w in todo)  # a DaemonSet: one pod per node at most
    if planned > MAX_PODS:
        problems.error(plan.origin, f"the plan would hold {planned:,} pods (listed, and the workloads' replicas): "
                       f"more than the {MAX_PODS:,} cnimodel models", "lower the workloads' replicas, or model "
                       f"a part of the cluster ({LIMITS_DOC})")
        return replace(plan, pods=tuple(listed), workloads=tuple(index.values()))
    pods = place(plan, listed, todo, problems, max_pods)
    return replace(plan, pods=tuple(pods), workloads=tuple(index.values()))


def _deployment_of(pod: Pod, ref: WorkloadRef, index: dict[tuple[str, str, str], Workload]) -> WorkloadRef:
    """A ReplicaSet missing from the plan named ``<deployment>-<pod-template-hash>`` belongs to that Deployment."""
    h = pod.labels.get("pod-template-hash")
    if ref.kind == "ReplicaSet" and (ref.namespace, ref.kind, ref.name) not in index and h \
            and ref.name.endswith(f"-{h}"):
        return WorkloadRef("Deployment", ref.namespace, ref.name[: -len(h) - 1])
    return ref


def pods_of(plan: Plan, name: str) -> tuple[Pod, ...]:
    """The pods ``ns/name`` (or ``ns/name[Kind]``) stands for, or none: ``names.resolve_pods`` without its error,
    for callers that only ask whether a name stands for pods."""
    try:
        return tuple(resolve_pods(plan, name))
    except EndpointError:
        return ()
