"""CLI commands contributed by the engines, one module each; ``cnimodel.cli`` registers every ``COMMANDS``.

Commands a plugin contributes come through the ``cnimodel.commands`` entry-point group: each entry point names a
callable that takes ``cnimodel.commands.base`` (plan inputs, error handling, consoles) and returns click commands.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

import click

# Each module named here defines COMMANDS: a list of click commands. Add a module, add its name here.
MODULES: list[str] = ["trace", "reach", "lb", "netns", "check", "render", "plan"]
PLUGIN_GROUP = "cnimodel.commands"


def register(group: click.Group) -> None:
    for name in MODULES:
        module = importlib.import_module(f"cnimodel.commands.{name}")
        for command in module.COMMANDS:
            group.add_command(command)
    from cnimodel.commands import base

    for ep in entry_points(group=PLUGIN_GROUP):
        try:
            contributed = ep.load()(base)
        except Exception as e:  # a broken third-party entry point must not take the CLI down
            click.echo(f"cnimodel: commands {ep.name!r} ({ep.value}) not loaded: {e}", err=True)
            continue
        for command in contributed:
            group.add_command(command)
