"""The plugin interface and the entry-point registry (group ``cnimodel.plugins``).

A plugin models one plugin family. It is asked per node (a Windows node in a flannel cluster is really
win-bridge or win-overlay) and answers with facts; the core never branches on a plugin's name.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, ClassVar

from cnimodel.dataplane import NodeFacts, Route
from cnimodel.ipam.hostlocal import PodRange
from cnimodel.plan import NodeSpec, Plan, Problems

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

GROUP = "cnimodel.plugins"


class NetworkPlugin:
    """Base class for a network plugin family. Subclasses override what their plugin does differently.

    The constructor reads and checks the plugin's own settings (``plan.network.config`` / ``.cni``),
    reporting problems with their field paths.
    """

    name: ClassVar[str] = ""

    def __init__(self, plan: Plan, problems: Problems) -> None:
        self.plan = plan

    def node_cidrs(self, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
        """Each node's pod CIDR and who chose it. Default: kube-controller-manager (``--allocate-node-cidrs``)."""
        from cnimodel.ipam.engine import kube_node_cidrs

        return kube_node_cidrs(self.plan, problems)

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        """The address range this node's pods draw from, or None when the node has no pod network."""
        raise NotImplementedError

    def describe(self, node: NodeSpec) -> str:
        """A short phrase for people: what this plugin builds on this node."""
        return self.name

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        """Devices, routes, neighbours, FDB and HNS objects of one node."""
        raise NotImplementedError

    def underlay_routes(self, cluster: Cluster) -> tuple[Route, ...]:
        """Routes this plugin (or the cloud provider on its behalf) puts into the underlay's route table."""
        return ()


@cache
def available_plugins() -> dict[str, str]:
    """Plugin names found in the entry-point group, with the object each names."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def load_plugin(name: str) -> type[NetworkPlugin]:
    """The plugin class registered under ``name`` (KeyError when none is)."""
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, NetworkPlugin)):
                raise TypeError(f"entry point {ep.value} is not a NetworkPlugin subclass")
            return cls
    raise KeyError(name)
