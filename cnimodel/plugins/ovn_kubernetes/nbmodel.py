"""The OVN Northbound objects ovn-kubernetes writes, as frozen values (one class per OVN_Northbound table).

Field names follow the OVN_Northbound schema's columns (ovn-nb(5)); maps are sorted tuples of pairs so that
values compare and hash. References between rows are by name (a switch's load-balancer groups, a port
group's ports), which is how ``ovn-nbctl`` names them too; the export resolves them to row references.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Kv = tuple[tuple[str, str], ...]


def kv(data: Mapping[str, str] | None = None, **more: str) -> Kv:
    """A map column as a sorted tuple of pairs."""
    merged = {**(data or {}), **more}
    return tuple(sorted((str(k), str(v)) for k, v in merged.items()))


@dataclass(frozen=True)
class SwitchPort:
    """Logical_Switch_Port: ``addresses`` holds OVN address strings (``router``, ``unknown``, ``MAC IP``)."""

    name: str
    addresses: tuple[str, ...] = ()
    type: str = ""
    options: Kv = ()
    port_security: tuple[str, ...] = ()
    external_ids: Kv = ()
    tag_request: int | None = None


@dataclass(frozen=True)
class Acl:
    """ACL. ``tier`` is ovnkube's (the ACL table's tier column exists from OVN 23.06's schema 7.1 on)."""

    direction: str  # from-lport | to-lport
    priority: int
    match: str
    action: str  # allow | allow-related | allow-stateless | drop | reject | pass
    name: str | None = None
    options: Kv = ()
    external_ids: Kv = ()
    tier: int = 2
    meter: str | None = None
    reason: str = ""  # for people: the policy and rule this ACL is a view of


@dataclass(frozen=True)
class LogicalSwitch:
    name: str
    ports: tuple[SwitchPort, ...] = ()
    other_config: Kv = ()
    external_ids: Kv = ()
    acls: tuple[Acl, ...] = ()
    load_balancer_groups: tuple[str, ...] = ()
    load_balancers: tuple[str, ...] = ()


@dataclass(frozen=True)
class GatewayChassis:
    name: str
    chassis_name: str
    priority: int = 1


@dataclass(frozen=True)
class RouterPort:
    """Logical_Router_Port: ``networks`` in CIDR form (``10.244.0.1/24``)."""

    name: str
    mac: str
    networks: tuple[str, ...]
    gateway_chassis: tuple[GatewayChassis, ...] = ()
    options: Kv = ()
    external_ids: Kv = ()


@dataclass(frozen=True)
class StaticRoute:
    """Logical_Router_Static_Route; ``policy`` None is OVN's default dst-ip."""

    ip_prefix: str
    nexthop: str
    policy: str | None = None
    output_port: str | None = None
    external_ids: Kv = ()


@dataclass(frozen=True)
class RouterPolicy:
    priority: int
    match: str
    action: str  # allow | drop | reroute
    nexthops: tuple[str, ...] = ()
    external_ids: Kv = ()


@dataclass(frozen=True)
class Nat:
    type: str  # snat | dnat | dnat_and_snat
    external_ip: str
    logical_ip: str
    logical_port: str | None = None
    match: str = ""
    external_ids: Kv = ()


@dataclass(frozen=True)
class LogicalRouter:
    name: str
    ports: tuple[RouterPort, ...] = ()
    static_routes: tuple[StaticRoute, ...] = ()
    policies: tuple[RouterPolicy, ...] = ()
    nat: tuple[Nat, ...] = ()
    options: Kv = ()
    external_ids: Kv = ()
    load_balancer_groups: tuple[str, ...] = ()
    load_balancers: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadBalancer:
    """Load_Balancer: ``vips`` maps ``VIP:PORT`` to comma-separated ``IP:PORT`` backends ('' when none)."""

    name: str
    protocol: str
    vips: Kv
    options: Kv = ()
    selection_fields: tuple[str, ...] = ()
    external_ids: Kv = ()


@dataclass(frozen=True)
class LoadBalancerGroup:
    name: str
    load_balancers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PortGroup:
    name: str
    ports: tuple[str, ...] = ()
    acls: tuple[Acl, ...] = ()
    external_ids: Kv = ()
    reason: str = ""


@dataclass(frozen=True)
class AddressSet:
    name: str
    addresses: tuple[str, ...] = ()
    external_ids: Kv = ()
    reason: str = ""


@dataclass(frozen=True)
class StaticMacBinding:
    logical_port: str
    ip: str
    mac: str
    override_dynamic_mac: bool = True


@dataclass(frozen=True)
class Northbound:
    """Everything the model writes to the Northbound database, in the order ovnkube creates it."""

    switches: tuple[LogicalSwitch, ...] = ()
    routers: tuple[LogicalRouter, ...] = ()
    load_balancers: tuple[LoadBalancer, ...] = ()
    load_balancer_groups: tuple[LoadBalancerGroup, ...] = ()
    port_groups: tuple[PortGroup, ...] = ()
    address_sets: tuple[AddressSet, ...] = ()
    static_mac_bindings: tuple[StaticMacBinding, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def switch(self, name: str) -> LogicalSwitch | None:
        return next((s for s in self.switches if s.name == name), None)

    def router(self, name: str) -> LogicalRouter | None:
        return next((r for r in self.routers if r.name == name), None)

    def port_owner(self) -> dict[str, str]:
        """Each logical switch port's switch."""
        return {p.name: s.name for s in self.switches for p in s.ports}
