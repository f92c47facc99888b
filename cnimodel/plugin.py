"""The plugin interface and the entry-point registry (group ``cnimodel.plugins``).

A plugin models one plugin family. It is asked per node (a Windows node in a flannel cluster is really
win-bridge or win-overlay) and answers with facts; the core never branches on a plugin's name.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, ClassVar

from cnimodel.dataplane import Encap, NodeFacts, PolicyEnforcement, Route, Vtep, first_longest
from cnimodel.ipam.hostlocal import PodRange
from cnimodel.plan import NetworkSpec, NodeSpec, Plan, Problems
from cnimodel.sources import ConfigKey, Daemon

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

GROUP = "cnimodel.plugins"


class NetworkPlugin:
    """Base class for a network plugin family. Subclasses override what their plugin does differently.

    The constructor reads and checks the plugin's own settings (``plan.network.config`` / ``.cni``),
    reporting problems with their field paths.
    """

    name: ClassVar[str] = ""
    # Where the plugin's settings live in the manifests people install (cnimodel.sources, read by
    # cnimodel.discover): ConfigMap keys holding its config files, and its daemon's data-plane flags.
    config_keys: ClassVar[tuple[ConfigKey, ...]] = ()
    daemon: ClassVar[Daemon | None] = None

    def __init__(self, plan: Plan, problems: Problems) -> None:
        self.plan = plan

    @classmethod
    def settle(cls, network: NetworkSpec, problems: Problems) -> NetworkSpec:
        """The network spec once cnimodel.discover has read the daemon's flags into ``network.args``: a plugin
        maps flags that have a plan field of their own onto it (flanneld ``--kube-subnet-mgr`` →
        ``subnet_manager``) and warns about flags it does not model. Default: the spec as it is."""
        return network

    @classmethod
    def stated_cluster_cidr(cls, network: NetworkSpec) -> tuple[str, str] | None:
        """The pod range the plugin's own settings state, with the field that states it (flannel: net-conf.json
        ``Network``): cnimodel.infer takes it as the cluster CIDR of a plan read from a dump. Default: None."""
        return None

    def needs_cluster_cidr(self) -> bool:
        """Whether the plan must give ``spec.clusterCIDR`` (not when pods live in the underlay's subnets)."""
        return True

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

    def prepare(self, cluster: Cluster) -> None:
        """Called once by ``Cluster.build`` after allocation: build what many nodes' facts share, when that is
        cheap enough to pay at load (default: nothing)."""

    # A node's facts hold an entry per peer (5,000 at scale); one packet needs one of them. A plugin that can
    # answer for one destination overrides these three together; the defaults use the full facts.
    def local_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts | None:
        """``node_facts`` without the per-peer entries ``peer_route``/``peer_encap`` answer for (routes to each
        peer, neighbours, FDB, Encaps, notes about peers); everything else identical. Per-peer routes must
        follow all others in the full table. None (the default): the plugin cannot leave them out."""
        return None

    def peer_route(self, cluster: Cluster, node: NodeSpec, dst: IPv4Address) -> Route | None:
        """Among the routes ``local_facts`` leaves out, the first with the longest prefix holding ``dst``."""
        return None

    def peer_encap(self, cluster: Cluster, node: NodeSpec, dst: IPv4Address) -> Encap | None:
        """The node's Encap fact with the longest prefix holding ``dst`` (the first of equal ones). Default: a
        scan of the full facts."""
        return first_longest(cluster.facts(node.name).encaps, dst)

    def vtep(self, name: str) -> Vtep | None:
        """The node's VXLAN endpoint, cheaply (no facts built); None where the node has no overlay."""
        return None

    def pod_add_failure(self, node: NodeSpec) -> str | None:
        """Why this plugin fails every pod's CNI ADD on the node (a config the plugin refuses, a network it
        cannot find), or None when ADDs succeed. Such a node's pods (hostNetwork ones aside) get no address
        and never run; every engine reads that from the allocation. Cheap: no facts are built."""
        return None

    def max_pods(self, node: NodeSpec) -> int:
        """How many pods the node may hold under this plugin (default: the node's ``maxPods``)."""
        return node.max_pods

    def max_nodes(self) -> int | None:
        """How many nodes the plan's address space holds, when the plugin knows better than the cluster
        CIDR at the node mask (a VNet subnet of 1 + maxPods addresses per node); None: use that."""
        return None

    def policy_enforcement(self, node: NodeSpec) -> PolicyEnforcement:
        """Whether this plugin alone enforces NetworkPolicy on the node (cheap: no facts are built)."""
        return PolicyEnforcement(False, reason=f"{self.describe(node)} enforces no NetworkPolicy and the plan "
                                 "has no policy plugin")


class PolicyPlugin:
    """Base class for a policy-only plugin layered on a network plugin (Calico in canal / policy-only mode).

    The network plugin still allocates and routes; the policy plugin says whether and how each node
    enforces policy, and may add facts (HNS ACLs, iptables chains) to a node's facts.
    """

    name: ClassVar[str] = ""
    daemon: ClassVar[Daemon | None] = None  # its daemon; ``Daemon.env`` settings fill ``policy.config``

    def __init__(self, plan: Plan, problems: Problems, network: NetworkPlugin) -> None:
        self.plan = plan
        self.network = network

    def policy_enforcement(self, node: NodeSpec) -> PolicyEnforcement:
        raise NotImplementedError

    def enforcement(self, cluster: Cluster, node: NodeSpec) -> PolicyEnforcement:
        """The enforcement fact when the answer depends on what the network plugin built on the node (an
        HNS network name a policy agent must match); default: ``policy_enforcement(node)``."""
        return self.policy_enforcement(node)

    def ipam(self) -> NetworkPlugin | None:
        """An IPAM that replaces the network plugin's (its ``node_cidrs``/``pod_range``/``max_pods`` are used
        for allocation), e.g. Calico IPAM blocks; None keeps the network plugin's IPAM."""
        return None

    def underlay_routes(self, cluster: Cluster) -> tuple[Route, ...]:
        """Routes this plugin adds to the underlay's table (e.g. blocks its own IPAM hands out)."""
        return ()

    def node_facts(self, cluster: Cluster, node: NodeSpec, facts: NodeFacts) -> NodeFacts:
        """The node's facts with this plugin's additions (default: only the enforcement fact)."""
        from dataclasses import replace

        return replace(facts, policy=self.policy_enforcement(node))


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
