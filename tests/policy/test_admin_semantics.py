"""AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy-semantics.md §4, network-policy-api
``apis/v1alpha1``): ANP by priority before NetworkPolicies, BANP after them, Pass delegates."""

from __future__ import annotations

import pytest

from cnimodel.plan import PlanError

from .conftest import build, can, conn, e2e_model

API = "apiVersion: policy.networking.k8s.io/v1alpha1\n"


def anp(name: str, priority: int, spec: str) -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    return f"{API}kind: AdminNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  priority: {priority}\n{body}\n"


def banp(spec: str, name: str = "default") -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    return f"{API}kind: BaselineAdminNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{body}\n"


def knp(ns: str, name: str, spec: str) -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\n" \
           f"spec:\n{body}\n"


SUBJECT_X = "subject: {namespaces: {matchLabels: {ns: x}}}"
DENY_ALL_X = knp("x", "deny", "podSelector: {}\npolicyTypes: [Ingress]")


def test_anp_deny_beats_a_networkpolicy_allow() -> None:
    r = build(e2e_model(), knp("x", "allow", "podSelector: {}\ningress: [{}]"),
              anp("deny-y", 10, SUBJECT_X + "\ningress: [{action: Deny, from: [{namespaces: {matchLabels: "
                                  "{ns: y}}}]}]"))
    assert not can(r, "y/a", "x/a") and can(r, "z/a", "x/a")


def test_anp_allow_beats_networkpolicy_isolation() -> None:
    r = build(e2e_model(), DENY_ALL_X,
              anp("allow-y", 10, SUBJECT_X + "\ningress: [{action: Allow, from: [{namespaces: {matchLabels: "
                                 "{ns: y}}}]}]"))
    assert can(r, "y/a", "x/a") and not can(r, "z/a", "x/a")


def test_lower_priority_value_wins() -> None:
    allow = SUBJECT_X + "\ningress: [{action: Allow, from: [{namespaces: {}}]}]"
    deny = SUBJECT_X + "\ningress: [{action: Deny, from: [{namespaces: {}}]}]"
    assert not can(build(e2e_model(), anp("a", 20, allow), anp("d", 10, deny)), "y/a", "x/a")
    assert can(build(e2e_model(), anp("a", 10, allow), anp("d", 20, deny)), "y/a", "x/a")


def test_rules_inside_one_anp_apply_in_order() -> None:
    r = build(e2e_model(), anp("p", 10, SUBJECT_X + """
ingress:
- {name: allow-80, action: Allow, from: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP, port: 80}}]}
- {name: deny-rest, action: Deny, from: [{namespaces: {}}]}
"""))
    assert conn(r, "y/a", "x/a") == "TCP 80"


def test_pass_delegates_to_networkpolicy_and_then_to_the_baseline() -> None:
    pass_y = anp("pass-y", 10, SUBJECT_X + "\ningress: [{action: Pass, from: [{namespaces: {matchLabels: "
                                           "{ns: y}}}]}, {action: Allow, from: [{namespaces: {}}]}]")
    r = build(e2e_model(), pass_y, DENY_ALL_X)
    assert not can(r, "y/a", "x/a")      # passed to the NetworkPolicy, which isolates
    assert can(r, "z/a", "x/a")          # allowed by the ANP's second rule
    base = banp(SUBJECT_X + "\ningress: [{action: Deny, from: [{namespaces: {matchLabels: {ns: y}}}]}]")
    r = build(e2e_model(), pass_y, base)
    assert not can(r, "y/a", "x/a")      # no NetworkPolicy selects x/a: the baseline decides
    r = build(e2e_model(), pass_y, base, knp("x", "allow-y", "podSelector: {}\ningress: [{from: [{namespaceSelector: "
                                                             "{matchLabels: {ns: y}}}]}]"))
    assert can(r, "y/a", "x/a")          # a NetworkPolicy overrides the baseline


def test_baseline_applies_only_where_no_networkpolicy_selects() -> None:
    base = banp(SUBJECT_X + "\ningress: [{action: Deny, from: [{namespaces: {}}]}]")
    r = build(e2e_model(), base, knp("x", "a-open", "podSelector: {matchLabels: {pod: a}}\ningress: [{}]"))
    assert can(r, "y/a", "x/a")          # x/a is selected by a NetworkPolicy that allows
    assert not can(r, "y/a", "x/b")      # x/b is not: the BANP denies


def test_networks_peer_matches_pod_ips_and_nothing_is_implicitly_isolated() -> None:
    r = build(e2e_model(), anp("p", 10, SUBJECT_X + "\negress: [{action: Deny, to: [{networks: [10.1.2.0/24]}]}]"))
    assert not can(r, "x/a", "y/b")      # y's pods are 10.1.2.0/24
    assert can(r, "x/a", "z/b")          # no implicit deny after admin rules


def test_named_port_in_anp_resolves_on_the_destination() -> None:
    r = build(e2e_model(), anp("p", 10, SUBJECT_X + "\ningress: [{action: Deny, from: [{namespaces: {}}], ports: "
                                                    "[{namedPort: serve-81-tcp}]}]"))
    assert not can(r, "y/a", "x/a", 81) and can(r, "y/a", "x/a", 80)


def test_baseline_must_be_named_default() -> None:
    with pytest.raises(PlanError) as e:
        build(e2e_model(), banp(SUBJECT_X + "\ningress: [{action: Deny, from: [{namespaces: {}}]}]", name="mine"))
    assert "metadata.name" in str(e.value) and "default" in str(e.value)


def test_baseline_has_no_pass() -> None:
    with pytest.raises(PlanError) as e:
        build(e2e_model(), banp(SUBJECT_X + "\ningress: [{action: Pass, from: [{namespaces: {}}]}]"))
    assert "spec.ingress[0].action" in str(e.value)
