"""Run one command line in-process and judge it by issue #22's promise: exit 0, 1 or 2; no internal error, no
traceback, no hang, no memory blow-up."""

from __future__ import annotations

import json
import os
import resource
import signal
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from click.testing import CliRunner

from cnimodel.cli import cli

SECONDS = 30  # a command on an example plan takes well under a second; past this it counts as a hang
RSS_MB = 2048  # the fuzz process's peak resident memory past this counts as a blow-up


class Hang(BaseException):  # not an Exception: the CLI's error handler must not turn it into a message
    """A command ran past SECONDS."""


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def stop(_sig: int, _frame: FrameType | None) -> None:
        raise Hang

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@dataclass(frozen=True)
class Outcome:
    args: tuple[str, ...]
    exit_code: int | None
    problem: str  # "" when the promise held
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def where(args: list[str], stdin: str | None) -> str:
    """The innermost frames of an internal error (run again with --debug, which lets it through)."""
    r = CliRunner().invoke(cli, ["--debug", *args], input=stdin, catch_exceptions=True)
    if r.exc_info is None or isinstance(r.exception, SystemExit):
        return ""
    frames = [f for f in traceback.extract_tb(r.exc_info[2]) if "/cnimodel/" in f.filename][-3:]
    return " at " + " ← ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))


def run(args: list[str], stdin: str | None = None) -> Outcome:
    """Run ``cnimodel ARGS`` in this process and say what, if anything, broke the promise."""
    try:
        with deadline(SECONDS):
            r = CliRunner().invoke(cli, args, input=stdin, catch_exceptions=True)
    except Hang:
        return Outcome(tuple(args), None, f"hang: still running after {SECONDS} s")
    text = r.stderr + r.stdout
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        return Outcome(tuple(args), r.exit_code, f"uncaught {type(r.exception).__name__}: {r.exception}")
    if "internal error" in text or "Traceback (most recent call last)" in text:
        return Outcome(tuple(args), r.exit_code, "internal error: " + r.stderr[-300:] + where(args, stdin))
    if "out of memory" in text:
        return Outcome(tuple(args), r.exit_code, "memory: " + r.stderr[-300:])
    if r.exit_code not in (0, 1, 2):
        return Outcome(tuple(args), r.exit_code, f"exit status {r.exit_code}: {r.stderr[-300:]}")
    if r.exit_code == 2 and not r.stderr.strip():
        return Outcome(tuple(args), r.exit_code, "exit 2 without a message on stderr")
    if peak_rss_mb() > RSS_MB:
        return Outcome(tuple(args), r.exit_code, f"memory: peak RSS {peak_rss_mb():.0f} MB")
    return Outcome(tuple(args), r.exit_code, "", r.stderr)


class Tally:
    """What one fuzz suite saw: runs, exit statuses of the command counted (``exits_of``), hangs, and in long mode
    the failures, recorded instead of stopping at the first and printed with the figures at the end."""

    def __init__(self, suite: str, long: bool, exits_of: str = "exit") -> None:
        self.suite, self.long, self.exits_of = suite, long, exits_of
        self.failures: list[dict[str, Any]] = []
        self.runs = self.hangs = 0
        self.exits = {0: 0, 1: 0, 2: 0}
        self.started = 0.0

    def start(self) -> None:
        self.started = self.started or time.monotonic()

    def count(self, outcome: Outcome, exits: bool = True) -> None:
        """One command run; ``exits``: its exit status is one of those the figures list."""
        self.runs += 1
        self.hangs += outcome.problem.startswith("hang")
        if exits and outcome.exit_code in self.exits:
            self.exits[outcome.exit_code] += 1

    def failed(self, record: dict[str, Any], message: str) -> None:
        """A case that broke the promise: recorded in long mode, the test's failure otherwise."""
        if not self.long:
            pytest.fail(message)
        self.failures.append(record)

    def report(self, what: str) -> None:
        """Long mode: the failures in the suite's log and one line of figures; fails when any was recorded."""
        if not self.long:
            return
        wall = time.monotonic() - self.started if self.started else 0.0
        log = log_path(self.suite)
        log.write_text(json.dumps(self.failures, indent=1))
        internal = sum(any(p.startswith(("internal", "uncaught")) for p in f["problems"]) for f in self.failures)
        exits = "/".join(str(self.exits[c]) for c in (0, 1, 2))
        print(f"\nfuzz {what}: {self.runs} command runs, {len(self.failures)} failures ({internal} with internal "
              f"errors, {self.hangs} hangs), peak RSS {peak_rss_mb():.0f} MB, wall {wall:.0f} s; {self.exits_of} "
              f"0/1/2: {exits}; failures in {log}")
        assert not self.failures, f"{len(self.failures)} failures, listed in {log}"


def log_path(suite: str) -> Path:
    """Where a long run records its failures: ``CNIMODEL_FUZZ_LOG`` with the suite's name added (fuzz.json →
    fuzz-audit.json), so the suites run together keep their own logs; the plans' suite (``""``) uses it as is."""
    given = os.environ.get("CNIMODEL_FUZZ_LOG")
    base = Path(given) if given else Path(tempfile.gettempdir()) / "cnimodel-fuzz-failures.json"
    return base.with_name(f"{base.stem}-{suite}{base.suffix}") if suite else base
