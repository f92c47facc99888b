"""The plan validator: checks with stable codes (``CNI-ADDR-001`` …), each a small function over the plan and
its built cluster, grouped by concept (address plan, overlay, routing, Windows, policy, scale).

>>> from cnimodel.plan import load_plan
>>> from cnimodel.cluster import Cluster
>>> plan = load_plan(["topologies/default.yaml"])                  # doctest: +SKIP
>>> report = validate(plan, Cluster.build(plan))                   # doctest: +SKIP
>>> [f.code for f in report.findings]                              # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from cnimodel.bulk import bulk
from cnimodel.cluster import Cluster
from cnimodel.plan import Plan, Problem
from cnimodel.validate import (  # noqa: F401  (each module registers its checks)
    address,
    hostports,
    lint,
    names,
    overlay,
    planwarn,
    policy,
    routing,
    scale,
    windows,
    winservices,
)
from cnimodel.validate.context import CheckOptions, Context
from cnimodel.validate.registry import CHECKS, RANK, SEVERITIES, Check, Finding, Hit, Severity, at_least, check

__all__ = ["CHECKS", "SEVERITIES", "Check", "CheckOptions", "Finding", "Hit", "Report", "Severity", "check",
           "validate"]


@dataclass
class Report:
    """The findings of one run, most severe first, and which checks ran."""

    plan: str
    findings: list[Finding] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in SEVERITIES}

    @property
    def failed(self) -> bool:
        """Whether any finding is an error (the CLI exits 1)."""
        return any(f.severity == "error" for f in self.findings)

    def to_json(self) -> dict[str, object]:
        return {"plan": self.plan, "summary": {**self.counts, "checks": len(self.ran), "skipped": len(self.skipped)},
                "findings": [f.to_json() for f in self.findings]}


def validate(plan: Plan, cluster: Cluster | None = None, options: CheckOptions | None = None,
             min_severity: Severity = "info", codes: Collection[str] | None = None,
             skip_concepts: Collection[str] = ()) -> Report:
    """Run every registered check (or those in ``codes``) and return their findings at ``min_severity`` or above.

    Without a cluster (manifests with no ClusterPlan) only the checks that read the plan alone run; the others
    are listed in ``Report.skipped``.
    """
    ctx = Context(plan, cluster, options)
    report = Report(plan.name)
    with bulk():
        for code, c in sorted(CHECKS.items()):
            if (codes is not None and code not in codes) or c.concept in skip_concepts:
                continue
            if not at_least(c.severity, min_severity):
                continue
            if c.needs_cluster and cluster is None:
                report.skipped.append(code)
                continue
            report.ran.append(code)
            report.findings += [_finding(c, h) for h in c.run(ctx)]
        if cluster is not None:
            _plugin_checks(cluster, ctx, report, min_severity, codes, skip_concepts)
    report.findings.sort(key=lambda f: (-RANK[f.severity], f.code))
    return report


def _plugin_checks(cluster: Cluster, ctx: Context, report: Report, min_severity: Severity,
                   codes: Collection[str] | None, skip_concepts: Collection[str]) -> None:
    """The checks the network plugin contributes (cnimodel.plugin.findings), filtered like the registered ones."""
    chosen = {c.code: c for c in cluster.plugin.checks()
              if (codes is None or c.code in codes) and c.concept not in skip_concepts
              and at_least(c.severity, min_severity)}
    if not chosen:
        return
    report.ran += sorted(chosen)
    for f in cluster.plugin.findings(cluster, ctx.options.external):
        c = chosen.get(f.code)
        if c is not None:
            report.findings.append(Finding(c.code, c.severity, c.concept, c.title, f.message, f.fix, f.objects, f.at,
                                           c.reference))


def _finding(c: Check, h: Hit) -> Finding:
    return Finding(c.code, c.severity, c.concept, c.title, h.message, h.fix, h.objects, h.at, c.reference)


def stopped(name: str, problems: list[Problem], warnings: list[Problem]) -> Report:
    """The report of a plan that cannot be built: each error that stopped the build a ``CNI-PLAN-005`` finding,
    each warning a ``CNI-PLAN-003`` one, at their files and field paths (``check -o json|sarif`` still writes
    its document; the exit status is 2)."""
    report = Report(name, ran=[planwarn.BUILD_STOPPED, "CNI-PLAN-003"])
    for p in (*problems, *warnings):
        c = CHECKS[planwarn.BUILD_STOPPED if p.severity == "error" else "CNI-PLAN-003"]
        report.findings.append(Finding(c.code, c.severity, c.concept, c.title, p.message, p.hint, (), (p.origin,),
                                       c.reference))
    report.findings.sort(key=lambda f: (-RANK[f.severity], f.code))
    return report
