"""Property: ``ovn verify`` on a mutated ovn-kubernetes plan exits 0, 1 or 2 with no internal error, traceback or
hang (issue #22), and leaves no ovsdb-server, ovn-northd or ovn-trace process behind (alive or a zombie), whatever
the plan held.

Needs OVN (ovn-northd, ovsdb-server, ovn-trace). CI runs a few plans (``CNIMODEL_FUZZ_OVN_RUNS``, default 3);
``CNIMODEL_FUZZ=long`` runs 500 and prints the figures (docs/limits.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from harness import Tally, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutate import OPS, dump, load, mutation

PROGRAMS = ("ovsdb-server", "ovn-northd", "ovn-trace")
pytestmark = pytest.mark.skipif(not all(shutil.which(p) for p in PROGRAMS),
                                reason="OVN is not installed (apt-get install ovn-central ovn-common)")

LONG = os.environ.get("CNIMODEL_FUZZ") == "long"
RUNS = int(os.environ.get("CNIMODEL_FUZZ_OVN_RUNS", "500" if LONG else "3"))
PLAN = "ovn-kubernetes-hybrid.yaml"
_DOCS: list[Any] = []
TALLY = Tally("ovn", LONG)


def ovn_processes() -> dict[int, str]:
    """pid → command line of the OVN programs that are this process's children, alive or zombies. The harness
    starts ovsdb-server and ovn-northd as children and makes this process the subreaper of the detached ovn-trace
    daemon, so whatever it leaves is here; another test's OVN processes (run alongside) are not."""
    me, out = os.getpid(), {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text().rsplit(")", 1)
            name = stat[0].split("(", 1)[1]
            ppid = int(stat[1].split()[1])
            cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if name in PROGRAMS and ppid == me:
            out[int(d.name)] = f"{name} {cmdline[:120]}"
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[str], str]:
    docs = _DOCS or _DOCS.extend(load(PLAN)) or _DOCS
    steps = []
    for _ in range(draw(st.integers(1, 2))):
        if (m := mutation(draw, docs, ("tweak", "tweak", "tweak", *OPS))) is None:  # mostly plans that still build
            break
        docs = m[0]
        steps.append(m[1])
    return steps, dump(docs)


@settings(max_examples=RUNS, deadline=None, database=None, derandomize=not LONG,
          suppress_health_check=list(HealthCheck), print_blob=True)
@given(cases())
def test_ovn_verify_on_a_mutated_plan(case: tuple[list[str], str]) -> None:
    steps, text = case
    TALLY.start()
    before = ovn_processes()
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / PLAN
        plan.write_text(text)
        outcome = run(["ovn", "verify", str(plan), "--flows", "20"])
    TALLY.count(outcome)
    problems = [] if outcome.ok else [outcome.problem]
    left = {pid: what for pid, what in ovn_processes().items() if pid not in before}
    if left:
        problems.append(f"left running: {sorted(left.values())[:3]}")
        for pid in left:  # for the next case
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
    if problems:
        TALLY.failed({"topology": PLAN, "mutations": steps, "problems": problems, "plan": text},
                     f"{PLAN} {steps}: " + "; ".join(problems))


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    TALLY.report("ovn verify")


def test_ovn_verify_traces_pods_and_services_whose_names_are_markup() -> None:
    """(this fuzz) a Service and a pod named with markup (`[/bold]db`, `client[/]`): the plan reads them
    (Kubernetes would refuse them and `check` says so), and ovn verify traced each flow by a key the endpoint
    grammar refuses: an internal error. ovn-trace and cnimodel's trace now agree on every flow."""
    docs = load(PLAN)
    svc = next(d for d in docs if d.get("kind") == "Service")
    svc["metadata"]["name"] = "[/bold]" + svc["metadata"]["name"]
    pod = next(d for d in docs if d.get("kind") == "Pod")
    pod["metadata"]["name"] += "[/]"
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / PLAN
        plan.write_text(dump(docs))
        outcome = run(["ovn", "verify", str(plan), "-o", "json"])
    assert outcome.ok and outcome.exit_code == 0, outcome.problem + outcome.stderr
