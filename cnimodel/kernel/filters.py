"""Policy in the kernel: the policy engine's verdict for every realised pod pair, installed as nftables or
iptables rules at each destination pod's input hook, so that ``verify`` also checks what the kernel filters.

This is an emulation of the verdicts, not of a policy agent's chains (felix's cali-* chains, HNS ACLs): the
destination accepts, from each realised pod, exactly the connections the policy engine allows (egress of the
source and ingress of the destination together), replies ride on conntrack, and its own node may always
reach it (kubelet probes). Nothing else gets in.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from collections.abc import Iterable
from ipaddress import IPv4Address

from cnimodel.kernel import nsutil
from cnimodel.kernel.blueprint import Blueprint, RealPod

MECHANISMS = ("nftables", "iptables")
TOOLS = {"nftables": ["nft", "-f", "-"], "iptables": ["iptables-restore"]}
Verdicts = dict[tuple[str, str], object]  # (src pod, dst pod) → ConnSet (None: not evaluated)


class PolicyUnavailable(RuntimeError):
    """The filtering tool is missing, or refuses the rules."""


def verdicts(bp: Blueprint) -> Verdicts:
    """What the policy engine allows between every ordered pair of realised pods."""
    from cnimodel.policy import Reachability

    reach = Reachability.from_plan(bp.cluster.plan)
    eps = {ep.name: ep for ep in reach.pods() if ep.name in bp.pods}
    return {(s, d): reach.connection(eps[s], eps[d]).conns for s in bp.pods for d in bp.pods
            if s != d and s in eps and d in eps}


def _ranges(ivs: Iterable[tuple[int, int]], sep: str) -> list[str]:
    return [str(lo) if lo == hi else f"{lo}{sep}{hi}" for lo, hi in ivs]


def nft_rules(dst: RealPod, sources: list[tuple[IPv4Address, object]]) -> str:
    """The nftables ruleset of one destination pod."""
    lines = ["table inet cnimodel_policy {", "  chain input {",
             "    type filter hook input priority filter; policy drop;",
             "    ct state established,related accept", '    iifname "lo" accept',
             f"    ip saddr {dst.gateway} accept"]
    for ip, conns in sources:
        if conns is None or not conns:
            continue
        if conns.is_all:  # type: ignore[attr-defined]
            lines.append(f"    ip saddr {ip} accept")
            continue
        for proto in ("tcp", "udp", "sctp"):
            ivs = getattr(conns, proto)
            if ivs:
                lines.append(f"    ip saddr {ip} {proto} dport {{ {', '.join(_ranges(ivs, '-'))} }} accept")
        if conns.other:  # type: ignore[attr-defined]
            lines.append(f"    ip saddr {ip} meta l4proto {{ {', '.join(_ranges(conns.other, '-'))} }} accept")  # type: ignore[attr-defined]
    return "\n".join([*lines, "  }", "}", ""])


def iptables_rules(dst: RealPod, sources: list[tuple[IPv4Address, object]]) -> str:
    """The same as ``iptables-restore`` input."""
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT", "-A INPUT -i lo -j ACCEPT",
             f"-A INPUT -s {dst.gateway}/32 -j ACCEPT"]
    for ip, conns in sources:
        if conns is None or not conns:
            continue
        if conns.is_all:  # type: ignore[attr-defined]
            lines.append(f"-A INPUT -s {ip}/32 -j ACCEPT")
            continue
        for proto in ("tcp", "udp", "sctp"):
            lines += [f"-A INPUT -s {ip}/32 -p {proto} --dport {r} -j ACCEPT"
                      for r in _ranges(getattr(conns, proto), ":")]
        for lo, hi in conns.other:  # type: ignore[attr-defined]
            lines += [f"-A INPUT -s {ip}/32 -p {p} -j ACCEPT" for p in range(lo, hi + 1)]
    return "\n".join([*lines, "COMMIT", ""])


def _enter(ns: str) -> None:
    fd = os.open(os.path.join(nsutil.RUN_DIR, ns), os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, nsutil.CLONE_NEWNET) != 0:
        os._exit(126)


def install(bp: Blueprint, mechanism: str) -> Verdicts:
    """Install the verdicts in every realised pod's namespace; returns them."""
    if mechanism not in MECHANISMS:
        raise PolicyUnavailable(f"unknown policy mechanism {mechanism!r}; use one of {', '.join(MECHANISMS)}")
    tool = TOOLS[mechanism]
    v = verdicts(bp)
    render = nft_rules if mechanism == "nftables" else iptables_rules
    for dst in bp.pods.values():
        sources = [(src.ip, v.get((src.key, dst.key))) for src in bp.pods.values() if src.key != dst.key]
        try:
            done = subprocess.run(tool, input=render(dst, sources), text=True, capture_output=True,
                                  preexec_fn=lambda ns=dst.ns: _enter(ns), timeout=60)
        except FileNotFoundError:
            raise PolicyUnavailable(f"{tool[0]} is not installed (Debian package {mechanism})") from None
        if done.returncode != 0:
            raise PolicyUnavailable(f"{dst.ns}: {tool[0]} refused the rules: {done.stderr.strip()[:300]}")
    return v
