"""``cnimodel plan infer``: the ClusterPlan a cluster's dump stands for, to keep and edit (docs/plan-format.md)."""

from __future__ import annotations

import click

from cnimodel.commands.base import ERR, handle_errors, plan_inputs, shown
from cnimodel.render import json_text


@click.group("plan")
def plan_group() -> None:
    """Work with plans themselves."""


@plan_group.command("infer")
@plan_inputs
@click.option("-o", "--output", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@handle_errors
def infer_cmd(plan: tuple[str, ...], output: str) -> None:
    """Write the ClusterPlan inferred from PLAN (a kubectl dump, with or without a partial ClusterPlan).

    Each value says where it was read (YAML comments; status.inferred in JSON), and values nothing states are
    marked as guesses. Read the file together with the dump (`cnimodel summary cluster.yaml DUMP`): it gives the
    same plan, and an edited value replaces the inferred one.
    """
    from cnimodel.infer import load_complete
    from cnimodel.render import clusterplan

    p = load_complete(list(plan))
    if p.network is None:
        raise click.UsageError("the inputs hold no Node objects and no ClusterPlan: nothing to infer from "
                               "(give `kubectl get nodes,pods,… -A -o json` output)")
    for w in p.warnings:
        ERR.print(w.render(), markup=False)
    if output == "json":
        click.echo(json_text.dumps(clusterplan.to_json(p)))
    else:
        click.echo(clusterplan.to_yaml(p, shown(plan)), nl=False)


COMMANDS = [plan_group]
