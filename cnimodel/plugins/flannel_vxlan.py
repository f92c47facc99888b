"""flannel's vxlan backend on Linux: the ``flannel.<VNI>`` VTEP and, per remote lease, one onlink route,
one permanent neighbour and one FDB entry — or, with DirectRouting, a host-gw route to peers on the same
underlay subnet (cni-plugins.md §3.7).

Also the pieces both OSes share: the lease's ``backend-data`` annotation, stable VTEP MACs, and the
``Encap`` fact of one hop. The model does not ask the kernel anything: the VTEP MAC flanneld picks at
random is replaced by a stable locally administered MAC derived from the node name, unless the node's
``flannel.alpha.coreos.com/backend-data`` annotation gives the real one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from cnimodel.bulk import bulk
from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device, Encap, FdbEntry, Neighbor, NodeFacts, Route, Vtep
from cnimodel.net import PrefixTable
from cnimodel.plan import NodeSpec, Plan, Problems
from cnimodel.plugins import _linux
from cnimodel.plugins._values import like

ANNOTATION = "flannel.alpha.coreos.com/backend-data"
DEFAULT_VNI = 1
KERNEL_DEFAULT_PORT = 8472  # the kernel's vxlan dstport when none is given (flannel Port 0 / unset)
OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
# The kernel picks the outer UDP source port with udp_flow_src_port(): a hash of the inner flow scaled into
# net.ipv4.ip_local_port_range, whose default is 32768–60999.
LINUX_SRC_PORTS = (32768, 60999)

VtepOf = Callable[[str], "Vtep | None"]
# What a Linux node puts on the pod side of its lease: devices and routes, given the lease and FLANNEL_MTU
# (default: the bridge CNI's cni0 at FLANNEL_MTU, as the flannel CNI meta-plugin hands it).
PodSide = Callable[[IPv4Network, int], tuple[list[Device], list[Route]]]

_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$")
_DOTTED_RE = re.compile(r"^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$")


def parse_mac(text: str) -> str | None:
    """A 6-byte MAC in any form Go's ``net.ParseMAC`` reads, as ``aa:bb:cc:dd:ee:ff``; None if invalid."""
    if _MAC_RE.match(text):
        return text.replace("-", ":").lower()
    if _DOTTED_RE.match(text):
        h = text.replace(".", "").lower()
        return ":".join(h[i:i + 2] for i in range(0, 12, 2))
    return None


def derived_mac(name: str, oui: bytes | None = None) -> str:
    """A stable MAC for ``name``: locally administered unicast (first byte ``&0xfe|0x02``, as flannel's
    random ones are), or the given 3-byte OUI followed by three hash bytes."""
    digest = hashlib.sha256(name.encode()).digest()
    raw = (oui + digest[:3]) if oui else bytes([(digest[0] & 0xFE) | 0x02]) + digest[1:6]
    return raw.hex(":")


@dataclass(frozen=True)
class BackendData:
    """What a node's ``backend-data`` annotation says: the lease's VNI and VTEP MAC."""

    vni: int | None
    mac: str | None


def read_backend_data(plan: Plan, problems: Problems) -> dict[str, BackendData]:
    """The ``backend-data`` annotation of every node that has one, checked; bad ones are reported."""
    out: dict[str, BackendData] = {}
    for node in plan.nodes:
        raw = node.annotations.get(ANNOTATION) if node.annotations else None
        if raw is None:
            continue
        at = node.origin.at(f"annotations[{ANNOTATION!r}]")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            problems.error(at, f"is not JSON: {e.msg}", 'write it as {"VNI": 4096, "VtepMAC": "aa:bb:cc:dd:ee:ff"}')
            continue
        if not isinstance(data, dict):
            problems.error(at, "expected a JSON object", 'write it as {"VNI": 1, "VtepMAC": "…"}')
            continue
        vni = data.get("VNI")
        if vni is not None and (isinstance(vni, bool) or not isinstance(vni, int) or not 0 <= vni <= 65535):
            problems.error(at, f"VNI {vni!r} is not a number flannel can publish (a uint16)",
                           "use the VNI from net-conf.json, e.g. 1 or 4096")
            vni = None
        mac = data.get("VtepMAC")
        parsed = parse_mac(mac) if isinstance(mac, str) else None
        if mac is not None and parsed is None:
            problems.error(at, f"VtepMAC {mac!r} is not a MAC address", "write it like 5a:1f:3c:00:12:9e")
        out[node.name] = BackendData(vni, parsed)
    return out


