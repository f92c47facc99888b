"""The plan: typed, validated input. Loaders for every input format, and PlanError."""

from cnimodel.plan.errors import Origin, PlanError, Problem, Problems
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

__all__ = [
    "ContainerPort", "Inferred", "KubeObject", "Namespace", "NetworkSpec", "NodeSpec", "NotRunning", "Origin", "Plan",
    "PlanError", "Pod", "PolicySpec", "Problem", "Problems", "Underlay", "UnderlaySubnet", "load_plan",
]
