"""What ``netns up`` builds, computed from the model alone (no kernel needed): namespaces, links, addresses,
routes, neighbours and FDB entries, each taken from a node's facts.

Linux nodes are built as their facts say. Windows nodes are emulated where a Linux equivalent is faithful:
an HNS L2Bridge network becomes a Linux bridge holding the host endpoint's address (the pods' gateway) with
the node's routes; an HNS Overlay network becomes a bridge holding the network's gateway plus a VXLAN device
with the Windows VNI, port and distributed-router MAC, and one onlink route, neighbour and FDB entry per
RemoteSubnetRoute (from the node's Encap facts). Tunnel devices are built by their kind: vxlan, geneve
(point to point: one remote) and ipip. Anything else is left out with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device, FdbEntry, Neighbor, NodeFacts, Route
from cnimodel.kernel.naming import Names, kernel_name
from cnimodel.plan import NodeSpec

DEFAULT = IPv4Network("0.0.0.0/0")
OVERLAY_BRIDGE = "vSwitch"  # the emulated Windows Overlay network's pod side (its gateway lives here)

Role = Literal["underlay", "node", "pod"]


@dataclass(frozen=True)
class End:
    """One end of a veth pair."""

    ns: str
    name: str
    mtu: int
    addresses: tuple[IPv4Interface, ...] = ()
    mac: str | None = None
    master: str | None = None


@dataclass(frozen=True)
class Veth:
    a: End
    b: End


@dataclass(frozen=True)
class Bridge:
    ns: str
    name: str
    mtu: int
    addresses: tuple[IPv4Interface, ...] = ()
    mac: str | None = None


@dataclass(frozen=True)
class Tunnel:
    """A tunnel device of one encapsulation kind: ``vxlan`` (id, port, local address, lower device ``link``),
    ``geneve`` (id, port, the one ``remote``) or ``ipip`` (local address, lower device)."""

    ns: str
    name: str
    mtu: int
    vni: int | None
    port: int | None
    local: IPv4Address | None
    link: str
    addresses: tuple[IPv4Interface, ...] = ()
    mac: str | None = None
    kind: str = "vxlan"
    remote: IPv4Address | None = None


@dataclass
class Space:
    """One network namespace and what goes into it. Routes, neighbours and FDB entries name kernel devices;
    ``devices`` maps the model's device names to them."""

    name: str
    role: Role
    node: str | None = None
    pod: str | None = None
    emulates: str = ""
    forward: bool = False
    devices: dict[str, str] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    expect: list[Route] = field(default_factory=list)  # every route the kernel should show, its own included
    neighbors: list[Neighbor] = field(default_factory=list)
    fdb: list[FdbEntry] = field(default_factory=list)
    # per-interface sysctls as /proc/sys paths (``net/ipv4/conf/<dev>/proxy_arp``, kernel device names: a name
    # may hold a dot), written once the links exist
    link_sysctls: dict[str, str] = field(default_factory=dict)

    def model_name(self, kernel: str) -> str:
        """The model's name of a kernel device (the kernel name when the model has none)."""
        return next((m for m, k in self.devices.items() if k == kernel), kernel)


@dataclass(frozen=True)
class RealPod:
    key: str
    node: str
    ns: str
    ip: IPv4Address
    gateway: IPv4Address


@dataclass
class Blueprint:
    names: Names
    cluster: Cluster
    pods_per_node: int
    spaces: list[Space] = field(default_factory=list)
    bridges: list[Bridge] = field(default_factory=list)
    veths: list[Veth] = field(default_factory=list)
    tunnels: list[Tunnel] = field(default_factory=list)
    pods: dict[str, RealPod] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    policy: str | None = None  # "nftables" or "iptables": the policy verdicts are installed in the pods
    every_port: bool = False  # a node as a real host holds it: every routed pod's veth and /32 route (audit)

    def space(self, name: str) -> Space:
        return next(s for s in self.spaces if s.name == name)

    def node_space(self, node: str) -> Space | None:
        return next((s for s in self.spaces if s.role == "node" and s.node == node), None)


def _kernel_made(route: Route, devices: list[Device] | tuple[Device, ...]) -> IPv4Interface | None:
    """The address whose connected route this is: the kernel adds it itself when the address goes on."""
    if route.via is not None or route.type != "unicast" or route.dev is None:
        return None
    for d in devices:
        if d.name == route.dev:
            return next((a for a in d.addresses if a.network == route.dst), None)
    return None


