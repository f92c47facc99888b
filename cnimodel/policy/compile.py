"""Gather a plan's policy objects into sorted tiers: ANPs, Calico tiers, the default tier (Kubernetes
NetworkPolicies at order 1000 with Calico policies around them), then the BANP."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

from cnimodel.plan import Plan, Problems
from cnimodel.policy.admin import compile_admin_policy
from cnimodel.policy.calico import compile_calico_policy, compile_tier
from cnimodel.policy.k8s import compile_network_policy
from cnimodel.policy.model import (
    ADMIN_TIER,
    ADMIN_TIER_ORDER,
    BASELINE_TIER,
    BASELINE_TIER_ORDER,
    DEFAULT_TIER,
    DEFAULT_TIER_ORDER,
    Policy,
    PolicySet,
    Tier,
)

CALICO_GROUPS = ("projectcalico.org", "crd.projectcalico.org")
KINDS = ("NetworkPolicy", "GlobalNetworkPolicy", "Tier", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")
_KIND_RANK = {"AdminNetworkPolicy": 0, "GlobalNetworkPolicy": 1, "Calico NetworkPolicy": 2, "NetworkPolicy": 3,
              "BaselineAdminNetworkPolicy": 4}


def _order(value: float | None) -> float:
    return math.inf if value is None else value


def policy_sort_key(p: Policy) -> tuple[float, int, str, str]:
    """Within a tier: order (none sorts last), then a stable name key. Calico breaks order ties by name in a
    version-dependent way; ties that matter are reported as warnings."""
    return (_order(p.order), _KIND_RANK.get(p.kind, 9), p.namespace or "", p.name)


def compile_policies(plan: Plan) -> PolicySet:
    """Every policy object of ``plan`` compiled and sorted; PlanError listing every bad field."""
    problems = Problems()
    policies: list[Policy] = []
    tiers: dict[str, Tier] = {}
    for obj in plan.objects:
        if obj.kind not in KINDS:
            continue
        group = obj.api_version.split("/")[0]
        if obj.kind == "NetworkPolicy" and group == "networking.k8s.io":
            p = compile_network_policy(obj, problems)
        elif obj.kind in ("NetworkPolicy", "GlobalNetworkPolicy") and group in CALICO_GROUPS:
            p = compile_calico_policy(obj, problems)
        elif obj.kind == "Tier" and group in CALICO_GROUPS:
            t = compile_tier(obj, problems)
            if t is not None:
                if t.name in tiers:
                    problems.error(obj.origin.at("metadata.name"), f"a second Tier named {t.name!r}",
                                   "keep one Tier object per name")
                tiers[t.name] = t
            continue
        elif obj.kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy") and group == "policy.networking.k8s.io":
            p = compile_admin_policy(obj, problems)
        else:
            problems.error(obj.origin.at("apiVersion"), f"unknown apiVersion {obj.api_version!r} for {obj.kind}",
                           "use networking.k8s.io/v1 (Kubernetes), projectcalico.org/v3 (Calico) or "
                           "policy.networking.k8s.io/v1alpha1 (ANP/BANP)")
            continue
        if p is not None:
            policies.append(p)
    tiers.setdefault(DEFAULT_TIER, Tier(DEFAULT_TIER, DEFAULT_TIER_ORDER, "Deny", implicit=True))
    if any(p.tier == ADMIN_TIER for p in policies):
        tiers.setdefault(ADMIN_TIER, Tier(ADMIN_TIER, ADMIN_TIER_ORDER, "Pass", implicit=True))
    if any(p.tier == BASELINE_TIER for p in policies):
        tiers.setdefault(BASELINE_TIER, Tier(BASELINE_TIER, BASELINE_TIER_ORDER, "Pass", implicit=True))
    by_tier: dict[str, list[Policy]] = defaultdict(list)
    for p in policies:
        if p.tier not in tiers:
            problems.error(p.origin.at("spec.tier"), f"no Tier named {p.tier!r}",
                           f"create a projectcalico.org/v3 Tier named {p.tier}, or use the default tier")
            continue
        by_tier[p.tier].append(p)
    if sum(1 for p in policies if p.kind == "BaselineAdminNetworkPolicy") > 1:
        problems.error(plan.origin, "more than one BaselineAdminNetworkPolicy", "keep the one named default")
    problems.raise_if_errors()
    out = PolicySet()
    for w in problems.warnings:
        out.warnings.append(w.render())
    uid = 0
    for tier in sorted(tiers.values(), key=lambda t: (_order(t.order), t.name)):
        members = sorted(by_tier.get(tier.name, []), key=policy_sort_key)
        numbered = []
        for p in members:
            uid += 1
            numbered.append(replace(p, uid=uid))
        out.tiers.append(replace(tier, policies=tuple(numbered)))
        out.warnings.extend(_tie_warnings(tier.name, numbered))
    return out


def _tie_warnings(tier: str, policies: list[Policy]) -> list[str]:
    """Equal orders whose relative order can change an answer: the policies may select the same pods
    (namespaced policies only do within one namespace) and one of them has a rule that is not Allow."""
    groups: dict[float, list[Policy]] = defaultdict(list)
    for p in policies:
        groups[_order(p.order)].append(p)
    out = []
    for order, ps in groups.items():
        # A pair clashes when both may select the same pods (either is cluster-wide, or one namespace holds
        # both) and the tier is the admin one or either policy is decisive. Counted per namespace rather than
        # pair by pair: one order holds every Kubernetes NetworkPolicy of a plan.
        decisive = {p.uid: _decisive(p) for p in ps}
        count: dict[str | None, int] = defaultdict(int)
        strong: dict[str | None, int] = defaultdict(int)
        for p in ps:
            count[p.namespace] += 1
            strong[p.namespace] += decisive[p.uid]
        clash: set[int] = set()
        for p in ps:
            if p.namespace is None:
                partners, strong_partners = len(ps) - 1, sum(strong.values()) - decisive[p.uid]
            else:
                partners = count[p.namespace] + count[None] - 1
                strong_partners = strong[p.namespace] + strong[None] - decisive[p.uid]
            if (partners and (tier == ADMIN_TIER or decisive[p.uid])) or strong_partners:
                clash.add(p.uid)
        if clash:
            names = ", ".join(p.title for p in ps if p.uid in clash)
            out.append(f"tier {tier}: {names} share order {order:g}; their relative order is implementation-"
                       "defined (taken here by kind, namespace and name)")
    return out


def _decisive(p: Policy) -> bool:
    return any(r.action != "Allow" for rules in (p.ingress or (), p.egress or ()) for r in rules)
