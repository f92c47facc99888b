"""The wheel holds what the source tree holds: `pip install .` (the README's first command) must not lose a
subpackage or an asset the source checkout finds by accident (the test suite runs from the source tree)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _source_dir(package: str) -> Path:
    """Where setuptools takes ``package`` from, by the longest package-dir prefix."""
    dirs = SETUP["package-dir"]
    best = max((p for p in dirs if package == p or package.startswith(p + ".")), key=len)
    rest = package[len(best):].lstrip(".")
    return ROOT / dirs[best] / Path(*rest.split(".")) if rest else ROOT / dirs[best]


def _packages_on_disk() -> set[str]:
    found = set()
    for top, base in (("cnimodel", ROOT / "cnimodel"), ("cnimodel.topologies", ROOT / "topologies")):
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join((top, *rel.parts)))
    return found


def test_every_package_is_listed() -> None:
    listed = set(SETUP["packages"])
    missing = _packages_on_disk() - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    assert all(_source_dir(p).is_dir() for p in listed)


def test_every_data_file_is_covered() -> None:
    """Every non-Python file inside a package (HTML assets, embedded plans) matches a package-data glob."""
    data = SETUP["package-data"]
    uncovered = []
    for package in SETUP["packages"]:
        base = _source_dir(package)
        subpackages = {_source_dir(p) for p in SETUP["packages"] if p.startswith(package + ".")}
        for f in base.rglob("*"):
            if (not f.is_file() or f.suffix in (".py", ".pyc") or "__pycache__" in f.parts
                    or any(f.is_relative_to(s) for s in subpackages)):
                continue
            rel = f.relative_to(base).as_posix()
            if not any(fnmatch.fnmatch(rel, g) for g in data.get(package, [])):
                uncovered.append(f"{package}: {rel}")
    assert not uncovered, f"add to [tool.setuptools.package-data]: {uncovered}"
