"""Policies nobody enforces: a plan whose policy objects some or all nodes ignore.

A NetworkPolicy in a cluster whose network plugin enforces none, with no policy plugin beside it, allows
everything — the commonest surprise of a new cluster. ``reach``, ``trace`` and ``render`` say so in their own
output (docs/policy.md), not only ``check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnimodel.policy.compile import KINDS

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.plan import Plan

_POLICY_KINDS = tuple(k for k in KINDS if k != "Tier")


@dataclass(frozen=True)
class Unenforced:
    """The plan holds ``policies`` policy objects, and ``nodes`` (of ``total``) enforce none of them."""

    policies: int
    nodes: tuple[str, ...]
    total: int
    reason: str  # why the first of those nodes enforces nothing

    @property
    def everywhere(self) -> bool:
        return len(self.nodes) == self.total

    def sentence(self) -> str:
        what = f"{self.policies} polic{'y' if self.policies == 1 else 'ies'} in the plan"
        if self.everywhere:
            where = f"no node enforces {'it' if self.policies == 1 else 'them'}"
        else:
            shown = ", ".join(self.nodes[:5]) + (" …" if len(self.nodes) > 5 else "")
            where = f"{len(self.nodes)} of {self.total} nodes enforce none ({shown})"
        return f"{what}, but {where}: {self.reason}; pods there are not isolated"

    def to_json(self) -> dict[str, Any]:
        return {"policies": self.policies, "nodes": list(self.nodes), "allNodes": self.everywhere,
                "reason": self.reason}


def policy_count(plan: Plan) -> int:
    return sum(1 for o in plan.objects if o.kind in _POLICY_KINDS)


def unenforced(cluster: Cluster) -> Unenforced | None:
    """The nodes that enforce none of the plan's policies, when it has any (None otherwise)."""
    count = policy_count(cluster.plan)
    if not count:
        return None
    names = [n.name for n in cluster.plan.nodes]
    off = [(name, e) for name in names if not (e := cluster.enforcement(name)).enforced]
    if not off:
        return None
    return Unenforced(count, tuple(n for n, _ in off), len(names), off[0][1].reason or "")
