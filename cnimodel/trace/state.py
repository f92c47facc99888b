"""The state a packet walk carries, and the interface the walk's helpers (load balancing, policy verdicts, a
Windows pod's vSwitch port) use: they read and change the packet, record translations and add steps to the hop
they are given — and know nothing else of the walk."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Protocol

from cnimodel.trace.model import Flow, Hop

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.graph import DestClass, ForwardingGraph


@dataclass
class Packet:
    src: IPv4Address
    dst: IPv4Address
    proto: str
    sport: int
    dport: int | None
    size: int
    mark: int = 0

    def flow(self, src_label: str = "", dst_label: str = "") -> Flow:
        return Flow(self.src, self.dst, self.proto, self.sport, self.dport, self.size, src_label, dst_label)


@dataclass(frozen=True)
class NatEntry:
    """A translation made at a node, kept as conntrack keeps it: the reply is rewritten back there."""

    node: str
    kind: str  # "SNAT" or "DNAT"
    before: tuple[IPv4Address, int | None]
    after: tuple[IPv4Address, int | None]
    by: str
    before_policy: bool = False  # made before the destination's policy filter (it sees the new source)


class Stop(Exception):  # control flow: ends a walk with a disposition
    def __init__(self, disposition: str, reason: str) -> None:
        super().__init__(reason)
        self.disposition = disposition
        self.reason = reason


class WalkState(Protocol):
    """What the walk's helpers see of a walk."""

    cluster: Cluster
    graph: ForwardingGraph
    pkt: Packet
    nat: list[NatEntry]
    reply_of: list[NatEntry]
    reply: bool  # a reply passes policy by conntrack instead of being evaluated
    policy: bool  # False: routing and NAT only, no policy verdicts

    @property
    def cls(self) -> DestClass:
        """The destination class of the packet as it is now."""
        ...

    def hop(self, node: str, kind: str) -> Hop:
        """The hop at ``node`` (the current one when the walk is there, else a new one)."""
        ...


__all__ = ["NatEntry", "Packet", "Stop", "WalkState"]
