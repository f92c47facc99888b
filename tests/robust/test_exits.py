"""Exit statuses of the failure paths (issue #22): an internal error 3 with a line saying how to report it, an
interrupt one line and 130, a closed output pipe quietly 141 (the shell's 128 + SIGPIPE)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import run

from cnimodel import examples

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_an_internal_error_exits_3_and_says_how_to_report_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("cnimodel.render.text.ipam", broken)
    r = run("ipam", str(examples.path("default.yaml")))
    assert r.exit_code == 3
    assert "internal error in cnimodel" in r.stderr and "RuntimeError: a bug" in r.stderr
    assert "please report it" in r.stderr


def test_an_interrupt_prints_one_line_and_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("cnimodel.render.text.ipam", interrupted)
    r = run("ipam", str(examples.path("default.yaml")))
    assert r.exit_code == 130 and r.stderr.strip() == "interrupted"


def test_a_closed_pipe_ends_quietly_with_141() -> None:
    # A reader that has gone before the first line is written (as `| head -0` would): every write fails.
    reader = subprocess.Popen([sys.executable, "-c", "import os; os.close(0)"], stdin=subprocess.PIPE)
    reader.wait(timeout=30)
    for args in (["routes"], ["routes", "-o", "json"]):  # rich's console and click.echo
        p = subprocess.run([sys.executable, "-m", "cnimodel", *args, str(ROOT / "topologies" / "default.yaml")],
                           stdout=reader.stdin, stderr=subprocess.PIPE, env=_env(), timeout=120)
        assert p.returncode == 141, (args, p.stderr)
        assert p.stderr == b"", args


def test_an_interrupt_while_the_program_imports_prints_one_line() -> None:
    # The same hook as the console script's start-up: argv[0] names the program, then an interrupt arrives.
    code = "import sys; sys.argv = ['/usr/bin/cnimodel']; import cnimodel; raise KeyboardInterrupt"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert p.returncode == 130 and p.stderr == "interrupted\n"


def test_a_library_user_keeps_the_traceback() -> None:
    code = "import cnimodel; raise KeyboardInterrupt"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert "Traceback" in p.stderr and p.returncode != 130
