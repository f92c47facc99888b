"""The CLI's start: a command's module is imported when the command runs, and ``--help`` lists every command with
its own one-line help without importing the engines (issue #20; the figures are tools/bench_start.py's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from cnimodel import commands
from cnimodel.cli import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(commands.COMMANDS))
def test_the_table_line_is_the_commands_own_help(name: str) -> None:
    command = commands.load(name)
    assert command.name == name
    assert commands.COMMANDS[name][1] == command.get_short_help_str(limit=10_000)


def _imported_after(*args: str) -> set[str]:
    """The modules a fresh process has imported when ``cnimodel ARGS`` has run."""
    code = ("import sys; from cnimodel.cli import cli\n"
            "try:\n    cli(prog_name='cnimodel', args=sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True)
    return set(done.stderr.split())


def test_help_and_version_import_no_engine() -> None:
    for args in (["--help"], ["--version"]):
        loaded = _imported_after(*args)
        engines = {m for m in loaded if m.split(".")[:2] in [["cnimodel", e] for e in
                   ("policy", "validate", "services", "trace", "graph", "cluster", "ipam", "kernel")]}
        assert not engines, (args, sorted(engines))
        assert "numpy" not in loaded


def test_help_lists_every_command_the_table_and_the_plugins() -> None:
    out = click.testing.CliRunner().invoke(cli, ["--help"]).output
    listed = {line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()}
    plugin_commands = {c.name for c in commands.contributed()}
    assert "ovn" in plugin_commands
    assert listed == set(commands.COMMANDS) | plugin_commands
    assert {"summary", "ipam", "routes", "lookup", "graph", "topologies"} <= set(commands.COMMANDS)


def test_a_command_runs_with_only_its_module_imported() -> None:
    loaded = _imported_after("topologies")  # cnimodel/commands/facts.py, which imports apply's options
    assert not {m for m in loaded if m.startswith("cnimodel.commands.") and m not in
                ("cnimodel.commands.base", "cnimodel.commands.consoles", "cnimodel.commands.apply",
                 "cnimodel.commands.facts")}
