"""The example plans shipped with cnimodel (``topologies/`` in the source tree, ``cnimodel.topologies`` once
installed); ``default.yaml`` is the plan ``cnimodel`` runs with no arguments."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def root() -> Path:
    """The folder holding the example plans: the installed package data, else the source tree's topologies/."""
    try:
        from importlib.resources import files

        return Path(str(files("cnimodel.topologies")))
    except ModuleNotFoundError:  # a source checkout: topologies/ sits beside the package
        return Path(__file__).resolve().parent.parent / "topologies"


def path(name: str) -> Path:
    """The path of an example plan, e.g. ``path("default.yaml")``."""
    return root() / name


def names() -> list[str]:
    return sorted(p.name for p in root().iterdir() if p.name.endswith((".yaml", ".json")))
