#!/usr/bin/env python3
"""Benchmark policy reachability at cluster scale (run by hand; not a test).

    python tools/gen_policy_plan.py -o /tmp/policy-150k.json        # 150,000 pods, 5,000 ns, 2,000 policies
    python tools/bench_policy.py /tmp/policy-150k.json

Reports: load time, build time (compile + equivalence classes + signatures), all-class reachability time
(every class pair's connection set, numpy), one-pair query latency after the build (median, p99 and max
over random pod pairs, none of them warmed), and peak resident memory.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import time

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)

from cnimodel.plan import load_plan
from cnimodel.policy import Reachability


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plan")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    plan = load_plan([a.plan])
    t1 = time.perf_counter()
    print(f"load:   {t1 - t0:7.2f} s  ({len(plan.pods)} pods, {len(plan.namespaces)} namespaces, "
          f"{len(plan.objects)} policy objects)  peak {peak_mib():.0f} MiB")
    r = Reachability.from_plan(plan)
    t2 = time.perf_counter()
    n_cls = len(r.u.classes)
    print(f"build:  {t2 - t1:7.2f} s  ({len(r.policies.policies)} policies, {n_cls} classes "
          f"[{sum(c.kind == 'pod' for c in r.u.classes)} pod, {sum(c.kind == 'external' for c in r.u.classes)} "
          f"external, {sum(c.kind == 'host' for c in r.u.classes)} host], {r.engine.signature_count} signatures)"
          f"  peak {peak_mib():.0f} MiB")
    pods = r.pods()
    rnd = random.Random(a.seed)

    def pair_latencies() -> list[float]:
        """Milliseconds of ``a.queries`` random pod-pair queries, sorted."""
        lat = []
        for _ in range(a.queries):
            s, d = rnd.choice(pods), rnd.choice(pods)
            q0 = time.perf_counter()
            r.connection(s, d)
            lat.append((time.perf_counter() - q0) * 1e3)
        return sorted(lat)

    lat = pair_latencies()
    print(f"pair:   median {statistics.median(lat):.3f} ms, p99 {lat[int(len(lat) * 0.99) - 1]:.3f} ms, "
          f"max {lat[-1]:.3f} ms over {a.queries} random pod pairs (cold, right after build; "
          f"{sum(x > 1 for x in lat)} over 1 ms)")
    gc.disable()  # the same again with the cyclic collector paused: what remains is the query itself
    lat = pair_latencies()
    gc.enable()
    print(f"pair:   median {statistics.median(lat):.3f} ms, max {lat[-1]:.3f} ms over {a.queries} new random pairs "
          "with the garbage collector paused")
    t3 = time.perf_counter()
    f = r.class_matrix()
    t4 = time.perf_counter()
    allowed = int((f != r.engine.intern(r.engine.conns[0].NONE)).sum())
    print(f"matrix: {t4 - t3:7.2f} s  all-class reachability, {n_cls}x{n_cls} = {n_cls * n_cls:,} class pairs "
          f"({allowed:,} with something allowed, {len(r.engine.conns)} distinct connection sets)  "
          f"peak {peak_mib():.0f} MiB")
    print(f"total after load: {t4 - t1:.2f} s; peak resident memory {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
