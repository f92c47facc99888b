#!/usr/bin/env python3
"""Benchmark the overlay model: one node's flannel vxlan facts on a generated hybrid plan.

    python tools/bench_overlay.py --nodes 5000
    python tools/bench_overlay.py --nodes 5000 --windows-every 0      # Linux only

Target (issue 3): one node's overlay facts under 50 ms once the plan is loaded and allocated. "First" is the
first node asked after loading, "first Windows" the first Windows node asked after it (the per-peer entries
all nodes of an OS share are built with the cluster, by the plugin's fast path: they are part of "load + allocate");
"per node" is the median over further nodes of each OS. Times are wall clock with CPU time in brackets
(on a shared machine the CPU time is the steadier figure). Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)
from gen_plan import generate

from cnimodel import packets
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--windows-every", type=int, default=4, help="every k-th node is Windows (0: none)")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    docs = generate(args.nodes, 0, args.windows_every, backend="vxlan")  # VNI 4096, Port 4789 everywhere
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, f)
        path = f.name
    t0 = time.perf_counter()
    cluster = Cluster.build(load_plan([path]))
    loaded = time.perf_counter() - t0
    nodes = cluster.plan.nodes
    first = next(n for n in nodes[len(nodes) // 2:] if n.os == "linux").name
    c1 = time.process_time()
    t1 = time.perf_counter()
    facts = cluster.facts(first)
    t2 = time.perf_counter()
    c2 = time.process_time()
    print(f"plan: {args.nodes} nodes ({sum(n.os == 'windows' for n in nodes)} Windows), flannel vxlan")
    print(f"load + allocate   {loaded:7.3f} s")
    print(f"first node        {(t2 - t1) * 1000:7.1f} ms [{(c2 - c1) * 1000:.1f}] ({first}: {len(facts.routes)} "
          f"routes, {len(facts.neighbors)} neighbours, {len(facts.fdb)} FDB, {len(facts.encaps)} hops)")
    first_win = next((n for n in nodes[len(nodes) // 2:] if n.os == "windows"), None)
    if first_win is not None:
        s, c = time.perf_counter(), time.process_time()
        f = cluster.facts(first_win.name)
        print(f"first Windows     {(time.perf_counter() - s) * 1000:7.1f} ms [{(time.process_time() - c) * 1000:.1f}] "
              f"({first_win.name}: {len(f.hns_networks[0].policies) if f.hns_networks else 0} network policies, "
              f"{len(f.encaps)} hops)")
    for os_ in ("linux", "windows"):
        pick = [n.name for n in nodes if n.os == os_ and n.name != first and (first_win is None or
                                                                           n.name != first_win.name)]
        if not pick:
            continue
        step = max(1, len(pick) // args.repeat)
        times, cpu = [], []
        for name in pick[::step][: args.repeat]:
            s, c = time.perf_counter(), time.process_time()
            f = cluster.facts(name)
            times.append((time.perf_counter() - s) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        print(f"per node ({os_:7}) median {statistics.median(times):6.1f} ms [{statistics.median(cpu):.1f}], max "
              f"{max(times):6.1f} ms [{max(cpu):.1f}] over {len(times)} nodes, {len(f.encaps)} hops each "
              "(target < 50 ms)")
    s = time.perf_counter()
    for n in nodes:
        cluster.plugin.vtep(n.name)  # type: ignore[attr-defined]
    print(f"vtep accessor     {(time.perf_counter() - s) * 1e6 / len(nodes):7.2f} µs per node (cached)")
    s = time.perf_counter()
    for n in nodes:
        cluster.endpoint(n.name)  # what the checks ask: the plugin's fast path, through the cluster
    print(f"cluster.endpoint  {(time.perf_counter() - s) * 1e6 / len(nodes):7.2f} µs per node (cached)")
    peer = facts.encaps[len(facts.encaps) // 2].peer
    s = time.perf_counter()
    frame = packets.frame_for(cluster, first, peer)
    print(f"one VXLAN frame   {(time.perf_counter() - s) * 1000:7.2f} ms ({len(bytes(frame or b''))} bytes)")
    Path(path).unlink()


if __name__ == "__main__":
    main()
