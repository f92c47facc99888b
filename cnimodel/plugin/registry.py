"""The entry-point registry: plugins are found through the ``cnimodel.plugins`` group, built-in and third-party
alike (a package declares ``[project.entry-points."cnimodel.plugins"] name = "module:Class"``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points

from cnimodel.plan import NodeSpec, Plan, Problems
from cnimodel.plan.installed import Installed
from cnimodel.plugin.base import NetworkPlugin, PolicyPlugin

GROUP = "cnimodel.plugins"


@cache
def available_plugins() -> dict[str, str]:
    """Plugin names found in the entry-point group, with the object each names."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def load_plugin(name: str, kind: type = NetworkPlugin) -> type:
    """The plugin class registered under ``name`` that is a ``kind`` (KeyError when none is)."""
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            cls = ep.load()
            if isinstance(cls, type) and issubclass(cls, kind):
                return cls
    raise KeyError(name)


def plugins_of(kind: type) -> list[str]:
    """Names of the installed plugins of one kind (NetworkPlugin or PolicyPlugin)."""
    out = []
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception:  # a broken third-party plugin must not hide the others
            continue
        if isinstance(cls, type) and issubclass(cls, kind):
            out.append(ep.name)
    return sorted(out)


def installed() -> Installed:
    """What the plan asks of the installed plugins (``load_plan(..., installed=installed())``)."""
    return Installed(has=lambda name: name in available_plugins(),
                     names=lambda kind: plugins_of(NetworkPlugin if kind == "network" else PolicyPlugin),
                     max_pods=plugin_max_pods)


def plugin_max_pods(plan: Plan) -> Callable[[NodeSpec], int] | None:
    """Each node's pod limit as the plan's network plugin sees it (Azure CNI's default is 30 or 250 where the
    node gives no maxPods), so placement agrees with allocation; None without a usable plugin."""
    if plan.network is None:
        return None
    try:
        return load_plugin(plan.network.plugin, NetworkPlugin)(plan, Problems()).max_pods
    except Exception:  # an unknown plugin, or a plan it cannot read: Cluster.build reports why
        return None


__all__ = ["GROUP", "available_plugins", "installed", "load_plugin", "plugin_max_pods", "plugins_of"]
