"""winkernel's ``findRemoteSubnetProviderAddress`` over one node's RemoteSubnetRoute policies, cheap on a large
overlay.

An overlay node holds one RemoteSubnetRoute per peer (5,000 at scale), and the nodes share the policy
objects (each holds every peer's but its own). Parsing and indexing them per node would repeat the same
work on every node (figures: tools/bench_foundation.py), so their prefixes are indexed once per cluster, by
policy object, and a node keeps only the positions of its own policies: an answer is the longest prefix
holding the address among the node's policies, the first of the node's policies when several have that
prefix (as a PrefixTable of the node's policies in order answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network
from itertools import compress, repeat
from operator import attrgetter, eq
from socket import inet_aton, inet_ntoa
from typing import TYPE_CHECKING

from cnimodel.dataplane import HnsPolicy
from cnimodel.services.model import ip_int

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

TYPE = attrgetter("type")


def _parse(prefix: str) -> tuple[int, int]:
    """(prefix length, network as an integer) of ``a.b.c.d/n``: a canonical prefix without IPv4Network (whose
    parser is slow over a large plan's routes), anything else through it (and its errors)."""
    addr, _, plen = prefix.partition("/")
    try:
        packed = inet_aton(addr)
        length = int(plen)
    except (OSError, ValueError):
        packed, length = b"", -1
    if 0 <= length <= 32 and plen == str(length) and inet_ntoa(packed) == addr:
        network = int.from_bytes(packed, "big")
        if not network & (0xFFFFFFFF >> length):  # host bits set: IPv4Network refuses it below
            return length, network
    net = IPv4Network(prefix)
    return net.prefixlen, int(net.network_address)


class _Shared:
    """Every RemoteSubnetRoute seen on the cluster's nodes: prefix length → network → policy ids, and
    provider address → policy ids. The policies are kept, so their ids stay theirs."""

    def __init__(self) -> None:
        self.keep: dict[int, HnsPolicy] = {}
        self.by_len: dict[int, dict[int, list[int]]] = {}
        self.lengths: list[int] = []
        self.by_pa: dict[str, list[int]] = {}
        self.pa_of: dict[int, str] = {}

    def add(self, policies: Sequence[HnsPolicy]) -> None:
        for p in policies:
            prefix, pa = p.settings.get("DestinationPrefix"), p.settings.get("ProviderAddress")
            self.keep[id(p)] = p
            if not (prefix and pa):
                continue
            length, network = _parse(str(prefix))
            self.by_len.setdefault(length, {}).setdefault(network, []).append(id(p))
            self.by_pa.setdefault(str(pa), []).append(id(p))
            self.pa_of[id(p)] = str(pa)
        self.lengths = sorted(self.by_len, reverse=True)


class ProviderAddresses:
    """The PA lookup of one node, from its network's policies (any type; only RemoteSubnetRoutes count)."""

    def __init__(self, cluster: Cluster, policies: Sequence[HnsPolicy]) -> None:
        # C-level passes only (map, compress, zip, key-set difference): a loop in Python costs several times more
        rsr = list(compress(policies, map(eq, map(TYPE, policies), repeat("RemoteSubnetRoute"))))
        self.shared: _Shared = cluster.memo(("winkernel-remote-subnets",), _Shared)
        # the node's own policies by position (the first when one is listed twice: filled from the end)
        self.pos = dict(zip(map(id, reversed(rsr)), range(len(rsr) - 1, -1, -1), strict=True))
        missing = self.pos.keys() - self.shared.keep.keys()
        if missing:
            self.shared.add([p for p in rsr if id(p) in missing])

    def lookup(self, ip: str) -> str | None:
        """``ip`` itself when some route's PA is ``ip`` (a node IP), else the PA of the route holding it."""
        s, pos = self.shared, self.pos
        if any(i in pos for i in s.by_pa.get(ip, ())):
            return ip
        if ":" in ip:
            return None
        a = ip_int(ip)
        for length in s.lengths:
            ids = s.by_len[length].get(a & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF))
            if ids:
                mine = [i for i in ids if i in pos]
                if mine:
                    return s.pa_of[min(mine, key=pos.__getitem__)]
        return None
