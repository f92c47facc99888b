"""Commands a plugin contributes (entry-point group cnimodel.commands): registered with the core's own, given the
CLI's helpers, and a broken one does not take the CLI down."""

from __future__ import annotations

from types import ModuleType

import click
import pytest

from cnimodel import commands
from cnimodel.commands import base


class EntryPoint:
    def __init__(self, name: str, load: object) -> None:
        self.name, self.value, self._load = name, f"tests:{name}", load

    def load(self) -> object:
        if isinstance(self._load, Exception):
            raise self._load
        return self._load


def test_contributed_commands_get_the_kit_and_register(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[ModuleType] = []

    def contribute(kit: ModuleType) -> list[click.Command]:
        seen.append(kit)
        return [click.Command("hello", callback=lambda: None)]

    eps = [EntryPoint("good", contribute), EntryPoint("broken", ImportError("no module named nowhere"))]
    monkeypatch.setattr(commands, "entry_points", lambda group: eps if group == commands.PLUGIN_GROUP else [])
    group = click.Group("cli")
    commands.register(group)
    assert seen == [base] and "hello" in group.commands
    assert "trace" in group.commands  # the core's own commands are all there
    err = capsys.readouterr().err
    assert "'broken'" in err and "no module named nowhere" in err


def test_the_ovn_commands_are_contributed_not_named_by_the_core() -> None:
    from cnimodel.cli import cli

    with click.Context(cli) as ctx:
        assert "ovn" in cli.list_commands(ctx) and cli.get_command(ctx, "ovn") is not None
    assert "ovn" not in commands.MODULES
