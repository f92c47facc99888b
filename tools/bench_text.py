#!/usr/bin/env python3
"""Benchmark: the two writers cnimodel keeps beside the standard ones, against those (run by hand; not a test).

    python tools/bench_text.py               # 10,000 table rows; 100,000 HNS-like JSON objects

1. A long table: ``print_table`` of a ``TextTable`` written plainly (cnimodel/render/text.py) against rich
   laying the same table out (what ``cnimodel lb --node N`` prints for a node of 10,000 service ports).
2. JSON with an indent: ``json_text.dumps`` (cnimodel/render/json_text.py) against ``json.dumps(indent=2)``
   on HNS-like objects (what ``cnimodel routes --node WIN -o json`` writes for a Windows node of a
   10,000-Service plan). The two must write the same text but for floats' spelling (tests/render/test_json_text.py
   holds it).

Figures (`python tools/bench_text.py --rounds 1`, 2 shared cores, Python 3.11, 2026-12-07; wall seconds):
  table, 10,000 rows: rich layout 2.89 s, plain 0.02 s
  JSON, 100,000 objects (29 MB): json.dumps(indent=2) 0.84 s, json_text.dumps 0.37 s
  later, json_text.dumps through the C encoder and msgspec's formatter (load average 3-4, the test suite running):
  json.dumps(indent=2) 1.23 s, json_text.dumps 0.42 s, json_text.walk (the former dumps) 0.85 s
  2026-12-08, json_text.dumps through msgspec's encoder and formatter (load average 1, `--rounds 2`):
  json.dumps(indent=2) 0.77 s, json_text.dumps 0.07 s, json_text.walk 0.36 s
Both pay for a user's command, so both stay.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)
from rich.console import Console

from cnimodel.render.json_text import dumps, walk
from cnimodel.render.text import TextTable, cells, print_table


def best(f: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    t = TextTable(show_edge=False, pad_edge=False)
    for c in ("service port", "protocol", "chains", "endpoints", "notes"):
        t.add_column(c)
    for i in range(a.rows):
        t.add_row(*cells(f"ns{i % 50:04d}/svc{i:06d}:http", "TCP", f"KUBE-SVC-{i:016X}", "10 (3 local)", "-"))

    def rich() -> None:
        print_table(Console(file=io.StringIO(), width=160), t, limit=a.rows + 1)

    def plain() -> None:
        print_table(Console(file=io.StringIO(), width=160), t, limit=0)

    print(f"table, {a.rows:,} rows: rich layout {best(rich, a.rounds):.2f} s, plain {best(plain, a.rounds):.2f} s")
    value = [{"ID": f"{i:08X}-0000-0000-0000-000000000000", "Name": f"remote 10.{i >> 16 & 255}.{i >> 8 & 255}."
              f"{i & 255}", "IPAddress": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", "Flags": 1,
              "Policies": [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.240.0.20"}}]}
             for i in range(a.objects)]
    size = len(dumps(value)) / 1e6
    std = best(lambda: json.dumps(value, indent=2), a.rounds)
    own = best(lambda: dumps(value), a.rounds)
    walked = best(lambda: walk(value), a.rounds)
    print(f"JSON, {a.objects:,} objects ({size:.0f} MB): json.dumps(indent=2) {std:.2f} s, json_text.dumps {own:.2f} s "
          f"(msgspec's encoder and formatter), json_text.walk {walked:.2f} s (json's spelling of every value)")


if __name__ == "__main__":
    main()
