"""Where a plan's pods land: listed pods and the pods of every workload, placed as kube-scheduler's filters
would (``schedule.Scheduler``) after the admission that changes their scheduling (RuntimeClass), with the
reason each pod that never runs does not (``NotRunning``): it fits no node and stays Pending, the kubelet
rejects it, or its images cannot run on its node. Placement findings are warnings whose message starts with
a stable code (``workloads.CODES``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from cnimodel.bulk import replaced
from cnimodel.plan.errors import Origin, Problems
from cnimodel.plan.images import image_findings
from cnimodel.plan.model import NodeSpec, NotRunning, Plan, Pod
from cnimodel.plan.runtimeclass import admit, runtime_classes
from cnimodel.plan.schedule import DAEMON_HOSTNET_TOLERATION, DAEMON_TOLERATIONS, HostPorts, Placement, Scheduler

if TYPE_CHECKING:
    from cnimodel.plan.workloads import Workload

_NO_PORTS: HostPorts = frozenset()


def _host_ports(pod: Pod) -> HostPorts:
    """Host ports a pod takes on its node; with hostNetwork every container port is one."""
    if not pod.host_network:
        for p in pod.ports:  # (a loop, not all(): asked once per pod)
            if p.host_port is not None:
                break
        else:
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


def _make_pods(w: Workload, names: Sequence[str], nodes: Sequence[str | None],
               placement: Placement | None = None) -> list[Pod]:
    """The pods named ``names`` on ``nodes`` (None: not placed), with the labels the controller adds:
    pod-template-hash, job-name, a StatefulSet pod's own name; ``placement`` is the template's after admission
    (its RuntimeClass's scheduling merged in)."""
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
                       placement if placement is not None else t.placement, service_account=t.service_account,
                       runtime_class=t.runtime_class))
    return out


def _pending(pods: list[Pod], code: str, why: str) -> list[Pod]:
    """The pods kept Pending: no node, and why they never run (kube-scheduler's reasons)."""
    nr = NotRunning(code, why)
    return [replace(p, node=None, not_running=nr) for p in pods]


def place(plan: Plan, listed: list[Pod], todo: list[Workload], problems: Problems,
           max_pods: Callable[[NodeSpec], int] | None) -> list[Pod]:
    classes = runtime_classes(plan.objects, problems)
    if not plan.nodes:  # manifests without nodes: pods exist, nowhere in particular
        return listed + [p for w in todo for p in _unplaced(w)]
    s = Scheduler(plan.nodes, max_pods)
    # One pass over the listed pods: the RuntimeClass admission plugin first (a listed pod already admitted is
    # unchanged), then (1.) pods that name their node bypass the scheduler: they count against maxPods first.
    # The kubelet rejects one its own nodeSelector/affinity refuses (NodeAffinity admission): it fails, holding
    # nothing; those are warned about after the pass, so admission's warnings come first as before.
    out: list[Pod] = []  # each pod keeps its place; the steps below replace the ones they change
    unplaced: list[int] = []
    rejected: list[int] = []
    image_sets: set[tuple[str, ...]] = set()  # the distinct images of the pods, for image_findings
    index, take = s.index, s.take
    for pod in listed:
        if pod.runtime_class is not None:  # (most pods: nothing to admit, no message made)
            placement = admit(pod, classes, problems, f"pod {pod.key}")
            if isinstance(placement, str):
                _warn_refused(f"pod {pod.key}", pod, placement, problems)
                continue
            if placement is not pod.placement:
                pod = replace(pod, placement=placement)
        image_sets.add(pod.images)
        if pod.node is None:
            unplaced.append(len(out))
        elif (i := index.get(pod.node)) is not None:
            if pod.placement is not None and not pod.placement.selects(pod.node, s.labels[i]):
                rejected.append(len(out))
            else:
                take(i, _host_ports(pod))
        out.append(pod)
    for k in rejected:
        pod = out[k]
        _warn_pinned(f"pod {pod.key}", pod.node or "", pod.origin, problems)
        out[k] = replaced(pod, not_running=NotRunning("pinned-node-mismatch", _REJECTED.format(node=pod.node)))
    for k in unplaced:  # 2. bare pods without a node, in plan order
        pod = out[k]
        ports = _host_ports(pod)
        got = s.spread(1, s.eligible(pod.placement), ports)
        if got:
            out[k] = replace(pod, node=plan.nodes[got[0]].name)
        else:
            code = _code(s, s.eligible(pod.placement))
            why = s.explain(pod.placement, ports)
            problems.warn(_constraint_origin(pod, pod.origin), f"{code}: pod {pod.key} fits no node "
                          f"({why}); it stays Pending and gets no IP", _fix(pod.placement, code))
            out[k] = _pending([pod], code, f"it fits no node ({why}); it stays Pending")[0]
    # 3. DaemonSets before other workloads: their pods run on every node they select.
    for w in sorted(todo, key=lambda w: w.kind != "DaemonSet"):
        placement = admit(w.template, classes, problems, str(w.ref))
        if isinstance(placement, str):
            _warn_refused(str(w.ref), w.template, placement, problems)
            continue
        out += (_daemon(w, s, plan, problems, placement) if w.kind == "DaemonSet"
                else _replicas(w, s, plan, problems, placement))
        image_sets.add(w.template.images)
    for k, stop in image_findings(out, plan, problems, image_sets).items():
        if out[k].not_running is None:
            out[k] = replaced(out[k], not_running=stop)
    return out


