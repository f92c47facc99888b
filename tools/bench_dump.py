#!/usr/bin/env python3
"""Benchmark a plan from a live cluster's dump (issue 16): whole commands on a kubectl-shaped dump.

    python tools/bench_dump.py --nodes 5000 --pods 150000            # writes the dump once, then times
    python tools/bench_dump.py --dump /tmp/dump-5k.json              # an existing dump

Target (issue 16): a 5,000-node / 150,000-pod dump as ``kubectl get -o json`` writes it (managedFields and
status included) becomes a plan in ≤ 15 s and ≤ 4 GiB, whole command. Each command runs in its own process
(``python -m cnimodel …``, output to /dev/null); the figures are wall-clock and CPU seconds and the process's
peak RSS (the kernel's, from wait4). ``--plain`` also times the json.loads path (msgspec hidden) for comparison.
On a shared machine the CPU figure is the one to compare. Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's cnimodel in the child processes too: see ROOT below)
from gen_dump import write

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (("plan", "infer"), ("ipam", "-o", "json"))


def measure(args: list[str], env: dict[str, str]) -> tuple[int, float, float, float]:
    """Exit status, wall seconds, CPU seconds (user + system) and peak RSS in MiB of one child process."""
    start = time.perf_counter()
    with open(os.devnull, "w") as null:
        proc = subprocess.Popen([sys.executable, "-m", "cnimodel", *args], stdout=null, stderr=subprocess.PIPE,
                                env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        print(err[-2000:], file=sys.stderr)
    return code, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=150000)
    ap.add_argument("--full", action="store_true", help="heavier pods (tools/gen_dump.py --full)")
    ap.add_argument("--dump", type=Path, help="time this dump instead of writing one")
    ap.add_argument("--plain", action="store_true", help="also time the json.loads path (msgspec hidden)")
    args = ap.parse_args()
    tmp = None
    dump = args.dump
    if dump is None:
        tmp = tempfile.TemporaryDirectory()
        dump = Path(tmp.name) / "dump.json"
        t = time.perf_counter()
        with dump.open("w", buffering=1 << 20) as f:
            write(f, args.nodes, args.pods, args.full)
        print(f"wrote {dump} in {time.perf_counter() - t:.1f} s")
    print(f"dump: {dump.stat().st_size / 1e9:.2f} GB ({args.nodes} nodes, {args.pods} pods requested)", flush=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        import msgspec  # noqa: F401
    except ImportError:
        print("msgspec is not importable: the plain json path is timed")
    runs = [(c, env, "") for c in COMMANDS]
    if args.plain:
        # a directory holding an empty msgspec package shadows the real one: the loader falls back to json.loads
        hide = Path(tempfile.mkdtemp())
        (hide / "msgspec").mkdir()
        (hide / "msgspec" / "__init__.py").write_text("raise ImportError('hidden by bench_dump --plain')\n")
        plain = dict(env, PYTHONPATH=os.pathsep.join([str(hide), env["PYTHONPATH"]]))
        runs.append((("plan", "infer"), plain, " (json.loads)"))
    for command, e, note in runs:
        code, wall, cpu, rss = measure([*command, str(dump)], e)
        verdict = "ok" if wall <= 15 and rss <= 4096 else "OVER TARGET"
        print(f"cnimodel {' '.join(command):<14}{note:<13} exit {code}  {wall:6.2f} s wall {cpu:6.2f} s CPU  "
              f"peak RSS {rss:6.0f} MiB   ({verdict}: <= 15 s, <= 4096 MiB)", flush=True)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