def linux_vtep(plan: Plan, node: NodeSpec, vni: int | None, port: int | None, direct_routing: bool,
               data: BackendData | None, owner: str = "flannel", mtu: int | None = None) -> Vtep:
    """The Linux VTEP ``flannel.<VNI>``: VNI default 1, port 0/unset → the kernel's 8472, MTU = Backend.MTU
    (``mtu``; default the uplink's) − 50, which is also FLANNEL_MTU."""
    uplink = plan.underlay.subnet(node.subnet).mtu
    vni = DEFAULT_VNI if vni is None else vni
    mac = data.mac if data and data.mac else None
    return Vtep(node.name, "linux", f"flannel.{vni}", vni, port or KERNEL_DEFAULT_PORT,
                mac or derived_mac(node.name), node.ip, (mtu or uplink) - OVERHEAD, uplink,
                mac_source="annotation" if mac else "derived", direct_routing=direct_routing, owner=owner,
                src_port_range=LINUX_SRC_PORTS)


PeerEntry = tuple[NodeSpec, Vtep, IPv4Network, Route, Neighbor, FdbEntry]


def _peer_entries(cluster: Cluster, me: Vtep, vtep_of: VtepOf) -> tuple[list[PeerEntry], list[str]]:
    """Every up peer's lease, route, neighbour and FDB entry on device ``me.dev`` (built once, shared by
    all nodes with that device), and the peers that publish no lease."""
    def build() -> tuple[list[PeerEntry], list[str]]:
        out: list[PeerEntry] = []
        down: list[str] = []
        alloc = cluster.allocation.nodes
        route = neigh = entry = None  # templates: the entries of all peers differ in two fields each
        for peer in cluster.plan.nodes:
            cidr = alloc[peer.name].pod_cidr
            if cidr is None:
                continue
            pv = vtep_of(peer.name)
            if pv is None or not pv.up:
                down.append(peer.name)
                continue
            gw = cidr.network_address
            if route is None or neigh is None or entry is None:
                route = Route(cidr, via=gw, dev=me.dev, onlink=True, kind="pod-route", owner=me.owner)
                neigh = Neighbor(gw, pv.mac, me.dev, owner=me.owner)
                entry = FdbEntry(pv.mac, me.dev, pv.local, owner=me.owner)
            out.append((peer, pv, cidr, like(route, "dst", cidr, "via", gw), like(neigh, "ip", gw, "mac", pv.mac),
                        like(entry, "mac", pv.mac, "dst", pv.local)))
        return out, down

    return cluster.memo(("vxlan-peers", me.dev, me.owner), build)


def prefix_index(cidrs: Iterable[IPv4Network]) -> PrefixTable[list[int]]:
    """Positions of ``cidrs`` by prefix, for finding the few peers that hold one address (every position of a
    prefix, not only the first: the caller skips the node itself)."""
    return PrefixTable.positions(cidrs)


def candidates(index: PrefixTable[list[int]], dst: IPv4Address) -> Iterator[int]:
    """Positions of the entries whose prefix holds ``dst``: longest prefix first, in entry order within one
    (so the first one a caller accepts is the one a longest-prefix match over the node's table finds)."""
    for _, positions in index.matches(dst):
        yield from positions


def _peer_index(cluster: Cluster, me: Vtep, vtep_of: VtepOf) -> PrefixTable[list[int]]:
    return cluster.memo(("vxlan-peer-index", me.dev, me.owner),
                        lambda: prefix_index(e[2] for e in _peer_entries(cluster, me, vtep_of)[0]))


