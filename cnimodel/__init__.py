"""cnimodel: model Kubernetes container networking the way the real CNI plugins build it."""

from pathlib import Path

__version__ = "0.1.0"

# Installed, setuptools maps plugins/ and topologies/ to cnimodel.plugins and cnimodel.topologies. In a
# source checkout (``python -m pytest`` from the repository root) they sit beside this package instead.
_root = Path(__file__).resolve().parent.parent
if (_root / "plugins" / "__init__.py").is_file() and not (Path(__file__).parent / "plugins").exists():
    __path__.append(str(_root))  # type: ignore[name-defined]


def __getattr__(name: str) -> object:
    """The front door, imported on first use so ``import cnimodel`` (and the CLI's start) stays cheap:
    ``cnimodel.load``, ``cnimodel.example``, ``Network``, ``Table``, ``Error``, ``PlanError``, ``QuestionError``."""
    if name in ("load", "example", "Network", "QuestionError"):
        from cnimodel import api

        return getattr(api, name)
    if name == "Table":
        from cnimodel.table import Table

        return Table
    if name in ("Error", "PlanError"):
        from cnimodel.plan import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'cnimodel' has no attribute {name!r}")


__all__ = ["Error", "Network", "PlanError", "QuestionError", "Table", "example", "load"]
