#!/usr/bin/env python3
"""Benchmark: the type check of the objects a plan keeps whole (cnimodel/plan/shapes.py) on a large plan.

    python tools/gen_services.py --nodes 1000 --services 10000 --endpoints 10 -o /tmp/lb-10k.json
    python tools/bench_shapes.py /tmp/lb-10k.json

Times the quick pass (``fits``) over every kept object of the plan file (Services, EndpointSlices …), the pass
every well-formed object takes when the loader reads it, as CPU seconds (best of --rounds), beside the time
the whole plan takes to load (``load_plan``), so the check's share of reading is seen.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)

from cnimodel.plan import load_plan
from cnimodel.plan.shapes import SHAPES, fits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plan", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    doc = json.loads(args.plan.read_text())
    items = doc["items"] if isinstance(doc, dict) and "items" in doc else doc
    kept = [o for o in items if isinstance(o, dict) and o.get("kind") in SHAPES]
    best = float("inf")
    for _ in range(args.rounds):
        t = time.process_time()
        assert all(fits(o, SHAPES[o["kind"]]) for o in kept)
        best = min(best, time.process_time() - t)
    t = time.process_time()
    load_plan([args.plan])
    loading = time.process_time() - t
    kinds = sorted({o["kind"] for o in kept})
    print(f"{len(kept):,} kept objects ({', '.join(kinds)}): shape check {best:.3f} s CPU; "
          f"the whole plan loads in {loading:.2f} s CPU")


if __name__ == "__main__":
    main()
