#!/usr/bin/env python3
"""Time ``netns up``, ``netns verify`` and ``netns down`` on generated plans (run as root, by hand).

    sudo python tools/bench_netns.py --nodes 10 50 100 --backend host-gw vxlan --pods-per-node 2

Plans come from tools/gen_plan.py (one /20 underlay subnet, every 4th node Windows, emulated); each is built,
verified (every route decision; packets for at most --max-pairs pod pairs) and torn down, and the figures are
printed as one line per plan. A plan that fails midway is still torn down.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)
from gen_plan import generate

from cnimodel import kernel
from cnimodel.plan import load_plan


def bench(nodes: int, backend: str, pods_per_node: int, max_pairs: int, windows_every: int, tmp: Path) -> str:
    import yaml

    path = tmp / f"bench-{backend}-{nodes}.yaml"
    path.write_text(yaml.safe_dump_all(generate(nodes, 0, windows_every=windows_every, namespaces=1,
                                                backend=backend), sort_keys=False))
    plan = load_plan([path])
    plan = replace(plan, name=f"bench-{backend}-{nodes}")
    t0 = time.perf_counter()
    bp = kernel.up(plan, pods_per_node)
    t1 = time.perf_counter()
    try:
        _, report = kernel.verify(plan, max_pairs=max_pairs)
        t2 = time.perf_counter()
    finally:
        t3 = time.perf_counter()
        kernel.down(plan)
        t4 = time.perf_counter()
    return (f"{backend:8} nodes {nodes:5} pods {len(bp.pods):5} namespaces {len(bp.spaces):5} | up {t1 - t0:6.1f}s "
            f"verify {t2 - t1:6.1f}s ({report.routes} routes, {report.packets} packets over {report.pairs} pairs, "
            f"{len(report.mismatches)} mismatches) down {t4 - t3:5.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, nargs="+", default=[10, 50, 100])
    ap.add_argument("--backend", nargs="+", default=["host-gw", "vxlan"], choices=["host-gw", "vxlan"])
    ap.add_argument("--pods-per-node", type=int, default=2)
    ap.add_argument("--max-pairs", type=int, default=2000)
    ap.add_argument("--windows-every", type=int, default=4, help="every Nth node is Windows (0: none)")
    ap.add_argument("--tmp", type=Path, default=Path("/tmp"))
    args = ap.parse_args()
    why = kernel.nsutil.can_admin()
    if why:
        sys.exit(f"bench_netns needs root: {why}")
    for backend in args.backend:
        for n in args.nodes:
            print(bench(n, backend, args.pods_per_node, args.max_pairs, args.windows_every, args.tmp), flush=True)


if __name__ == "__main__":
    main()
