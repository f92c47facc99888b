"""RuntimeClass scheduling, as the RuntimeClass admission plugin applies it to a pod that names a class.

A pod's ``spec.runtimeClassName`` names a cluster-scoped ``node.k8s.io/v1`` RuntimeClass. When the class has
``scheduling``, admission merges it into the pod before the scheduler sees it (kubernetes/kubernetes
``plugin/pkg/admission/runtimeclass/admission.go``, ``setScheduling``): each ``scheduling.nodeSelector`` entry
is added to the pod's ``nodeSelector``, and a key the pod already gives with another value is a conflict the
API server refuses the pod for; ``scheduling.tolerations`` join the pod's tolerations
(``tolerations.MergeTolerations``, which only drops duplicates). The Kubernetes docs' Windows example relies on
it: a RuntimeClass whose nodeSelector holds ``kubernetes.io/os: windows`` and
``node.kubernetes.io/windows-build`` sends every pod naming it to the right Windows nodes.
"""

from __future__ import annotations

from cnimodel.plan.errors import Problems
from cnimodel.plan.fields import thaw
from cnimodel.plan.model import KubeObject, Pod
from cnimodel.plan.schedule import Placement, parse_placement


def runtime_classes(objects: tuple[KubeObject, ...], problems: Problems) -> dict[str, Placement | None]:
    """Each RuntimeClass of the plan by name → its ``scheduling`` as a Placement (None: no scheduling)."""
    out: dict[str, Placement | None] = {}
    for o in objects:
        if o.kind != "RuntimeClass":
            continue
        raw = thaw(o.body.get("scheduling"))
        if raw is None:
            out[o.name] = None
            continue
        if not isinstance(raw, dict):
            problems.error(o.origin.at("scheduling"), "expected a mapping with nodeSelector and/or tolerations",
                           "write `scheduling: {nodeSelector: {…}, tolerations: […]}`")
            continue
        # Scheduling holds nodeSelector and tolerations only; affinity is not a field of it.
        known = {k: raw[k] for k in ("nodeSelector", "tolerations") if k in raw}
        out[o.name] = parse_placement(known, o.origin.at("scheduling"), problems) if known else None
    return out


def merge(placement: Placement | None, scheduling: Placement) -> Placement | str:
    """``placement`` after admission adds the class's ``scheduling``; a str (the API server's refusal, in its
    words) when the pod's nodeSelector gives one of the class's keys another value."""
    selector = dict(placement.node_selector) if placement is not None else {}
    for key, value in scheduling.node_selector:
        if key in selector and selector[key] != value:
            return (f"conflict: runtimeClass.scheduling.nodeSelector[{key}] = {value}; "
                    f"pod.spec.nodeSelector[{key}] = {selector[key]}")
        selector[key] = value
    tolerations = placement.tolerations if placement is not None else ()
    tolerations += tuple(t for t in scheduling.tolerations if t not in tolerations)
    return Placement(tuple(sorted(selector.items())), placement.terms if placement is not None else None,
                     tolerations)


def admit(pod: Pod, classes: dict[str, Placement | None], problems: Problems, what: str) -> Placement | str | None:
    """The placement admission gives ``pod`` (a pod or a workload's template, ``what`` names it in messages):
    its own, merged with its RuntimeClass's scheduling; a str when admission refuses the pod. A class the plan
    does not hold is a warning and adds nothing (the API server refuses such a pod, but a plan often leaves
    cluster objects out)."""
    name = pod.runtime_class
    if name is None:
        return pod.placement
    if name not in classes:
        problems.warn(pod.origin.at("spec.runtimeClassName"), f"{what} names RuntimeClass {name!r}, which the plan "
                      "does not hold: the API server refuses pods naming a RuntimeClass that does not exist; "
                      "placed without any RuntimeClass scheduling",
                      f"add the RuntimeClass {name!r} (node.k8s.io/v1) to the plan, or fix spec.runtimeClassName")
        return pod.placement
    scheduling = classes[name]
    return pod.placement if scheduling is None else merge(pod.placement, scheduling)
