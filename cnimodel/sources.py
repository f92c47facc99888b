"""Where a plugin's real settings live in the manifests people install: declarations a plugin makes.

A plugin names the ConfigMap keys that hold its config files (flannel's ``net-conf.json``), the installer that
turns a template key into the file on the node (Calico's install-cni fills ``__CNI_MTU__``), and the daemon
whose command-line flags or environment change the data plane (flanneld ``--ip-masq``). ``cnimodel.discover``
reads the plan's ConfigMaps and DaemonSets with these declarations; the core never names a plugin's keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cnimodel.plan.configtext import Placeholder

Field = Literal["config", "cni"]  # the NetworkSpec/PolicySpec field a key fills (per OS for a network plugin)


@dataclass(frozen=True)
class Fill:
    """One placeholder an installer filled: the token, the value written, and where the value came from."""

    token: str
    value: Any
    how: str


@dataclass(frozen=True)
class InstallContext:
    """What an installer sees: the plan's ranges, the ConfigMap's other keys and the installing container's
    environment (``configMapKeyRef`` values resolved)."""

    cluster_cidr: str | None
    service_cidr: str | None
    configmap: Mapping[str, str]
    env: Mapping[str, str]


# data (already parsed, placeholders as strings), its placeholders, context → filled data and what was filled
Installer = Callable[[dict[str, Any], tuple[Placeholder, ...], InstallContext], tuple[dict[str, Any], list[Fill]]]


@dataclass(frozen=True)
class ConfigKey:
    """A ConfigMap key holding one of the plugin's config files.

    ``os`` says which nodes read it when no DaemonSet in the plan tells (a DaemonSet that mounts the ConfigMap
    and runs only on Windows nodes makes it the Windows nodes' file); ``installer`` fills its install-time
    placeholders the way the real installer does; ``installed_by`` names that installer for people."""

    key: str
    field: Field
    os: Literal["linux", "windows"] | None = None
    installer: Installer | None = None
    installed_by: str = ""


@dataclass(frozen=True)
class Daemon:
    """The plugin's daemon in a DaemonSet: recognised by its binary (command or args) or image; ``flags`` are
    the command-line flags that change the data plane, ``env_prefix`` the prefix under which the daemon also
    reads each flag from the environment (flanneld: ``FLANNELD_IP_MASQ``; the command line wins), ``env`` the
    environment variables that are settings of their own (calico-node's ``CALICO_NETWORKING_BACKEND``)."""

    binaries: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    env_prefix: str | None = None
    env: tuple[str, ...] = ()
    bool_flags: frozenset[str] = field(default_factory=frozenset)
