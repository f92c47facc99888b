"""CLI commands contributed by the engines, one module each; ``cnimodel.cli`` lists every one in ``COMMANDS``.

A command's module is imported only when the command runs (or its own ``--help`` is asked for): the table below
names each command's module and attribute and carries its one-line help, so ``cnimodel --help`` lists every
command without importing the engines behind them (``tests/test_cli_start.py`` holds the lines to the commands'
own docstrings).

Commands a plugin contributes come through the ``cnimodel.commands`` entry-point group: each entry point names a
callable that takes ``cnimodel.commands.base`` (plan inputs, error handling, consoles) and returns click commands.
They are loaded when the list of commands is shown or a name the table does not hold is asked for.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

import click

# name → ("module:attribute" under cnimodel.commands, the command's one-line help). Add a command, add it here.
COMMANDS: dict[str, tuple[str, str]] = {
    "summary": ("facts:main_job", "Summarise a plan: allocation, every node's routes, the underlay "
                                  "(default: the embedded plan)."),
    "ipam": ("facts:ipam", "Pod CIDRs per node, pod IPs, reserved addresses and capacity."),
    "routes": ("facts:routes", "Every node's route table with its neighbour, FDB and HNS entries, and"
                               " the underlay's table; or one node's (or the cloud route table's) "
                               "apply script."),
    "lookup": ("facts:lookup", "Longest-prefix match of DST in a node's (or the underlay's) route "
                               "table."),
    "topologies": ("facts:list_topologies", "List the example plans shipped with cnimodel (and where "
                                            "they are)."),
    "graph": ("graph:graph", "The forwarding graph: the cluster's picture (nodes' tables, NICs, "
                             "bridges, tunnels, vSwitches, pods), or with --dst one destination's "
                             "graph of forwarding decisions, as JSON, Graphviz DOT or Mermaid."),
    "audit": ("netns:audit_cmd", "Compare a live host's routes, neighbours and FDB (or captured state, --from) "
              "with the model's NODE; exit 1 on any difference."),
    "check": ("check:check_cmd", "Validate PLAN: address plan, overlay, routing, Windows, policy and scale checks "
              "(docs/checks.md)."),
    "diff": ("reach:diff_cmd", "Pairs whose connections differ between PLAN_A and PLAN_B: added, removed or changed."),
    "lb": ("lb:lb_cmd", "Load-balancer rules kube-proxy programs for Services: HNS LoadBalancers and a VFP-style "
           "listing on Windows nodes (winkernel), nat/filter rules on Linux nodes (iptables mode); a network plugin's "
           "own load balancers, in the shape its own tool prints them, on nodes where the plugin implements Services."),
    "netns": ("netns:netns", "Build a plan's Linux data plane in network namespaces, verify it against the model, "
              "tear it down."),
    "plan": ("plan:plan_group", "Work with plans themselves."),
    "reach": ("reach:reach_cmd", "Which pods (and external ranges) reach which, on which protocols and ports, "
              "and why."),
    "render": ("render:render_cmd", "Draw PLAN: an offline HTML report (topology, per-node facts, traces, "
               "reachability, findings), SVG, DOT or Mermaid."),
    "trace": ("trace:trace_cmd", "Walk a packet from SRC to DST: pod (ns/name), node, Service (ns/name or VIP), "
              "NODE:NODEPORT, or IP."),
}
MODULES: list[str] = sorted({target.split(":")[0] for target, _ in COMMANDS.values()})
PLUGIN_GROUP = "cnimodel.commands"


def load(name: str) -> click.Command:
    """The click command ``name`` of the table, its module imported now."""
    module, attr = COMMANDS[name][0].split(":")
    command: click.Command = getattr(importlib.import_module(f"cnimodel.commands.{module}"), attr)
    return command


def contributed() -> list[click.Command]:
    """The commands plugins contribute; a broken entry point is named on stderr and left out."""
    from cnimodel.commands import base

    found: list[click.Command] = []
    for ep in entry_points(group=PLUGIN_GROUP):
        try:
            found.extend(ep.load()(base))
        except Exception as e:  # a broken third-party entry point must not take the CLI down
            click.echo(f"cnimodel: commands {ep.name!r} ({ep.value}) not loaded: {e}", err=True)
    return found


def register(group: click.Group) -> None:
    """Add every command, the table's and the plugins', to ``group`` now (a group that does not load lazily)."""
    for name in COMMANDS:
        group.add_command(load(name), name)
    for command in contributed():
        group.add_command(command)


class LazyGroup(click.Group):
    """A click group whose table commands are imported when first asked for; plugins' when the list is needed."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            for command in contributed():
                if command.name not in self.commands:
                    self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            if cmd_name in COMMANDS:
                self.add_command(load(cmd_name), cmd_name)
            else:
                self._load_plugins()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list in ``--help``: a table command not loaded yet shows the table's line (no import)."""
        names = [n for n in self.list_commands(ctx) if n not in self.commands or not self.commands[n].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                rows.append((name, click.utils.make_default_short_help(COMMANDS[name][1], limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
