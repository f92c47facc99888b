"""The commands ovn-kubernetes contributes to the CLI (entry-point group ``cnimodel.commands``):

``cnimodel ovn export PLAN [-o nbctl|json]`` writes the Northbound content the plan implies;
``cnimodel ovn verify PLAN`` loads it into a real OVN control plane and ovn-traces pod→pod flows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin
    from cnimodel.plugins.ovn_kubernetes.verify import VerifyReport


def _plugin(kit: ModuleType, cluster: Cluster) -> OvnKubernetesPlugin:
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin

    if not isinstance(cluster.plugin, OvnKubernetesPlugin):
        raise kit.UsageProblem(f"the plan's network plugin is {cluster.plugin.name}, not ovn-kubernetes: "
                               "`cnimodel ovn` reads ovn-kubernetes plans")
    return cluster.plugin


def report_json(report: VerifyReport) -> dict[str, Any]:
    from cnimodel.plugins.ovn_kubernetes import compare

    return {
        "compared": True, "pairs": report.total_pairs, "traced": len(report.results),
        "mismatches": len(report.mismatches), "policyDisagreements": len(report.disagreements),
        "timings": {k: round(v, 3) for k, v in report.timings.items()}, "notes": report.notes,
        "flows": [{"src": r.flow.src, "dst": r.flow.dst, "protocol": r.flow.protocol, "port": r.flow.port,
                   "datapath": r.flow.datapath, "microflow": r.flow.microflow, "backend": r.flow.backend,
                   "verdict": r.trace.verdict,
                   "output": r.trace.output, "datapaths": list(r.trace.datapaths),
                   "lastStage": str(r.trace.last) if r.trace.last else None,
                   "policyAllows": r.flow.policy_allows, "agreesWithPolicy": r.agrees_with_policy,
                   "cnimodel": compare.to_json(r.mine) if r.mine else None, "mismatches": list(r.mismatches),
                   "tunnelKey": {"vni": r.tunnel_key[0], "egressPort": r.tunnel_key[1]} if r.tunnel_key else None}
                  for r in report.results],
    }


def commands(kit: ModuleType) -> list[click.Command]:
    """The ``ovn`` command group, built with the CLI's own helpers (``kit`` is cnimodel.commands.base)."""

    @click.group("ovn")
    def ovn() -> None:
        """ovn-kubernetes: the OVN Northbound content a plan implies, and its proof against a real ovn-northd."""

    @ovn.command("export")
    @kit.plan_inputs
    @click.option("-o", "--output", "fmt", type=click.Choice(["nbctl", "json"]), default="nbctl", show_default=True,
                  help="nbctl: a shell script of ovn-nbctl commands; json: an OVSDB transact request.")
    @click.option("--schema", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                  help="The OVN_Northbound schema to fit (default: the installed one; columns it lacks are left out).")
    @kit.handle_errors
    def export(plan: tuple[str, ...], fmt: str, schema: Path | None) -> None:
        """Write the Northbound database content of an ovn-kubernetes plan (docs/ovn-kubernetes.md)."""
        from cnimodel.plugins.ovn_kubernetes.export import schema_columns, to_nbctl, to_transact

        cluster = kit.build(plan)
        nb = _plugin(kit, cluster).northbound(cluster)
        columns = schema_columns(schema)
        if fmt == "json":
            request, notes = to_transact(nb, columns)
            sys.stdout.write(json.dumps(request, indent=1) + "\n")
        else:
            text, notes = to_nbctl(nb, columns, f"plan {cluster.plan.name!r}")
            sys.stdout.write(text)
        for note in [*notes, *nb.notes]:
            kit.ERR.print(f"note: {note}", markup=False)

    @ovn.command("verify")
    @kit.plan_inputs
    @click.option("--flows", "limit", type=click.IntRange(1), default=500, show_default=True,
                  help="Trace every pod→pod pair when there are at most this many, else a sample of this many.")
    @click.option("--seed", type=int, default=0, show_default=True, help="The sample's random seed.")
    @click.option("-o", "--output", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
    @kit.handle_errors
    def verify(plan: tuple[str, ...], limit: int, seed: int, fmt: str) -> None:
        """Load the plan's Northbound content into OVN (ovsdb-server, ovn-northd) and ovn-trace pod→pod flows.

        Each flow's verdict, output port, datapaths and stages are compared with cnimodel's own trace. Exit 1 on any
        mismatch, or when ovn-trace delivers a flow cnimodel's policy engine denies or drops one it allows."""
        from cnimodel.plugins.ovn_kubernetes import verify as v
        from cnimodel.plugins.ovn_kubernetes.harness import HarnessError

        cluster = kit.build(plan)
        plugin = _plugin(kit, cluster)
        try:
            report = v.verify(cluster, plugin, limit, seed)
        except HarnessError as e:
            raise kit.UsageProblem(str(e)) from None
        if fmt == "json":
            sys.stdout.write(json.dumps(report_json(report), indent=1) + "\n")
        else:
            _text(kit, report)
        if report.disagreements or report.mismatches:
            sys.exit(1)

    return [ovn]


def _text(kit: ModuleType, report: VerifyReport) -> None:
    out = kit.OUT
    services = sum(1 for r in report.results if r.flow.backend)
    pods = sum(1 for r in report.results if "/" in r.flow.dst and not r.flow.backend)
    sampled = "every pair" if pods == report.total_pairs else f"a sample of {pods} of {report.total_pairs} pairs"
    others = len(report.results) - pods - services
    out.print(f"ovn-trace on ovn-northd's logical flows: {pods} pod→pod flow(s), {sampled}"
              + (f"; {services} to Services (a new connection, the backend chosen)" if services else "")
              + (f"; {others} to node and external addresses" if others else ""), markup=False)
    rows = [("flow", "ovn-trace", "datapaths", "cnimodel trace", "policy (cnimodel)")]
    for r in report.results:
        policy = "n/a" if r.flow.policy_allows is None else "allows" if r.flow.policy_allows else "denies"
        mark = "" if r.agrees_with_policy is not False else "  ← disagrees"
        mine = (r.mine.summary() if r.mine else "not walked") + ("  ← MISMATCH" if r.mismatches else "")
        via = f" via {r.flow.backend}" if r.flow.backend else ""
        rows.append((f"{r.flow.src} → {r.flow.dst} {r.flow.protocol}/{r.flow.port}{via}", r.trace.summary(),
                     " → ".join(r.trace.datapaths), mine, policy + mark))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        out.print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[4], markup=False)
    keyed = next((r for r in report.results if r.tunnel_key and r.mine and r.mine.tunnel), None)
    if keyed is not None and keyed.mine is not None and keyed.mine.tunnel is not None and keyed.tunnel_key:
        out.print(f"GENEVE between chassis carries the tunnel key ovn-northd assigned: e.g. {keyed.flow.src} → "
                  f"{keyed.flow.dst}: VNI {keyed.tunnel_key[0]} ({keyed.mine.tunnel[0]}), egress port key "
                  f"{keyed.tunnel_key[1]} ({keyed.mine.tunnel[1]}); every flow's in -o json", markup=False)
    for r in report.mismatches:
        for m in r.mismatches:
            out.print(f"mismatch: {r.flow.src} → {r.flow.dst} {r.flow.protocol}/{r.flow.port}: {m}", markup=False)
    for note in report.notes:
        out.print(f"note: {note}", markup=False)
    t = report.timings
    out.print("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items()), markup=False)
    out.print(f"{len(report.mismatches)} flow(s) where ovn-trace and cnimodel's trace differ", markup=False)
    bad = report.disagreements
    out.print(f"{len(bad)} flow(s) where ovn-trace and the policy engine disagree", markup=False)
