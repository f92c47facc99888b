"""Container images that cannot run where their pods landed: a Windows image on a Linux node (or the reverse),
or a Windows image whose build its node does not run with process isolation, the only isolation Kubernetes
runs (hcsshim's rule, cnimodel/winbuild.py). Findings, one per workload, image and code (docs/workloads.md); and
each such pod's ``NotRunning``: the kubelet creates the pod's sandbox (the pause image is published for every
OS and build, and the CNI ADD gives the sandbox its address) before it pulls and starts the containers
(``kubeGenericRuntimeManager.SyncPod``: step 4 the sandbox, then the containers), so the pod holds an address
while no container of it ever runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence, Set

from cnimodel.plan.errors import Problems
from cnimodel.plan.model import NodeSpec, NotRunning, Plan, Pod, WorkloadRef
from cnimodel.plan.schedule import image_build, image_os
from cnimodel.winbuild import process_compatible, why_not

Verdict = tuple[int, str, str, int | None]  # (container index, code, image, image build)


def _image_verdicts(images: tuple[str, ...], os: str, build: int | None) -> list[Verdict]:
    """(container index, code, image, image build) for each image that cannot run on a node of ``os`` and
    Windows ``build``."""
    out = []
    for k, image in enumerate(images):
        ios, ibuild = image_os(image), image_build(image)
        if ios is None:
            continue
        if ios != os:
            out.append((k, "image-os-mismatch", image, ibuild))
        elif ios == "windows" and ibuild and build and not process_compatible(build, ibuild):
            code = "windows-build-newer" if ibuild > build else "windows-build-older"
            out.append((k, code, image, ibuild))
    return out


def image_findings(pods: Sequence[Pod], plan: Plan, problems: Problems,
                   image_sets: Set[tuple[str, ...]] | None = None) -> dict[int, NotRunning]:
    """Container images that cannot run on the node a pod landed on: the wrong OS, or (process isolation,
    the only kind Kubernetes runs) a different Windows build. One warning per workload, image and code; returns
    each such pod's ``NotRunning`` (its first image that cannot run), by its index in ``pods``. ``image_sets``:
    every distinct ``images`` of ``pods`` when the caller has them (read from the pods otherwise)."""
    nodes = {n.name: n for n in plan.nodes}
    verdicts: dict[tuple[tuple[str, ...], str, int | None], list[Verdict]] = {}

    def verdict(images: tuple[str, ...], os: str, build: int | None) -> list[Verdict]:
        """One per distinct (images, OS, build): pods of a workload share it."""
        got = verdicts.get((images, os, build))
        if got is None:
            got = verdicts[(images, os, build)] = _image_verdicts(images, os, build)
        return got

    # Only pods whose image set cannot run on some (OS, build) the plan's nodes run are looked at per node.
    kinds = {(n.os, n.windows_build) for n in plan.nodes}
    if image_sets is None:
        image_sets = {p.images for p in pods}
    suspect = {images for images in image_sets if images and any(verdict(images, os, b) for os, b in kinds)}
    if not suspect:  # no pod's images fail on any node of the plan
        return {}
    # Per node, per image set: the verdicts and the pod's NotRunning, so a pod costs two dict lookups.
    on_node: dict[str, dict[tuple[str, ...], tuple[list[Verdict], NotRunning | None]]] = {}
    found: dict[tuple[WorkloadRef | str, str, int], tuple[Pod, str, int | None, list[str]]] = {}
    stops: dict[int, NotRunning] = {}
    why: dict[tuple[Verdict, str], NotRunning] = {}  # pods of a node share one
    for k, pod in enumerate(pods):
        name, images = pod.node, pod.images
        if images not in suspect or name is None:
            continue
        cache = on_node.get(name)
        if cache is None:
            if name not in nodes:
                continue
            cache = on_node[name] = {}
        hit = cache.get(images)
        if hit is None:
            node = nodes[name]
            bad = verdict(images, node.os, node.windows_build)
            stop = None
            if bad:
                stop = why.get((bad[0], name))
                if stop is None:
                    stop = why[(bad[0], name)] = _stop(bad[0], node)
            hit = cache[images] = (bad, stop)
        bad, stop = hit
        if stop is None:
            continue
        stops[k] = stop
        owner = pod.owner
        for c, code, image, ibuild in bad:
            group = (owner or pod.key, code, c)
            if (seen := found.get(group)) is None:
                found[group] = (pod, image, ibuild, [name])
            else:
                seen[3].append(name)
    # A workload's warning says how many of its placed pods (with images) it concerns.
    counted = {pod.owner for pod, *_ in found.values() if pod.owner is not None}
    totals = Counter(p.owner for p in pods if p.owner in counted and p.node is not None and p.images) \
        if counted else Counter()
    _warn(found, totals, nodes, problems)
    return stops


def _stop(verdict: Verdict, node: NodeSpec) -> NotRunning:
    """Why a pod with this image verdict never runs on ``node``, its sandbox (and address) kept."""
    _, code, image, ibuild = verdict
    if code == "image-os-mismatch":
        kind = (image_os(image) or "").title()
        why = (f"its image {image} is a {kind} image and node {node.name} runs {node.os.title()}: the image pull "
               f"finds no {node.os}/amd64 variant (ErrImagePull)")
    else:
        assert ibuild is not None and node.windows_build is not None
        why = (f"its image {image} is built for Windows build {ibuild} and node {node.name} runs build "
               f"{node.windows_build}: {why_not(node.windows_build, ibuild)}")
    return NotRunning(code, f"{why}; the pod's sandbox holds its address, but no container runs", sandbox=True)


def _warn(found: dict[tuple[WorkloadRef | str, str, int], tuple[Pod, str, int | None, list[str]]],
          totals: Counter[WorkloadRef], nodes: dict[str, NodeSpec], problems: Problems) -> None:
    os_texts: dict[str, tuple[str, str, str]] = {}  # per image: the OS mismatch message around the nodes, its fix
    for (group, code, k), (pod, image, ibuild, where) in found.items():
        if len(where) == 1:  # (a bare pod: one node)
            shown = where[0]
        else:
            names = sorted(set(where))
            shown = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
        count = f"{len(where)} of {totals[pod.owner]} pods of {group}" if pod.owner else f"pod {group}"
        origin = pod.origin.at(f"spec.containers[{k}].image")
        if code == "image-os-mismatch":
            texts = os_texts.get(image)
            if texts is None:
                want = image_os(image)
                other = "linux" if want == "windows" else "windows"
                texts = os_texts[image] = (
                    f"{want.title() if want else ''} image {image} is placed on {other.title()} node(s) ",
                    f"; the runtime finds no {other}/amd64 variant of it and the pod never starts",
                    f"add `nodeSelector: {{kubernetes.io/os: {want}}}` to the pod spec")
            head, tail, fix = texts
            problems.warn(origin, f"{code}: {count}: {head}{shown}{tail}", fix)
            continue
        node_builds = sorted({nodes[n].windows_build for n in where if nodes[n].windows_build})
        text = "; ".join(dict.fromkeys(why_not(b, ibuild) for b in node_builds if ibuild))
        problems.warn(origin, f"{code}: {count}: image {image} is built for Windows build {ibuild} but node(s) "
                      f"{shown} run build {', '.join(map(str, node_builds))}; {text}",
                      f"use the image tag matching the node build, or select nodes with `nodeSelector: "
                      f"{{node.kubernetes.io/windows-build: 10.0.{ibuild}}}`")
