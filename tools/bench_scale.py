#!/usr/bin/env python3
"""Benchmark: whole commands on Kubernetes' limits (issue #20; run by hand; not a test).

    python tools/bench_scale.py [--keep /tmp/scale] [--only check,reach-workloads] [--against DIR --rounds 2]

Writes two plans once (kept with --keep):
  policy.json — 5,000 Linux nodes (tools/gen_plan.py: flannel host-gw) with
                tools/gen_policy_plan.py's 150,000 pods in 5,000 namespaces and 2,000 policies of every kind;
                the pods are placed round-robin on the nodes and take their addresses from the cluster's IPAM.
  lb.json     — tools/gen_services.py: 5,000 nodes, 10,000 Services x 10 endpoints, each pod with its node's
                OS's image (``--linux-images`` writes the first benchmarks' shape: nginx on Windows nodes too).
  lb-linux-images.json — the same with nginx on every pod: 25,000 pods on Windows nodes never run (each an image
                warning) while their EndpointSlices call them ready.
  workloads.json — tools/gen_workloads.py: 5,000 nodes, 5,000 Deployments x 30 replicas (150,000 pods, no policy).
Then times each command in its own process (``python -m cnimodel …``, output to /dev/null): wall seconds and the
process's CPU seconds and peak RSS (from wait4). Targets: a command reading the whole plan <= 10 s and <= 4 GiB; ``reach
--workloads`` <= 10 s; ``check`` <= 5 s; ``lb --node N`` in any output <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_plan  # noqa: E402
import gen_policy_plan  # noqa: E402
from _checkout import process_env  # noqa: E402


def write_policy_plan(path: Path, nodes: int = 5000, pods: int = 150_000, namespaces: int = 5000,
                      policies: int = 2000) -> None:
    import random

    docs = gen_plan.generate(nodes, 0, windows_every=0)  # the generator's images are Linux ones
    names = [n["name"] for n in docs[0]["spec"]["nodes"]]
    rnd = random.Random(1)
    kube = gen_policy_plan.workloads(pods, namespaces, rnd)
    i = 0
    for d in kube:
        if d["kind"] == "Pod":
            d.pop("status")
            d["spec"]["nodeName"] = names[1 + i % (len(names) - 1)] if len(names) > 1 else names[0]
            i += 1
    items = kube + gen_policy_plan.policies(policies, namespaces, rnd)
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs + items}, f)


def write_workload_plan(path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_workloads.py"), "--nodes", "5000", "--deployments",
                    "5000", "--replicas", "30", "-o", str(path)], check=True)


def write_lb_plan(path: Path, linux_images: bool = False) -> None:
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_services.py"), "--nodes", "5000", "--services",
                    "10000", "--endpoints", "10", "-o", str(path), *(["--linux-images"] if linux_images else [])],
                   check=True)


def timed(args: list[str], cwd: Path, limit: float = 300, checkout: Path = ROOT) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (GiB) of ``python -m cnimodel ARGS``."""
    env = process_env(checkout)
    with tempfile.TemporaryFile() as errf:
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "cnimodel", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                             stderr=errf)
        stop = threading.Timer(limit, p.kill)  # a command past the limit is stopped, and said so
        stop.start()
        _, status, usage = os.wait4(p.pid, 0)
        stop.cancel()
        wall = time.perf_counter() - t
        errf.seek(0)
        err = errf.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        print(f"  exit {code}{' (stopped after the limit)' if code == -9 else ''}: {err.strip()[-300:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / (1 << 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", help="write (or reuse) the plans here")
    ap.add_argument("--only", help="case names, separated by commas")
    ap.add_argument("--limit", type=float, default=120, help="stop a command after this many seconds")
    ap.add_argument("--checkout", default=str(ROOT), help="time this checkout's cnimodel (default: this one)")
    ap.add_argument("--against", help="another checkout, run alternately with it command by command (its CPU "
                    "seconds in the last column): on a machine whose speed drifts, the comparison that holds")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each command (per checkout); the least CPU kept")
    args = ap.parse_args()
    base = Path(args.keep or tempfile.mkdtemp(prefix="scale-"))
    base.mkdir(parents=True, exist_ok=True)
    pol, lb = base / "policy.json", base / "lb.json"
    if not pol.exists():
        write_policy_plan(pol)
    if not lb.exists():
        write_lb_plan(lb)
    lb_linux = base / "lb-linux-images.json"
    if not lb_linux.exists():
        write_lb_plan(lb_linux, linux_images=True)
    wl = base / "workloads.json"
    if not wl.exists():
        write_workload_plan(wl)
    win = "node00003"  # every 4th node is Windows (tools/gen_plan.py)
    with open(pol) as f:  # a pod of each of two namespaces, for the trace
        first = {}
        for o in json.load(f)["items"]:
            if o["kind"] == "Pod" and o["metadata"]["namespace"] in ("ns-0002", "ns-0003"):
                first.setdefault(o["metadata"]["namespace"], f"{o['metadata']['namespace']}/{o['metadata']['name']}")
    cases = {
        "ipam": (["ipam", str(pol), "-o", "json"], 10),
        "routes --node": (["routes", str(pol), "--node", "node00001", "-o", "ip"], 10),
        "check": (["check", str(pol)], 5),
        "reach --workloads": (["reach", str(pol), "--workloads"], 10),  # stopped after --limit seconds
        "reach --workloads deployments": (["reach", str(wl), "--workloads"], 10),
        "reach --from --to": (["reach", str(pol), "--from", "ns-0002/*", "--to", "ns-0003/*"], 10),
        "trace pod→pod": (["trace", str(pol), first["ns-0002"], first["ns-0003"]], 10),
        "summary": (["summary", str(pol)], 10),
        "check (lb plan)": (["check", str(lb)], 5),
        "lb --node N (linux text)": (["lb", str(lb), "--node", "node00001"], 3),
        "lb --node N -o hns": (["lb", str(lb), "--node", win, "-o", "hns"], 3),
        "lb --node N -o json": (["lb", str(lb), "--node", win, "-o", "json"], 3),
        "lb --node N -o vfp": (["lb", str(lb), "--node", win, "-o", "vfp"], 3),
        "lb --node N -o iptables": (["lb", str(lb), "--node", "node00001", "-o", "iptables"], 3),
        "lb (Linux images everywhere)": (["lb", str(lb_linux), "--node", "node00001"], 3),
    }
    only = set(args.only.split(",")) if args.only else None
    checkouts = [Path(args.checkout)] + ([Path(args.against)] if args.against else [])
    print(f"{'command':28} {'wall s':>7} {'CPU s':>7} {'peak GiB':>9}  target (on a shared machine: compare CPU)"
          + ("  | against: CPU s" if args.against else ""))
    for name, (argv, target) in cases.items():
        if only and name not in only:
            continue
        runs: dict[Path, list[tuple[float, float, float]]] = {c: [] for c in checkouts}
        for _ in range(max(1, args.rounds)):
            for c in checkouts:
                runs[c].append(timed(argv, base, args.limit, c))
        wall, cpu, gib = min(runs[checkouts[0]], key=lambda r: r[1])
        ok = min(wall, cpu) <= target and gib <= 4
        other = f"  | {min(r[1] for r in runs[checkouts[1]]):7.2f}" if args.against else ""
        print(f"{name:28} {wall:7.2f} {cpu:7.2f} {gib:9.2f}  <= {target} s {'ok' if ok else 'MISSED'}{other}",
              flush=True)


if __name__ == "__main__":
    main()
