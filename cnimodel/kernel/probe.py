"""Real packets between pods in their namespaces: UDP echo, TCP connect and ICMP echo, all in one process.

Every socket is opened inside its pod's namespace and then driven from here, so a batch of probes runs in
parallel under one event loop: servers answer, clients wait for the answer until a deadline. UDP tells the
two directions apart (the server saw the datagram; the client got the echo); TCP and ICMP need both.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import struct
import time
from dataclasses import dataclass
from ipaddress import IPv4Address

from cnimodel.kernel import nsutil
from cnimodel.kernel.blueprint import RealPod

PROTOS = ("udp", "tcp", "icmp")
ICMP_ECHO, ICMP_ECHO_REPLY = 8, 0


@dataclass(frozen=True)
class Probe:
    id: int
    src: RealPod
    dst: RealPod
    proto: str
    port: int


@dataclass
class Outcome:
    """What happened to one probe: ``forward`` (the destination got it; None when the protocol cannot tell
    alone), ``reply`` (the source got the answer), the source address the destination saw, an errno name."""

    probe: Probe
    forward: bool | None = None
    reply: bool = False
    seen_src: IPv4Address | None = None
    error: str | None = None


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _echo(ident: int, seq: int) -> bytes:
    body = b"cnimodel-netns"
    head = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq)
    return struct.pack("!BBHHH", ICMP_ECHO, 0, _checksum(head + body), ident, seq) + body


def _errname(code: int) -> str:
    return errno.errorcode.get(code, str(code))


class _Batch:
    def __init__(self, probes: list[Probe], timeout: float) -> None:
        self.probes = probes
        self.timeout = timeout
        self.out = {p.id: Outcome(p, forward=False if p.proto == "udp" else None) for p in probes}
        self.sel = selectors.DefaultSelector()
        self.socks: list[socket.socket] = []
        self.by_client: dict[tuple[str, int], int] = {}  # TCP client (ip, port) → probe id
        self.pending = 0

    def _sock(self, ns: str, family: int, kind: int, proto: int = 0) -> socket.socket:
        s = nsutil.open_socket(ns, family, kind, proto)
        s.setblocking(False)
        self.socks.append(s)
        return s

    def run(self) -> list[Outcome]:
        try:
            self._servers()
            self._clients()
            deadline = time.monotonic() + self.timeout
            while self.pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                for key, _ in self.sel.select(left):
                    key.data(key.fileobj)
        finally:
            self.sel.close()
            for s in self.socks:
                s.close()
        return [self.out[p.id] for p in self.probes]

    def _servers(self) -> None:
        done: set[tuple[str, str, int]] = set()
        for p in self.probes:
            k = (p.dst.key, p.proto, p.port)
            if p.proto == "icmp" or k in done:
                continue
            done.add(k)
            if p.proto == "udp":
                s = self._sock(p.dst.ns, socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((str(p.dst.ip), p.port))
                self.sel.register(s, selectors.EVENT_READ, self._udp_server)
            else:
                s = self._sock(p.dst.ns, socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((str(p.dst.ip), p.port))
                s.listen(1024)
                self.sel.register(s, selectors.EVENT_READ, self._tcp_server)

    def _clients(self) -> None:
        icmp: dict[str, socket.socket] = {}
        for p in self.probes:
            self.pending += 1
            if p.proto == "udp":
                s = self._sock(p.src.ns, socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((str(p.src.ip), 0))
                try:  # connected, so that an ICMP error coming back is reported on this socket
                    s.connect((str(p.dst.ip), p.port))
                except OSError as e:
                    self._finish(p.id, error=_errname(e.errno or 0))
                    continue
                self.sel.register(s, selectors.EVENT_READ, lambda s, i=p.id: self._udp_client(s, i))
                self._send(s, f"cnimodel {p.id}".encode(), p.id)
            elif p.proto == "tcp":
                s = self._sock(p.src.ns, socket.AF_INET, socket.SOCK_STREAM)
                s.bind((str(p.src.ip), 0))
                self.by_client[(str(p.src.ip), s.getsockname()[1])] = p.id
                code = s.connect_ex((str(p.dst.ip), p.port))
                if code not in (0, errno.EINPROGRESS):
                    self._finish(p.id, error=_errname(code))
                    continue
                self.sel.register(s, selectors.EVENT_WRITE, lambda s, i=p.id: self._tcp_client(s, i))
            else:
                s = icmp.get(p.src.ns)
                if s is None:
                    s = icmp[p.src.ns] = self._sock(p.src.ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
                    self.sel.register(s, selectors.EVENT_READ, self._icmp)
                try:
                    s.sendto(_echo(p.id & 0xFFFF, p.id >> 16 & 0xFFFF), (str(p.dst.ip), 0))
                except OSError as e:
                    self._finish(p.id, error=_errname(e.errno or 0))

    def _send(self, s: socket.socket, data: bytes, pid: int) -> None:
        try:
            s.send(data)
        except OSError as e:
            self._finish(pid, error=_errname(e.errno or 0))

    def _finish(self, pid: int, reply: bool = False, error: str | None = None) -> None:
        o = self.out[pid]
        if o.reply or o.error:
            return
        o.reply, o.error = reply, error
        self.pending -= 1

    def _udp_server(self, s: socket.socket) -> None:
        try:
            data, addr = s.recvfrom(2048)
        except BlockingIOError:
            return
        try:
            pid = int(data.split()[1])
        except (IndexError, ValueError):
            return
        if pid in self.out:
            self.out[pid].forward = True
            self.out[pid].seen_src = IPv4Address(addr[0])
            with contextlib.suppress(OSError):  # no way back: the client sees no reply, which is what is measured
                s.sendto(data, addr)

    def _udp_client(self, s: socket.socket, pid: int) -> None:
        try:
            s.recv(2048)
        except BlockingIOError:
            return
        except OSError as e:  # an ICMP error came back (port or host unreachable)
            self._finish(pid, error=_errname(e.errno or 0))
            self.sel.unregister(s)
            return
        self._finish(pid, reply=True)
        self.sel.unregister(s)

    def _tcp_server(self, s: socket.socket) -> None:
        try:
            conn, addr = s.accept()
        except BlockingIOError:
            return
        self.socks.append(conn)
        pid = self.by_client.get((addr[0], addr[1]))
        # A client whose address was rewritten on the way is not found here: its probe keeps seen_src None.
        if pid is not None:
            self.out[pid].seen_src = IPv4Address(addr[0])

    def _tcp_client(self, s: socket.socket, pid: int) -> None:
        code = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self.sel.unregister(s)
        self._finish(pid, reply=code == 0, error=None if code == 0 else _errname(code))

    def _icmp(self, s: socket.socket) -> None:
        try:
            data, addr = s.recvfrom(4096)
        except BlockingIOError:
            return
        ihl = (data[0] & 0x0F) * 4
        if len(data) < ihl + 8 or data[ihl] != ICMP_ECHO_REPLY:
            return
        ident, seq = struct.unpack("!HH", data[ihl + 4:ihl + 8])
        pid = seq << 16 | ident
        o = self.out.get(pid)
        if o is not None and o.probe.proto == "icmp" and IPv4Address(addr[0]) == o.probe.dst.ip:
            self._finish(pid, reply=True)


def run(probes: list[Probe], timeout: float = 2.0, batch: int = 600) -> list[Outcome]:
    """Send every probe and wait up to ``timeout`` seconds per batch of ``batch`` probes for the answers."""
    out: list[Outcome] = []
    for i in range(0, len(probes), batch):
        out += _Batch(probes[i:i + batch], timeout).run()
    return out
