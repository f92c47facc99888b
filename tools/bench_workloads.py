#!/usr/bin/env python3
"""Benchmark workload expansion and scheduling (issue 11): D Deployments × R replicas onto N nodes.

    python tools/bench_workloads.py --nodes 5000 --deployments 5000 --replicas 30

Times, separately: parsing the Deployment documents; expanding and scheduling them (``expand_plan``, the
issue's figure, target ≤ 5 s at 5,000 × 30 on 5,000 nodes); the whole ``load_plan`` from a JSON file; and
``Cluster.build`` (node CIDRs and pod IPs) on the result. Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gen_workloads import generate_workloads

from cnimodel.cluster import Cluster
from cnimodel.plan import Origin, Problems, load_plan
from cnimodel.plan.workloads import expand_plan, finding_code, parse_workload


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
        t0 = time.perf_counter()
        workloads = [w for i, d in enumerate(deployments)
                     if (w := parse_workload(d, Origin("bench", 0, f"items[{i}]"), problems)) is not None]
        t1 = time.perf_counter()
        plan = expand_plan(base, workloads, problems)
        t2 = time.perf_counter()
        gc.enable()
        assert not problems.errors, problems.errors[:3]
        t3 = time.perf_counter()
        loaded = load_plan([whole])
        t4 = time.perf_counter()
        cluster = Cluster.build(loaded)
        t5 = time.perf_counter()
        size = whole.stat().st_size
    per_node = Counter(p.node for p in plan.pods)
    codes = Counter(finding_code(w) for w in problems.warnings)
    print(f"plan: {args.nodes} nodes, {args.deployments} Deployments x {args.replicas} replicas "
          f"({size / 1e6:.1f} MB JSON)")
    print(f"parse workloads      {t1 - t0:7.3f} s")
    print(f"expand + schedule    {t2 - t1:7.3f} s   ({len(plan.pods)} pods; target <= 5 s)")
    print(f"load_plan (all)      {t4 - t3:7.3f} s")
    print(f"Cluster.build        {t5 - t4:7.3f} s   ({len(cluster.allocation.pods)} pod IPs)")
    print(f"pods per used node   min {min(per_node.values())}, max {max(per_node.values())} "
          f"over {len(per_node)} nodes; findings {dict(codes)}")


if __name__ == "__main__":
    main()
