"""Connection sets: which protocols and destination ports a connection may use.

A set holds an inclusive interval list per port protocol (TCP, UDP, SCTP over ports 1-65535) and one over
the IP protocol numbers that have no ports (ICMP = 1, GRE = 47 …; 6, 17 and 132 are never in it). Sets are
immutable, hashable values, so they can be interned and compared cheaply.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

Intervals = tuple[tuple[int, int], ...]

PORT_PROTOCOLS = ("TCP", "UDP", "SCTP")
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "SCTP": 132, "ICMP": 1, "ICMPv6": 58, "UDPLite": 136}
OTHER_NAMES = {1: "ICMP", 58: "ICMPv6", 136: "UDPLite"}
PORTS_ALL: Intervals = ((1, 65535),)
OTHER_ALL: Intervals = ((0, 5), (7, 16), (18, 131), (133, 255))  # IP protocols without ports


def _norm(ivs: list[tuple[int, int]]) -> Intervals:
    """Sorted, merged (adjacent ranges join) intervals."""
    if not ivs:
        return ()
    ivs.sort()
    out = [ivs[0]]
    for lo, hi in ivs[1:]:
        plo, phi = out[-1]
        if lo <= phi + 1:
            if hi > phi:
                out[-1] = (plo, hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def union(a: Intervals, b: Intervals) -> Intervals:
    if not a:
        return b
    if not b or a == b:
        return a
    return _norm(list(a) + list(b))


def intersect(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return ()
    if a == b:
        return a
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return a
    out = []
    for lo, hi in a:
        cur = lo
        for blo, bhi in b:
            if bhi < cur or blo > hi:
                continue
            if blo > cur:
                out.append((cur, blo - 1))
            cur = max(cur, bhi + 1)
            if cur > hi:
                break
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def _ranges_text(ivs: Intervals) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ivs)


@dataclass(frozen=True, slots=True)
class ConnSet:
    """Allowed (or matched) connections: port intervals per port protocol, and other IP protocols."""

    tcp: Intervals = ()
    udp: Intervals = ()
    sctp: Intervals = ()
    other: Intervals = ()

    ALL: ClassVar[ConnSet]
    NONE: ClassVar[ConnSet]

    @staticmethod
    def ports(protocol: str, lo: int = 1, hi: int = 65535) -> ConnSet:
        """Ports ``lo``-``hi`` (inclusive) of TCP, UDP or SCTP."""
        iv = ((lo, hi),)
        return ConnSet(tcp=iv) if protocol == "TCP" else ConnSet(udp=iv) if protocol == "UDP" else ConnSet(sctp=iv)

    @staticmethod
    def protocol(number: int) -> ConnSet:
        """Every connection of one IP protocol (by number: 6 is all of TCP, 1 is ICMP)."""
        if number == 6:
            return ConnSet(tcp=PORTS_ALL)
        if number == 17:
            return ConnSet(udp=PORTS_ALL)
        if number == 132:
            return ConnSet(sctp=PORTS_ALL)
        return ConnSet(other=((number, number),))

    def __bool__(self) -> bool:
        return bool(self.tcp or self.udp or self.sctp or self.other)

    def __or__(self, o: ConnSet) -> ConnSet:
        return ConnSet(union(self.tcp, o.tcp), union(self.udp, o.udp), union(self.sctp, o.sctp),
                       union(self.other, o.other))

    def __and__(self, o: ConnSet) -> ConnSet:
        return ConnSet(intersect(self.tcp, o.tcp), intersect(self.udp, o.udp), intersect(self.sctp, o.sctp),
                       intersect(self.other, o.other))

    def __sub__(self, o: ConnSet) -> ConnSet:
        return ConnSet(subtract(self.tcp, o.tcp), subtract(self.udp, o.udp), subtract(self.sctp, o.sctp),
                       subtract(self.other, o.other))

    @property
    def is_all(self) -> bool:
        return self == ConnSet.ALL

    def intervals(self, protocol: str) -> Intervals:
        return {"TCP": self.tcp, "UDP": self.udp, "SCTP": self.sctp}[protocol]

    def allows(self, protocol: str | int, port: int | None = None) -> bool:
        """Whether one connection is in the set: ``allows("TCP", 80)``, ``allows(1)`` (ICMP)."""
        if isinstance(protocol, str) and protocol in PORT_PROTOCOLS:
            ivs = self.intervals(protocol)
            if port is None:
                return ivs == PORTS_ALL
            return any(lo <= port <= hi for lo, hi in ivs)
        number = protocol if isinstance(protocol, int) else PROTOCOL_NUMBERS[protocol]
        if number in (6, 17, 132):
            return self.allows({6: "TCP", 17: "UDP", 132: "SCTP"}[number], port)
        return any(lo <= number <= hi for lo, hi in self.other)

    def text(self) -> str:
        """netpol-analyzer's shape: ``TCP 80,443-450;UDP 53``, ``All Connections`` or ``No Connections``."""
        return _text(self)

    def _text(self) -> str:
        if self.is_all:
            return "All Connections"
        if not self:
            return "No Connections"
        parts = [f"{name} {_ranges_text(ivs)}" for name, ivs in
                 (("TCP", self.tcp), ("UDP", self.udp), ("SCTP", self.sctp)) if ivs]
        if self.other:
            parts.append(other_text(self.other))
        return ";".join(parts)

    def to_json(self) -> dict[str, object]:
        """``{"ports": {"TCP": [[lo, hi]], ...}, "other": bool}`` plus ``other_protocols`` when only some are."""
        out: dict[str, object] = {
            "ports": {"TCP": [list(i) for i in self.tcp], "UDP": [list(i) for i in self.udp],
                      "SCTP": [list(i) for i in self.sctp]},
            "other": self.other == OTHER_ALL,
        }
        if self.other and self.other != OTHER_ALL:
            out["other_protocols"] = [list(i) for i in self.other]
        return out


def other_text(other: Intervals) -> str:
    """Protocols without ports, by name where they have one: ``ICMP``, ``proto 47``, ``other protocols``."""
    if other == OTHER_ALL:
        return "other protocols"
    names = []
    for lo, hi in other:
        for n in range(lo, hi + 1) if hi - lo < 4 else ():
            names.append(OTHER_NAMES.get(n, f"proto {n}"))
        if hi - lo >= 4:
            names.append(f"proto {lo}-{hi}")
    return ",".join(names)


ConnSet.ALL = ConnSet(PORTS_ALL, PORTS_ALL, PORTS_ALL, OTHER_ALL)
_text = functools.lru_cache(maxsize=4096)(ConnSet._text)  # listings print few distinct sets, many times
ConnSet.NONE = ConnSet()


def parse_port_spec(text: str) -> tuple[str, int]:
    """``80`` or ``80/UDP`` → (protocol, port); ValueError with a readable message otherwise."""
    port_s, _, proto = text.partition("/")
    proto = (proto or "TCP").upper()
    if proto not in PORT_PROTOCOLS:
        raise ValueError(f"unknown protocol {proto!r} in {text!r}; use TCP, UDP or SCTP")
    if not port_s.isdigit() or not 1 <= int(port_s) <= 65535:
        raise ValueError(f"{port_s!r} is not a port number from 1 to 65535")
    return proto, int(port_s)