def _mapped(routes: tuple[Route, ...] | list[Route], devices: list[Device] | tuple[Device, ...],
            names: dict[str, str], notes: list[str], where: str) -> tuple[list[Route], list[Route]]:
    """The routes to add (kernel device names) and every route the kernel should then show: the added ones
    and the connected routes of the addresses (``proto kernel scope link src <address>``)."""
    install, expect = [], []
    for r in routes:
        if r.dev is not None and r.dev not in names:
            notes.append(f"{where}: route {r.dst} on {r.dev} left out: that device is not realised")
            continue
        mapped = replace(r, dev=names[r.dev]) if r.dev is not None else r
        addr = _kernel_made(r, devices)
        if addr is not None:
            expect.append(replace(mapped, proto="kernel", scope="link", src=addr.ip))
            continue
        install.append(mapped)
        expect.append(mapped)
    return install, expect


def build(cluster: Cluster, names: Names, pods_per_node: int) -> Blueprint:
    """The whole realisation of ``cluster``: the underlay, every node, and up to ``pods_per_node`` pods per
    node (the plan's pods first, in plan order)."""
    bp = Blueprint(names, cluster, pods_per_node)
    _underlay(bp)
    for index, node in enumerate(cluster.plan.nodes):
        _node(bp, index, node)
    return bp


def _underlay(bp: Blueprint) -> None:
    plan = bp.cluster.plan
    space = Space(bp.names.underlay, "underlay", emulates=f"underlay router and subnets ({plan.underlay.name})",
                  forward=True)
    for i, s in enumerate(plan.underlay.subnets):
        br = bp.names.subnet_bridge(i)
        bp.bridges.append(Bridge(space.name, br, s.mtu, (IPv4Interface(f"{s.gateway}/{s.cidr.prefixlen}"),)))
        space.devices[s.name] = br
    for r in bp.cluster.underlay().routes:
        if r.kind == "connected" and r.dev in space.devices:
            continue
        if r.next_hop_type == "Internet" or (r.kind == "default" and r.via is None):
            bp.notes.append(f"underlay: {r.dst} (next hop {r.next_hop_type or 'Internet'}) left out: no packet "
                            "leaves the namespaces")
            continue
        if r.dev is not None and r.dev not in space.devices:
            bp.notes.append(f"underlay: route {r.dst} on {r.dev} left out: no such subnet")
            continue
        space.routes.append(replace(r, dev=space.devices[r.dev]) if r.dev else r)
    bp.spaces.append(space)


def node_space(cluster: Cluster, node: str, names: Names | None = None) -> Space:
    """One node's namespace as a real host holds it (devices, routes, expected routes): no pod namespaces, but
    every routed pod's veth and /32 route (a bridge's pods add no route to the node)."""
    bp = Blueprint(names or Names(cluster.plan.name), cluster, 0, every_port=True)
    index = next(i for i, n in enumerate(cluster.plan.nodes) if n.name == node)
    _node(bp, index, cluster.plan.nodes[index])
    space = bp.node_space(node)
    if space is None:
        raise ValueError("; ".join(bp.notes) or f"node {node} cannot be realised")
    return space


def _uplink(facts: NodeFacts, node: NodeSpec) -> Device | None:
    """The device that holds the node's address (``eth0``, ``vEthernet (Ethernet)``)."""
    for d in facts.devices:
        if d.kind in ("ether", "vnic") and any(a.ip == node.ip for a in d.addresses):
            return d
    return next((d for d in facts.devices if d.kind == "ether"), None)


