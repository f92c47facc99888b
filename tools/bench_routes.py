#!/usr/bin/env python3
"""Benchmark: one node's apply script and one node's audit on a large plan, as a user runs them (whole process).

    python tools/gen_plan.py --nodes 5000 --pods 150000 -o /tmp/p.json
    python tools/bench_routes.py --plan /tmp/p.json        # default: generate that plan in a temp folder

Times, best of --rounds, wall seconds of a fresh `python -m cnimodel` process each:
  routes --node <first Linux node> -o ip-batch, and -o powershell for the first Windows node;
  audit --node <first Linux node> --from <ip -j route capture>, and --from <Get-NetRoute capture> for the first
  Windows node.
The captures are written from the model's routes in the tools' shapes (a benchmark input, not a test oracle), with
one route taken out so that the audit has a difference to report. Then the same steps in one process: plan load
and build, the script, the audit. The target (issue #21): each whole process <= 3 s at 5,000 nodes and 150,000
pods. Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan

ROOT = Path(__file__).resolve().parent.parent


def ip_json(routes: list) -> list[dict[str, object]]:
    """The model's routes as `ip -j route show table all` prints them."""
    out = []
    for r in routes:
        entry: dict[str, object] = {"dst": "default" if r.dst.prefixlen == 0 else str(r.dst)}
        if r.via:
            entry["gateway"] = str(r.via)
        if r.dev:
            entry["dev"] = r.dev
        if r.proto:
            entry["protocol"] = r.proto
        if r.scope != "universe" or r.via is None:
            entry["scope"] = "link" if r.scope == "universe" else r.scope
        if r.src and r.proto:
            entry["prefsrc"] = str(r.src)
        entry["flags"] = ["onlink"] if r.onlink else []
        out.append(entry)
    return out


def netroute_json(routes: list) -> list[dict[str, object]]:
    return [{"DestinationPrefix": str(r.dst), "NextHop": str(r.via or "0.0.0.0"), "InterfaceAlias": r.dev,
             "AddressFamily": 2, "Store": 0, "RouteMetric": 256} for r in routes]


def timed(args: list[str], rounds: int) -> tuple[float, int]:
    best, code = float("inf"), -1
    for _ in range(rounds):
        t = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", "cnimodel", *args], cwd=ROOT, capture_output=True).returncode
        best = min(best, time.perf_counter() - t)
    return best, code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", help="plan file (default: generate 5,000 nodes and 150,000 pods)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    path = args.plan
    if path is None:
        path = str(tmp / "plan.json")
        subprocess.run([sys.executable, str(ROOT / "tools" / "gen_plan.py"), "--nodes", "5000", "--pods", "150000",
                        "-o", path], check=True)
    t = time.perf_counter()
    cluster = Cluster.build(load_plan([path]))
    built = time.perf_counter() - t
    lin = next(n.name for n in cluster.plan.nodes if n.os == "linux")
    win = next((n.name for n in cluster.plan.nodes if n.os == "windows"), None)
    routes = list(cluster.facts(lin).routes)
    (tmp / "routes.json").write_text(json.dumps(ip_json(routes[:-1])))
    runs = [(f"routes {lin} -o ip-batch", ["routes", path, "--node", lin, "-o", "ip-batch"]),
            (f"audit {lin} --from ip -j route ({len(routes) - 1} routes)",
             ["audit", path, "--node", lin, "--from", str(tmp / "routes.json")])]
    if win is not None:
        wroutes = list(cluster.facts(win).routes)
        (tmp / "netroute.json").write_text(json.dumps(netroute_json(wroutes[:-1])))
        runs += [(f"routes {win} -o powershell", ["routes", path, "--node", win, "-o", "powershell"]),
                 (f"audit {win} --from Get-NetRoute ({len(wroutes) - 1} routes)",
                  ["audit", path, "--node", win, "--from", str(tmp / "netroute.json")])]
    print(f"plan {cluster.plan.name}: {len(cluster.plan.nodes):,} nodes, {len(cluster.allocation.pods):,} pods; "
          f"load + build in this process {built:.2f} s")
    for label, argv in runs:
        seconds, code = timed(argv, args.rounds)
        print(f"  {label:55s} {seconds:5.2f} s (whole process, best of {args.rounds}; exit {code})")
    from cnimodel.apply import linux_script
    from cnimodel.audit import audit_files
    from cnimodel.render.scripts import ip_batch

    t = time.perf_counter()
    ip_batch.render(linux_script(cluster.facts(lin), cluster.plan.node(lin).ip, cluster.plan.name))
    t2 = time.perf_counter()
    report = audit_files(cluster, lin, [(str(tmp / "routes.json"), None)])
    t3 = time.perf_counter()
    print(f"  in process on the built cluster: ip-batch {t2 - t:.3f} s, audit {t3 - t2:.3f} s "
          f"({len(report.differences)} difference(s))")


if __name__ == "__main__":
    main()
