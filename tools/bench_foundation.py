#!/usr/bin/env python3
"""Benchmark the foundation: load + allocate + one node's route table on a generated plan.

    python tools/bench_foundation.py --nodes 5000 --pods 0
    python tools/bench_foundation.py --nodes 5000 --pods 150000

Targets (issue 2): the whole run under 3 s at 5,000 nodes; one node's table under 20 ms once loaded.
Run by hand; the figures go in the issue note. Not a test.

Figures behind choices in the code (moved here from its docstrings, as measured when each was made):
- cnimodel/bulk.py: json.loads of a 42 MB plan 0.9 s with the cyclic collector off, 5.6 s with it on; its
  first collections after a block walk tens of ms at 5,000 nodes (hence gc.freeze); a frozen dataclass's
  generated __init__ costs 5 µs for 17 fields (hence bulk.frozen).
- cnimodel/services/provider.py: IPv4Network's parser ~10 µs a prefix (50 ms for a 5,000-node plan's
  RemoteSubnetRoutes); indexing them per node ~10 ms (hence once per cluster); the C-level filter ~1 ms for
  5,000 policies.
- cnimodel/plugins/flannel_vxlan.py: the Linux VTEPs' shared peer entries ~30 ms at 5,000 nodes (hence built
  while the cluster is built); plugins/_overlay_peers.py: the Windows nodes' remote leases ~40 ms at 5,000
  nodes (likewise); plugins/_values.py: a Route through its generated __init__ ~5 µs (25 ms for a 5,000-node
  plan's peer routes), a copy of a template's fields a fifth of that.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from ipaddress import IPv4Address
from pathlib import Path

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)
from gen_plan import generate

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=20, help="node tables to time after loading")
    args = ap.parse_args()
    docs = generate(args.nodes, args.pods)
    items = docs[:-1] + docs[-1]["items"] if docs[-1]["kind"] == "List" else docs
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
        path = f.name
    size = Path(path).stat().st_size
    t0 = time.perf_counter()
    plan = load_plan([path])
    t1 = time.perf_counter()
    cluster = Cluster.build(plan)
    t2 = time.perf_counter()
    first = plan.nodes[len(plan.nodes) // 2].name
    facts = cluster.facts(first)
    t3 = time.perf_counter()
    print(f"plan: {args.nodes} nodes, {args.pods} pods, {size / 1e6:.1f} MB JSON")
    print(f"load          {t1 - t0:7.3f} s")
    print(f"allocate      {t2 - t1:7.3f} s")
    print(f"first table   {(t3 - t2) * 1000:7.1f} ms ({len(facts.routes)} routes on {first})")
    print(f"whole run     {t3 - t0:7.3f} s   (target < 3 s)")
    times = []
    step = max(1, len(plan.nodes) // args.repeat)
    # i % 4 shifts the sample so it holds Windows nodes too (every 4th generated node): their vNIC name differs
    # from eth0, so the first of them on a subnet builds that subnet's routes again.
    sample = [plan.nodes[min(len(plan.nodes) - 1, i * step + i % 4)] for i in range(min(args.repeat, len(plan.nodes)))]
    for node in sample:
        cluster._facts.pop(node.name, None)
        s = time.perf_counter()
        cluster.facts(node.name)
        times.append((time.perf_counter() - s) * 1000)
    oses = ", ".join(f"{sum(n.os == o for n in sample)} {o}" for o in ("linux", "windows"))
    print(f"node table    median {statistics.median(times):.1f} ms, max {max(times):.1f} ms over {len(times)} "
          f"nodes ({oses}; target < 20 ms)")
    s = time.perf_counter()
    for i in range(1000):
        cluster.lookup(first, IPv4Address(int(IPv4Address("10.0.0.1")) + i * 256))
    print(f"lookup        {(time.perf_counter() - s) * 1000 / 1000 * 1000:.1f} µs each")
    print(f"peak RSS      {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    Path(path).unlink()


if __name__ == "__main__":
    main()
