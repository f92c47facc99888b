"""The plugin base classes. A plugin models one plugin family; it is asked per node (a Windows node in a flannel
cluster is really win-bridge or win-overlay) and answers with facts and roles; the core never branches on a
plugin's name. docs/plugins.md walks through writing one.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, ClassVar, Literal

from cnimodel.dataplane import NodeFacts, PolicyEnforcement, Route
from cnimodel.ipam.hostlocal import PodRange
from cnimodel.plan import NetworkSpec, NodeSpec, Plan, Problems
from cnimodel.plugin.ipam import Addressing
from cnimodel.plugin.roles import NodeRoles
from cnimodel.sources import ConfigKey, Daemon

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.graph.contrib import GraphContribution
    from cnimodel.plugin.fastpath import FastPath
    from cnimodel.plugin.findings import PluginCheck, PluginFinding
    from cnimodel.plugin.listing import Listing
    from cnimodel.plugin.services import PluginServices


class NetworkPlugin:
    """Base class for a network plugin family. A subclass must give ``roles``, ``pod_range`` and ``node_facts``;
    the rest has defaults.

    The constructor reads and checks the plugin's own settings (``plan.network.config`` / ``.cni``),
    reporting problems with their field paths.
    """

    name: ClassVar[str] = ""
    # Where the plugin's settings live in the manifests people install (cnimodel.sources, read by
    # cnimodel.discover): ConfigMap keys holding its config files, and its daemon's data-plane flags.
    config_keys: ClassVar[tuple[ConfigKey, ...]] = ()
    daemon: ClassVar[Daemon | None] = None
    # Whether the plan must give spec.clusterCIDR: "always" is checked before the plugin is built (so its
    # constructor may rely on it); "ask" lets the built plugin answer from its config (``needs_cluster_cidr``).
    cluster_cidr: ClassVar[Literal["always", "ask"]] = "always"

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

    # --- roles ------------------------------------------------------------------------------------

    def roles(self, node: NodeSpec) -> NodeRoles:
        """What the plugin does on this node: forwarding model, encapsulation kind, who implements Services
        (``cnimodel.plugin.roles``). Cheap: no facts are built."""
        raise NotImplementedError

    def policy_enforcement(self, node: NodeSpec) -> PolicyEnforcement:
        """Whether this plugin alone enforces NetworkPolicy on the node (cheap: no facts are built)."""
        return PolicyEnforcement(False, reason=f"{self.describe(node)} enforces no NetworkPolicy and the plan "
                                 "has no policy plugin")

    def describe(self, node: NodeSpec) -> str:
        """A short phrase for people: what this plugin builds on this node."""
        return self.name

    # --- addressing (the Addressing protocol; a plugin with a separate IPAM returns it from addressing()) ----

    def addressing(self) -> Addressing:
        """The IPAM of this plugin: by default the plugin itself (the four methods below)."""
        return self

    def needs_cluster_cidr(self) -> bool:
        """With ``cluster_cidr = "ask"``: whether the plan must give ``spec.clusterCIDR`` as configured (not when
        pods live in the underlay's subnets)."""
        return True

    def node_cidrs(self, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
        """Each node's pod CIDR and who chose it. Default: kube-controller-manager (``--allocate-node-cidrs``)."""
        from cnimodel.ipam.engine import kube_node_cidrs

        return kube_node_cidrs(self.plan, problems)

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        """The address range this node's pods draw from, or None when the node has no pod network."""
        raise NotImplementedError

    def max_pods(self, node: NodeSpec) -> int:
        """How many pods the node may hold under this plugin (default: the node's ``maxPods``)."""
        return node.max_pods

    def max_nodes(self) -> int | None:
        """How many nodes the plan's address space holds, when the plugin knows better than the cluster
        CIDR at the node mask (a VNet subnet of 1 + maxPods addresses per node); None: use that."""
        return None

    def pod_add_failure(self, node: NodeSpec) -> str | None:
        """Why this plugin fails every pod's CNI ADD on the node (a config the plugin refuses, a network it
        cannot find), or None when ADDs succeed. Such a node's pods (hostNetwork ones aside) get no address
        and never run; every engine reads that from the allocation. Cheap: no facts are built."""
        return None

    # --- facts ------------------------------------------------------------------------------------

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        """Devices, routes, neighbours, FDB, tunnel endpoints and hops, NAT and HNS objects of one node."""
        raise NotImplementedError

    def underlay_routes(self, cluster: Cluster) -> tuple[Route, ...]:
        """Routes this plugin (or the cloud provider on its behalf) puts into the underlay's route table."""
        return ()

    def fast_path(self) -> FastPath | None:
        """The optional speed capability (``cnimodel.plugin.fastpath``): cheap answers for one node and one
        destination. None (the default): the core computes every answer from ``node_facts``."""
        return None

    def graph_contribution(self) -> GraphContribution | None:
        """The plugin's own part of the forwarding graph (``cnimodel.graph.contrib``): vertices of its own kinds
        (logical switches and routers …) and the decisions made there. None (the default): the core's vertices
        — bridges, vSwitch ports, route tables, tunnels, kube-proxy's load balancers — describe the node."""
        return None

    def listings(self, cluster: Cluster, node: str) -> tuple[Listing, ...]:
        """Tables of the node's data plane the plugin keeps outside the host's route table, as its own tool prints
        them (``cnimodel.plugin.listing``): ``routes`` shows them beside the node's routes (ovn-kubernetes: its
        logical routers' routes and policies). Default: none."""
        return ()

    def checks(self) -> tuple[PluginCheck, ...]:
        """The checks this plugin contributes to ``cnimodel check`` (``cnimodel.plugin.findings``). Default: none."""
        return ()

    def findings(self, cluster: Cluster, external: tuple[IPv4Network, ...] = ()) -> Iterable[PluginFinding]:
        """What the plugin's checks find on the built cluster (``external``: ranges the operator says the cluster
        must not overlap, ``check --external``)."""
        return ()

    def services(self) -> PluginServices | None:
        """The plugin's own Services implementation (``cnimodel.plugin.services``) on nodes whose Services role is
        ``ServiceRole("plugin")``: its load-balancer tables for ``lb`` and its decisions for trace. None (the
        default): such nodes' Services are reported as not modelled."""
        return None


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

    def ipam(self) -> Addressing | None:
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


__all__ = ["NetworkPlugin", "PolicyPlugin"]
