"""Calico IPAM (calico-ipam): IP pools carved into blocks, blocks claimed by nodes (block affinity), pod IPs
handed out in ascending order inside a node's blocks.

Block choice in Calico is pseudo-random (a hostname-seeded random start, then a walk with wrap-around). The
model is deterministic: nodes in plan order claim the lowest free blocks of the first enabled pool that
has room, as many consecutive blocks as their planned pods need (at least one: the block is claimed when
the node's first workload or tunnel address is assigned). On Windows, strict affinity is forced and every
block keeps its first three and its last address out of use (``windows-reserved-ipam-handle``); with
``windows_use_single_network`` (the default here) a Windows node holds exactly one block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from math import ceil
from typing import Any

from cnimodel.ipam import PodRange
from cnimodel.net import host
from cnimodel.plan import NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import Fields, thaw
from cnimodel.plugin import NetworkPlugin

DEFAULT_BLOCK_SIZE = 26
DEFAULT_MAX_BLOCKS_PER_HOST = 20
WINDOWS_RESERVED_START, WINDOWS_RESERVED_END = 3, 1
CHOICE_NOTE = ("Calico picks a node's blocks pseudo-randomly (hostname-seeded) and may borrow from other nodes' "
               "blocks without strict affinity; the model claims the lowest free blocks in plan order and "
               "never borrows")


@dataclass(frozen=True)
class IPPool:
    """An IPPool's fields that matter to allocation (projectcalico.org/v3 names)."""

    name: str
    cidr: IPv4Network
    block_size: int = DEFAULT_BLOCK_SIZE
    nat_outgoing: bool = False
    disabled: bool = False
    vxlan_mode: str = "Never"
    origin: Origin = Origin("<plan>")

    @property
    def blocks(self) -> int:
        return 1 << (self.block_size - self.cidr.prefixlen)

    def block(self, i: int) -> IPv4Network:
        return IPv4Network((int(self.cidr.network_address) + (i << (32 - self.block_size)), self.block_size))


@dataclass(frozen=True)
class IpamConfig:
    strict_affinity: bool = False
    max_blocks_per_host: int = DEFAULT_MAX_BLOCKS_PER_HOST
    windows_single_network: bool = True


def read_pools(plan: Plan, cfg: Fields, problems: Problems) -> list[IPPool]:
    """Pools from ``policy.config.ipPools`` (IPPool specs) and IPPool objects in the plan; with none, the
    default pool calico-node creates over the cluster CIDR (block /26, natOutgoing)."""
    raw: list[tuple[str, Any, Origin]] = []
    for i, item in enumerate(cfg.list("ipPools")):
        spec = item.get("spec", item) if isinstance(item, Mapping) else item
        name = str(item.get("name", f"pool-{i}")) if isinstance(item, Mapping) else f"pool-{i}"
        raw.append((name, spec, cfg.origin.at(f"ipPools[{i}]" + (".spec" if spec is not item else ""))))
    for obj in plan.objects_of("IPPool"):
        raw.append((obj.name, thaw(obj.body.get("spec")), obj.origin.at("spec")))
    pools = []
    for name, spec, origin in raw:
        f = Fields(spec, origin, problems)
        cidr = f.cidr("cidr")
        size = f.int("blockSize", default=DEFAULT_BLOCK_SIZE, lo=20, hi=32) or DEFAULT_BLOCK_SIZE
        if cidr is None:
            continue
        if cidr.prefixlen > size:
            problems.error(origin.at("blockSize"), f"pool {cidr} is smaller than its /{size} blocks",
                           f"use a blockSize of /{cidr.prefixlen} or longer")
            continue
        selector = f.str("nodeSelector", default="all()")
        if selector.strip() not in ("all()", ""):
            problems.warn(origin.at("nodeSelector"), f"nodeSelector {selector!r} is not modelled: every node "
                          "may use this pool", "leave nodeSelector at all()")
        pools.append(IPPool(name, cidr, size, f.bool("natOutgoing"), f.bool("disabled"),
                            f.str("vxlanMode", default="Never"), origin))
    if not raw and plan.cluster_cidr is not None:
        pools.append(IPPool("default-ipv4-ippool", plan.cluster_cidr, DEFAULT_BLOCK_SIZE, True))
    return pools


def read_ipam_config(plan: Plan, cfg: Fields, problems: Problems) -> IpamConfig:
    """``policy.config.ipamConfig`` or an IPAMConfiguration object: strictAffinity, maxBlocksPerHost."""
    sources = [(cfg.raw("ipamConfig"), cfg.origin.at("ipamConfig"))]
    sources += [(thaw(o.body.get("spec")), o.origin.at("spec")) for o in plan.objects_of("IPAMConfiguration")]
    strict, max_blocks = False, 0
    for data, origin in sources:
        if data is None:
            continue
        f = Fields(data, origin, problems)
        strict = f.bool("strictAffinity", strict)
        max_blocks = f.int("maxBlocksPerHost", default=max_blocks, lo=0) or 0
        if max_blocks > 0 and not strict:
            problems.error(origin.at("maxBlocksPerHost"), "maxBlocksPerHost needs strictAffinity: true",
                           "set strictAffinity: true, or leave maxBlocksPerHost out")
    single = cfg.bool("windows_use_single_network", True)
    return IpamConfig(strict, max_blocks or DEFAULT_MAX_BLOCKS_PER_HOST, single)


