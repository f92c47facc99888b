"""The entry-point registry: plugins are found through the ``cnimodel.plugins`` group, built-in and third-party
alike (a package declares ``[project.entry-points."cnimodel.plugins"] name = "module:Class"``)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from cnimodel.plugin.base import NetworkPlugin

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


__all__ = ["GROUP", "available_plugins", "load_plugin", "plugins_of"]
