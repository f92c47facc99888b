"""cnimodel: model Kubernetes container networking the way the real CNI plugins build it."""

import sys as _sys

__version__ = "0.1.0"

if _sys.argv and (_sys.argv[0] == "-m" or _sys.argv[0].endswith("cnimodel")):  # the program starting up
    from cnimodel import startup as _startup  # noqa: F401  (a Ctrl-C from here on prints one line)


def __getattr__(name: str) -> object:
    """The front door, imported on first use so ``import cnimodel`` (and the CLI's start) stays cheap:
    ``cnimodel.load``, ``cnimodel.example``, ``Network``, ``Table``, ``Error``, ``PlanError``, ``QuestionError``,
    ``EndpointError``."""
    if name in ("load", "example", "Network"):
        from cnimodel import api

        return getattr(api, name)
    if name == "Table":
        from cnimodel.table import Table

        return Table
    if name in ("Error", "PlanError", "QuestionError", "EndpointError"):
        from cnimodel.plan import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'cnimodel' has no attribute {name!r}")


__all__ = ["EndpointError", "Error", "Network", "PlanError", "QuestionError", "Table", "example", "load"]
