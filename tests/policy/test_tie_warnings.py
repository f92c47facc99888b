"""Ties of order within a tier (cnimodel/policy/compile.py ``_tie_warnings``), counted per namespace: held to the
pair-by-pair definition — two policies of one order clash when both may select the same pods (either is
cluster-wide, or one namespace holds both) and the tier is the admin one or either has a rule that is not Allow."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from cnimodel.policy.compile import ADMIN_TIER, _tie_warnings


def _pairwise(tier: str, ps: list[SimpleNamespace]) -> set[int]:
    def decisive(p: SimpleNamespace) -> bool:
        return any(r.action != "Allow" for r in p.ingress)

    clash = set()
    for i, p in enumerate(ps):
        for q in ps[i + 1:]:
            if p.order != q.order:
                continue
            overlap = p.namespace is None or q.namespace is None or p.namespace == q.namespace
            if overlap and (tier == ADMIN_TIER or decisive(p) or decisive(q)):
                clash |= {p.uid, q.uid}
    return clash


@pytest.mark.parametrize("seed", range(30))
def test_ties_are_the_pairwise_ones(seed: int) -> None:
    rnd = random.Random(seed)
    tier = rnd.choice([ADMIN_TIER, "default", "security"])
    ps = [SimpleNamespace(uid=i, title=f"p{i}", order=rnd.choice([None, 1.0, 2.0]),
                          namespace=rnd.choice([None, "a", "b", "c"]), egress=None,
                          ingress=[SimpleNamespace(action=rnd.choice(["Allow", "Allow", "Deny", "Pass"]))
                                   for _ in range(rnd.randrange(3))])
          for i in range(rnd.randrange(1, 12))]
    named = {w for warning in _tie_warnings(tier, ps) for w in warning.split(": ", 1)[1].split(" share")[0]
             .split(", ")}
    assert named == {f"p{u}" for u in _pairwise(tier, ps)}
