"""Property: ``netns up``, ``verify`` and ``down`` on a mutated example plan exit 0, 1 or 2 with no internal error,
traceback or hang (issue #22), and after ``down`` no namespace, link or mount of the plan is left, whatever ``up``
did (a refused plan makes nothing; a plan ``up`` fails on halfway is removed again).

Needs root. CI runs a handful of plans (``CNIMODEL_FUZZ_NETNS_RUNS``, default 5); ``CNIMODEL_FUZZ=long`` runs 500
and prints the figures (docs/limits.md).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from harness import Tally, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interrupts import host_links, mounts, netns_names
from mutate import OPS, dump, load, mutation

from cnimodel.kernel import nsutil

pytestmark = pytest.mark.skipif(nsutil.can_admin() is not None,
                                reason=f"netns tests need root: {nsutil.can_admin()}")

LONG = os.environ.get("CNIMODEL_FUZZ") == "long"
RUNS = int(os.environ.get("CNIMODEL_FUZZ_NETNS_RUNS", "500" if LONG else "5"))
# The example plans whose nodes are all Linux (netns builds Linux nodes; a Windows node is passed by).
PLANS = ("linux-vxlan-directrouting.yaml", "default.yaml", "canal-linux.yaml", "kubenet-calico.yaml",
         "hybrid-vxlan.yaml")
_DOCS: dict[str, list[Any]] = {}
TALLY = Tally("netns", LONG, exits_of="up exit")


def _renamed(docs: list[Any], name: str) -> list[Any]:
    """The plan under a name of its own: its namespaces' prefix then differs from the kernel tests' (which use
    the example plans as they are and may run alongside)."""
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == "ClusterPlan":
            d["metadata"]["name"] = name
    return docs


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, list[str], str]:
    name = draw(st.sampled_from(PLANS))
    docs = _DOCS.setdefault(name, _renamed(load(name), f"fuzz{os.getpid()}-{name.removesuffix('.yaml')}"))
    steps = []
    for _ in range(draw(st.integers(1, 2))):
        if (m := mutation(draw, docs, ("tweak", "tweak", "tweak", *OPS))) is None:  # mostly plans that still build
            break
        docs = m[0]
        steps.append(m[1])
    return name, steps, dump(docs)


def plan_prefix_of(path: Path) -> str | None:
    """The prefix of every namespace ``netns up`` makes for the plan at ``path`` (None: the plan does not load,
    so nothing was made)."""
    from cnimodel.kernel.naming import plan_prefix
    from cnimodel.plan import load_plan

    try:
        return plan_prefix(load_plan([path]).name)
    except Exception:  # the plan is refused: netns up made nothing
        return None


def _left(prefix: str | None) -> str:
    """What the runs made for the plan and did not remove: namespaces, host links, /run/netns mounts with the
    plan's prefix (only those: other tests may make and remove their own meanwhile)."""
    if prefix is None:
        return ""
    ns = sorted(n for n in netns_names() if n.startswith(f"{prefix}-"))
    links = sorted(n for n in host_links() if n.startswith(prefix))
    mnt = sorted(m for m in mounts() if m.startswith(f"/run/netns/{prefix}-"))
    for n in ns:  # clean up for the next case: the plan's own namespaces only
        subprocess.run(["ip", "netns", "delete", n], capture_output=True)
    return f"left {ns[:3]} namespaces, host links {links[:3]}, mounts {mnt[:3]}" if ns or links or mnt else ""


@settings(max_examples=RUNS, deadline=None, database=None, derandomize=not LONG,
          suppress_health_check=list(HealthCheck), print_blob=True)
@given(cases())
def test_netns_up_verify_down_on_a_mutated_plan(case: tuple[str, list[str], str]) -> None:
    name, steps, text = case
    TALLY.start()
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / name
        plan.write_text(text)
        prefix = plan_prefix_of(plan)
        for args in (["netns", "up", str(plan), "-k", "1"], ["netns", "verify", str(plan)],
                     ["netns", "down", str(plan)]):
            outcome = run(args)
            if os.environ.get("CNIMODEL_FUZZ_SHOW") and args[1] == "up":
                print(outcome.exit_code, outcome.stderr[-200:].replace("\n", " | "))
            TALLY.count(outcome, exits=args[1] == "up")
            if not outcome.ok:
                problems.append(f"cnimodel {' '.join(args[:2])} → {outcome.problem}")
    left = _left(prefix)
    if left:
        problems.append(f"after down: {left}")
    if problems:
        TALLY.failed({"topology": name, "mutations": steps, "problems": problems, "plan": text},
                     f"{name} {steps}: " + "; ".join(problems))


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    TALLY.report("netns up/verify/down")


def test_verify_traces_a_pod_whose_namespace_is_markup(tmp_path: Path) -> None:
    """(this fuzz) default.yaml with iis-1's namespace `web[/]`: the plan reads it (Kubernetes would refuse it and
    `check` says so), `netns up` realises it, and `verify` traced the pod by a name the endpoint grammar refuses:
    an internal error. It traces such a pod by its address, and the kernel agrees with the model."""
    docs = _renamed(load("default.yaml"), f"fuzz{os.getpid()}-markup")
    pod = next(d for d in docs if d.get("kind") == "Pod" and d["metadata"]["name"] == "iis-1")
    pod["metadata"]["namespace"] = "web[/]"
    plan = tmp_path / "markup.yaml"
    plan.write_text(dump(docs))
    try:
        assert run(["netns", "up", str(plan), "-k", "1"]).exit_code == 0
        outcome = run(["netns", "verify", str(plan)])
        assert outcome.ok and outcome.exit_code == 0, outcome.problem
    finally:
        run(["netns", "down", str(plan)])
    assert not _left(plan_prefix_of(plan))


def test_a_pod_name_beyond_ascii_is_realised_and_removed(tmp_path: Path) -> None:
    """(this fuzz) kubenet-calico with a pod named `web-0-ünï`: `netns up` made /run/netns/…-web-0-ünï and
    `netns down` ended in an internal error (pyroute2 removes namespaces by ASCII names), leaving the plan up."""
    docs = _renamed(load("kubenet-calico.yaml"), f"fuzz{os.getpid()}-unicode")
    pod = next(d for d in docs if d.get("kind") == "Pod")
    pod["metadata"]["name"] += "-ünï"
    plan = tmp_path / "unicode.yaml"
    plan.write_text(dump(docs))
    try:
        for args in (["netns", "up", str(plan), "-k", "1"], ["netns", "verify", str(plan)],
                     ["netns", "down", str(plan)]):
            outcome = run(args)
            assert outcome.ok and outcome.exit_code == 0, f"{args[1]}: {outcome.problem}"
    finally:
        left = _left(plan_prefix_of(plan))
    assert not left
