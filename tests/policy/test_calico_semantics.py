"""Calico v3 policies and tiers, case by case, from policy-semantics.md §3 (tigera docs, libcalico-go
conversion, the Felix FV tiered-policy test) and pitfalls 2, 9, 10, 11."""

from __future__ import annotations

from cnimodel.policy import Reachability
from cnimodel.policy.explain import explain

from .conftest import build, can, conn, e2e_model


def cnp(ns: str, name: str, spec: str, kind: str = "NetworkPolicy") -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    meta = f"{{name: {name}, namespace: {ns}}}" if kind == "NetworkPolicy" else f"{{name: {name}}}"
    return f"apiVersion: projectcalico.org/v3\nkind: {kind}\nmetadata: {meta}\nspec:\n{body}\n"


def gnp(name: str, spec: str) -> str:
    return cnp("", name, spec, "GlobalNetworkPolicy")


def tier(name: str, order: float, action: str = "Deny") -> str:
    return (f"apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: {name}}}\n"
            f"spec: {{order: {order}, defaultAction: {action}}}\n")


def knp(ns: str, name: str, spec: str) -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\n" \
           f"spec:\n{body}\n"


def steps(r: Reachability, src: str, dst: str) -> str:
    c = r.connection(r.resolve(src)[0], r.resolve(dst)[0])
    return " | ".join(s.reason for side in explain(r, c).sides for s in side.steps)


def test_egress_rules_alone_give_types_egress_only() -> None:
    # Pitfall 2: Calico's defaulting differs from Kubernetes'; ingress stays open.
    r = build(e2e_model(), cnp("x", "p", "selector: pod == 'a'\negress: [{action: Deny}]"))
    assert not can(r, "x/a", "y/a")
    assert can(r, "y/a", "x/a")


def test_no_rules_at_all_give_types_ingress() -> None:
    r = build(e2e_model(), cnp("x", "p", "selector: pod == 'a'"))
    assert not can(r, "y/a", "x/a") and can(r, "x/a", "y/a")


def test_a_calico_deny_before_order_1000_beats_a_kubernetes_allow() -> None:
    # Pitfall 9: KNPs sit at order 1000 in the default tier.
    allow = knp("x", "allow-y", "podSelector: {matchLabels: {pod: a}}\n"
                                "ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]")
    deny = "ingress: [{action: Deny, source: {namespaceSelector: ns == 'y'}}]\nselector: pod == 'a'"
    r = build(e2e_model(), allow, cnp("x", "deny-first", deny + "\norder: 100"))
    assert not can(r, "y/b", "x/a")
    r = build(e2e_model(), allow, cnp("x", "deny-last", deny))    # no order: +Inf, after the KNPs
    assert can(r, "y/b", "x/a")
    assert not can(r, "z/b", "x/a")                                 # isolated by the KNP


def test_pass_leads_through_empty_tiers_to_the_profile() -> None:
    # Felix FV tiered_policy_test: an egress Pass in tier1 → "allowed by profile".
    r = build(e2e_model(), tier("tier1", 10), cnp("x", "tier1.pass", """
tier: tier1
selector: pod == 'a'
egress: [{action: Pass}]
"""))
    assert can(r, "x/a", "z/c")
    assert "profile kns.x: Allow" in steps(r, "x/a", "z/c")


def test_a_participating_tier_that_decides_nothing_drops() -> None:
    # Felix FV: an endpoint selected in tier1 only by a policy allowing something else → "denied by end of
    # tier1 deny"; with defaultAction Pass the same flows are "allowed by profile".
    spec = "tier: tier1\nselector: pod == 'b'\negress: [{action: Allow, destination: {selector: pod == 'a'}}]"
    r = build(e2e_model(), tier("tier1", 10), cnp("x", "tier1.only-a", spec))
    assert can(r, "x/b", "x/a")
    assert not can(r, "x/b", "x/c")
    assert "end of tier tier1 (default action Deny)" in steps(r, "x/b", "x/c")
    r = build(e2e_model(), tier("tier1", 10, "Pass"), cnp("x", "tier1.only-a", spec))
    assert can(r, "x/b", "x/c")


def test_pass_goes_to_the_next_participating_tier_and_is_not_allow() -> None:
    r = build(e2e_model(), tier("tier1", 10), tier("tier2", 20),
              cnp("x", "tier1.pass", "tier: tier1\nselector: pod == 'a'\ningress: [{action: Pass}]"),
              cnp("x", "tier2.deny-y", "tier: tier2\nselector: pod == 'a'\n"
                                       "ingress: [{action: Deny, source: {namespaceSelector: ns == 'y'}}, "
                                       "{action: Allow}]"))
    assert not can(r, "y/a", "x/a")
    assert can(r, "z/a", "x/a")
    assert "tier tier1" in steps(r, "y/a", "x/a") and "tier2" in steps(r, "y/a", "x/a")


