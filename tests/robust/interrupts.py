"""Interrupt ``cnimodel netns up`` at random moments and check that nothing is left behind (issue #22).

Each round starts ``netns up`` in a process of its own (a plan named for the round, so rounds never share
namespaces), sends SIGINT after a random delay drawn over the command's whole run, and then checks the host:
no namespace with the plan's prefix (``ip netns list``), no new link in the host's namespace (``ip link``), no
mount of /run/netns/<prefix>… (/proc/mounts), one line on stderr, exit status 130 (or 0 when the command ended
first, after which ``netns down`` must remove everything).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NOISE = ("Traceback", "Event loop is closed", "Exception ignored", "AttributeError", "Task was destroyed")


@dataclass
class Tally:
    rounds: int = 0
    interrupted: int = 0
    finished: int = 0
    before_cnimodel: int = 0  # interrupts during Python's own start-up (site, .pth files): its traceback, not ours
    failures: list[str] = field(default_factory=list)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cnimodel", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def host_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


def netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def mounts() -> list[str]:
    return [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
            if line.split()[1].startswith("/run/netns/")]


def plan_file(directory: Path, name: str, source: str = "linux-vxlan-directrouting.yaml") -> Path:
    """An example plan under another name (the namespaces' prefix is a hash of the plan's name)."""
    docs = list(yaml.safe_load_all((ROOT / "topologies" / source).read_text()))
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == "ClusterPlan":
            d["metadata"]["name"] = name
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return path


def prefix_of(name: str) -> str:
    from cnimodel.kernel.naming import Names

    return Names(name).prefix


def link_names(path: Path) -> set[str]:
    """Every link name the plan's blueprint gives (bridges, veth ends, tunnels): none may appear in the host."""
    from cnimodel.kernel import blueprint
    from cnimodel.plan import load_plan

    bp = blueprint(load_plan([path]), int(PODS_PER_NODE), None)
    return ({b.name for b in bp.bridges} | {e.name for v in bp.veths for e in (v.a, v.b)}
            | {x.name for x in bp.tunnels})


PODS_PER_NODE = "16"  # 86 namespaces from the 5-node example: the kernel work takes a good part of the run


def timed_up(path: Path) -> tuple[float, float]:
    """How long the program takes to start, and one whole ``netns up`` (then ``down``): the interrupts are
    drawn from both, most of them while the namespaces are being made."""
    start = time.monotonic()
    subprocess.run(_cli("netns", "up", "--help"), capture_output=True, env=_env(), check=True, timeout=300)
    startup = time.monotonic() - start
    start = time.monotonic()
    subprocess.run(_cli("netns", "up", str(path), "-k", PODS_PER_NODE), capture_output=True, env=_env(), check=True,
                   timeout=300)
    took = time.monotonic() - start
    subprocess.run(_cli("netns", "down", str(path)), capture_output=True, env=_env(), check=True, timeout=300)
    return startup, took


def run(rounds: int, directory: Path, seed: int, tally: Tally | None = None) -> Tally:
    rng = random.Random(seed)
    tally = tally or Tally()
    base_links = host_links()
    startup, span = timed_up(plan_file(directory, f"intr-{seed}-calibrate"))
    for i in range(rounds):
        name = f"intr-{seed}-{i}"
        path, prefix = plan_file(directory, name), prefix_of(name)
        devices = link_names(path)
        p = subprocess.Popen(_cli("netns", "up", str(path), "-k", PODS_PER_NODE), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=_env(), text=True)
        time.sleep(rng.uniform(0, startup) if rng.random() < 0.25 else rng.uniform(startup, span * 1.05))
        p.send_signal(signal.SIGINT)
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            tally.failures.append(f"round {i}: hang after SIGINT")
            continue
        tally.rounds += 1
        if p.returncode == 0 or (p.returncode == -signal.SIGINT and not err.strip().endswith("interrupted")):
            # it ended before the signal (or the signal came as the interpreter was exiting)
            tally.finished += 1
            subprocess.run(_cli("netns", "down", str(path)), capture_output=True, env=_env(), timeout=300)
        elif "KeyboardInterrupt" in err and ("init_import_site" in err or "/cnimodel/" not in err):
            tally.before_cnimodel += 1  # no cnimodel frame: the interpreter had not reached cnimodel's code yet
        else:
            tally.interrupted += 1
            if p.returncode not in (130, -signal.SIGINT):
                tally.failures.append(f"round {i}: exit status {p.returncode}: {err[-300:]}")
            lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("  ")]  # (progress lines)
            if any(n in err for n in NOISE) or len(lines) > 1:
                tally.failures.append(f"round {i}: stderr {err[:1500]!r} … {err[-300:]!r}")
        left = sorted(n for n in netns_names() if n.startswith(prefix))
        links = sorted((host_links() - base_links) & devices)  # (other programs may add links meanwhile)
        mnt = sorted(m for m in mounts() if m.startswith(f"/run/netns/{prefix}-"))
        if left or links or mnt:
            tally.failures.append(f"round {i} (status {p.returncode}): left {len(left)} namespaces {left[:3]}, "
                                  f"host links {links[:3]}, {len(mnt)} mounts {mnt[:3]}")
            for n in left:  # clean up for the next round
                subprocess.run(["ip", "netns", "delete", n], capture_output=True)
    return tally


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(ROOT))  # this checkout's cnimodel for the names and blueprints, as for the commands

    n = int(os.environ.get("CNIMODEL_INTERRUPTS", "100"))
    seed = int(os.environ.get("CNIMODEL_INTERRUPT_SEED", str(int(time.time()))))
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        t = run(n, Path(tmp), seed)
    print(f"interrupts: {t.rounds} rounds (seed {seed}), {t.interrupted} interrupted in cnimodel, "
          f"{t.before_cnimodel} in Python's own start-up, {t.finished} finished first, {len(t.failures)} failures, "
          f"wall {time.monotonic() - t0:.0f} s")
    for f in t.failures:
        print("  " + f)
    sys.exit(1 if t.failures else 0)
