"""Azure VNet addressing for Azure CNI in node-subnet mode: reserved addresses, subnet sizing, and each
node's secondary IP configurations.

Azure keeps five addresses of every subnet: the network address, .1 (the default gateway), .2 and .3
(Azure DNS) and the broadcast address (AKS IP planning docs, doc-only). A node's NIC holds its primary IP
(kept for the host) plus ``maxPods`` secondary IPs that azure-vnet-ipam hands to pods.

Which free addresses the platform gives a NIC, and which of them the plugin hands to a pod, is not
ordered (azure-vnet-ipam walks a Go map). The model is deterministic instead: nodes claim their secondary
IPs in plan order, each the lowest free addresses of its subnet (skipping every node's primary IP), so a
plan with nodes at .4, .35, .66 … at maxPods 30 gets .5–.34, .36–.65 … as AKS clusters usually show; pods
then take the lowest free secondary IP of their node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from cnimodel.net import host

RESERVED_PER_SUBNET = 5
SMALLEST_SUBNET = 29  # Azure's smallest subnet
CHOICE_NOTE = ("Azure CNI hands a pod any free secondary IP of its node (azure-vnet-ipam iterates a Go map); "
               "the model takes the lowest free one, and gives nodes their secondary IPs lowest-first in plan "
               "order")


def azure_reserved(subnet: IPv4Network) -> tuple[tuple[IPv4Address, str], ...]:
    """The five addresses Azure keeps in ``subnet``, each with its reason."""
    return ((host(subnet, 0), "network address (Azure reserved)"),
            (host(subnet, 1), "default gateway (Azure reserved)"),
            (host(subnet, 2), "Azure DNS (Azure reserved)"),
            (host(subnet, 3), "Azure DNS (Azure reserved)"),
            (host(subnet, -1), "broadcast address (Azure reserved)"))


def usable(prefixlen: int) -> int:
    """Addresses a VNet subnet of this length offers to NICs: 2^(32-p) - 5 (a /21 offers 2,043)."""
    return max(0, (1 << (32 - prefixlen)) - RESERVED_PER_SUBNET)


def addresses_needed(max_pods: Iterable[int], surge: int, surge_max_pods: int) -> int:
    """AKS's sizing rule: every node (and every surge node of an upgrade) takes 1 + maxPods addresses.

    With one maxPods for all it is (nodes + surge) × (1 + maxPods): 50 nodes + 1 at 30 → 1,581.
    """
    return sum(1 + m for m in max_pods) + surge * (1 + surge_max_pods)


def smallest_prefix(needed: int) -> int | None:
    """The longest prefix (smallest subnet) whose usable addresses hold ``needed``; None past a /8."""
    for p in range(SMALLEST_SUBNET, 7, -1):
        if usable(p) >= needed:
            return p
    return None


@dataclass(frozen=True)
class NodeIps:
    """A node's secondary IP configurations: ``start``..``end`` minus ``skipped`` (other nodes' primary IPs
    lying in between), ``count`` addresses in all (fewer than asked when the subnet ran out)."""

    node: str
    start: IPv4Address | None
    end: IPv4Address | None
    count: int
    skipped: tuple[tuple[IPv4Address, str], ...] = ()


def assign_secondaries(subnet: IPv4Network, wants: list[tuple[str, int]],
                       primaries: dict[int, str]) -> dict[str, NodeIps]:
    """Give each node (in order) its wanted number of secondary IPs, lowest free first.

    ``primaries`` maps every node primary IP of the subnet (as int) to its node's name; those and Azure's
    five are never handed out. One pass over the addresses: 5,000 nodes × 31 is 155,000 steps.
    """
    cursor = int(subnet.network_address) + 4
    last = int(subnet.broadcast_address) - 1
    out: dict[str, NodeIps] = {}
    for name, count in wants:
        first = end = None
        got = 0
        skipped: list[tuple[IPv4Address, str]] = []
        while got < count and cursor <= last:
            owner = primaries.get(cursor)
            if owner is not None:
                if first is not None:
                    skipped.append((IPv4Address(cursor), f"primary IP of node {owner}"))
            else:
                if first is None:
                    first = cursor
                end = cursor
                got += 1
            cursor += 1
        out[name] = NodeIps(name, IPv4Address(first) if first is not None else None,
                            IPv4Address(end) if end is not None else None, got, tuple(skipped))
    return out
