"""Example plans people can read and copy; ``default.yaml`` is the plan ``cnimodel`` runs with no arguments."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(name: str) -> Path:
    """The path of a bundled topology file, e.g. ``path("default.yaml")``."""
    return Path(str(files(__name__).joinpath(name)))


def names() -> list[str]:
    return sorted(p.name for p in files(__name__).iterdir() if p.name.endswith((".yaml", ".json")))
