"""The forwarding graph's edges and the facts they carry: what moves a packet from one vertex to the next.

An edge belongs to one destination class (``cls``): the same two vertices may be joined once per class, with the
fact of that class (a MultiDiGraph's parallel edges). Its ``kind`` says what moves the packet:

- ``route``: a routing decision — a pod's default route to its node; a table's route to the next hop's NIC, the
  underlay, a subnet, the internet, a tunnel endpoint or a local pod's port (``PodRoute``, ``Forward``,
  ``TunnelRoute``, ``ToPod``; the underlay's ``UnderlayRoute``);
- ``input``: where a packet enters a node (its NIC, the host, a pod's bridge, port or veth) to its table (``Input``);
- ``l2``: a pod's vSwitch port to another port of the same vSwitch (``Switch``);
- ``lb``: where a packet enters a node to its Service load balancer (``Balance``);
- ``dnat``: the load balancer to the node's table, in the backend's class ``to_cls`` (``Dnat``);
- ``pass``: the load balancer to the table when it leaves the packet as it is (``Unbalanced``);
- ``encap``: a tunnel endpoint to the peer's (``Encapsulate``); ``decap``: an endpoint to its table (``Decapsulate``);
- ``deliver``: a table to its host, the node's own address (``LocalDelivery``); a bridge, port or veth to its pod
  (``PodDelivery``);
- ``ingress``: the internet into the underlay, or to a node's address (``Arrive``).

Policy and platform filters, SNAT rules and MTUs ride on the facts that apply them (``PodRoute.egress``,
``PodDelivery`` for ingress policy, ``Forward.nat``): the walk evaluates them with the packet it carries.
A vertex with no edge for a class is where its packets are dropped; ``Decision.drop`` says why.
A plugin adds edges of its own kinds with facts that tell the walk their steps (``cnimodel.graph.contrib``).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Protocol

from cnimodel.dataplane import Encap, NatRule, PolicyEnforcement, Route

if TYPE_CHECKING:
    from cnimodel.ipam import PodAddress
    from cnimodel.services.decision import LbDecision

EDGE_KINDS: dict[str, str] = {
    "route": "a routing decision: a route (or a pod's default route) hands the packet to its next hop",
    "input": "the packet enters the node's routing (PREROUTING, then the route table)",
    "l2": "switched on one segment (a vSwitch between two of its ports)",
    "lb": "the node's Service load balancer takes the packet (its frontend matches)",
    "dnat": "the load balancer rewrites the destination to a backend: the packet continues in the backend's class",
    "pass": "the load balancer leaves the packet as it is",
    "encap": "wrapped in a tunnel header to the peer's endpoint",
    "decap": "unwrapped at the tunnel endpoint, handed to the node's routing",
    "deliver": "delivered: to the node itself, or to a pod",
    "ingress": "arrives from outside the plan",
}


class Dst:
    """Stands for the packet's destination address in a decision's text and detail: a decision is shared by every
    address of its class, and the walk puts the packet's own address there."""

    def __repr__(self) -> str:
        return "DST"


DST = Dst()


@dataclass(frozen=True, slots=True)
class DstText:
    """Detail text naming the packet's destination: ``template`` with ``{dst}`` where its address goes."""

    template: str


@dataclass(frozen=True, slots=True)
class Edge:
    """One forwarding decision: ``src`` → ``dst`` for the packets of class ``cls``, moved by ``fact``."""

    src: str
    dst: str
    kind: str
    fact: Any
    cls: str
    to_cls: str | None = None  # a DNAT's: the class the packet continues in


@dataclass(frozen=True, slots=True)
class Drop:
    """Why a vertex forwards no packet of a class: the dropped step's action and detail, the disposition, the
    reason (``{dst}`` stands for the packet's destination), and what the packet crossed before it was dropped,
    if anything: the route that led nowhere (``Forward``), the tunnel hop its receiver refuses (``Encapsulate``)."""

    action: str
    disposition: str
    reason: str
    detail: tuple[tuple[str, Any], ...] = ()
    via: Any = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What a vertex does with a class's packets: the edges they may leave by (the packet's state picks one when
    there are several: a load balancer's backends, a NodePort's frontend), ``drop``, or ``here``: they have
    arrived."""

    edges: tuple[Edge, ...] = ()
    drop: Drop | None = None
    here: Any = None  # the class's packets are delivered at this vertex (the node's own address, at its host)


# --- facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodEgress:
    """What the source pod's way out applies after the load balancer: its egress policy (``enforcement`` of its
    node), and on Windows its vSwitch port's VFP rules (SCTP, SDN routes, OutBoundNAT)."""

    pod: str
    node: str
    windows: bool
    enforcement: PolicyEnforcement


