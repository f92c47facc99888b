"""Findings the plan loader and the plugins already made while reading and building the plan (``Problem``
warnings): workload placement, and everything else they warn about. Windows image findings are
``CNI-WIN-004``/``005``."""

from __future__ import annotations

from collections.abc import Iterator

from cnimodel.validate.context import Context
from cnimodel.validate.registry import Hit, check
from cnimodel.validate.windows import coded_warnings, passthrough

PLACEMENT = ("unschedulable", "max-pods", "daemonset-no-nodes")


@check("CNI-PLAN-001", "warning", "plan", "Pods that fit no node stay Pending",
       "cnimodel.plan.workloads (kube-scheduler's filters: nodeSelector, affinity, taints, maxPods, hostPorts)",
       needs_cluster=False)
def unplaced(ctx: Context) -> Iterator[Hit]:
    yield from passthrough(ctx, PLACEMENT)


@check("CNI-PLAN-002", "warning", "plan", "A pod names a node its own selector rejects",
       "cnimodel.plan.workloads (the kubelet's NodeAffinity admission check)", needs_cluster=False)
def pinned_mismatch(ctx: Context) -> Iterator[Hit]:
    yield from passthrough(ctx, ("pinned-node-mismatch",))


@check("CNI-PLAN-004", "warning", "plan", "The API server refuses a pod for its RuntimeClass",
       "kubernetes/kubernetes plugin/pkg/admission/runtimeclass/admission.go (setScheduling: a nodeSelector key the "
       "pod gives another value than its RuntimeClass is a conflict)", needs_cluster=False)
def runtime_class_conflict(ctx: Context) -> Iterator[Hit]:
    yield from passthrough(ctx, ("runtimeclass-conflict",))


@check("CNI-PLAN-003", "warning", "plan", "Other warnings from reading and building the plan",
       "cnimodel.plan and the network plugin (each message says what it rests on)", needs_cluster=False)
def other_warnings(ctx: Context) -> Iterator[Hit]:
    for code, p in coded_warnings(ctx):
        if code is None:
            yield Hit(p.message, p.hint, (), (p.origin,))
    if ctx.has_cluster and ctx.catalog is not None:  # the services engine's warnings (an IPv6-only Service …)
        for p in ctx.catalog.warnings:
            yield Hit(p.message, p.hint, (), (p.origin,))


BUILD_STOPPED = "CNI-PLAN-005"


@check(BUILD_STOPPED, "error", "plan", "The plan cannot be read or built",
       "cnimodel.plan (PlanError: each problem names its file, field path and fix)", needs_cluster=False)
def build_stopped(ctx: Context) -> Iterator[Hit]:
    """A plan that is checked was read and built, so this yields nothing here: ``cnimodel check -o json|sarif``
    turns the errors that stopped the build into this code's findings (cnimodel.validate.stopped)."""
    return iter(())