def prepare(cluster: Cluster, vtep_of: VtepOf) -> None:
    """Build the peer entries (and their index) the Linux VTEPs share, once, while the cluster is built:
    work that would otherwise fall on the first node asked (tools/bench_foundation.py)."""
    seen: set[tuple[str, str]] = set()
    for node in cluster.plan.nodes:
        me = vtep_of(node.name) if node.os == "linux" else None
        if me is not None and me.up and (me.dev, me.owner) not in seen:
            seen.add((me.dev, me.owner))
            _peer_index(cluster, me, vtep_of)


def linux_peer(cluster: Cluster, node: NodeSpec, vtep_of: VtepOf, dst: IPv4Address,
               encap: bool) -> Route | Encap | None:
    """What ``linux_facts`` holds for ``dst`` among its per-peer entries, without building them all: the
    first peer route with the longest prefix holding ``dst`` (``encap=False``), or that of its Encap facts."""
    me = vtep_of(node.name)
    if me is None or not me.up:
        return None
    entries = _peer_entries(cluster, me, vtep_of)[0]
    subnet, direct = node.subnet, me.direct_routing
    for i in candidates(_peer_index(cluster, me, vtep_of), dst):
        peer, pv, peer_cidr, route, _, _ = entries[i]
        if peer.name == node.name:
            continue
        if direct and peer.subnet == subnet:
            if encap:
                continue
            return _linux.gateway_route(peer_cidr, peer.ip, node.ext_interface, me.owner)
        if not encap:
            return route
        hop = peer.ip if peer.subnet == subnet else cluster.plan.underlay.subnet(subnet).gateway
        return Encap(me, pv, peer_cidr, hop, me.vni)
    return None


def linux_facts(cluster: Cluster, node: NodeSpec, vtep_of: VtepOf, masq_network: IPv4Network | None = None,
                bridge_owner: str = "bridge", peers: bool = True, pod_side: PodSide | None = None,
                notes: tuple[str, ...] = ()) -> NodeFacts:
    """A Linux node on flannel vxlan: uplink, the pod side (``pod_side``; default cni0 at the flannel MTU),
    ``flannel.<VNI>`` and its entries, and flanneld's ``--ip-masq`` chain for ``masq_network`` (flannel's
    Network) when given; ``notes`` come first among the node's notes.

    ``peers=False``: the same without the per-peer routes, neighbours, FDB entries, Encaps and the notes
    about peers (``linux_peer`` answers for one destination)."""
    if not peers:
        return _linux_facts(cluster, node, vtep_of, masq_network, bridge_owner, False, pod_side, notes)
    # thousands of acyclic values per node, cached with the cluster: no cyclic GC passes while building them,
    # and frozen after, so later collections do not walk them either
    with bulk(freeze=True):
        return _linux_facts(cluster, node, vtep_of, masq_network, bridge_owner, True, pod_side, notes)