_REJECTED = ("the kubelet on {node} rejects it: its nodeSelector/affinity does not select that node "
             "(NodeAffinity); the pod fails without a sandbox or an address")


def _warn_refused(what: str, pod: Pod, refusal: str, problems: Problems) -> None:
    outcome = "the pod does not exist" if what.startswith("pod ") else "its controller makes no pods"
    problems.warn(pod.origin.at("spec.runtimeClassName"), f"runtimeclass-conflict: the API server refuses {what}: "
                  f"{refusal} (RuntimeClass admission); {outcome}",
                  "drop the nodeSelector key the RuntimeClass sets, or give it the RuntimeClass's value")


def _unplaced(w: Workload) -> list[Pod]:
    names = [f"{w.name}-0"] if w.replicas is None else pod_names(w, w.replicas)  # one pod stands for a DaemonSet
    return _make_pods(w, names, [w.template.node] * len(names))


def _replicas(w: Workload, s: Scheduler, plan: Plan, problems: Problems, placement: Placement | None) -> list[Pod]:
    t = w.template
    count = w.replicas or 0
    names = pod_names(w, count)
    ports = _host_ports(t)
    placed_names: list[str | None] = []
    if t.node is not None:  # the template pins every pod to one node; an unknown one is check_plan's error
        i = s.index.get(t.node)
        if i is not None and placement is not None and not placement.selects(t.node, s.labels[i]):
            _warn_pinned(str(w.ref), t.node, t.origin, problems)
            rejected = NotRunning("pinned-node-mismatch", _REJECTED.format(node=t.node))
            return [replace(p, not_running=rejected) for p in _make_pods(w, names, [t.node] * count, placement)]
        for _ in names:
            if i is not None and not s.fits(i, ports):
                placed_names.append(None)
                continue
            if i is not None:
                s.take(i, ports)
            placed_names.append(t.node)
    else:
        got = s.spread(count, s.eligible(placement), ports)
        placed_names = [plan.nodes[i].name for i in got] + [None] * (count - len(got))
    made = _make_pods(w, names, placed_names, placement)
    pods = [p for p in made if p.node is not None]
    missing = count - len(pods)
    if missing:
        pinned = [s.index[t.node]] if t.node is not None else None
        code = _code(s, pinned or s.eligible(placement))
        why = s.explain(placement, ports, only=pinned)
        problems.warn(_constraint_origin(t, t.origin), f"{code}: {missing} of {count} pods of {w.ref} fit no node "
                      f"({why}); they stay Pending and get no IP", _fix(placement, code))
        pods += _pending([p for p in made if p.node is None], code, f"it fits no node ({why}); it stays Pending")
    return pods


def _daemon(w: Workload, s: Scheduler, plan: Plan, problems: Problems, placement: Placement | None) -> list[Pod]:
    """The DaemonSet controller picks nodes by the template alone (NodeShouldRunDaemonPod: nodeName, node
    affinity, taints); each pod it makes then passes admission, so a RuntimeClass's scheduling can leave a pod
    for a node Pending."""
    t = w.template
    extra = DAEMON_TOLERATIONS + ((DAEMON_HOSTNET_TOLERATION,) if t.host_network else ())
    eligible = s.eligible(t.placement, extra)
    if not eligible:
        problems.warn(_constraint_origin(t, t.origin), f"daemonset-no-nodes: {w.ref} selects no node "
                      f"({s.explain(t.placement, frozenset(), extra)}); it runs no pods",
                      _fix(t.placement, "unschedulable"))
        return []
    ports = _host_ports(t)
    nodes, full, refused = [], [], []
    admitted = set(s.eligible(placement, extra)) if placement is not t.placement else None
    for i in eligible:
        if admitted is not None and i not in admitted:
            refused.append(i)
        elif s.fits(i, ports):
            s.take(i, ports)
            nodes.append(plan.nodes[i].name)
        else:
            full.append(i)
    pods = _make_pods(w, [f"{w.name}-{n}" for n in nodes], nodes, placement)
    for group, by_class in ((full, False), (refused, True)):
        if not group:
            continue
        shown = ", ".join(plan.nodes[i].name for i in group[:5]) + (" …" if len(group) > 5 else "")
        code = "unschedulable" if by_class else _code(s, group)
        why = s.explain(placement, ports, extra, group)
        by = f" with RuntimeClass {t.runtime_class}'s scheduling" if by_class else ""
        problems.warn(_constraint_origin(t, t.origin), f"{code}: {len(group)} of {len(eligible)} pods of {w.ref} "
                      f"do not fit their nodes{by} ({shown}): {why}; they stay Pending and get no IP",
                      _fix(placement, code))
        names = [f"{w.name}-{plan.nodes[i].name}" for i in group]
        pods += _pending(_make_pods(w, names, [None] * len(group), placement), code,
                         f"it does not fit its node{by} ({why}); it stays Pending")
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
