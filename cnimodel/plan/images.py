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
from collections.abc import Sequence

from cnimodel.plan.errors import Problems
from cnimodel.plan.model import NodeSpec, NotRunning, Plan, Pod, WorkloadRef
from cnimodel.plan.schedule import image_build, image_os
from cnimodel.winbuild import process_compatible, why_not


def _image_verdicts(images: tuple[str, ...], node: NodeSpec) -> list[tuple[int, str, str, int | None]]:
    """(container index, code, image, image build) for each image that cannot run on ``node``."""
    out = []
    for k, image in enumerate(images):
        ios, ibuild = image_os(image), image_build(image)
        if ios is None:
            continue
        if ios != node.os:
            out.append((k, "image-os-mismatch", image, ibuild))
        elif ios == "windows" and ibuild and node.windows_build \
                and not process_compatible(node.windows_build, ibuild):
            code = "windows-build-newer" if ibuild > node.windows_build else "windows-build-older"
            out.append((k, code, image, ibuild))
    return out


def image_findings(pods: Sequence[Pod], plan: Plan, problems: Problems) -> dict[str, NotRunning]:
    """Container images that cannot run on the node a pod landed on: the wrong OS, or (process isolation,
    the only kind Kubernetes runs) a different Windows build. One warning per workload, image and code; returns
    each such pod's ``NotRunning`` (its first image that cannot run), by pod key."""
    nodes = {n.name: n for n in plan.nodes}
    verdicts: dict[tuple[tuple[str, ...], str, int | None], list[tuple[int, str, str, int | None]]] = {}
    totals: Counter[WorkloadRef] = Counter()
    found: dict[tuple[WorkloadRef | str, str, int], tuple[Pod, str, int | None, list[str]]] = {}
    stops: dict[str, NotRunning] = {}
    why: dict[tuple[tuple[int, str, str, int | None], str], NotRunning] = {}  # pods of a node share one
    for pod in pods:
        if pod.node is None or not pod.images:
            continue
        if pod.owner is not None:
            totals[pod.owner] += 1
        node = nodes.get(pod.node)
        if node is None:
            continue
        key = (pod.images, node.os, node.windows_build)
        bad = verdicts.get(key)
        if bad is None:  # one verdict per distinct (images, OS, build): pods of a workload share it
            bad = verdicts[key] = _image_verdicts(pod.images, node)
        if bad:
            stop = why.get((bad[0], node.name))
            if stop is None:
                stop = why[(bad[0], node.name)] = _stop(bad[0], node)
            stops[pod.key] = stop
        for k, code, image, ibuild in bad:
            found.setdefault((pod.owner or pod.key, code, k), (pod, image, ibuild, []))[3].append(node.name)
    _warn(found, totals, nodes, problems)
    return stops


def _stop(verdict: tuple[int, str, str, int | None], node: NodeSpec) -> NotRunning:
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
    for (group, code, k), (pod, image, ibuild, where) in found.items():
        shown = ", ".join(sorted(set(where))[:5]) + (" …" if len(set(where)) > 5 else "")
        count = f"{len(where)} of {totals[pod.owner]} pods of {group}" if pod.owner else f"pod {group}"
        origin = pod.origin.at(f"spec.containers[{k}].image")
        if code == "image-os-mismatch":
            want = image_os(image)
            other = "linux" if want == "windows" else "windows"
            problems.warn(origin, f"{code}: {count}: {want.title() if want else ''} image {image} is placed on "
                          f"{other.title()} node(s) {shown}; the runtime finds no {other}/amd64 variant of it and the "
                          "pod never starts", f"add `nodeSelector: {{kubernetes.io/os: {want}}}` to the pod spec")
            continue
        node_builds = sorted({nodes[n].windows_build for n in where if nodes[n].windows_build})
        text = "; ".join(dict.fromkeys(why_not(b, ibuild) for b in node_builds if ibuild))
        problems.warn(origin, f"{code}: {count}: image {image} is built for Windows build {ibuild} but node(s) "
                      f"{shown} run build {', '.join(map(str, node_builds))}; {text}",
                      f"use the image tag matching the node build, or select nodes with `nodeSelector: "
                      f"{{node.kubernetes.io/windows-build: 10.0.{ibuild}}}`")