@dataclass(frozen=True, slots=True)
class PodRoute:
    """A pod's default route out of its eth0 (the gateway its CNI configures), its interface MTU, and its egress."""

    gateway: IPv4Address | None
    mtu: int
    egress: PodEgress
    interface: str | None = None  # the host-side veth of a routed pod (the packet is RECEIVED on it)


@dataclass(frozen=True, slots=True)
class Input:
    """The packet enters the node's routing from ``via``: its NIC, a pod's bridge/port/veth, the host, a tunnel."""

    via: str


@dataclass(frozen=True, slots=True)
class Forward:
    """A route of a node's table sending the packet to its L2 next hop (``to``: a node, the underlay, a subnet):
    nat POSTROUTING rules (``nat``) and the egress device's MTU (``mtu``) apply on the way out."""

    table: str
    route: Route
    nat: tuple[NatRule, ...]
    mtu: int | None
    dev_address: IPv4Address | None  # the egress device's first address (MASQUERADE's source)
    node_ip: IPv4Address
    to: str | None  # the next hop's node, the underlay's name, the subnet's name; None: nowhere (a drop)
    via: str = "node"  # node | nic-owner | gateway | subnet
    segment: str = ""  # the wire segment's name (pcap)


@dataclass(frozen=True, slots=True)
class TunnelRoute:
    """The route (or, on Windows overlay, the HNS network's RemoteSubnetRoute) that sends the packet into the
    node's tunnel endpoint."""

    route: Route | None
    encap: Encap


@dataclass(frozen=True, slots=True)
class Encapsulate:
    """One tunnel hop (``Encap``: outer addresses, id, port, the receiver's expectations)."""

    encap: Encap


@dataclass(frozen=True, slots=True)
class Decapsulate:
    """The receiving endpoint unwraps the packet for its node's routing."""

    node: str


@dataclass(frozen=True, slots=True)
class LocalDelivery:
    """The destination is one of the node's own addresses."""

    node: str


@dataclass(frozen=True, slots=True)
class ToPod:
    """The node hands the packet to a local pod's bridge, port or veth; ``route`` is the /32 host route that names
    a routed pod's veth (None for a bridge or a vSwitch port)."""

    route: Route | None


@dataclass(frozen=True, slots=True)
class PodDelivery:
    """The packet reaches the pod through its bridge, vSwitch port or veth (``via``, as the trace says it), after the
    pod's ingress policy (its node's ``enforcement``) and, on Windows, the port's VFP rules."""

    pod: PodAddress
    via: str
    windows: bool
    enforcement: PolicyEnforcement
    port: Route | None = None  # a routed pod's /32 host route (naming its veth)


@dataclass(frozen=True, slots=True)
class Switch:
    """Switched by the vSwitch (or bridge) ``segment`` from one pod's port to another's."""

    segment: str


@dataclass(frozen=True, slots=True)
class Balance:
    """The node's Service load balancer takes packets to ``frontends`` (``VIP:port/PROTO`` or ``nodePort N``)."""

    node: str
    frontends: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dnat:
    """The load balancer's choice of ``backend`` (of ``decision``, the Services engine's answer)."""

    decision: LbDecision
    backend: Any  # a cnimodel.services.decision.Backend


@dataclass(frozen=True, slots=True)
class Unbalanced:
    decision: LbDecision


@dataclass(frozen=True, slots=True)
class Arrive:
    """A packet from outside the plan arrives: at the underlay, or at a node's address (a NodePort)."""

    at: str


class StepFact(Protocol):
    """A plugin's own fact: the walk asks it for the steps crossing its edge adds, as ``(type, action, detail)``
    (types: docs/trace.md), and whether the packet is dropped there (``(disposition, reason)`` or None)."""

    def steps(self, packet: Any) -> list[tuple[str, str, dict[str, Any]]]: ...

    def verdict(self, packet: Any) -> tuple[str, str] | None: ...

    # Optional: ``snat(packet)`` → ``(new source, what rewrote it)`` or None: a source NAT the walk applies after
    # the steps and records for the reply (an OVN gateway router's lr_out_snat).


__all__ = [
    "DST",
    "EDGE_KINDS",
    "Arrive",
    "Balance",
    "Decapsulate",
    "Decision",
    "Dnat",
    "Drop",
    "DstText",
    "Edge",
    "Encapsulate",
    "Forward",
    "Input",
    "LocalDelivery",
    "PodDelivery",
    "PodEgress",
    "PodRoute",
    "StepFact",
    "Switch",
    "ToPod",
    "TunnelRoute",
    "Unbalanced",
]
