"""Per-node addressing as ovnkube's cluster manager hands it out: host subnets, node IDs, join and transit IPs.

Host subnets come from ``cluster-subnets`` through the subnet allocator (pkg/clustermanager/node/
subnet_allocator.go:265-421): per range, subnet numbers in order from 0, with the bits of a host prefix that
is not on an octet boundary rotated so that subnets sharing the split octet come last. Nodes the
``no-hostsubnet-nodes`` selector matches (the Windows nodes of a hybrid cluster) get theirs from
``[hybridoverlay] cluster-subnets`` instead (node_allocator.go:141-196). Node IDs start at 2 (0 and 1 are
reserved, zone_cluster_controller.go:51-58) and pick each node's gateway-router join address and transit-switch
address (IPGenerator, pkg/generator/ip/ip_generator.go:36-42). The real order follows node events; the model
takes plan order, and a node annotated with ``k8s.ovn.org/node-subnets`` (or given ``podCIDR``) keeps its subnet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from cnimodel.plugins.ovn_kubernetes.config import SubnetEntry

NODE_SUBNETS = "k8s.ovn.org/node-subnets"
NODE_ID = "k8s.ovn.org/node-id"
HYBRID_NODE_SUBNET = "k8s.ovn.org/hybrid-overlay-node-subnet"
FIRST_NODE_ID = 2


class SubnetRange:
    """``subnetAllocatorRange`` for one IPv4 range: subnets numbered 0… with the octet-alignment rotation."""

    def __init__(self, entry: SubnetEntry) -> None:
        self.entry = entry
        self.host_bits = 32 - entry.host_len
        self.subnet_bits = entry.host_len - entry.cidr.prefixlen
        self.count = 1 << min(self.subnet_bits, 24)  # subnet_allocator.go:377-384 caps the walk at 1<<24
        self.left_shift = self.left_mask = self.right_shift = self.right_mask = 0
        hb, sb = self.host_bits, self.subnet_bits
        if hb % 8 and (hb - 1) // 8 != (hb + sb - 1) // 8:  # subnet_allocator.go:298-309
            self.left_shift = 8 - hb % 8
            self.left_mask = (1 << sb) - 1
            self.right_shift = sb - self.left_shift
            self.right_mask = (1 << self.left_shift) - 1
        self.next = 0
        self.used: set[IPv4Network] = set()

    def nth(self, n: int) -> IPv4Network:
        """The subnet the allocator produces for number ``n`` (before checking whether it is taken)."""
        base = n
        if self.left_shift:
            base = ((base << self.left_shift) & self.left_mask) | ((base >> self.right_shift) & self.right_mask)
        # genIP |= base << (hostBits % 8), written from the byte holding the host/subnet boundary upwards
        value = int(self.entry.cidr.network_address) | ((base << (self.host_bits % 8)) << (8 * (self.host_bits // 8)))
        return IPv4Network((value, self.entry.host_len))

    def allocate(self) -> IPv4Network | None:
        for i in range(self.count):
            n = (i + self.next) % self.count
            net = self.nth(n)
            if net not in self.used:
                self.used.add(net)
                self.next = n + 1
                return net
        self.next = 0
        return None

    def owns(self, net: IPv4Network) -> bool:
        return net.subnet_of(self.entry.cidr)


class SubnetAllocator:
    """``BaseSubnetAllocator``: ranges in configuration order, each tried until one has a free subnet."""

    def __init__(self, entries: Iterable[SubnetEntry]) -> None:
        self.ranges = [SubnetRange(e) for e in entries]

    def mark(self, net: IPv4Network) -> bool:
        """Mark an existing (annotated) subnet as taken; False when no range holds it."""
        for r in self.ranges:
            if r.owns(net):
                r.used.add(net)
                return True
        return False

    def allocate(self) -> IPv4Network | None:
        for r in self.ranges:
            net = r.allocate()
            if net is not None:
                return net
        return None

    def capacity(self) -> int:
        return sum(r.count for r in self.ranges)


def annotated_subnet(annotations: dict[str, str] | object, network: str = "default") -> IPv4Network | str | None:
    """The node's ``k8s.ovn.org/node-subnets`` entry for ``network`` (pkg/util/subnet_annotations.go:97-136 reads
    ``{"default": ["10.244.0.0/24"]}`` or the single-stack ``{"default": "10.244.0.0/24"}``): the IPv4 subnet,
    None when absent, or an error text."""
    text = annotations.get(NODE_SUBNETS) if hasattr(annotations, "get") else None  # type: ignore[union-attr]
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError as e:
        return f"{NODE_SUBNETS} is not JSON ({e})"
    value = data.get(network) if isinstance(data, dict) else None
    values = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    for v in values:
        if isinstance(v, str) and ":" not in v:
            try:
                return IPv4Network(v)
            except ValueError:
                return f"{NODE_SUBNETS} holds {v!r}, not a subnet"
    return f"{NODE_SUBNETS} has no IPv4 subnet for network {network!r}"


@dataclass(frozen=True)
class NodeIds:
    """A node's cluster-manager ID and the addresses derived from it."""

    node_id: int
    join_ip: IPv4Address      # its gateway router's port on the join switch
    transit_ip: IPv4Address   # its cluster-router port on the transit switch (interconnect)


def generate_ip(subnet: IPv4Network, index: int) -> IPv4Address | None:
    """IPGenerator.GenerateIP: the subnet's base address plus ``index``; None when it falls outside."""
    ip = subnet.network_address + index
    return ip if ip in subnet else None
