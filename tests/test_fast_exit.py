"""The program ends without the interpreter's teardown once a large plan is in memory (commands/base.py
``run_main``): the output is all written and the exit status is the one the command gave."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROGRAM = textwrap.dedent("""
    import gc, sys
    import click
    from cnimodel import bulk
    from cnimodel.commands import base

    gc.disable()
    keep = [[i] for i in range({objects})]  # a plan's worth of objects, frozen as cnimodel.bulk freezes them
    bulk.freeze_objects()
    gc.enable()

    @click.command()
    @base.handle_errors
    def cmd():
        click.echo("x" * 200_000)
        sys.exit({code})

    import atexit
    atexit.register(lambda: print("torn down", file=sys.stderr))  # run in the interpreter's teardown, if any
    base.run_main(cmd)
""")


@pytest.mark.parametrize(("objects", "code", "status", "teardown"), [
    (600_000, "0", 0, False),
    (600_000, "1", 1, False),
    (600_000, "'a message'", 1, False),
    (10, "1", 1, True),  # a small plan: the usual exit
])
def test_exit_status_and_output_without_teardown(objects: int, code: str, status: int, teardown: bool) -> None:
    r = subprocess.run([sys.executable, "-c", PROGRAM.format(objects=objects, code=code)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == status
    assert r.stdout == "x" * 200_000 + "\n"
    assert ("torn down" in r.stderr) is teardown
    assert ("a message" in r.stderr) is (code == "'a message'")


def test_a_closed_pipe_is_status_141(tmp_path: Path) -> None:
    program = tmp_path / "program.py"
    program.write_text(PROGRAM.format(objects=600_000, code="0").replace('"x" * 200_000', '"x" * 2_000_000'))
    r = subprocess.run(f"{sys.executable} {program} | true; echo ${{PIPESTATUS[0]}}",
                       shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "141", r.stderr
