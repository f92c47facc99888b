"""The plan: typed, validated input. Loaders for every input format, and PlanError.

The errors are imported at once; the model and the loaders (YAML and their checks) on first use, so the CLI's
start and a command that never reads a plan do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnimodel.plan.errors import Origin, PlanError, Problem, Problems

if TYPE_CHECKING:
    from cnimodel.plan.loader import load_plan
    from cnimodel.plan.model import (
        ContainerPort,
        Inferred,
        KubeObject,
        Namespace,
        NetworkSpec,
        NodeSpec,
        NotRunning,
        Plan,
        Pod,
        PolicySpec,
        Underlay,
        UnderlaySubnet,
    )

_MODEL = ("ContainerPort", "Inferred", "KubeObject", "Namespace", "NetworkSpec", "NodeSpec", "NotRunning", "Plan",
          "Pod", "PolicySpec", "Underlay", "UnderlaySubnet")


def __getattr__(name: str) -> object:
    if name in _MODEL:
        from cnimodel.plan import model

        return getattr(model, name)
    if name == "load_plan":
        from cnimodel.plan.loader import load_plan

        return load_plan
    raise AttributeError(f"module 'cnimodel.plan' has no attribute {name!r}")


__all__ = [
    "ContainerPort", "Inferred", "KubeObject", "Namespace", "NetworkSpec", "NodeSpec", "NotRunning", "Origin", "Plan",
    "PlanError", "Pod", "PolicySpec", "Problem", "Problems", "Underlay", "UnderlaySubnet", "load_plan",
]
