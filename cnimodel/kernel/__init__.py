"""Kernel proof: realise a plan's Linux data plane in network namespaces, verify it, tear it down, and audit
a live host against the model (pyroute2; needs CAP_NET_ADMIN).

>>> bp = up(plan, pods_per_node=2)          # doctest: +SKIP
>>> bp, report = verify(plan); report.ok    # doctest: +SKIP
True
>>> down(plan)                              # doctest: +SKIP
"""

from __future__ import annotations

from cnimodel.kernel import filters, nsutil, realise
from cnimodel.kernel.audit import AuditReport, Difference, audit
from cnimodel.kernel.blueprint import Blueprint, Space
from cnimodel.kernel.compare import Mismatch, Verification
from cnimodel.kernel.compare import verify as verify_blueprint
from cnimodel.kernel.naming import Names, kernel_name, plan_prefix
from cnimodel.kernel.sampling import blueprint
from cnimodel.plan import Plan

__all__ = ["AuditReport", "Blueprint", "Difference", "KernelProblem", "Mismatch", "Names", "Space", "Verification",
           "audit", "blueprint", "down", "kernel_name", "plan_prefix", "up", "verify"]

DEFAULT_PODS_PER_NODE = 2


class KernelProblem(RuntimeError):
    """The kernel side cannot do what was asked (no privilege, plan not up, plan up already)."""


def _require_admin() -> None:
    why = nsutil.can_admin()
    if why:
        raise KernelProblem(f"cannot build network namespaces: {why}")


def up(plan: Plan, pods_per_node: int = DEFAULT_PODS_PER_NODE, progress: realise.Progress | None = None,
       policy: str | None = None, steps: realise.Steps | None = None) -> Blueprint:
    """Build ``plan`` in namespaces named with its prefix (with the policy verdicts as ``policy`` rules:
    nftables or iptables); on failure or Ctrl-C nothing is left behind. ``progress`` hears each stage done,
    ``steps`` each step on the way (realise.Steps)."""
    _require_admin()
    names = Names(plan.name)
    there = nsutil.names(names.prefix + "-")
    if there:
        raise KernelProblem(f"plan {plan.name!r} is up already ({len(there)} namespaces named {names.prefix}-*): "
                            "run `cnimodel netns down PLAN` first")
    bp = blueprint(plan, pods_per_node, policy)
    try:
        realise.up(bp, progress, steps)
    except (filters.PolicyUnavailable, realise.KindUnsupported) as e:
        raise KernelProblem(str(e)) from None
    return bp


def realised(plan: Plan, pods_per_node: int | None = None) -> Blueprint:
    """The blueprint ``up`` built for ``plan`` (its pods-per-node read back from the namespaces)."""
    _require_admin()
    names = Names(plan.name)
    state = realise.read_state(names)
    if state is None:
        raise KernelProblem(f"plan {plan.name!r} is not up (no namespace {names.underlay}): run "
                            "`cnimodel netns up PLAN` first")
    k = pods_per_node if pods_per_node is not None else int(state.get("pods-per-node", DEFAULT_PODS_PER_NODE))
    policy = state.get("policy")
    bp = blueprint(plan, k, None if policy in (None, "none") else policy)
    missing = [s.name for s in bp.spaces if not nsutil.exists(s.name)]
    if missing:
        raise KernelProblem(f"{len(missing)} namespace(s) of plan {plan.name!r} are missing ({', '.join(missing[:4])}"
                            f"{' …' if len(missing) > 4 else ''}): the plan changed since `netns up`? run `netns down` "
                            "and `netns up` again")
    return bp


def verify(plan: Plan, pods_per_node: int | None = None, port: int = 80, max_pairs: int = 2000,
           timeout: float = 2.0, progress: realise.Progress | None = None, steps: realise.Steps | None = None
           ) -> tuple[Blueprint, Verification]:
    """Compare the realised plan with the model: route decisions and real packets."""
    bp = realised(plan, pods_per_node)
    return bp, verify_blueprint(bp, port=port, max_pairs=max_pairs, timeout=timeout, progress=progress,
                                steps=steps)


def down(plan: Plan | str) -> list[str]:
    """Remove every namespace of the plan (by plan or plan name); returns their names."""
    _require_admin()
    return realise.down(Names(plan if isinstance(plan, str) else plan.name))
