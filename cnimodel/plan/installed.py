"""What the plan asks of the installed plugins, handed in by the layer that knows them.

The plan layer imports no plugin code: a front door that loads a plan for a cluster passes ``Installed``
(``cnimodel.plugin.installed()`` builds it from the entry-point registry) so that an unknown plugin name is
reported with the plan's other problems and workloads' pods are placed by the plugin's pod capacity (Azure CNI's
default is 30 or 250 where a node gives no maxPods). Without it, names are checked when the cluster is built and
pods are placed by each node's own maxPods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnimodel.plan.model import NodeSpec, Plan


@dataclass(frozen=True)
class Installed:
    """``has(name)``: whether a plugin of that name is installed (cheap: loads no plugin);
    ``names(kind)``: the installed plugins of a kind ("network" or "policy"), for the hint of an unknown name;
    ``max_pods(plan)``: each node's pod limit under the plan's network plugin, or None to use the nodes' own."""

    has: Callable[[str], bool]
    names: Callable[[str], Sequence[str]]
    max_pods: Callable[[Plan], Callable[[NodeSpec], int] | None]


__all__ = ["Installed"]
