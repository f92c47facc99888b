#!/usr/bin/env python3
"""Time ``cnimodel check`` on a large plan: loading, building, and the checks themselves, separately.

    python tools/gen_plan.py --nodes 5000 --pods 150000 -o /tmp/p.json
    python tools/bench_check.py /tmp/p.json

Prints wall and CPU seconds per step and each check's own time (the slowest first).
"""

from __future__ import annotations

import argparse
import time

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.validate import CHECKS, validate


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{label:<10} {time.perf_counter() - w:7.2f} s wall {time.process_time() - c:7.2f} s cpu")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("plan")
    ap.add_argument("--per-check", action="store_true", help="also time each check alone")
    args = ap.parse_args()
    plan = timed("load", lambda: load_plan([args.plan]))
    cluster = timed("build", lambda: Cluster.build(plan))
    report = timed("checks", lambda: validate(plan, cluster))
    print(f"{len(plan.nodes):,} nodes, {len(plan.pods):,} pods: {len(report.ran)} checks, {report.counts}")
    if args.per_check:
        fresh = Cluster.build(plan)  # facts cached by the first run would hide their cost
        times = []
        for code in sorted(CHECKS):
            w = time.perf_counter()
            validate(plan, fresh, codes={code})
            times.append((time.perf_counter() - w, code))
        for t, code in sorted(times, reverse=True)[:12]:
            print(f"  {code:<14} {t:6.3f} s")


if __name__ == "__main__":
    main()
