"""The command line: only the group; each command lives in cnimodel/commands/ (the table in its __init__).

Exit codes: 0 success, 1 a check failed, 2 bad input, 3 an internal error (a bug to report), 130 interrupted
(Ctrl-C), 141 standard output closed early (``cnimodel … | head``).
"""

from __future__ import annotations

import cnimodel.startup  # noqa: F401  (first: a Ctrl-C during the imports below prints one line)

# isort: split
import click

from cnimodel.commands import LazyGroup, load
from cnimodel.commands.base import (  # noqa: F401  (tests and third parties import these from cnimodel.cli)
    ERR,
    OUT,
    UsageProblem,
    build,
    check_node,
    handle_errors,
    plan_inputs,
    table_name,
)


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="cnimodel")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Model Kubernetes container networking as the real CNI plugins build it, on Linux and Windows.

    With no command, runs the main job on the embedded default plan (a hybrid flannel host-gw cluster).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(load("summary"))


def main() -> None:
    from cnimodel.commands.base import run_main

    run_main(cli)


if __name__ == "__main__":
    main()


