"""What every overlay node holds about its peers, built once and shared per OS, and the fast path over it
(cnimodel.plugin.fastpath): one node's answer for one destination without building its thousands of per-peer
entries. Linux nodes share flannel.<VNI>'s peer entries (flannel_vxlan); Windows nodes share the remote leases
flanneld for Windows turns into RemoteSubnetRoute policies (below). flannel's vxlan backend and win-overlay
both answer through ``OverlayFastPath``."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network
from socket import inet_ntoa
from types import MappingProxyType

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Encap, HnsPolicy, NodeFacts, Route, Vtep
from cnimodel.net import PrefixTable
from cnimodel.plan import NodeSpec
from cnimodel.plugins import flannel_vxlan
from cnimodel.plugins.flannel_vxlan import VtepOf

WINDOWS_MIN_VNI = 4096  # flanneld for Windows: defaultVNI, and the least VNI it accepts (and keeps leases of)
# A node's facts without their per-peer entries (``peers=False`` of linux_facts / overlay_facts).
LocalFacts = Callable[[Cluster, NodeSpec], NodeFacts]


def remote_subnet_route(peer_cidr: IPv4Network, pv: Vtep) -> HnsPolicy:
    """flanneld's RemoteSubnetRoute for a remote lease (all four keys, the DR MAC as Go prints it)."""
    # One per remote lease (5,000 at scale), so built directly: the settings are strings and an int, already
    # immutable, and a read-only view of them is what policy()'s generic freeze makes; inet_ntoa prints an
    # IPv4 address as str() does, five times faster.
    return HnsPolicy("RemoteSubnetRoute", MappingProxyType({
        "DestinationPrefix": f"{inet_ntoa(peer_cidr.network_address.packed)}/{peer_cidr.prefixlen}",
        "IsolationId": pv.vni, "ProviderAddress": inet_ntoa(pv.local.packed), "DistributedRouterMacAddress": pv.mac}))


Lease = tuple[NodeSpec, Vtep, IPv4Network, HnsPolicy]


def remote_leases(cluster: Cluster, vtep_of: VtepOf, owner: str) -> tuple[list[Lease], list[str], list[str]]:
    """Every remote lease as Windows flanneld sees it (built once, shared by all Windows nodes): the
    RemoteSubnetRoute of each usable one, the nodes whose lease it ignores (VNI < 4096), the nodes with none."""
    def build() -> tuple[list[Lease], list[str], list[str]]:
        usable: list[Lease] = []
        ignored: list[str] = []
        down: list[str] = []
        for name, a in cluster.allocation.nodes.items():
            if a.pod_cidr is None:
                continue
            pv = vtep_of(name)
            if pv is None or not pv.up:
                down.append(name)
            elif pv.vni < WINDOWS_MIN_VNI:
                ignored.append(name)
            else:
                usable.append((cluster.plan.node(name), pv, a.pod_cidr, remote_subnet_route(a.pod_cidr, pv)))
        return usable, ignored, down

    return cluster.memo(("remote-subnet-routes", owner), build)


def lease_index(cluster: Cluster, vtep_of: VtepOf, owner: str) -> PrefixTable[list[int]]:
    return cluster.memo(("remote-subnet-index", owner), lambda: flannel_vxlan.prefix_index(
        u[2] for u in remote_leases(cluster, vtep_of, owner)[0]))


def prepare_windows(cluster: Cluster, vtep_of: VtepOf) -> None:
    """Build the remote leases the Windows nodes share, once, while the cluster is built: work that would
    otherwise fall on the first Windows node asked (tools/bench_foundation.py)."""
    owners = {v.owner for n in cluster.plan.nodes if n.os == "windows" and (v := vtep_of(n.name)) and v.up}
    for owner in sorted(owners):
        lease_index(cluster, vtep_of, owner)
        remote_policies(cluster, remote_leases(cluster, vtep_of, owner)[0], owner, "")


def windows_peer_encap(cluster: Cluster, node: NodeSpec, vtep_of: VtepOf, dst: IPv4Address) -> Encap | None:
    """The Encap fact ``overlay_facts`` holds for ``dst`` (the first with the longest prefix holding it),
    without building the node's others."""
    me = vtep_of(node.name)
    if me is None or not me.up or cluster.allocation.nodes[node.name].pod_cidr is None:
        return None
    usable = remote_leases(cluster, vtep_of, me.owner)[0]
    for i in flannel_vxlan.candidates(lease_index(cluster, vtep_of, me.owner), dst):
        peer, pv, peer_cidr, _ = usable[i]
        if peer.name != node.name:
            hop = peer.ip if peer.subnet == node.subnet else cluster.plan.underlay.subnet(node.subnet).gateway
            return Encap(me, pv, peer_cidr, hop, pv.vni)
    return None


def remote_policies(cluster: Cluster, usable: list[Lease], owner: str, name: str) -> list[HnsPolicy]:
    """Every usable lease's RemoteSubnetRoute but node ``name``'s, by slicing one shared list."""
    shared, at = cluster.memo(("remote-subnet-policies", owner), lambda: (
        [u[3] for u in usable], {u[0].name: i for i, u in enumerate(usable)}))
    i = at.get(name)
    return shared if i is None else shared[:i] + shared[i + 1:]


class OverlayFastPath:
    """The fast path of a VXLAN overlay: Linux nodes answer from flannel.<VNI>'s shared peer entries, Windows
    nodes from the shared remote leases; ``linux``/``windows`` build a node's facts without its per-peer
    entries, as the plugin builds them whole."""

    def __init__(self, vtep_of: VtepOf, linux: LocalFacts, windows: LocalFacts) -> None:
        self.vtep_of = vtep_of
        self.linux = linux
        self.windows = windows

    def prepare(self, cluster: Cluster) -> None:
        flannel_vxlan.prepare(cluster, self.vtep_of)
        prepare_windows(cluster, self.vtep_of)

    def endpoint(self, node: NodeSpec) -> Vtep | None:
        return self.vtep_of(node.name)

    def local_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts | None:
        return self.windows(cluster, node) if node.os == "windows" else self.linux(cluster, node)

    def peer_route(self, cluster: Cluster, node: NodeSpec, dst: IPv4Address) -> Route | None:
        if node.os == "windows":  # routed by the Overlay network's RemoteSubnetRoutes, not host routes
            return None
        return flannel_vxlan.linux_peer(cluster, node, self.vtep_of, dst, encap=False)  # type: ignore[return-value]

    def peer_encap(self, cluster: Cluster, node: NodeSpec, dst: IPv4Address) -> Encap | None:
        if node.os == "windows":
            return windows_peer_encap(cluster, node, self.vtep_of, dst)
        return flannel_vxlan.linux_peer(cluster, node, self.vtep_of, dst, encap=True)  # type: ignore[return-value]


__all__ = ["WINDOWS_MIN_VNI", "OverlayFastPath", "lease_index", "prepare_windows", "remote_leases", "remote_policies",
           "remote_subnet_route", "windows_peer_encap"]
