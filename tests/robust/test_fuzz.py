"""Property: no mutation of an example plan makes any command end in an internal error, a traceback, a hang or
a memory blow-up (issue #22). Every run exits 0, 1 or 2.

CI runs a small derandomised budget. Before a release, run the long mode (docs/limits.md):

    CNIMODEL_FUZZ=long python -m pytest -q -p no:cacheprovider tests/robust/test_fuzz.py

``CNIMODEL_FUZZ_RUNS`` sets the number of command runs (long mode: 10,000 by default); the long mode records
every failure in ``CNIMODEL_FUZZ_LOG`` (default: cnimodel-fuzz-failures.json in the temp directory) instead of
stopping at the first, and prints the figures (runs, failures, hangs, peak RSS, wall time).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from harness import Tally, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutate import command_lines, dump, load, mutation, names

LONG = os.environ.get("CNIMODEL_FUZZ") == "long"
RUNS = int(os.environ.get("CNIMODEL_FUZZ_RUNS", "10000" if LONG else "500"))
NAMES = sorted(p.name for p in Path(__file__).resolve().parents[2].joinpath("topologies").glob("*.yaml"))
_DOCS: dict[str, list[Any]] = {}


def _docs(name: str) -> list[Any]:
    if name not in _DOCS:
        _DOCS[name] = load(name)
    return _DOCS[name]


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, list[Any], list[str], str]:
    """A topology, one to three mutations of it, the plan text (sometimes cut short) and one command line."""
    name = draw(st.sampled_from(NAMES))
    docs = _docs(name)
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        if (m := mutation(draw, docs)) is None:
            break
        docs = m[0]
        steps.append(m[1])
    text = dump(docs)
    if draw(st.integers(0, 19)) == 0:  # a file cut short, as an interrupted copy leaves it
        cut = draw(st.integers(0, len(text)))
        text = text[:cut]
        steps.append(f"truncate at {cut}")
    args = draw(st.sampled_from(command_lines("PLAN", names(_docs(name)))))
    return name, steps, args, text


TALLY = Tally("", LONG)


@settings(max_examples=RUNS, deadline=None, database=None, derandomize=not LONG,
          suppress_health_check=list(HealthCheck), print_blob=True)
@given(cases())
def test_no_mutated_plan_breaks_a_command(case: tuple[str, list[str], list[str], str]) -> None:
    name, steps, args, text = case
    TALLY.start()
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / name
        plan.write_text(text)
        outcome = run([str(plan) if a == "PLAN" else a for a in args], stdin=text if "-" in args else None)
    TALLY.count(outcome)
    if not outcome.ok:
        TALLY.failed({"topology": name, "mutations": steps, "args": list(outcome.args), "exit": outcome.exit_code,
                      "problems": [outcome.problem], "plan": text},
                     f"{name} {steps}: cnimodel {' '.join(args)} → {outcome.problem}")


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    TALLY.report("plans")