def _node(bp: Blueprint, index: int, node: NodeSpec) -> None:
    cluster, names = bp.cluster, bp.names
    facts = cluster.facts(node.name)
    space = Space(names.node(node.name), "node", node=node.name, forward=True)
    subnet_index = next(i for i, s in enumerate(cluster.plan.underlay.subnets) if s.name == node.subnet)
    subnet = cluster.plan.underlay.subnets[subnet_index]
    up = _uplink(facts, node)
    where = f"node {node.name}"
    if up is None:
        bp.notes.append(f"{where}: left out: it has no uplink device in the model")
        return
    space.devices[up.name] = kernel_name(up.name)
    bp.veths.append(Veth(End(space.name, kernel_name(up.name), up.mtu, up.addresses, up.mac,
                             kernel_name(up.master) if up.master else None),
                         End(names.underlay, names.uplink_port(index), subnet.mtu,
                             master=names.subnet_bridge(subnet_index))))
    routes: list[Route] = list(facts.routes)
    neighbors, fdb = list(facts.neighbors), list(facts.fdb)
    realised: list[Device] = [up]
    pods: list[Space] = []
    if facts.os == "linux":
        space.emulates = "linux"
        for d in facts.devices:
            if d is up or d.kind == "loopback" or routed(d):
                continue  # a routed pod's veth is made with its pod
            if d.kind == "bridge":
                bp.bridges.append(Bridge(space.name, kernel_name(d.name), d.mtu, d.addresses, d.mac))
            elif _realisable(d):
                link = kernel_name(d.underlay_dev or up.name)
                port = (d.port or KERNEL_VXLAN_PORT) if d.kind == "vxlan" else d.port
                bp.tunnels.append(Tunnel(space.name, kernel_name(d.name), d.mtu, d.vni, port, d.local, link,
                                         d.addresses, d.mac, d.kind, d.remote))
            else:
                bp.notes.append(f"{where}: {d.kind} device {d.name} left out: netns up builds bridges and VXLAN "
                                "devices (pod veths come from the pods)")
                continue
            space.devices[d.name] = kernel_name(d.name)
            realised.append(d)
    else:
        _windows(bp, space, facts, up, realised, routes, neighbors, fdb)
    pods = _pods(bp, space, facts, node, realised)
    veths = {d.name for d in facts.devices if routed(d)}
    for d in facts.devices if bp.every_port else ():
        if d.name in veths and d.name not in space.devices:
            space.devices[d.name] = kernel_name(d.name)
            realised.append(d)
    left = [r for r in routes if r.dev in veths and r.dev not in space.devices]
    if left:  # the pods beyond --pods-per-node: their veths, and so their /32 routes, are not made
        bp.notes.append(f"{where}: {len(left)} pod route(s) left out with their pods (not realised)")
        routes = [r for r in routes if not (r.dev in veths and r.dev not in space.devices)]
    space.routes, space.expect = _mapped(routes, realised, space.devices, bp.notes, where)
    space.neighbors = [replace(n, dev=space.devices[n.dev]) for n in neighbors if n.dev in space.devices]
    space.fdb = [replace(e, dev=space.devices[e.dev]) for e in fdb if e.dev in space.devices]
    bp.spaces.append(space)
    bp.spaces += pods


def _sysctl_path(key: str, dev: str, kernel: str) -> str:
    """``net.ipv4.conf.<dev>.proxy_arp`` as the path under /proc/sys, with the device's kernel name."""
    head, _, tail = key.partition(f".{dev}.")
    return "/".join([*head.split("."), kernel, *tail.split(".")])


KERNEL_VXLAN_PORT = 8472  # the kernel's vxlan dstport when none is given


def _realisable(d: Device) -> bool:
    """A tunnel device the model gives what the kernel needs: an id and a local address (vxlan), an id and its
    one remote (geneve), a device at all (ipip: its local address is optional)."""
    if d.kind == "vxlan":
        return d.vni is not None and d.local is not None
    if d.kind == "geneve":
        return d.vni is not None and d.remote is not None
    return d.kind == "ipip"


def routed(d: Device) -> bool:
    """A pod's host-side veth with proxy ARP on (the calico CNI's): the pod's gateway is a link-local address
    only proxy ARP answers, so the pod is realised on it; other veths (no sysctls in the model) are not."""
    return d.kind == "veth" and any(k.endswith(".proxy_arp") and v == "1" for k, v in d.sysctls)


def _windows(bp: Blueprint, space: Space, facts: NodeFacts, up: Device, realised: list[Device],
             routes: list[Route], neighbors: list[Neighbor], fdb: list[FdbEntry]) -> None:
    where = f"node {facts.node}"
    kinds = {n.type for n in facts.hns_networks}
    if "L2Bridge" in kinds:
        space.emulates = "windows L2Bridge (as a Linux bridge holding the host endpoint)"
        for d in facts.devices:
            if d is up or not d.addresses:
                continue
            # The host endpoint vNIC (cbr0_ep): the pods' gateway, on the vSwitch the pods hang off.
            bp.bridges.append(Bridge(space.name, kernel_name(d.name), d.mtu, d.addresses, d.mac))
            space.devices[d.name] = kernel_name(d.name)
            realised.append(d)
    elif "Overlay" in kinds and facts.vteps and facts.vteps[0].up:
        net = next(n for n in facts.hns_networks if n.type == "Overlay")
        v = facts.vteps[0]
        space.emulates = f"windows Overlay {net.name} (as a bridge + {v.encapsulation.label} {v.vni}/{v.port})"
        bridge = Device(OVERLAY_BRIDGE, "bridge", (IPv4Interface(f"{net.gateway}/{net.prefix.prefixlen}"),), v.mtu)
        bp.bridges.append(Bridge(space.name, OVERLAY_BRIDGE, v.mtu, bridge.addresses))
        space.devices[OVERLAY_BRIDGE] = OVERLAY_BRIDGE
        vx = kernel_name(v.dev)
        bp.tunnels.append(Tunnel(space.name, vx, v.mtu, v.vni, v.port, v.local, kernel_name(up.name), (), v.mac,
                                 v.kind))
        space.devices[v.dev] = vx
        realised += [bridge, Device(v.dev, "vxlan")]
        routes.append(Route(net.prefix, dev=OVERLAY_BRIDGE, scope="link", kind="connected", owner="hns"))
        # A RemoteSubnetRoute as Linux holds it: onlink route, neighbour for the remote DR MAC, FDB to the PA.
        for e in facts.encaps:
            gw = e.dst.network_address
            routes.append(Route(e.dst, via=gw, dev=v.dev, onlink=True, owner=e.owner))
            neighbors.append(Neighbor(gw, e.inner_dst_mac, v.dev, owner=e.owner))
            fdb.append(FdbEntry(e.inner_dst_mac, v.dev, e.outer_dst, owner=e.owner))
    else:
        space.emulates = "windows (uplink only)"
        for n in facts.hns_networks:
            bp.notes.append(f"{where}: HNS {n.type} network {n.name} left out: no faithful Linux equivalent")
        if not facts.hns_networks:
            bp.notes.append(f"{where}: no HNS network in the model; only the uplink is realised")