def windows_reserved(block: IPv4Network) -> tuple[tuple[IPv4Address, str], ...]:
    """The addresses Calico keeps out of every block a Windows node holds: the first three and the last."""
    why = "reserved for Windows (windows-reserved-ipam-handle)"
    return (*((host(block, i), why) for i in range(WINDOWS_RESERVED_START)), (host(block, -1), why))


class CalicoIpam:
    """Calico IPAM in the place of the network plugin's IPAM (the Addressing protocol): node CIDRs are the nodes'
    first blocks, pod ranges span their blocks. The network plugin still decides maxPods and reserves what its
    data plane holds in the first block (a bridge gateway, an HNS endpoint)."""

    name = "calico-ipam"

    def __init__(self, plan: Plan, problems: Problems, network: NetworkPlugin, pools: list[IPPool],
                 config: IpamConfig, origin: Origin) -> None:
        self.plan = plan
        self.network = network
        self.pools = [p for p in pools if not p.disabled]
        self.config = config
        self.origin = origin
        self.blocks: dict[str, tuple[IPPool, int, int]] = {}  # node → (pool, first block index, count)

    def max_pods(self, node: NodeSpec) -> int:
        return self.network.max_pods(node)

    def max_nodes(self) -> int | None:
        return sum(p.blocks for p in self.pools)

    def per_block(self, node: NodeSpec, pool: IPPool) -> int:
        size = 1 << (32 - pool.block_size)
        return size - (WINDOWS_RESERVED_START + WINDOWS_RESERVED_END if node.os == "windows" else 0)

    def limit(self, node: NodeSpec) -> int:
        if node.os == "windows" and self.config.windows_single_network:
            return 1
        return self.config.max_blocks_per_host

    def node_cidrs(self, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
        """Claim each node's blocks, lowest free first, in plan order."""
        pods: dict[str, int] = {}
        for pod in self.plan.pods:
            if pod.node is not None and not pod.host_network:
                pods[pod.node] = pods.get(pod.node, 0) + 1
        cursor = {id(p): 0 for p in self.pools}
        out: dict[str, tuple[IPv4Network, str]] = {}
        if not self.pools:
            problems.error(self.origin, "calico-ipam has no enabled IP pool",
                           "add policy.config.ipPools or an IPPool object, or set spec.clusterCIDR")
            return out
        for node in self.plan.nodes:
            if node.pod_cidr is not None:
                problems.warn(node.origin.at("podCIDR"), f"calico-ipam ignores node {node.name!r}'s podCIDR",
                              "remove podCIDR, or use `ipam: host-local`")
            pool = next((p for p in self.pools if cursor[id(p)] < p.blocks), None)
            if pool is None:
                problems.error(node.origin, f"no free block left in the IP pools for node {node.name!r}",
                               "add or widen an IPPool, or use a longer blockSize")
                continue
            need = max(1, ceil(pods.get(node.name, 0) / self.per_block(node, pool)))
            if need > self.limit(node):
                single = node.os == "windows" and self.config.windows_single_network
                what = ("a Windows node holds one block (windows_use_single_network)" if single
                        else f"maxBlocksPerHost is {self.limit(node)}; the model does not borrow addresses")
                problems.error(node.origin, f"node {node.name!r} needs {need} /{pool.block_size} blocks for its "
                               f"{pods[node.name]} pods but {what}",
                               "spread the pods, use a shorter blockSize, or raise maxBlocksPerHost")
                need = self.limit(node)
            start = cursor[id(pool)]
            need = min(need, pool.blocks - start)
            cursor[id(pool)] = start + need
            self.blocks[node.name] = (pool, start, need)
            out[node.name] = (pool.block(start), "calico-ipam")
        return out

    def node_blocks(self, node: str) -> list[IPv4Network]:
        """Every block node ``node`` holds, first one first."""
        got = self.blocks.get(node)
        if got is None:
            return []
        pool, start, count = got
        return [pool.block(start + i) for i in range(count)]

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        blocks = self.node_blocks(node.name)
        if not blocks or pod_cidr is None:
            return None
        net = self.network.pod_range(node, blocks[0])
        reserved: dict[IPv4Address, str] = {}
        if net is not None:  # what the network plugin's data plane holds in the first block
            reserved.update((ip, f"{why} ({self.network.name})") for ip, why in net.reserved if ip in blocks[0])
        if node.os == "windows":
            for b in blocks:
                for ip, why in windows_reserved(b):
                    reserved.setdefault(ip, why)
        return PodRange(blocks[0], net.gateway if net else None, blocks[0].network_address,
                        blocks[-1].broadcast_address, tuple(sorted(reserved.items())), "calico-ipam", CHOICE_NOTE)