def test_a_tier_without_a_policy_for_the_endpoint_is_skipped() -> None:
    r = build(e2e_model(), tier("tier1", 10),
              cnp("x", "tier1.b-only", "tier: tier1\nselector: pod == 'b'\ningress: [{action: Deny}]"))
    assert can(r, "y/a", "x/a")        # tier1 selects x/b only: no end-of-tier drop for x/a
    assert not can(r, "y/a", "x/b")


def test_pass_in_the_default_tier_reaches_the_profile() -> None:
    r = build(e2e_model(), cnp("x", "p", "selector: pod == 'a'\ningress: [{action: Pass}]"))
    assert can(r, "y/a", "x/a")


def test_first_allow_or_deny_wins_and_log_continues() -> None:
    r = build(e2e_model(), cnp("x", "p", """
selector: pod == 'a'
ingress:
- {action: Log}
- {action: Deny, protocol: TCP, destination: {ports: [22, '8000:8080']}}
- {action: Allow}
"""))
    assert conn(r, "y/a", "x/a") == "TCP 1-21,23-7999,8081-65535;UDP 1-65535;SCTP 1-65535;other protocols"


def test_not_equal_and_not_in_match_endpoints_without_the_label() -> None:
    # §3.2 table: != and not in are also true when the label is absent.
    r = build(e2e_model(), cnp("x", "p", """
selector: pod == 'a'
ingress: [{action: Allow, source: {selector: "color != 'red' && shape not in {'square'}"}}]
"""))
    assert can(r, "x/b", "x/a")       # e2e pods carry neither label


def test_rule_selector_is_scoped_to_the_policy_namespace_in_a_namespaced_policy() -> None:
    spec = "selector: pod == 'a'\ningress: [{action: Allow, source: {selector: pod == 'b'}}]"
    r = build(e2e_model(), cnp("x", "p", spec))
    assert can(r, "x/b", "x/a") and not can(r, "y/b", "x/a")
    r = build(e2e_model(), gnp("p", "selector: projectcalico.org/namespace == 'x' && pod == 'a'\n"
                                    "ingress: [{action: Allow, source: {selector: pod == 'b'}}]"))
    assert can(r, "x/b", "x/a") and can(r, "y/b", "x/a") and not can(r, "y/c", "x/a")


def test_namespace_selector_sees_projectcalico_name() -> None:
    r = build(e2e_model(), cnp("x", "p", "selector: pod == 'a'\ningress: [{action: Allow, source: "
                                         "{namespaceSelector: projectcalico.org/name == 'z'}}]"))
    assert can(r, "z/b", "x/a") and not can(r, "y/b", "x/a")


def test_not_selector_in_a_global_policy_matches_external_addresses() -> None:
    # _entityrule.mdx: notSelector matches anything, external included, except endpoints it selects.
    r = build(e2e_model(), gnp("p", "selector: pod == 'a'\ningress: [{action: Allow, source: "
                                    "{notSelector: pod == 'c'}}]"))
    assert can(r, "8.8.8.8", "x/a") and can(r, "y/b", "x/a") and not can(r, "y/c", "x/a")
    # whereas selector: "!has(...)" only matches known endpoints
    r = build(e2e_model(), gnp("p", "selector: pod == 'a'\ningress: [{action: Allow, source: "
                                    "{selector: \"!has(color)\"}}]"))
    assert not can(r, "8.8.8.8", "x/a") and can(r, "y/b", "x/a")


def test_named_port_in_a_calico_rule_uses_the_rule_protocol_on_the_destination() -> None:
    r = build(e2e_model(), cnp("x", "p", """
selector: pod == 'a'
ingress:
- {action: Allow, protocol: TCP, destination: {ports: [serve-81-tcp]}}
"""))
    assert conn(r, "y/a", "x/a") == "TCP 81"


def test_nets_match_pod_ips() -> None:
    r = build(e2e_model(), cnp("x", "p", "selector: pod == 'a'\n"
                                         "ingress: [{action: Allow, source: {nets: [10.1.3.0/24]}}]"))
    assert can(r, "z/a", "x/a") and not can(r, "y/a", "x/a")


def test_icmp_only_rule_opens_icmp_and_nothing_else() -> None:
    r = build(e2e_model(), cnp("x", "p", "selector: pod == 'a'\ningress: [{action: Allow, protocol: ICMP}]"))
    assert conn(r, "y/a", "x/a") == "ICMP"


def test_global_policy_namespace_selector_restricts_its_subjects() -> None:
    r = build(e2e_model(), gnp("deny-y", "namespaceSelector: ns == 'y'\ningress: [{action: Deny}]"))
    assert not can(r, "x/a", "y/b") and can(r, "y/a", "x/b")