def _pods(bp: Blueprint, space: Space, facts: NodeFacts, node: NodeSpec, realised: list[Device]) -> list[Space]:
    """Up to ``pods_per_node`` pods of the node, each on the node's bridge holding its subnet or, for a routed
    pod, on its own veth (registered in ``space`` with its sysctls); returns their namespaces."""
    alloc = bp.cluster.allocation.nodes[node.name]
    gateway = alloc.range.gateway if alloc.range is not None else None
    bridges = [b for b in bp.bridges if b.ns == space.name]
    endpoints = {e.pod: e for e in facts.hns_endpoints if e.pod}
    veths = {d.name: d for d in facts.devices if routed(d)}
    ports = {r.dst.network_address: veths[r.dev] for r in facts.routes if r.dst.prefixlen == 32 and r.dev in veths}
    out: list[Space] = []
    for a in bp.cluster.allocation.pods_on(node.name):
        if len(out) >= bp.pods_per_node:
            break
        if a.pod.host_network:
            continue
        key = a.pod.key
        where = f"pod {key} on {node.name}"
        down = bp.cluster.allocation.not_running.get(key)
        if down is not None:  # its sandbox holds the address, but nothing in it runs to answer a probe
            bp.notes.append(f"{where}: left out: it never runs ({down.code})")
            continue
        if facts.os == "windows" and key not in endpoints:
            bp.notes.append(f"{where}: left out: the model gives it no HNS endpoint (its CNI ADD fails)")
            continue
        ns = bp.names.pod(key)
        pod_space = Space(ns, "pod", node=node.name, pod=key, emulates="pod", devices={"eth0": "eth0"})
        port = ports.get(a.ip)
        hit = next(((b, i) for b in bridges for i in b.addresses if a.ip in i.network), None)
        if port is not None and gateway is not None:
            # A routed pod: eth0 holds the pod address alone; its gateway is reached on the link (proxy ARP).
            host_end = kernel_name(port.name)
            space.devices[port.name] = host_end
            realised.append(port)
            space.link_sysctls.update((_sysctl_path(k, port.name, host_end), v) for k, v in port.sysctls)
            bp.veths.append(Veth(End(ns, "eth0", port.mtu, (IPv4Interface(f"{a.ip}/32"),)),
                                 End(space.name, host_end, port.mtu, mac=port.mac)))
            pod_space.routes = [Route(IPv4Network(f"{gateway}/32"), dev="eth0", scope="link", kind="host",
                                      owner="cni"),
                                Route(DEFAULT, via=gateway, dev="eth0", kind="default", owner="cni")]
        elif hit is not None and gateway is not None:
            bridge, iface = hit
            mac = endpoints[key].mac if key in endpoints else None
            bp.veths.append(Veth(End(ns, "eth0", bridge.mtu, (IPv4Interface(f"{a.ip}/{iface.network.prefixlen}"),),
                                     mac.replace("-", ":").lower() if mac else None),
                                 End(space.name, bp.names.pod_veth(key), bridge.mtu, master=bridge.name)))
            pod_space.routes = [Route(DEFAULT, via=gateway, dev="eth0", kind="default", owner="cni")]
        else:
            bp.notes.append(f"{where}: left out: no bridge on the node holds its subnet (netns up attaches pods to "
                            "a bridge, or to their own veth when the plugin routes them)")
            continue
        out.append(pod_space)
        bp.pods[key] = RealPod(key, node.name, ns, a.ip, gateway)
    return out
