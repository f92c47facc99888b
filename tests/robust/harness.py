"""Run one command line in-process and judge it by issue #22's promise: exit 0, 1 or 2; no internal error, no
traceback, no hang, no memory blow-up."""

from __future__ import annotations

import resource
import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

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


def log_path(suite: str) -> Path:
    """Where a long run records its failures: ``CNIMODEL_FUZZ_LOG`` with the suite's name added (fuzz.json →
    fuzz-audit.json), so the suites run together keep their own logs."""
    import os
    import tempfile

    given = os.environ.get("CNIMODEL_FUZZ_LOG")
    base = Path(given) if given else Path(tempfile.gettempdir()) / "cnimodel-fuzz-failures.json"
    return base.with_name(f"{base.stem}-{suite}{base.suffix}")
