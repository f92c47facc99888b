"""What an apply script puts on a Linux node, decided from the node's facts (docs/routes.md).

Sorted into what the script creates and what it leaves to others:
- the devices the plugins create (the pod bridge, the VXLAN device with its VNI, port, local address and MTU),
  with their addresses: created first;
- every route but the kernel's own (the connected route of an address appears with the address) and but the
  node's own configuration (its uplink, address and default route: ``owner == "host"``), replaced;
- permanent neighbours and FDB entries, replaced;
- per-pod entries (a pod's host-side veth and its /32 route, as canal's calico CNI makes them): the CNI adds
  them with each pod, so a script only names them.

Static configuration (systemd-networkd): the node's own interface settings (address, gateway) and the routes
an operator adds (``owner == "static"``: kubenet's and win-bridge's host routes with ``underlay.routes:
host``). With ``scope="all"`` the plugin's devices, routes, neighbours and FDB entries too, for a node that
runs without the plugin's daemon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface

from cnimodel.dataplane import Device, FdbEntry, Neighbor, NodeFacts, Route

NODE_OWNERS = ("host",)  # the node's own configuration (DHCP, cloud-init, networkd): not the plugin's
STATIC_OWNERS = ("host", "static")  # routes that belong to static configuration


@dataclass(frozen=True)
class LinuxScript:
    """One Linux node's apply script as data: what to create and replace, in order, and what is left out."""

    node: str
    plan: str
    uplink: Device | None
    gateway: IPv4Address | None
    devices: tuple[Device, ...] = ()
    routes: tuple[Route, ...] = ()
    neighbors: tuple[Neighbor, ...] = ()
    fdb: tuple[FdbEntry, ...] = ()
    pod_devices: tuple[Device, ...] = ()
    pod_routes: tuple[Route, ...] = ()
    node_routes: tuple[Route, ...] = ()
    nat_rules: int = 0
    notes: tuple[str, ...] = field(default=())

    def addresses(self) -> list[tuple[str, IPv4Interface]]:
        """``(device, address)`` of every created device, in creation order."""
        return [(d.name, a) for d in self.devices for a in d.addresses]


def kernel_made(route: Route, devices: tuple[Device, ...]) -> bool:
    """The connected route the kernel adds itself when an address of ``route.dev`` holds the prefix."""
    if route.via is not None or route.type != "unicast" or route.dev is None:
        return False
    return any(d.name == route.dev and any(a.network == route.dst for a in d.addresses) for d in devices)


def uplink_of(facts: NodeFacts, node_ip: IPv4Address) -> Device | None:
    """The device holding the node's address (``eth0``)."""
    for d in facts.devices:
        if d.kind == "ether" and any(a.ip == node_ip for a in d.addresses):
            return d
    return next((d for d in facts.devices if d.kind == "ether"), None)


def linux_script(facts: NodeFacts, node_ip: IPv4Address, plan: str) -> LinuxScript:
    """The apply script of one Linux node: devices created, routes, neighbours and FDB entries replaced."""
    up = uplink_of(facts, node_ip)
    pod_devices = tuple(d for d in facts.devices if d.kind == "veth")
    per_pod = {d.name for d in pod_devices}
    created = tuple(d for d in facts.devices if d.kind in ("bridge", "vxlan") and d.owner not in NODE_OWNERS)
    notes = [f"{d.kind} device {d.name} left out: only bridges and VXLAN devices are created"
             for d in facts.devices if d is not up and d.kind not in ("bridge", "vxlan", "veth", "loopback")]
    routes, pod_routes, node_routes = [], [], []
    for r in facts.routes:
        if kernel_made(r, facts.devices):
            continue
        if r.dev in per_pod:
            pod_routes.append(r)
        elif r.owner in NODE_OWNERS:
            node_routes.append(r)
        else:
            routes.append(r)
    gateway = next((r.via for r in node_routes if r.dst.prefixlen == 0 and r.via is not None), None)
    return LinuxScript(facts.node, plan, up, gateway, created, tuple(routes),
                       tuple(n for n in facts.neighbors if n.dev not in per_pod),
                       tuple(e for e in facts.fdb if e.dev not in per_pod), pod_devices, tuple(pod_routes),
                       tuple(node_routes), len(facts.nat), tuple(notes))


@dataclass(frozen=True)
class NetworkdLink:
    """One device's systemd-networkd files: the ``.netdev`` (None for a device networkd does not create, such as
    the uplink) and the ``.network`` settings."""

    device: Device
    netdev: bool
    addresses: tuple[IPv4Interface, ...] = ()
    gateway: IPv4Address | None = None
    routes: tuple[Route, ...] = ()
    neighbors: tuple[Neighbor, ...] = ()
    fdb: tuple[FdbEntry, ...] = ()
    vxlans: tuple[str, ...] = ()  # the VXLAN devices that ride on this one (``VXLAN=`` in its .network)


def networkd_links(script: LinuxScript, scope: str = "static") -> list[NetworkdLink]:
    """The node's configuration as systemd-networkd links: the uplink with its address, its gateway and the
    static routes; with ``scope="all"`` also each created device with its routes, neighbours and FDB."""
    if script.uplink is None:
        return []
    static = [r for r in (*script.node_routes, *script.routes) if r.owner in STATIC_OWNERS
              and not (r.dst.prefixlen == 0 and r.via == script.gateway and r.owner in NODE_OWNERS)]
    every = scope == "all"
    devices = script.devices if every else ()
    on = {d.name: [r for r in script.routes if r.dev == d.name] for d in devices}
    up_routes = [r for r in static if r.dev in (None, script.uplink.name)]
    if every:
        up_routes += [r for r in script.routes if r.dev in (None, script.uplink.name) and r not in up_routes]
    vxlans = tuple(d.name for d in devices if d.kind == "vxlan" and (d.underlay_dev or script.uplink.name)
                   == script.uplink.name)
    links = [NetworkdLink(script.uplink, False, script.uplink.addresses, script.gateway, tuple(up_routes),
                          vxlans=vxlans)]
    for d in devices:
        links.append(NetworkdLink(d, True, d.addresses, None, tuple(on[d.name]),
                                  tuple(n for n in script.neighbors if n.dev == d.name),
                                  tuple(e for e in script.fdb if e.dev == d.name)))
    return links
