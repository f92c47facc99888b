"""iptables rules as data, kube-proxy's chain names, and the two ways a rule is written.

A ``Rule`` keeps each part of a kube-proxy rule apart, so it can be written two ways:
- ``restore``: the arguments as kube-proxy writes them into ``iptables-restore`` (its own order,
  probabilities as ``%0.10f``, the mark as Go's ``%#08x`` gives it, ``0x00004000``);
- ``save``: as ``iptables-save`` prints the same rule back from the kernel (address, then protocol,
  then the matches in order; ``/32`` on addresses; every comment quoted; the mark as ``--set-xmark``;
  the probability as the kernel's 31-bit fixed point with 11 decimals; ``-m recent`` with its defaults).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING = "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING"
KUBE_MARK_MASQ, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD = "KUBE-MARK-MASQ", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD"
KUBE_PROXY_FIREWALL, KUBE_FIREWALL, KUBE_PROXY_CANARY = "KUBE-PROXY-FIREWALL", "KUBE-FIREWALL", "KUBE-PROXY-CANARY"
LARGE_CLUSTER_ENDPOINTS = 1000  # kube-proxy drops per-endpoint comments above this many endpoints


# each table's built-in chains, in the order iptables-save lists them
BUILTIN_CHAINS = {"nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"), "filter": ("INPUT", "FORWARD", "OUTPUT"),
                  "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")}


def chain_order(table: str, chains: Iterable[str]) -> list[str]:
    """The chains of a table as iptables-save lists them: the built-in chains, then the others by name (as
    iptables-legacy keeps user chains). The others are kube-proxy's, named KUBE-…, so after one sort of every
    name they are the run from "KUBE-" up to "KUBE." (exclusive); the few names outside it are built in."""
    names = sorted(chains)
    lo, hi = bisect_left(names, "KUBE-"), bisect_left(names, "KUBE.")
    outside = set(names[:lo] + names[hi:])
    builtin = [c for c in BUILTIN_CHAINS.get(table, ()) if c in outside]
    if len(builtin) == len(outside):
        return builtin + names[lo:hi]
    return builtin + [c for c in names if c not in builtin]


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32 (Go's base32.StdEncoding)
_PAIRS = [a + b for a in _B32 for b in _B32]  # every 10-bit group as its two base32 characters


def hash16(text: str) -> str:
    """base32(SHA-256(text))[:16]. Base32 turns each 5 bytes into 8 characters on their own, so the first
    10 bytes (80 bits) give the first 16 characters; they are read here 10 bits at a time (100,000 chain
    names per node on a large plan: base64.b32encode is pure Python and 5x slower)."""
    n = int.from_bytes(hashlib.sha256(text.encode()).digest()[:10], "big")
    p = _PAIRS
    return (p[n >> 70] + p[(n >> 60) & 1023] + p[(n >> 50) & 1023] + p[(n >> 40) & 1023]
            + p[(n >> 30) & 1023] + p[(n >> 20) & 1023] + p[(n >> 10) & 1023] + p[n & 1023])


def hash16_many(texts: list[str], prefix: str = "") -> list[str]:
    """``prefix + hash16(text)`` for many texts at once: SHA-256 per text, then the base32 step for all of
    them in numpy (the bit slicing is most of hash16's cost, and a node needs 100,000 SEP names on a large
    plan). numpy is loaded here, on a Linux node's first view: a Windows node's view never needs it."""
    import numpy as np

    if not texts:
        return []
    sha = hashlib.sha256
    raw = np.frombuffer(b"".join([sha(t.encode()).digest()[:10] for t in texts]), dtype=np.uint8)
    # the first 80 bits of each digest as 16 groups of 5 bits, high bit first: base32's alphabet indices
    bits = np.unpackbits(raw).reshape(-1, 5)
    groups = (bits[:, 0] << 4) | (bits[:, 1] << 3) | (bits[:, 2] << 2) | (bits[:, 3] << 1) | bits[:, 4]
    k = len(prefix)
    rows = np.empty((len(texts), k + 16), dtype=np.uint8)
    rows[:, :k] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    rows[:, k:] = np.frombuffer(_B32.encode(), dtype=np.uint8)[groups].reshape(len(texts), 16)
    s = rows.tobytes().decode("ascii")
    w = k + 16
    return [s[i:i + w] for i in range(0, len(s), w)]


def port_proto_hash(service_port: str, protocol: str) -> str:
    """The 16 characters of the per-service chain names: base32(SHA-256("ns/name:port" + "tcp"))[:16]."""
    return hash16(service_port + protocol.lower())


def endpoint_chain(service_port: str, protocol: str, endpoint: str) -> str:
    """``KUBE-SEP-`` + base32(SHA-256("ns/name:port" + "tcp" + "ip:port"))[:16]."""
    return "KUBE-SEP-" + hash16(service_port + protocol.lower() + endpoint)


@lru_cache(maxsize=65536)
def probability(n: int) -> str:
    """kube-proxy's ``computeProbability``: ``fmt.Sprintf("%0.10f", 1.0/n)``."""
    return f"{1.0 / n:.10f}"


