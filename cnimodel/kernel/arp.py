"""Room in the kernel's ARP table for the probes' packets.

The kernel keeps one IPv4 neighbour table for every namespace, and the host's ``gc_thresh3`` caps its
collectable entries; an entry younger than 5 s is never collected, so past the cap new neighbours — and
the packets waiting for them — are dropped. Probes therefore go in waves that fit the room left, and after
each wave the entries it made ARP learn are deleted again (only those: permanent entries stay, and nothing
is dumped, since a dump walks the whole shared table). The host's sysctls are never changed.
"""

from __future__ import annotations

import errno
from collections import defaultdict
from ipaddress import IPv4Address

from cnimodel.kernel import rtnl
from cnimodel.kernel.blueprint import Blueprint, RealPod

Pair = tuple[RealPod, RealPod]


def room(permanent: int = 0) -> int:
    """How many more neighbour entries fit (90% of ``gc_thresh3``, less the collectable entries there are).
    Permanent entries do not count against the cap (Linux ≥ 5.0) but are in the table's count: ``permanent``
    says how many of them are ours."""
    try:
        with open("/proc/sys/net/ipv4/neigh/default/gc_thresh3") as f:
            cap = int(f.read())
        with open("/proc/net/stat/arp_cache") as f:
            f.readline()
            entries = int(f.readline().split()[0], 16)
    except (OSError, ValueError, IndexError):
        return 1 << 30
    return cap * 9 // 10 - max(0, entries - permanent)


def needs(a: RealPod, b: RealPod) -> set[tuple[str, ...]]:
    """The neighbour entries a pair's packets and replies may create (an upper bound): each pod's gateway,
    each node's entry for its pod, and between nodes the peer or the router both ways."""
    need = {("gw", a.key), ("gw", b.key), ("pod", a.key), ("pod", b.key)}
    if a.node != b.node:
        need |= {("peer", a.node, b.node), ("peer", b.node, a.node), ("router", a.node), ("router", b.node),
                 ("gateway", a.node), ("gateway", b.node)}
    return need


def waves(pairs: list[Pair], space: int) -> list[list[Pair]]:
    """Pairs split so that no wave needs more neighbour entries than ``space``."""
    out: list[list[Pair]] = []
    cur: list[Pair] = []
    need: set[tuple[str, ...]] = set()
    for pair in pairs:
        n = needs(*pair)
        if cur and len(need | n) > space:
            out.append(cur)
            cur, need = [], set()
        cur.append(pair)
        need |= n
    if cur:
        out.append(cur)
    return out


class Forget:
    """Deletes the neighbours a wave of pairs may have made ARP learn, by namespace, device and address."""

    def __init__(self, bp: Blueprint) -> None:
        self.bp = bp
        self.uplink: dict[str, tuple[str, str, str]] = {}  # node → (node ns, uplink, underlay bridge)
        self.bridge: dict[str, str] = {}  # pod → the node's device facing it (its bridge or its veth)
        for v in bp.veths:
            if v.b.ns == bp.names.underlay and v.b.master:
                node = next(s.node for s in bp.spaces if s.name == v.a.ns and s.node)
                self.uplink[node] = (v.a.ns, v.a.name, v.b.master)
            elif v.a.name == "eth0":  # the node learns the pod on its bridge, or on a routed pod's own veth
                self.bridge[v.a.ns] = v.b.master or v.b.name
        self.permanent = {(s.name, n.dev, n.ip) for s in bp.spaces for n in s.neighbors}
        self.indexes: dict[str, dict[str, int]] = {}

    def _entries(self, group: list[Pair]) -> dict[str, set[tuple[str, IPv4Address]]]:
        plan = self.bp.cluster.plan
        out: dict[str, set[tuple[str, IPv4Address]]] = defaultdict(set)
        for a, b in group:
            for me, other in ((a, b), (b, a)):
                out[me.ns].add(("eth0", me.gateway))
                node_ns, up, port_bridge = self.uplink.get(me.node, ("", "", ""))
                if me.ns in self.bridge and node_ns:
                    out[node_ns].add((self.bridge[me.ns], me.ip))
                if me.node == other.node or not node_ns:
                    continue
                mine, theirs = plan.node(me.node), plan.node(other.node)
                out[node_ns] |= {(up, theirs.ip), (up, plan.underlay.subnet(mine.subnet).gateway)}
                out[self.bp.names.underlay].add((port_bridge, mine.ip))
        return out

    def after(self, group: list[Pair]) -> None:
        for ns, entries in self._entries(group).items():
            with rtnl.Rtnl(ns) as nl:
                index = self.indexes.get(ns)
                if index is None:
                    index = self.indexes[ns] = {name: i for i, name in nl.links().items()}
                reqs = [rtnl.del_neighbor(index[dev], ip, f"{ip} dev {dev}") for dev, ip in sorted(entries)
                        if dev in index and (ns, dev, ip) not in self.permanent]
                for answer in nl.run(reqs):  # an entry ARP never made is not there: fine
                    if answer.error not in (0, errno.ENOENT):
                        raise OSError(answer.error, f"{ns}: forget neighbour {answer.request.what}: "
                                      f"{answer.message}")
