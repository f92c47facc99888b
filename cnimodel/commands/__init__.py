"""CLI commands contributed by the engines, one module each; ``cnimodel.cli`` registers every ``COMMANDS``."""

from __future__ import annotations

import importlib

import click

# Each module named here defines COMMANDS: a list of click commands. Add a module, add its name here.
MODULES: list[str] = ["trace", "reach", "lb", "netns", "check", "render", "plan"]


def register(group: click.Group) -> None:
    for name in MODULES:
        module = importlib.import_module(f"cnimodel.commands.{name}")
        for command in module.COMMANDS:
            group.add_command(command)
