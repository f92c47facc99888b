"""Which container builds a Windows host runs with process isolation: hcsshim's CheckHostAndContainerCompat.

Expected values are hcsshim's own test table (microsoft/hcsshim@7c9ff7f:
osversion/platform_compat_windows_test.go:15-64, builds from osversion/windowsbuilds.go: LTSC2019 17763,
LTSC2022 20348, V22H2Win11 22621, LTSC2025 26100), plus rows worked by hand from the function's branches
(platform_compat_windows.go:16-45): before LTSC2022 the same build only; from it on, the newest entry of
compatLTSCReleases (20348, 26100) that is older than the host, up to the host's build.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import cluster_doc, load_docs, run, write_docs
from test_workloads_windows import codes, image_pod, windows_nodes

from cnimodel.winbuild import oldest_container, process_compatible

LTSC2019, LTSC2022, WIN11_22H2, LTSC2025 = 17763, 20348, 22621, 26100

# hcsshim's Test_PlatformCompat rows, in its order: (host, container, runs)
HCSSHIM_ROWS = [
    (LTSC2019, LTSC2019, True),
    (LTSC2019, LTSC2022, False),
    (LTSC2022, LTSC2019, False),
    (LTSC2022, LTSC2022, True),
    (WIN11_22H2, LTSC2019, False),
    (WIN11_22H2, LTSC2022, True),
    (LTSC2025, LTSC2022, True),
    (LTSC2022, LTSC2025, False),
    (LTSC2022, WIN11_22H2, False),
    (LTSC2025, WIN11_22H2, True),
]
# Worked from the branches: 23H2 (25398) is past LTSC2022, so it runs 20348–25398; a host past LTSC2025 (26200
# here) runs 26100 up, no longer 20348; WS2016 (14393) needs its own build; nothing older than 20348 runs on
# WS2025.
BRANCH_ROWS = [
    (25398, LTSC2022, True),
    (25398, LTSC2025, False),
    (LTSC2025, 25398, True),
    (26200, LTSC2025, True),
    (26200, LTSC2022, False),
    (14393, 14393, True),
    (LTSC2019, 14393, False),
    (LTSC2025, LTSC2019, False),
]


@pytest.mark.parametrize(("host", "container", "runs"), HCSSHIM_ROWS + BRANCH_ROWS)
def test_process_compatible(host: int, container: int, runs: bool) -> None:
    assert process_compatible(host, container) is runs


def test_oldest_container() -> None:
    assert [oldest_container(b) for b in (14393, 17763, 20348, 22621, 25398, 26100, 26200)] == \
        [14393, 17763, 20348, 20348, 20348, 20348, 26100]


@pytest.mark.parametrize(("host", "container", "runs"), HCSSHIM_ROWS + BRANCH_ROWS)
def test_plan_finding_follows_the_rule(tmp_path: Path, host: int, container: int, runs: bool) -> None:
    """Each row through the loader: an image tagged 10.0.<build> on a node of the host build."""
    image = f"mcr.microsoft.com/windows/nanoserver:10.0.{container}.1"
    plan = load_docs(tmp_path, [cluster_doc(windows_nodes(host)), image_pod("app", "win1", image)])
    found = codes(plan)
    if runs:
        assert found == {}
    else:
        code = "windows-build-newer" if container > host else "windows-build-older"
        assert list(found) == [code]
        assert f"Windows build {container}" in found[code][0] and f"run build {host}" in found[code][0]


def test_older_message_names_the_hosts_range(tmp_path: Path) -> None:
    image = "mcr.microsoft.com/windows/servercore:ltsc2019"
    plan = load_docs(tmp_path, [cluster_doc(windows_nodes(LTSC2025)), image_pod("app", "win1", image)])
    [msg] = codes(plan)["windows-build-older"]
    assert "builds 20348 to 26100" in msg
    plan = load_docs(tmp_path, [cluster_doc(windows_nodes(LTSC2019)),
                                image_pod("app", "win1", "mcr.microsoft.com/windows/servercore:ltsc2016")])
    [msg] = codes(plan)["windows-build-older"]
    assert "same build" in msg


def win004(path: Path) -> list[str]:
    out = json.loads(run("check", str(path), "-o", "json").stdout)
    return [f["message"] for f in out["findings"] if f["code"] == "CNI-WIN-004"]


def test_check_is_silent_for_a_2022_image_on_a_2025_host_and_errs_on_2019(tmp_path: Path) -> None:
    """The issue's false error: an ltsc2022 image on a WS2025 node runs; CNI-WIN-004 stays for ltsc2019."""
    ok = write_docs(tmp_path / "ok.yaml", [cluster_doc(windows_nodes(LTSC2025)), image_pod(
        "iis", "win1", "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022")])
    assert win004(ok) == []
    bad = write_docs(tmp_path / "bad.yaml", [cluster_doc(windows_nodes(LTSC2025)), image_pod(
        "iis", "win1", "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2019")])
    [msg] = win004(bad)
    assert "20348 to 26100" in msg
