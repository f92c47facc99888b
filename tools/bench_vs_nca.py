#!/usr/bin/env python3
"""Benchmark: ``cnimodel reach DIR`` against network-config-analyzer on the same files (run by hand; not a test).

    python -m venv /tmp/ncaenv && /tmp/ncaenv/bin/pip install network-config-analyzer   # the peer, once
    python tools/bench_vs_nca.py [--sizes 500/100,2000/400] [--nca /tmp/ncaenv/bin/nca] [--keep /tmp/vsnca]

Installs nothing. Per size PODS/POLICIES it writes tools/gen_policy_plan.py's cluster (one namespace per
--pods-per-namespace pods) as kubectl-style lists in a folder: namespaces.yaml, pods.yaml, policies.yaml. The
policies are the generator's Kubernetes NetworkPolicies only: network-config-analyzer 2.1.0 reads no Calico tier
(it stops at a GlobalNetworkPolicy's ``tier``) and ignores AdminNetworkPolicy/BaselineAdminNetworkPolicy without a
word, so the generator's other kinds would make the two tools answer different questions. Then, whole process:

  cnimodel reach DIR                                                  (txt: netpol-analyzer lines)
  nca --connectivity DIR/policies.yaml -p DIR/pods.yaml -n DIR/namespaces.yaml --output_format txt_no_fw_rules

and checks that both list the same allowed connections: every pod-to-pod pair with the same protocols and ports
(a pair missing from one list is a pair with nothing allowed), and per pod and direction the same external
addresses on the same ports. The two tools cut the outside world differently (cnimodel at every boundary of the
plan's prefixes, the peer merges ranges a pod treats alike), so external lines are compared as address sets, not
line by line. With the peer absent only cnimodel is timed.

Figures on the 2-core build machine (one run each, seconds, whole process; before = 36322da):
  size (pods per namespace)   cnimodel before   cnimodel after   nca 2.1.0
  500/100 (30)                0.98-1.18         0.41             1.15
  2000/400 (30)               6.7-7.1           0.73             8.06
  2000/400 (10)               10.9              0.84             15.57
Every run: the same pod pairs with the same ports, the same external addresses per pod (0 differing).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from ipaddress import IPv4Address
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_policy_plan  # noqa: E402
from _checkout import process_env  # noqa: E402

ALL = frozenset({("ALL", 0, 0)})
PROTOS = ("TCP", "UDP", "SCTP")


def write_plan(folder: Path, pods: int, policies: int, per_ns: int, seed: int = 1) -> None:
    import random

    rnd = random.Random(seed)
    namespaces = max(3, pods // per_ns)
    docs = gen_policy_plan.workloads(pods, namespaces, rnd)
    pol = [p for p in gen_policy_plan.policies(policies, namespaces, rnd) if p["apiVersion"] == "networking.k8s.io/v1"]
    folder.mkdir(parents=True, exist_ok=True)
    for name, items in (("namespaces.yaml", [d for d in docs if d["kind"] == "Namespace"]),
                        ("pods.yaml", [d for d in docs if d["kind"] == "Pod"]), ("policies.yaml", pol)):
        with open(folder / name, "w") as f:
            yaml.dump({"apiVersion": "v1", "kind": "List", "items": items}, f, Dumper=yaml.CSafeDumper,
                      sort_keys=False)


def run(cmd: list[str], out: Path, env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    with open(out, "w") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.DEVNULL, check=True, env=env, cwd=out.parent)
    return time.perf_counter() - t


# --- reading both outputs into the same shape ---------------------------------------------------------------

def _ports(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.append((int(lo), int(hi or lo)))
    return out


def _canon(items: list[tuple[str, int, int]]) -> frozenset[tuple[str, int, int]]:
    """Port intervals per protocol, merged: two spellings of the same set compare equal."""
    by: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for p, lo, hi in items:
        by[p].append((lo, hi))
    out = set()
    for p, ivs in by.items():
        ivs.sort()
        cur = list(ivs[0])
        for lo, hi in ivs[1:]:
            if lo <= cur[1] + 1:
                cur[1] = max(cur[1], hi)
            else:
                out.add((p, cur[0], cur[1]))
                cur = [lo, hi]
        out.add((p, cur[0], cur[1]))
    return frozenset(out)


def cn_conn(text: str) -> frozenset[tuple[str, int, int]] | None:
    """cnimodel's ``TCP 80,443-450;UDP 53`` / ``All Connections``; None for what this reader does not know."""
    if text == "All Connections":
        return ALL
    items = []
    for part in text.split(";"):
        proto, _, ports = part.strip().partition(" ")
        if proto not in PROTOS:
            return None
        items += [(proto, lo, hi) for lo, hi in (_ports(ports) if ports else [(1, 65535)])]
    return _canon(items)


_NCA_GROUP = re.compile(r"\{protocols:([A-Z, ]+)(?:,dst_ports:([0-9,\-]+))?\}")


def nca_conn(text: str) -> frozenset[tuple[str, int, int]] | None:
    """The peer's ``{protocols:TCP, UDP,dst_ports:53}`` groups / ``All connections``."""
    if text == "All connections":
        return ALL
    items = []
    for group in text.split(";"):
        m = _NCA_GROUP.fullmatch(group.strip())
        if m is None:
            return None
        for proto in (p.strip() for p in m.group(1).split(",")):
            if proto not in PROTOS:
                return None
            items += [(proto, lo, hi) for lo, hi in (_ports(m.group(2)) if m.group(2) else [(1, 65535)])]
    return _canon(items)