def _linux_facts(cluster: Cluster, node: NodeSpec, vtep_of: VtepOf, masq_network: IPv4Network | None,
                 bridge_owner: str, peers: bool, pod_side: PodSide | None, given: tuple[str, ...]) -> NodeFacts:
    me = vtep_of(node.name)
    assert me is not None
    _, uplink, table = _linux.uplink(cluster.plan, node)
    devices = [uplink]
    cidr = cluster.allocation.nodes[node.name].pod_cidr
    if cidr is not None and pod_side is not None:
        more, routes = pod_side(cidr, me.mtu)
        devices += more
        table += routes
    elif cidr is not None:
        # The flannel CNI hands the bridge FLANNEL_MTU (Backend.MTU or uplink, − 50): cni0 and pods carry it.
        bridge, connected = _linux.pod_bridge("cni0", cidr, me.mtu, owner=bridge_owner)
        devices.append(bridge)
        table.append(connected)
    nat = _linux.flannel_masq_rules(masq_network, cidr) if masq_network is not None else ()
    if not me.up:
        return NodeFacts(node.name, "linux", tuple(devices), tuple(table), vteps=(me,), nat=nat,
                         notes=(*given, f"flanneld does not start: {me.reason}"))
    addr = (IPv4Interface(f"{cidr.network_address}/32"),) if cidr is not None else ()
    devices.append(Device(me.dev, "vxlan", addr, me.mtu, me.mac, owner=me.owner, vni=me.vni, port=me.port,
                          local=node.ip, underlay_dev=uplink.name))
    if not peers:
        return NodeFacts(node.name, "linux", tuple(devices), tuple(table), nat=nat, vteps=(me,), notes=given)
    entries, down = _peer_entries(cluster, me, vtep_of)
    neighbors: list[Neighbor] = []
    fdb: list[FdbEntry] = []
    encaps: list[Encap] = []
    direct_windows: list[str] = []
    subnet, gateway, direct = node.subnet, cluster.plan.underlay.subnet(node.subnet).gateway, me.direct_routing
    for peer, pv, peer_cidr, route, neigh, entry in entries:
        if peer.name == node.name:
            continue
        if direct and peer.subnet == subnet:
            # DirectRouting: the peer is on-link, so flannel installs the host-gw route and no VXLAN entries.
            table.append(_linux.gateway_route(peer_cidr, peer.ip, uplink.name, me.owner))
            if peer.os == "windows":
                direct_windows.append(peer.name)
            continue
        table.append(route)
        neighbors.append(neigh)
        fdb.append(entry)
        # the outer frame goes to the peer on this subnet, else to the subnet's gateway
        hop = peer.ip if peer.subnet == subnet else gateway
        encaps.append(Encap(me, pv, peer_cidr, hop, me.vni))
    notes = [*given, *mismatch_notes(me, encaps), *down_notes(node.name, down)]
    if direct_windows:
        notes.append(f"DirectRouting sends plain routed packets to the pods of {names_phrase(direct_windows)}; flannel "
                     "does not support DirectRouting on Windows, whose Overlay network expects VXLAN")
    return NodeFacts(node.name, "linux", tuple(devices), tuple(table), tuple(neighbors), tuple(fdb),
                     notes=tuple(notes), nat=nat, vteps=(me,), encaps=tuple(encaps))


def add_failure(me: Vtep) -> str | None:
    """Why the flannel CNI fails every pod ADD on the node: flanneld refuses its config, so it never writes the
    subnet.env the plugin reads on each ADD (flannel-io/cni-plugin flannel.go, loadFlannelSubnetEnv); None
    while flanneld runs."""
    if me.up:
        return None
    return (f"flanneld does not start ({me.reason}), so there is no subnet.env for the flannel CNI plugin, "
            "which reads it on every ADD")


def names_phrase(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return f"{len(names)} node(s) ({shown}{' …' if len(names) > limit else ''})"


def mismatch_notes(me: Vtep, encaps: list[Encap]) -> list[str]:
    """One note per kind of broken hop: what this node sends and what the receivers accept."""
    groups: dict[tuple[int, int, int, int], list[str]] = {}
    port = me.port
    for e in encaps:
        r = e.remote
        if e.vni != r.vni or port != r.port:
            groups.setdefault((e.vni, port, r.vni, r.port), []).append(r.node)
    return [f"VXLAN to {names_phrase(peers)} is dropped at the receiver: {me.node} sends VNI {vni} to UDP {port}, "
            f"they accept VNI {pvni} on UDP {pport} (every node needs one VNI and one port)"
            for (vni, port, pvni, pport), peers in groups.items()]


def down_notes(node: str, down: list[str]) -> list[str]:
    down = [n for n in down if n != node]
    if not down:
        return []
    return [f"nothing for the pods of {names_phrase(down)}: flanneld there refuses its config, so they publish no "
            "lease"]

