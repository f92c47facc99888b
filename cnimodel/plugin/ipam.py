"""The addressing role: who gives each node its pod CIDR and each pod its address.

A network plugin is its own IPAM by default (``NetworkPlugin`` implements this protocol: kube-controller-manager
CIDRs, the node's maxPods); a policy plugin may replace it (``PolicyPlugin.ipam``: Calico IPAM blocks), and a
plugin whose IPAM is a separate piece returns that piece from ``NetworkPlugin.addressing``.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Protocol, runtime_checkable

from cnimodel.ipam.hostlocal import PodRange
from cnimodel.plan import NodeSpec, Problems


@runtime_checkable
class Addressing(Protocol):
    """What the allocation engine (``cnimodel.ipam.allocate``) asks of an IPAM."""

    def node_cidrs(self, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
        """Each node's pod CIDR and who chose it (``kube-controller-manager``, ``flannel-etcd``, the IPAM's name)."""
        ...

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        """The range the node's pods draw from, with every reserved address named; None: no pod network."""
        ...

    def max_pods(self, node: NodeSpec) -> int:
        """How many pods the node may hold."""
        ...

    def max_nodes(self) -> int | None:
        """How many nodes the address space holds when the IPAM knows better than the cluster CIDR at the node
        mask; None: that figure."""
        ...


__all__ = ["Addressing"]
