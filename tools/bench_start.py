#!/usr/bin/env python3
"""Benchmark: the CLI's start, as a user feels it (whole process, this checkout's code).

    python tools/bench_start.py [--runs 10]

Times ``cnimodel --version``, ``cnimodel --help`` and ``cnimodel routes`` on the 4-node example plans, each a
fresh ``python -m cnimodel`` process; with hyperfine installed (``apt-get install hyperfine``) hyperfine measures
(mean ± σ), otherwise the best of --runs wall times. Targets (issue #20): --help and --version <= 0.15 s,
routes on a 4-node plan <= 0.3 s. Where the time goes: ``python -X importtime -m cnimodel --version``.
Run by hand; not a test.

Figures on the 2-core build machine (hyperfine, mean):
  before lazy command loading: --version 0.47 s, --help 0.48 s, routes default.yaml 0.46 s
  after:                       --version 0.10 s, --help 0.13 s, routes default.yaml 0.26 s
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _checkout import process_env

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "--version": ["--version"],
    "--help": ["--help"],
    "routes default.yaml": ["routes", "topologies/default.yaml"],
    "routes hybrid-vxlan.yaml": ["routes", "topologies/hybrid-vxlan.yaml"],
    "routes canal-windows.yaml": ["routes", "topologies/canal-windows.yaml"],
}
TARGETS = {"--version": 0.15, "--help": 0.15}


def _hyperfine(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(["hyperfine", "-N", "-w", "2", "-r", str(runs), "--export-json", out.name,
                        " ".join(cmd)], check=True, capture_output=True, cwd=ROOT, env=env)
        return float(json.load(open(out.name))["results"][0]["mean"])


def _best(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    env = process_env(ROOT)
    measure = _hyperfine if shutil.which("hyperfine") else _best
    print(f"{'command':28} {'seconds':>8}  target  ({'hyperfine mean' if measure is _hyperfine else 'best of runs'})")
    for name, argv in CASES.items():
        seconds = measure([sys.executable, "-m", "cnimodel", *argv], args.runs, env)
        target = TARGETS.get(name, 0.3)
        print(f"{name:28} {seconds:8.3f}  {target:.2f}  {'ok' if seconds <= target else 'MISSED'}")


if __name__ == "__main__":
    main()
