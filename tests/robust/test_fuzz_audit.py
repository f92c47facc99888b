"""Property: no mutation of a pasted capture makes ``cnimodel audit --from`` end in an internal error, a
traceback or a hang (issue #22); a refused file is named in the error.

The captures are tests/audit_captures.py's, one of every kind audit reads. A JSON capture is mutated as the plans
are (mutate.py: deleted keys, values of other types, lists for mappings, odd addresses and prefixes, huge numbers,
markup and unicode in names); a text capture (iptables-save, hnsdiag) line by line. The bytes are then written
as a capturing tool might have: UTF-8, with a BOM, UTF-16 with and without a BOM, Latin-1, behind a
collectlogs table, cut short. Sometimes the kind is named (``--from KIND=FILE``), rightly or wrongly.

CI runs a small derandomised budget; ``CNIMODEL_FUZZ=long`` runs ``CNIMODEL_FUZZ_AUDIT_RUNS`` (default 10,000) and
prints the figures, recording failures in ``CNIMODEL_FUZZ_LOG`` (its name with -audit added) (docs/limits.md).
"""

from __future__ import annotations

import codecs
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from audit_captures import Capture, captures
from harness import Outcome, Tally, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutate import ODD_VALUES, mutation

from cnimodel.audit.detect import KINDS

LONG = os.environ.get("CNIMODEL_FUZZ") == "long"
RUNS = int(os.environ.get("CNIMODEL_FUZZ_AUDIT_RUNS", "10000" if LONG else "300"))
CAPTURES = captures()
ENCODINGS = ("utf-8", "utf-8", "utf-8", "utf-8-bom", "utf-16-bom", "utf-16-le", "utf-16-be-bom", "latin-1",
             "table", "bytes")
ODD_LINES = ("", "COMMIT", "*nat", "*", ":", ":KUBE-SERVICES", "-A", "-A KUBE-SERVICES", "-A X -j", "Networks:",
             "Endpoints:", "LoadBalancers:", "Namespaces:", "|", "| | |", "x | 10.96.0.300 | y", "[/]", "ünïcødé-名前",
             "a" * 5000, "-A KUBE-SERVICES -d 10.0.0.0/33 -p tcp --dport 99999 -j KUBE-SVC-X", "\t\t", "\x00")


def _text_mutation(text: str, draw: st.DrawFn, steps: list[str]) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, max(0, len(lines) - 1)))
    op = draw(st.sampled_from(("delete", "duplicate", "insert", "token", "swap")))
    if op == "delete" and lines:
        del lines[i]
    elif op == "duplicate" and lines:
        lines.insert(i, lines[i])
    elif op == "insert":
        lines.insert(i, draw(st.sampled_from(ODD_LINES)))
    elif op == "token" and lines and lines[i].split():
        tokens = lines[i].split()
        t = draw(st.integers(0, len(tokens) - 1))
        tokens[t] = str(draw(st.sampled_from(ODD_VALUES)))
        lines[i] = " ".join(tokens)
    elif op == "swap" and len(lines) > 1:
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    steps.append(f"{op} line {i}")
    return "\n".join(lines)


def _json_mutation(data: Any, draw: st.DrawFn, steps: list[str]) -> Any:
    m = mutation(draw, [data], shown=1)  # (the path past the one document's index)
    if m is None:
        return data
    docs, step = m
    steps.append(step)
    return docs[0] if docs else None


def encode(text: str, how: str) -> bytes:
    if how == "utf-8-bom":
        return codecs.BOM_UTF8 + text.encode("utf-8", "surrogatepass")
    if how == "utf-16-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le", "surrogatepass")
    if how == "utf-16-le":  # no byte-order mark: what some editors save
        return text.encode("utf-16-le", "surrogatepass")
    if how == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be", "surrogatepass")
    if how == "latin-1":
        return text.encode("latin-1", "replace")
    if how == "table":  # collectlogs.ps1 writes a `Select` table before the JSON
        return ("\nName  Type  Id\n----  ----  --\nx  L2Bridge  [/]\n\n" + text).encode("utf-8", "surrogatepass")
    if how == "bytes":
        return bytes(range(256)) + text.encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")


@st.composite
def cases(draw: st.DrawFn) -> tuple[Capture, list[str], list[tuple[str, str, bytes]], list[str]]:
    """A capture, its mutations, the files to write (name, KIND= prefix, bytes) and the extra arguments."""
    cap = draw(st.sampled_from(CAPTURES))
    steps: list[str] = []
    data = cap.data
    for _ in range(draw(st.integers(0, 3))):
        data = _text_mutation(data, draw, steps) if cap.text else _json_mutation(data, draw, steps)
    text = data if cap.text else json.dumps(data, indent=draw(st.sampled_from((None, 2, 4))), ensure_ascii=False)
    how = draw(st.sampled_from(ENCODINGS))
    raw = encode(text, how)
    steps.append(how)
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut]
        steps.append(f"truncate at {cut}")
    kind = cap.kind
    if draw(st.integers(0, 5)) == 0:
        kind = draw(st.sampled_from(sorted(KINDS)))
        steps.append(f"as {kind}")
    files = [(cap.name, kind, raw)]
    partners = [c for c in CAPTURES if c.plan == cap.plan and c.node == cap.node and c.name != cap.name]
    if partners and draw(st.booleans()):  # a second file, unmutated, captured on the same node
        other = draw(st.sampled_from(partners))
        files.append((other.name, other.kind, encode(other.data if other.text else json.dumps(other.data), "utf-8")))
    extra = draw(st.sampled_from((["-o", "json"], [])))
    return cap, steps, files, extra


TALLY = Tally("audit", LONG)


def judge(outcome: Outcome, stderr_names: list[str], err: str) -> str:
    """The promise, and that a refused file is named."""
    if not outcome.ok:
        return outcome.problem
    if outcome.exit_code == 2 and not any(n in err for n in stderr_names):
        return f"exit 2 without naming the file: {err[-300:]}"
    return ""


@settings(max_examples=RUNS, deadline=None, database=None, derandomize=not LONG,
          suppress_health_check=list(HealthCheck), print_blob=True)
@given(cases())
def test_no_mutated_capture_breaks_audit(case: tuple[Capture, list[str], list[tuple[str, str, bytes]],
                                                     list[str]]) -> None:
    cap, steps, files, extra = case
    TALLY.start()
    with tempfile.TemporaryDirectory() as tmp:
        args = ["audit", cap.plan, "--node", cap.node]
        for name, kind, raw in files:
            (Path(tmp) / name).write_bytes(raw)
            args += ["--from", f"{kind}={Path(tmp) / name}" if kind else str(Path(tmp) / name)]
        outcome = run(args + extra)
    TALLY.count(outcome)
    problem = judge(outcome, [name for name, _, _ in files], outcome.stderr)
    if problem:
        TALLY.failed({"capture": cap.name, "plan": cap.plan, "node": cap.node, "mutations": steps,
                      "args": list(outcome.args), "exit": outcome.exit_code, "problems": [problem],
                      "file": files[0][2].decode("utf-8", "replace")},
                     f"{cap.name} {steps}: cnimodel {' '.join(outcome.args)} → {problem}")


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    TALLY.report("audit --from")
