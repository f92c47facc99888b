"""Batched rtnetlink: many requests in one ``sendmsg``, their answers read back by sequence number.

pyroute2 sends one request and waits for its answer; at a millisecond or more each, the N² routes of a
host-gw cluster and the route checks of ``verify`` would take minutes. The few messages needed here (set a
link, add an address, route, neighbour or FDB entry, get a route) are plain structs (linux/rtnetlink.h,
linux/if_link.h, linux/neighbour.h), so they are packed directly and sent in batches of a few hundred; the
kernel handles the messages of a batch in order and acknowledges each one.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from cnimodel.kernel import nsutil

NETLINK_ROUTE = 0
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_GETROUTE = 16, 18, 20, 24, 26
RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH = 28, 29, 30
NLM_F_DUMP = 0x300
IFLA_IFNAME = 3
IFLA_ADDRESS, IFLA_MTU, IFLA_MASTER = 1, 4, 10
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PREFSRC, RTA_TABLE = 1, 4, 5, 7, 15
NDA_DST, NDA_LLADDR = 1, 2
IFF_UP = 0x1
AF_INET, AF_BRIDGE = 2, 7
NTF_SELF = 0x02
RTM_F_FIB_MATCH = 0x2000
RTNH_F_ONLINK = 4
RT_TABLE_MAIN = 254
_HDR = struct.Struct("=IHHII")
CHUNK = 256  # messages per sendmsg: their acks (≤ 36 bytes + echoed header) fit any receive buffer


def _attr(kind: int, data: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def _ip(a: IPv4Address | str) -> bytes:
    return IPv4Address(a).packed


def _mac(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", "").replace("-", ""))


@dataclass(frozen=True)
class Request:
    """One message and what it is for (named in errors)."""

    type: int
    flags: int
    body: bytes
    what: str


def set_link(index: int, what: str, mtu: int | None = None, mac: str | None = None, master: int | None = None,
             up: bool = True) -> Request:
    attrs = b""
    if mtu is not None:
        attrs += _attr(IFLA_MTU, struct.pack("=I", mtu))
    if mac:
        attrs += _attr(IFLA_ADDRESS, _mac(mac))
    if master is not None:
        attrs += _attr(IFLA_MASTER, struct.pack("=I", master))
    body = struct.pack("=BxHiII", 0, 0, index, IFF_UP if up else 0, IFF_UP) + attrs
    return Request(RTM_NEWLINK, NLM_F_ACK, body, what)


def add_address(index: int, ip: IPv4Address, prefixlen: int, what: str) -> Request:
    body = struct.pack("=BBBBI", AF_INET, prefixlen, 0, 0, index)
    body += _attr(IFA_LOCAL, _ip(ip)) + _attr(IFA_ADDRESS, _ip(ip))
    return Request(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, what)


def add_route(dst: IPv4Network, what: str, *, via: IPv4Address | None = None, oif: int | None = None,
              proto: int = 3, scope: int = 0, type_: int = 1, onlink: bool = False,
              src: IPv4Address | None = None) -> Request:
    body = struct.pack("=BBBBBBBBI", AF_INET, dst.prefixlen, 0, 0, RT_TABLE_MAIN, proto, scope, type_,
                       RTNH_F_ONLINK if onlink else 0)
    body += _attr(RTA_TABLE, struct.pack("=I", RT_TABLE_MAIN))
    if dst.prefixlen:
        body += _attr(RTA_DST, dst.network_address.packed)
    if via is not None:
        body += _attr(RTA_GATEWAY, via.packed)
    if oif is not None:
        body += _attr(RTA_OIF, struct.pack("=I", oif))
    if src is not None:
        body += _attr(RTA_PREFSRC, src.packed)
    return Request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, what)


def add_neighbor(index: int, ip: IPv4Address, mac: str, what: str, state: int = 0x80) -> Request:
    body = struct.pack("=BxxxiHBB", AF_INET, index, state, 0, 0)
    body += _attr(NDA_DST, _ip(ip)) + _attr(NDA_LLADDR, _mac(mac))
    return Request(RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, what)


def add_fdb(index: int, mac: str, dst: IPv4Address, what: str, state: int = 0x80) -> Request:
    """``bridge fdb add MAC dev VXLAN dst IP self permanent``."""
    body = struct.pack("=BxxxiHBB", AF_BRIDGE, index, state, NTF_SELF, 0) + _attr(NDA_LLADDR, _mac(mac))
    body += _attr(NDA_DST, _ip(dst))
    return Request(RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, what)


def del_neighbor(index: int, ip: IPv4Address, what: str) -> Request:
    body = struct.pack("=BxxxiHBB", AF_INET, index, 0, 0, 0) + _attr(NDA_DST, _ip(ip))
    return Request(RTM_DELNEIGH, NLM_F_ACK, body, what)


def get_route(dst: IPv4Address) -> Request:
    """``ip route get DST fibmatch``: the answer is the matched table entry."""
    body = struct.pack("=BBBBBBBBI", AF_INET, 32, 0, 0, 0, 0, 0, 0, RTM_F_FIB_MATCH) + _attr(RTA_DST, dst.packed)
    return Request(RTM_GETROUTE, 0, body, str(dst))


@dataclass(frozen=True)
class Answer:
    """What came back for one request: ``error`` 0 (done), an errno, and for a get the route's fields."""

    request: Request
    error: int = 0
    dst_len: int = 0
    type: int = 0
    flags: int = 0
    attrs: tuple[tuple[int, bytes], ...] = ()

    def attr(self, kind: int) -> bytes | None:
        return next((v for k, v in self.attrs if k == kind), None)

    @property
    def message(self) -> str:
        return os.strerror(self.error) if self.error else "ok"


