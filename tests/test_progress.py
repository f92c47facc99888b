"""Progress on long work (cnimodel/commands/progress.py): drawn on a terminal once the work runs past the delay,
never on a file or pipe, never for quick work."""

from __future__ import annotations

import io
import time

from rich.console import Console

from cnimodel.commands.progress import progress


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100), out


def _wait_for(out: io.StringIO, text: str) -> bool:
    for _ in range(100):
        if text in out.getvalue():
            return True
        time.sleep(0.02)
    return False


def test_long_work_on_a_terminal_is_shown_with_its_stage_and_count() -> None:
    console, out = _console(terminal=True)
    with progress(console=console, delay=0.0) as bar:
        bar.stage("writing pairs", total=40)
        bar.update(10)
        assert _wait_for(out, "writing pairs") and _wait_for(out, "10/40")
        assert bar.shown


def test_quick_work_shows_nothing() -> None:
    console, out = _console(terminal=True)
    with progress(console=console, delay=30.0) as bar:
        bar.stage("reading the plan")
    assert not bar.shown and out.getvalue() == ""


def test_not_a_terminal_shows_nothing() -> None:
    for enabled, terminal in ((True, False), (False, True)):
        console, out = _console(terminal=terminal)
        with progress(enabled=enabled, console=console, delay=0.0) as bar:
            bar.stage("reading the plan", total=3)
            bar.update(2)
            time.sleep(0.2)
        assert not bar.shown and out.getvalue() == ""


def _slowed(monkeypatch, module, name: str) -> None:  # type: ignore[no-untyped-def]
    """``module.name`` made 0.4 s slower, so that the display draws the stage it runs in."""
    original = getattr(module, name)

    def slow(*a, **k):  # type: ignore[no-untyped-def]
        time.sleep(0.4)
        return original(*a, **k)

    monkeypatch.setattr(module, name, slow)


def _run_with_terminal(monkeypatch, *args: str) -> str:  # type: ignore[no-untyped-def]
    """A command run in-process with stderr a terminal, the display's delay 0 and the cluster's build slowed
    down enough for the display to draw: what stderr's terminal received."""
    from click.testing import CliRunner

    from cnimodel import cluster as cluster_mod
    from cnimodel.cli import cli
    from cnimodel.commands import consoles
    from cnimodel.commands import progress as progress_mod

    console, out = _console(terminal=True)
    monkeypatch.setattr(consoles, "ERR", console)
    monkeypatch.setattr(progress_mod, "DELAY", 0.0)
    build = cluster_mod.Cluster.build.__func__  # type: ignore[attr-defined]

    def slow(cls, *a, **k):  # type: ignore[no-untyped-def]
        time.sleep(0.4)
        return build(cls, *a, **k)

    monkeypatch.setattr(cluster_mod.Cluster, "build", classmethod(slow))
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return out.getvalue()


def test_every_command_reading_a_plan_shows_its_stages(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cnimodel import examples
    from cnimodel.render import text

    _slowed(monkeypatch, text, "ipam")
    drawn = _run_with_terminal(monkeypatch, "ipam", str(examples.path("default.yaml")))
    # (stdout is not a terminal here: shown until the answer is written)
    assert "building the cluster" in drawn and "computing and writing the answer" in drawn


def test_a_command_with_its_own_stages_keeps_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cnimodel import examples
    from cnimodel.commands import base, render

    _slowed(monkeypatch, render, "_drawing")
    monkeypatch.setattr(base, "_answer_on_terminal", lambda: True)  # as `render -o dot` on a terminal
    drawn = _run_with_terminal(monkeypatch, "render", str(examples.path("default.yaml")), "-o", "dot")
    assert "building the cluster" in drawn and "drawing" in drawn
    assert "computing and writing the answer" not in drawn  # the plan reading's stage does not replace render's


def test_machine_readable_answers_show_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cnimodel import examples

    assert _run_with_terminal(monkeypatch, "ipam", str(examples.path("default.yaml")), "-o", "json") == ""
