"""Windows builds and which container builds a host runs with process isolation, the only isolation Kubernetes
runs.

The rule is hcsshim's ``osversion.CheckHostAndContainerCompat``
(microsoft/hcsshim@7c9ff7f:osversion/platform_compat_windows.go:16), which containerd applies on Windows:

- a host older than Windows Server 2022 runs only containers of its own build;
- from Windows Server 2022 on, a host runs every build from the newest LTSC release *older* than itself up to
  its own build (a WS2025 host runs 20348 to 26100; a 23H2 host, build 25398, runs 20348 to 25398; a WS2022
  host runs 20348 only, since no LTSC in the list is older than it);
- a newer container never runs on an older host.

The LTSC list is hcsshim's ``compatLTSCReleases`` (platform_compat_windows.go:5): WS2022 and WS2025.
"""

from __future__ import annotations

LTSC2016 = 14393
LTSC2019 = 17763
LTSC2022 = 20348
LTSC2025 = 26100
COMPAT_LTSC = (LTSC2022, LTSC2025)  # hcsshim compatLTSCReleases, ascending


def oldest_container(host: int) -> int:
    """The oldest container build ``host`` runs process-isolated: its own build before WS2022, else the newest
    LTSC release older than the host (WS2022 itself when none is).

    >>> oldest_container(26100), oldest_container(25398), oldest_container(20348), oldest_container(17763)
    (20348, 20348, 20348, 17763)
    """
    if host < LTSC2022:
        return host
    return next((r for r in reversed(COMPAT_LTSC) if host > r), LTSC2022)


def process_compatible(host: int, container: int) -> bool:
    """Whether a container of build ``container`` runs process-isolated on a host of build ``host``.

    >>> process_compatible(26100, 20348), process_compatible(20348, 17763), process_compatible(20348, 26100)
    (True, False, False)
    """
    return oldest_container(host) <= container <= host


def why_not(host: int, container: int) -> str:
    """A sentence saying why ``container`` does not run process-isolated on ``host`` (assumes it does not)."""
    if container > host:
        return "a newer container never runs on an older host"
    if host < LTSC2022:
        return ("before Windows Server 2022 process isolation needs the same build, and Kubernetes does not run "
                "Hyper-V isolation")
    return (f"a build {host} host runs containers of builds {oldest_container(host)} to {host} only (hcsshim "
            "CheckHostAndContainerCompat), and Kubernetes does not run Hyper-V isolation")


__all__ = ["COMPAT_LTSC", "LTSC2016", "LTSC2019", "LTSC2022", "LTSC2025", "oldest_container",
           "process_compatible", "why_not"]
