"""kubenet: Linux pods on the cbr0 bridge with host-local addresses; pod routes in the cloud route table.

cloud-provider-azure's CreateRoute puts one route per node into the route table: name = node name,
AddressPrefix = the node's podCIDR, NextHopType VirtualAppliance, next hop = the node IP.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from cnimodel.cluster import Cluster
from cnimodel.dataplane import NodeFacts, Route
from cnimodel.encapsulation import NONE
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.plan import NodeSpec, Plan, Problems
from cnimodel.plugin import NetworkPlugin, NodeRoles, kube_proxy
from cnimodel.plugins import _linux

BRIDGE = "cbr0"
# Azure: routes per route table (subscription limits; the figure behind AKS kubenet's ~400-node ceiling).
# Unverified here; a plan can give its cloud's limit as network.config.routeTableLimit.
ROUTE_TABLE_LIMIT = 400


def check_route_table(plan: Plan, problems: Problems) -> None:
    """With cloud routes, one route per node must fit the route table: warn when the plan's nodes exceed it."""
    if plan.underlay.routes != "cloud" or plan.network is None:
        return
    limit = plan.network.config.get("routeTableLimit", ROUTE_TABLE_LIMIT)
    if isinstance(limit, int) and len(plan.nodes) > limit:
        problems.warn(plan.network.origin, f"{len(plan.nodes)} nodes need {len(plan.nodes)} routes in the cloud "
                      f"route table {plan.underlay.name}, over its limit of {limit}: the routes past it are not "
                      "created and those nodes' pods are unreachable",
                      "use fewer nodes per cluster, or a plugin without per-node routes (Azure CNI, overlay)")


def linux_facts(cluster: Cluster, node: NodeSpec, routes: list[Route]) -> NodeFacts:
    """A Linux node with the cbr0 bridge (gateway .1) and the given extra routes."""
    _, uplink, table = _linux.uplink(cluster.plan, node)
    devices = [uplink]
    cidr = cluster.allocation.nodes[node.name].pod_cidr
    if cidr is not None:
        bridge, connected = _linux.pod_bridge(BRIDGE, cidr, uplink.mtu, owner="kubenet")
        devices.append(bridge)
        table.append(connected)
    return NodeFacts(node.name, "linux", tuple(devices), tuple(table + routes))


def static_routes(cluster: Cluster, node: NodeSpec, dev: str | None) -> list[Route]:
    """With ``underlay.routes: host``, each node holds a route per remote pod CIDR via that node (added
    by the operator's scripts); with ``cloud`` the hosts hold none and the route table delivers."""
    if cluster.plan.underlay.routes != "host":
        return []
    return _linux.peer_routes(cluster, node, dev or node.ext_interface, "static")[0]


def cloud_routes(cluster: Cluster) -> tuple[Route, ...]:
    if cluster.plan.underlay.routes != "cloud":
        return ()
    return tuple(Route(a.pod_cidr, via=cluster.plan.node(n).ip, kind="pod-route", owner="cloud-provider",
                       next_hop_type="VirtualAppliance", name=n)
                 for n, a in cluster.allocation.nodes.items() if a.pod_cidr is not None)


class KubenetPlugin(NetworkPlugin):
    name = "kubenet"

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        for node in plan.nodes:
            if node.os == "windows":
                problems.error(node.at("os"), f"kubenet does not run on Windows (node {node.name!r})",
                               "use `plugin: win-bridge` for a hybrid cluster: its Linux nodes run kubenet")
        check_route_table(plan, problems)

    def roles(self, node: NodeSpec) -> NodeRoles:
        return NodeRoles("linux-bridge", NONE, kube_proxy(self.plan, node))

    def describe(self, node: NodeSpec) -> str:
        return "kubenet (cbr0 + host-local)"

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        return host_local_range(pod_cidr) if pod_cidr is not None else None

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        return linux_facts(cluster, node, static_routes(cluster, node, None))

    def underlay_routes(self, cluster: Cluster) -> tuple[Route, ...]:
        return cloud_routes(cluster)