@lru_cache(maxsize=4096)
def saved_probability(p: str) -> str:
    """What iptables-save prints for ``--probability p``: the statistic match keeps
    round(p × 2^31) and prints it back divided by 2^31 with 11 decimals (0.3333333333 → 0.33333333349)."""
    fixed = int(float(p) * 0x80000000 + 0.5)
    return f"{fixed / 0x80000000:.11f}"


def go_mark(value: int) -> str:
    """Go's ``%#08x`` (kube-proxy's mark string): eight hex digits after 0x — 0x00004000 for bit 14."""
    return f"0x{value:08x}"


def hex_mark(value: int) -> str:
    """iptables-save's form of a mark value: 0x4000."""
    return f"{value:#x}"


class Rule(NamedTuple):
    """One rule, its parts in kube-proxy's order: ``pre`` matches, comment, ``early`` matches, protocol
    (``-m p -p p``), destination, ``--dport``, source, ``late`` matches, target."""

    table: str
    chain: str
    target: str = ""
    comment: str | None = None
    proto: str | None = None
    dst: str | None = None
    dport: int | None = None
    src: str | None = None
    pre: str = ""
    early: str = ""
    late: str = ""
    prob: str | None = None
    recent: tuple[str, str, int, str] | None = None  # (name, "set"|"rcheck", seconds, mask)
    target_save: str | None = None
    pre_save: str | None = None
    late_save: str | None = None
    service: str | None = None

    def restore(self) -> str:
        """The rule as kube-proxy writes it (after ``-A CHAIN``)."""
        out = [self.pre] if self.pre else []
        if self.comment is not None:
            out.append(f'-m comment --comment {_quote_if_space(self.comment)}')
        if self.early:
            out.append(self.early)
        if self.recent and self.recent[1] == "set":
            out.append(f"-m recent --name {self.recent[0]} --set")
        if self.proto:
            out.append(f"-m {self.proto} -p {self.proto}")
        if self.dst:
            out.append(_addr("-d", self.dst))
        if self.dport is not None:
            out.append(f"--dport {self.dport}")
        if self.src:
            out.append(_addr("-s", self.src))
        if self.recent and self.recent[1] == "rcheck":
            out.append(f"-m recent --name {self.recent[0]} --rcheck --seconds {self.recent[2]} --reap")
        if self.prob:
            out.append(f"-m statistic --mode random --probability {self.prob}")
        if self.late:
            out.append(self.late)
        if self.target:
            out.append(f"-j {self.target}")
        return " ".join(out)

    def save(self) -> str:
        """The rule as iptables-save prints it (after ``-A CHAIN``)."""
        # (unpacked at once: a node's rules are 300,000 and more, each printed through here)
        (_, _, target, comment, proto, dst, dport, src, pre, early, late, prob, recent, target_save, pre_save,
         late_save, _) = self
        if target_save is not None:
            target = target_save
        if comment is None and not (dst or pre or early or late or recent):
            # most rules of a large node (the endpoint chains' and the jumps to them, without comments in
            # large-cluster mode): a source, a protocol or a probability, written at once
            s = ""
            if src:
                s = (f"-s {src}/32 " if "/" not in src and ":" not in src and src[0] != "!"
                     else _addr("-s", src, True) + " ")
            if proto:
                s += f"-p {proto} -m {proto} --dport {dport} " if dport is not None else f"-p {proto} -m {proto} "
            if prob:
                s += f"-m statistic --mode random --probability {saved_probability(prob)} "
            return s + "-j " + target if target else s[:-1]
        out = []
        add = out.append
        if src:
            add(_addr("-s", src, True))
        if dst:
            add(_addr("-d", dst, True))
        if proto:
            add("-p " + proto)
        if pre:
            add(pre if pre_save is None else pre_save)
        if comment is not None:
            add(f'-m comment --comment "{comment}"')
        if early:
            add(early)
        if recent and recent[1] == "set":
            add(f"-m recent --set --name {recent[0]} --mask {recent[3]} --rsource")
        if proto:
            add(f"-m {proto} --dport {dport}" if dport is not None else "-m " + proto)
        if recent and recent[1] == "rcheck":
            add(f"-m recent --rcheck --seconds {recent[2]} --reap --name {recent[0]} --mask {recent[3]} --rsource")
        if prob:
            add("-m statistic --mode random --probability " + saved_probability(prob))
        if late:
            add(late if late_save is None else late_save)
        if target:
            add("-j " + target)
        return " ".join(out)


def _quote_if_space(text: str) -> str:
    return f'"{text}"' if " " in text else text


def _addr(flag: str, value: str, with_len: bool = False) -> str:
    """``-s 10.0.0.1`` / ``! -s 10.0.0.0/8`` from ``10.0.0.1`` / ``!10.0.0.0/8``; iptables-save adds the length."""
    neg = value.startswith("!")
    addr = value[1:] if neg else value
    if with_len and "/" not in addr:
        addr += "/128" if ":" in addr else "/32"
    return f"! {flag} {addr}" if neg else f"{flag} {addr}"


def recent_mask(family: int) -> str:
    """The ``--mask`` iptables-save shows for ``-m recent`` (the whole address)."""
    return "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" if family == 6 else "255.255.255.255"
