#!/usr/bin/env python3
"""Benchmark workload expansion and scheduling (issue 11): D Deployments × R replicas onto N nodes.

    python tools/bench_workloads.py --nodes 5000 --deployments 5000 --replicas 30

Times, separately: parsing the Deployment documents; expanding and scheduling them (``expand_plan``, the
issue's figure, target ≤ 5 s at 5,000 × 30 on 5,000 nodes); the whole ``load_plan`` from a JSON file; and
``Cluster.build`` (node CIDRs and pod IPs) on the result. Each line gives wall-clock and CPU seconds: on a
shared machine the CPU figure is the one to compare. Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)
from gen_workloads import generate_workloads

from cnimodel.cluster import Cluster
from cnimodel.plan import Origin, Problems, load_plan
from cnimodel.plan.workloads import expand_plan, finding_code, parse_workload


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """fn's result, wall seconds, CPU seconds."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--deployments", type=int, default=5000)
    ap.add_argument("--replicas", type=int, default=30)
    args = ap.parse_args()
    docs = generate_workloads(args.nodes, args.deployments, args.replicas)
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    with tempfile.TemporaryDirectory() as tmp:
        nodes_only = Path(tmp, "nodes.json")
        nodes_only.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                          "items": [d for d in docs if d["kind"] != "Deployment"]}))
        whole = Path(tmp, "plan.json")
        whole.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
        base = load_plan([nodes_only])
        gc.disable()  # as load_plan does (cnimodel.bulk)
        problems = Problems()
        workloads, parse_wall, parse_cpu = timed(lambda: [
            w for i, d in enumerate(deployments)
            if (w := parse_workload(d, Origin("bench", 0, f"items[{i}]"), problems)) is not None])
        plan, exp_wall, exp_cpu = timed(lambda: expand_plan(base, workloads, problems))
        gc.enable()
        assert not problems.errors, problems.errors[:3]
        loaded, load_wall, load_cpu = timed(lambda: load_plan([whole]))
        cluster, build_wall, build_cpu = timed(lambda: Cluster.build(loaded))
        size = whole.stat().st_size
    per_node = Counter(p.node for p in plan.pods)
    codes = Counter(finding_code(w) for w in problems.warnings)
    print(f"plan: {args.nodes} nodes, {args.deployments} Deployments x {args.replicas} replicas "
          f"({size / 1e6:.1f} MB JSON)")
    print(f"parse workloads      {parse_wall:7.3f} s wall {parse_cpu:7.3f} s CPU")
    print(f"expand + schedule    {exp_wall:7.3f} s wall {exp_cpu:7.3f} s CPU   ({len(plan.pods)} pods; target <= 5 s)")
    print(f"load_plan (all)      {load_wall:7.3f} s wall {load_cpu:7.3f} s CPU")
    print(f"Cluster.build        {build_wall:7.3f} s wall {build_cpu:7.3f} s CPU   "
          f"({len(cluster.allocation.pods)} pod IPs)")
    print(f"pods per used node   min {min(per_node.values())}, max {max(per_node.values())} "
          f"over {len(per_node)} nodes; findings {dict(codes)}")


if __name__ == "__main__":
    main()
