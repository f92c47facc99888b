"""Azure CNI addressing: VNet subnets (node-subnet mode: reserved addresses, sizing, each node's secondary IP
configurations; pod-subnet mode: each node's CNS pool), and the overlay /24 as CNS hands it out.

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

import math
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from cnimodel.ipam import PodRange
from cnimodel.net import host

RESERVED_PER_SUBNET = 5
SMALLEST_SUBNET = 29  # Azure's smallest subnet
# CNS pool scaling (Azure/azure-container-networking@cbd7560: cns/ipampool/v2/monitor.go:178-180, with the
# batch 16 and minimum-free fraction 0.5 that docs/feature/ipammath/0-background.md calls typical; the batch and
# fraction come from DNC-RC through the NodeNetworkConfig); a pool never exceeds 250 (monitor.go:18).
SWIFT_BATCH, SWIFT_BUFFER, SWIFT_MAX = 16, 0.5, 250
LINUX_OVERLAY_GATEWAY = IPv4Address("169.254.1.1")  # cni/network/network_linux.go:133 getOverlayGateway
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


def swift_pool(demand: int, max_pods: int) -> int:
    """The secondary IPs CNS asks for in pod-subnet mode: batch × ⌈buffer + demand / batch⌉, at most the
    node's maxPods (and 250). 25 pods → 16 × ⌈0.5 + 1.5625⌉ = 48; no pod → 16."""
    target = SWIFT_BATCH * math.ceil(SWIFT_BUFFER + demand / SWIFT_BATCH)  # 0.5 + d/16: exact in binary
    return min(target, max_pods, SWIFT_MAX)


def overlay_range(block: IPv4Network, os: str) -> PodRange:
    """The addresses CNS hands pods from a node's overlay block.

    Linux: every address of the block is a secondary IP (cns/kubecontroller/nodenetworkconfig/
    conversion_linux.go:24-30) and the pods' gateway is 169.254.1.1 (the overlay NC has no gateway;
    cni/network/invoker_cns.go:463-473). Windows: .1 becomes the gateway and the last address is dropped
    (conversion_windows.go:22-29, 69), so pods take .2 to .254.
    """
    if os == "linux":
        return PodRange(block, LINUX_OVERLAY_GATEWAY, block.network_address, block.broadcast_address, (),
                        "azure-cns", OVERLAY_LINUX_NOTE)
    reserved = ((host(block, 0), "network address (CNS starts at .1)"),
                (host(block, 1), "overlay gateway (CNS on Windows keeps .1 when the NC names none)"),
                (host(block, -1), "last address (CNS on Windows drops it)"))
    return PodRange(block, host(block, 1), host(block, 2), host(block, -2), reserved, "azure-cns",
                    OVERLAY_WINDOWS_NOTE)


OVERLAY_LINUX_NOTE = ("overlay, Linux: CNS hands out every address of the node's /24, .0 and .255 included, in no "
                      "order; the model takes the lowest free one")
OVERLAY_WINDOWS_NOTE = ("overlay, Windows: CNS hands out .2 to .254 of the node's /24 in no order; the model takes "
                        "the lowest free one")
SWIFT_NOTE = ("pod subnet: DNC-RC gives each node's CNS individual addresses of the pod subnet in no order; the "
              "model gives nodes theirs lowest-first in plan order (the NC's primary IP first, then the pool "
              "CNS asks for: 16 × ⌈0.5 + pods/16⌉, at most maxPods) and pods the lowest free one")