def _attrs(data: bytes) -> tuple[tuple[int, bytes], ...]:
    out, i = [], 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, i)
        if length < 4:
            break
        out.append((kind & 0x3FFF, data[i + 4:i + length]))
        i += (length + 3) & ~3
    return tuple(out)


class Rtnl:
    """A raw rtnetlink socket inside one namespace."""

    def __init__(self, ns: str | None) -> None:
        if ns is None:
            self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        else:
            self.sock = nsutil.open_socket(ns, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def run(self, requests: list[Request]) -> list[Answer]:
        """Send every request (in order, in chunks) and return one answer each, in the same order."""
        out: list[Answer] = []
        for i in range(0, len(requests), CHUNK):
            out += self._chunk(requests[i:i + CHUNK])
        return out

    def _chunk(self, requests: list[Request]) -> list[Answer]:
        base = self.seq + 1
        buf = bytearray()
        for r in requests:
            self.seq += 1
            buf += _HDR.pack(_HDR.size + len(r.body), r.type, NLM_F_REQUEST | r.flags, self.seq, 0) + r.body
        self.sock.sendall(bytes(buf))
        answers: dict[int, Answer] = {}
        while len(answers) < len(requests):
            data = self.sock.recv(1 << 20)
            i = 0
            while i + _HDR.size <= len(data):
                length, kind, _flags, seq, _pid = _HDR.unpack_from(data, i)
                body = data[i + _HDR.size:i + length]
                i += (length + 3) & ~3
                k = seq - base
                if not 0 <= k < len(requests) or kind == NLMSG_DONE:
                    continue
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", body)[0]
                    answers.setdefault(k, Answer(requests[k], code))
                elif kind == RTM_NEWROUTE and len(body) >= 12:
                    _fam, dst_len, _s, _t, _tb, _p, _sc, typ, flags = struct.unpack_from("=BBBBBBBBI", body)
                    answers[k] = Answer(requests[k], 0, dst_len, typ, flags, _attrs(body[12:]))
        return [answers[k] for k in range(len(requests))]


    def dump(self, kind: int, body: bytes) -> list[bytes]:
        """The bodies of every message a dump request answers."""
        self.seq += 1
        seq = self.seq
        self.sock.sendall(_HDR.pack(_HDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body)
        out: list[bytes] = []
        while True:
            data = self.sock.recv(1 << 20)
            i = 0
            while i + _HDR.size <= len(data):
                length, typ, _flags, mseq, _pid = _HDR.unpack_from(data, i)
                msg = data[i + _HDR.size:i + length]
                i += (length + 3) & ~3
                if mseq != seq:
                    continue
                if typ == NLMSG_DONE:
                    return out
                if typ == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", msg)[0]
                    if code:
                        raise OSError(code, os.strerror(code))
                    return out
                out.append(msg)

    def links(self) -> dict[int, str]:
        """Interface index → name (``ip link``)."""
        out = {}
        for body in self.dump(RTM_GETLINK, struct.pack("=BxHiII", 0, 0, 0, 0, 0)):
            index = struct.unpack_from("=i", body, 4)[0]
            name = next((v for k, v in _attrs(body[16:]) if k == IFLA_IFNAME), None)
            if name is not None:
                out[index] = name.rstrip(b"\0").decode()
        return out

    def neighbors(self) -> list[tuple[int, IPv4Address, int]]:
        """IPv4 neighbours as (ifindex, address, NUD state)."""
        out = []
        for body in self.dump(RTM_GETNEIGH, struct.pack("=BxxxiHBB", AF_INET, 0, 0, 0, 0)):
            index, state = struct.unpack_from("=iH", body, 4)
            dst = next((v for k, v in _attrs(body[12:]) if k == NDA_DST), None)
            if dst is not None and len(dst) == 4:
                out.append((index, IPv4Address(dst), state))
        return out


def check(answers: list[Answer], ns: str) -> None:
    """Raise on the first refused request, naming it (EEXIST included: every object is new)."""
    for a in answers:
        if a.error:
            raise OSError(a.error, f"{ns}: {a.request.what}: {a.message}")


__all__ = ["Answer", "Request", "Rtnl", "add_address", "add_fdb", "add_neighbor", "add_route", "check",
           "del_neighbor", "errno", "get_route", "set_link"]
