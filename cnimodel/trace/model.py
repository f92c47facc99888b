"""What a trace is: a flow, hops of ordered typed steps, and one final disposition (Batfish's shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any, Literal

Disposition = Literal["ACCEPTED", "DELIVERED_TO_SUBNET", "EXITS_NETWORK", "DENIED_IN", "DENIED_OUT", "NO_ROUTE",
                      "NULL_ROUTED", "NEIGHBOR_UNREACHABLE", "LOOP", "POD_NOT_RUNNING"]
DISPOSITIONS: tuple[str, ...] = ("ACCEPTED", "DELIVERED_TO_SUBNET", "EXITS_NETWORK", "DENIED_IN", "DENIED_OUT",
                                 "NO_ROUTE", "NULL_ROUTED", "NEIGHBOR_UNREACHABLE", "LOOP", "POD_NOT_RUNNING")
# The dispositions where the packet arrives somewhere (a pod or node, an underlay address no node holds, or out
# through the underlay's default route to an address outside the plan); every other one is not delivered
# (``cnimodel trace`` then exits 1).
DELIVERED = frozenset({"ACCEPTED", "DELIVERED_TO_SUBNET", "EXITS_NETWORK"})
StepType = Literal["originated", "received", "routed", "transformed", "encapsulated", "decapsulated", "filtered",
                   "transmitted", "delivered", "dropped"]
PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1}


@dataclass(frozen=True)
class Flow:
    """The packet as it leaves its source: addresses, protocol, ports and IP packet size."""

    src: IPv4Address
    dst: IPv4Address
    proto: str = "tcp"
    sport: int = 49152
    dport: int | None = 80
    size: int = 64
    src_label: str = ""
    dst_label: str = ""
    # When SRC or DST names a workload: the pods it stands for, the traced one first (empty otherwise).
    src_pods: tuple[str, ...] = ()
    dst_pods: tuple[str, ...] = ()

    def reply(self) -> Flow:
        return Flow(self.dst, self.src, self.proto, self.dport or 0, self.sport, self.size, self.dst_label,
                    self.src_label, self.dst_pods, self.src_pods)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"src": str(self.src), "dst": str(self.dst), "protocol": self.proto.upper(),
                               "srcPort": self.sport, "dstPort": self.dport, "size": self.size,
                               "srcName": self.src_label, "dstName": self.dst_label}
        if self.src_pods:  # added keys only: the shape above is a public contract (docs/json.md)
            out["srcPods"] = list(self.src_pods)
        if self.dst_pods:
            out["dstPods"] = list(self.dst_pods)
        return out


@dataclass(frozen=True)
class Step:
    """One thing that happened to the packet at a hop, naming the fact that decided it (``detail``)."""

    type: StepType
    action: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "action": self.action, "detail": self.detail}


@dataclass
class Hop:
    """A place the packet passes: a pod's network namespace, a node, the underlay router."""

    node: str
    kind: Literal["pod", "node", "underlay", "external"]
    steps: list[Step] = field(default_factory=list)
    vertices: list[str] = field(default_factory=list)  # the forwarding graph's vertices the packet was at here

    def add(self, type_: StepType, action: str, **detail: Any) -> Step:
        step = Step(type_, action, {k: _plain(v) for k, v in detail.items() if v is not None})
        self.steps.append(step)
        return step

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "kind": self.kind, "steps": [s.to_json() for s in self.steps],
                "vertices": list(self.vertices)}


@dataclass(frozen=True)
class Wire:
    """A frame as it is on one wire segment (for pcap export): where, and the headers that matter."""

    segment: str
    src: IPv4Address
    dst: IPv4Address
    sport: int | None
    dport: int | None
    encap: Any = None  # a dataplane.Encap when the segment is inside a tunnel (VXLAN, GENEVE, IP-in-IP)


@dataclass
class Trace:
    flow: Flow
    disposition: str
    reason: str
    hops: list[Hop]
    direction: Literal["forward", "reverse"] = "forward"
    wires: list[Wire] = field(default_factory=list)
    final: Flow | None = None
    # The forwarding graph's vertices the packet crossed, in order: a path in the graph of its destination
    # (cnimodel.graph), continuing past a load balancer's DNAT in the backend's class.
    path: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.direction, "flow": self.flow.to_json(), "disposition": self.disposition,
                "reason": self.reason, "delivered": self.final.to_json() if self.final else None,
                "hops": [h.to_json() for h in self.hops]}


def _plain(v: Any) -> Any:
    if isinstance(v, IPv4Address) or hasattr(v, "network_address"):
        return str(v)
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v
