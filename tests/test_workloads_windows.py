"""Windows specifics: which images are Windows images, which build an image tag names, and the findings
for an image on the wrong OS or the wrong Windows build.

Builds from services-lb.md §4.1 (WS2016 14393, 1709 16299, 1803 17134, WS2019/1809 17763, WS2022 20348,
WS2025 26100). The rule: process isolation — the only kind Kubernetes runs — needs the same build before WS2022;
a newer container never runs on an older host; from WS2022 on a host also runs the previous LTSC's images
(hcsshim's CheckHostAndContainerCompat, row by row in test_winbuild.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import cluster_doc, load_docs, pod_doc

from cnimodel.plan import Plan
from cnimodel.plan.schedule import image_build, image_os
from cnimodel.plan.workloads import finding_code

WS2022_IIS = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"


@pytest.mark.parametrize(("image", "os"), [
    (WS2022_IIS, "windows"),
    ("mcr.microsoft.com/windows/nanoserver:1809", "windows"),
    ("microsoft/windowsservercore:1803", "windows"),                  # the 2018 name (origin.md)
    ("mcr.microsoft.com/windows:1809", "windows"),
    ("mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019", "windows"),
    ("mcr.microsoft.com/dotnet/framework/aspnet:4.8", "windows"),     # .NET Framework exists only on Windows
    ("nginx:1.27", "linux"),
    ("busybox", "linux"),
    ("quay.io/prometheus/node-exporter:v1.8.2", "linux"),
    ("registry.k8s.io/pause:3.9", None),                              # published for both
    ("mcr.microsoft.com/oss/kubernetes/pause:3.9", None),
    ("registry.k8s.io/e2e-test-images/agnhost:2.47", None),
    ("mcr.microsoft.com/dotnet/aspnet:8.0", None),
])
def test_image_os(image: str, os: str | None) -> None:
    assert image_os(image) == os


@pytest.mark.parametrize(("image", "build"), [
    (WS2022_IIS, 20348),
    ("mcr.microsoft.com/windows/nanoserver:ltsc2025", 26100),
    ("mcr.microsoft.com/windows/nanoserver:1809", 17763),
    ("mcr.microsoft.com/windows/servercore:ltsc2019", 17763),
    ("microsoft/windowsservercore:1803", 17134),
    ("microsoft/windowsservercore:1709", 16299),
    ("mcr.microsoft.com/windows/servercore:ltsc2016", 14393),
    ("mcr.microsoft.com/windows/servercore:10.0.17763.5458", 17763),
    ("mcr.microsoft.com/windows/servercore:latest", None),
    ("mcr.microsoft.com/windows/servercore", None),
])
def test_image_build(image: str, build: int | None) -> None:
    assert image_build(image) == build


def windows_nodes(*builds: int) -> list[dict[str, Any]]:
    return [{"name": "lin1", "os": "linux", "ip": "10.240.0.10"}] + [
        {"name": f"win{i + 1}", "os": "windows", "ip": f"10.240.0.{20 + 10 * i}", "windowsBuild": b}
        for i, b in enumerate(builds)]


def codes(plan: Plan) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for w in plan.warnings:
        if c := finding_code(w):
            out.setdefault(c, []).append(w.message)
    return out


def image_pod(name: str, node: str, *images: str) -> dict[str, Any]:
    doc = pod_doc(name, node)
    doc["spec"]["containers"] = [{"name": f"c{i}", "image": im} for i, im in enumerate(images)]
    return doc


def test_windows_image_on_a_linux_node(tmp_path: Path) -> None:
    plan = load_docs(tmp_path, [cluster_doc(windows_nodes(20348)), image_pod("iis", "lin1", WS2022_IIS)])
    warning = next(w for w in plan.warnings if finding_code(w) == "image-os-mismatch")
    assert "pod default/iis" in warning.message and "lin1" in warning.message
    assert warning.origin.path == "spec.containers[0].image"
    assert "kubernetes.io/os: windows" in warning.hint


def test_linux_image_spread_onto_windows_nodes(tmp_path: Path) -> None:
    """No nodeSelector: 4 replicas over lin1, win1, win2, win3 — three land on Windows and never start."""
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.9"},
                                                         {"name": "web", "image": "nginx:1.27"}]}}}}
    plan = load_docs(tmp_path, [cluster_doc(windows_nodes(20348, 20348, 20348)), dep])
    [msg] = codes(plan)["image-os-mismatch"]
    assert msg.startswith("image-os-mismatch: 3 of 4 pods of default/web[Deployment]")
    assert "nginx:1.27" in msg and "win1, win2, win3" in msg
    warning = next(w for w in plan.warnings if finding_code(w) == "image-os-mismatch")
    assert warning.origin.path == "spec.template.spec.containers[1].image"  # the Linux one, not pause
    assert "kubernetes.io/os: linux" in warning.hint


@pytest.mark.parametrize(("image", "node_build", "code"), [
    (WS2022_IIS, 17763, "windows-build-newer"),                                     # 2022 image, 2019 host
    ("mcr.microsoft.com/windows/nanoserver:1809", 20348, "windows-build-older"),    # needs Hyper-V
    ("microsoft/windowsservercore:1803", 17134, None),                              # same build: fine
    (WS2022_IIS, 26100, None),                                                      # the previous LTSC
    ("mcr.microsoft.com/windows/nanoserver:ltsc2025", 20348, "windows-build-newer"),
    ("mcr.microsoft.com/windows/servercore:latest", 17763, None),                   # unknown build: silent
])
def test_windows_build_compatibility(tmp_path: Path, image: str, node_build: int, code: str | None) -> None:
    plan = load_docs(tmp_path, [cluster_doc(windows_nodes(node_build)), image_pod("app", "win1", image)])
    found = codes(plan)
    assert list(found) == ([code] if code else [])
    if code:
        assert str(node_build) in found[code][0] and str(image_build(image)) in found[code][0]


def test_the_talks_2019_cluster_with_a_2022_image(tmp_path: Path) -> None:
    """talk-l2bridge-cloud's Windows node runs 17763; an ltsc2022 IIS DaemonSet there is flagged."""
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "iis"},
          "spec": {"selector": {"matchLabels": {"app": "iis"}},
                   "template": {"metadata": {"labels": {"app": "iis"}},
                                "spec": {"nodeSelector": {"beta.kubernetes.io/os": "windows"},
                                         "containers": [{"name": "iis", "image": WS2022_IIS}]}}}}
    plan = load_docs(tmp_path, [cluster_doc(windows_nodes(17763)), ds])
    assert [p.node for p in plan.pods] == ["win1"]
    [msg] = codes(plan)["windows-build-newer"]
    assert msg.startswith("windows-build-newer: 1 of 1 pods of default/iis[DaemonSet]")


def test_pinned_pod_its_selector_rejects(tmp_path: Path) -> None:
    doc = image_pod("p", "lin1", "registry.k8s.io/pause:3.9")
    doc["spec"]["nodeSelector"] = {"kubernetes.io/os": "windows"}
    plan = load_docs(tmp_path, [cluster_doc(windows_nodes(20348)), doc])
    warning = next(w for w in plan.warnings if finding_code(w) == "pinned-node-mismatch")
    assert warning.origin.path == "spec.nodeName" and "'lin1'" in warning.message
    assert [p.node for p in plan.pods] == ["lin1"]  # kept as written: the plan is still usable