def _range(name: str) -> tuple[int, int]:
    lo, _, hi = name.removesuffix("[External]").partition("-")
    return int(IPv4Address(lo)), int(IPv4Address(hi or lo))


def read(path: Path, conn_of) -> tuple[dict, dict, list[str]]:
    """Pod pairs → connections; (pod, direction) → [(lo, hi, connections)] of external ranges; unread lines."""
    pairs: dict[tuple[str, str], object] = {}
    ext: dict[tuple[str, str], list[tuple[int, int, object]]] = defaultdict(list)
    odd: list[str] = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if " => " not in line:
                continue
            ends, _, conn = line.partition(" : ")
            src, _, dst = ends.partition(" => ")
            c = conn_of(conn)
            if c is None:
                odd.append(line)
            elif src.endswith("[Pod]") and dst.endswith("[Pod]"):
                pairs[(src, dst)] = c
            elif dst.endswith("[Pod]"):
                ext[(dst, "ingress")].append((*_range(src), c))
            elif src.endswith("[Pod]"):
                ext[(src, "egress")].append((*_range(dst), c))
            else:
                odd.append(line)
    return pairs, ext, odd


def _flat(ranges: list[tuple[int, int, object]]) -> list[tuple[int, int, object]]:
    """Address ranges with their connections, adjacent ranges of equal connections merged."""
    out: list[list[object]] = []
    for lo, hi, c in sorted(ranges, key=lambda x: x[0]):
        if out and out[-1][2] == c and out[-1][1] + 1 == lo:  # type: ignore[operator]
            out[-1][1] = hi
        else:
            out.append([lo, hi, c])
    return [tuple(x) for x in out]  # type: ignore[misc]


def compare(cn: Path, nca: Path) -> str:
    a_pairs, a_ext, a_odd = read(cn, cn_conn)
    b_pairs, b_ext, b_odd = read(nca, nca_conn)
    differ = [k for k in a_pairs.keys() | b_pairs.keys() if a_pairs.get(k) != b_pairs.get(k)]
    ext_differ = [k for k in a_ext.keys() | b_ext.keys() if _flat(a_ext.get(k, [])) != _flat(b_ext.get(k, []))]
    lines = [f"  pod pairs allowed: cnimodel {len(a_pairs)}, nca {len(b_pairs)}; differing verdicts: {len(differ)}",
             f"  pods with external connections: cnimodel {len(a_ext)}, nca {len(b_ext)}; differing: {len(ext_differ)}"]
    for k in sorted(differ)[:5]:
        lines.append(f"    {k[0]} => {k[1]}: cnimodel {sorted(a_pairs.get(k, ()))}, nca {sorted(b_pairs.get(k, ()))}")
    for k in sorted(ext_differ)[:3]:
        lines.append(f"    {k}: cnimodel {_flat(a_ext.get(k, []))[:4]} nca {_flat(b_ext.get(k, []))[:4]}")
    if a_odd or b_odd:
        lines.append(f"  lines not read: cnimodel {len(a_odd)} {a_odd[:2]}, nca {len(b_odd)} {b_odd[:2]}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="500/100,2000/400", help="PODS/POLICIES,…")
    ap.add_argument("--pods-per-namespace", type=int, default=30, help="the generator's default shape: 30")
    ap.add_argument("--nca", default=shutil.which("nca") or "/tmp/ncaenv/bin/nca")
    ap.add_argument("--runs", type=int, default=1, help="best of this many runs of each tool")
    ap.add_argument("--keep", help="write the plans and outputs here (default: a temporary folder)")
    ap.add_argument("--checkout", default=str(ROOT), help="time this checkout's cnimodel (default: this one)")
    args = ap.parse_args()
    peer = args.nca if os.access(args.nca, os.X_OK) else None
    if peer is None:
        print(f"network-config-analyzer not found at {args.nca}: timing cnimodel alone")
    base = Path(args.keep or tempfile.mkdtemp(prefix="vsnca-"))
    env = process_env(args.checkout)
    for size in args.sizes.split(","):
        pods, policies = (int(x) for x in size.split("/"))
        folder = base / f"p{pods}-{policies}"
        write_plan(folder / "plan", pods, policies, args.pods_per_namespace)
        t_cn = min(run([sys.executable, "-m", "cnimodel", "reach", "plan"], folder / "cnimodel.txt", env)
                   for _ in range(args.runs))
        print(f"{pods} pods / {policies} policies ({max(3, pods // args.pods_per_namespace)} namespaces): "
              f"cnimodel {t_cn:.2f} s", end="", flush=True)
        if peer is None:
            print()
            continue
        cmd = [peer, "--connectivity", "plan/policies.yaml", "-p", "plan/pods.yaml", "-n", "plan/namespaces.yaml",
               "--output_format", "txt_no_fw_rules"]
        t_nca = min(run(cmd, folder / "nca.txt") for _ in range(args.runs))
        print(f", nca {t_nca:.2f} s: {t_nca / t_cn:.0f}x")
        print(compare(folder / "cnimodel.txt", folder / "nca.txt"))
    if not args.keep:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
