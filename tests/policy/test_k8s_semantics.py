"""Kubernetes NetworkPolicy, case by case, from the Kubernetes docs, the e2e suite (test/e2e/network/netpol)
and the pitfalls list (policy-semantics.md §2, §7). Expectations are written by hand from those sources."""

from __future__ import annotations

from builders import container_ports, pod_doc

from .conftest import build, can, conn, e2e_model, expect, namespace, truth

PODS = [f"{ns}/{p}" for ns in "xyz" for p in "abc"]


def np(ns: str, name: str, spec: str) -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\n" \
           f"spec:\n{body}\n"


def test_no_policy_allows_everything() -> None:
    r = build(e2e_model())
    assert truth(r) == expect(PODS)
    assert conn(r, "x/a", "y/b") == "All Connections"


def test_deny_all_ingress_isolates_only_ingress_of_the_namespace() -> None:
    # docs "Default deny all ingress traffic": podSelector {} and policyTypes [Ingress].
    r = build(e2e_model(), np("x", "deny", "podSelector: {}\npolicyTypes: [Ingress]"))
    assert truth(r) == expect(PODS, blocked={(s, d) for s in PODS for d in PODS if d.startswith("x/")})


def test_egress_rules_without_policy_types_also_isolate_ingress() -> None:
    # Pitfall 1 / defaults.go: egress rules present and no policyTypes → [Ingress, Egress]; ingress has no rules.
    r = build(e2e_model(), np("x", "egress-only", """
podSelector: {matchLabels: {pod: a}}
egress: [{to: [{podSelector: {}}]}]
"""))
    assert not can(r, "x/b", "x/a") and not can(r, "y/a", "x/a")     # ingress isolated with zero rules
    assert can(r, "x/a", "x/b") and not can(r, "x/a", "y/a")           # egress: own namespace only
    assert can(r, "y/a", "x/b")                                        # other pods untouched


def test_empty_egress_list_without_policy_types_leaves_egress_open() -> None:
    # defaults.go: len(egress) == 0 → policyTypes [Ingress] only.
    r = build(e2e_model(), np("x", "p", "podSelector: {matchLabels: {pod: a}}\negress: []"))
    assert can(r, "x/a", "z/c") and not can(r, "z/c", "x/a")


def test_egress_type_without_rules_denies_all_egress_only() -> None:
    r = build(e2e_model(), np("x", "p", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]"))
    assert not any(can(r, "x/a", d) for d in PODS if d != "x/a")
    assert all(can(r, s, "x/a") for s in PODS if s != "x/a")


def test_egress_rules_are_ignored_when_policy_types_is_ingress() -> None:
    r = build(e2e_model(), np("x", "p", """
podSelector: {matchLabels: {pod: a}}
policyTypes: [Ingress]
egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]
"""))
    assert can(r, "x/a", "z/c")            # egress not isolated: its rules are ignored
    assert not can(r, "x/b", "x/a")        # ingress isolated, no ingress rules


def test_namespace_and_pod_selector_in_one_item_are_anded() -> None:
    # docs "Behavior of to and from selectors": one list item → AND.
    r = build(e2e_model(), np("x", "and", """
podSelector: {matchLabels: {pod: a}}
ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}}]}]
"""))
    allowed_from = {s for s in PODS if s != "x/a" and can(r, s, "x/a")}
    assert allowed_from == {"y/b"}


def test_namespace_and_pod_selector_in_two_items_are_ored() -> None:
    r = build(e2e_model(), np("x", "or", """
podSelector: {matchLabels: {pod: a}}
ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}, {podSelector: {matchLabels: {pod: b}}}]}]
"""))
    allowed_from = {s for s in PODS if s != "x/a" and can(r, s, "x/a")}
    assert allowed_from == {"y/a", "y/b", "y/c", "x/b"}    # a podSelector-only peer is x's pods only


def test_pod_selector_alone_means_the_policy_namespace() -> None:
    # e2e "should deny ingress from pods on other namespaces": from [{podSelector: {}}].
    r = build(e2e_model(), np("x", "p", "podSelector: {}\ningress: [{from: [{podSelector: {}}]}]"))
    assert truth(r) == expect(PODS, blocked={(s, d) for s in PODS for d in PODS if d[0] == "x" and s[0] != "x"})


def test_empty_namespace_selector_is_every_pod_but_no_external_address() -> None:
    r = build(e2e_model(), np("x", "p", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]"))
    assert can(r, "z/c", "x/a")
    assert conn(r, "8.8.8.8", "x/a") == "No Connections"


def test_missing_from_allows_external_addresses_too() -> None:
    r = build(e2e_model(), np("x", "p", "podSelector: {}\ningress: [{ports: [{port: 80}]}]"))
    assert conn(r, "8.8.8.8", "x/a") == "TCP 80"
    assert conn(r, "y/a", "x/a") == "TCP 80"


def test_union_is_per_rule_not_a_cross_product() -> None:
    # Pitfall 4: "allow y on 80" and "allow z on 81" do not allow y on 81.
    r = build(e2e_model(),
              np("x", "y80", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: "
                 "{matchLabels: {ns: y}}}], ports: [{port: 80}]}]"),
              np("x", "z81", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: "
                 "{matchLabels: {ns: z}}}], ports: [{port: 81}]}]"))
    assert conn(r, "y/b", "x/a") == "TCP 80"
    assert conn(r, "z/b", "x/a") == "TCP 81"
    assert conn(r, "x/b", "x/a") == "No Connections"


def test_allow_all_ingress_cannot_be_narrowed() -> None:
    # e2e "should enforce multiple ingress policies with ingress allow-all policy taking precedence".
    r = build(e2e_model(),
              np("x", "only-80", "podSelector: {}\ningress: [{ports: [{port: 80}]}]"),
              np("x", "allow-all", "podSelector: {}\ningress: [{}]"))
    assert conn(r, "y/a", "x/b") == "All Connections"


def test_except_narrows_one_peer_and_another_policy_can_re_allow() -> None:
    # e2e legacy "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed".
    # y/a is 10.1.2.1.
    cidr_except = np("x", "cidr", """
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
egress: [{to: [{ipBlock: {cidr: 10.1.0.0/16, except: [10.1.2.1/32]}}]}]
""")
    r = build(e2e_model(), cidr_except)
    assert not can(r, "x/a", "y/a") and can(r, "x/a", "y/b")
    r = build(e2e_model(), cidr_except, np("x", "server", """
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
egress: [{to: [{ipBlock: {cidr: 10.1.2.1/32}}]}]
"""))
    assert can(r, "x/a", "y/a")


def test_both_ends_must_allow() -> None:
    # e2e "should support denying of egress traffic on the client side (even if the server explicitly allows this
    # traffic)".
    r = build(e2e_model(),
              np("x", "deny-egress", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]"),
              np("y", "allow-in", "podSelector: {matchLabels: {pod: b}}\ningress: [{}]"))
    assert not can(r, "x/a", "y/b")
    assert can(r, "x/b", "y/b")


def test_named_port_resolves_on_the_destination_pod_for_ingress_and_egress() -> None:
    # Pitfall 6: the same name with different numbers on different pods.
    docs = [namespace("x"), namespace("y"),
            pod_doc("a", None, "x", "10.2.1.1", labels={"app": "a"}, ports=container_ports([(8080, "TCP", "web")])),
            pod_doc("b", None, "x", "10.2.1.2", labels={"app": "b"}, ports=container_ports([(9090, "TCP", "web")])),
            pod_doc("c", None, "y", "10.2.2.1", labels={"app": "c"}, ports=container_ports([(80, "TCP", "web")]))]
    r = build(docs, np("x", "in", "podSelector: {}\ningress: [{ports: [{port: web}]}]"))
    assert conn(r, "y/c", "x/a") == "TCP 8080"
    assert conn(r, "y/c", "x/b") == "TCP 9090"
    r = build(docs, np("x", "out", "podSelector: {matchLabels: {app: a}}\npolicyTypes: [Egress]\n"
                                   "egress: [{ports: [{port: web}]}]"))
    assert conn(r, "x/a", "x/b") == "TCP 9090"    # x/b's "web", not x/a's
    assert conn(r, "x/a", "y/c") == "TCP 80"


def test_named_port_with_the_wrong_protocol_matches_nothing_but_still_isolates() -> None:
    docs = [namespace("x"),
            pod_doc("a", None, "x", "10.2.1.1", labels={"app": "a"}, ports=container_ports([(53, "TCP", "dns")])),
            pod_doc("b", None, "x", "10.2.1.2", labels={"app": "b"})]
    r = build(docs, np("x", "p", "podSelector: {matchLabels: {app: a}}\n"
                                 "ingress: [{ports: [{protocol: UDP, port: dns}]}]"))
    assert conn(r, "x/b", "x/a") == "No Connections"


def test_protocol_defaults_to_tcp_and_protocols_never_leak() -> None:
    r = build(e2e_model(), np("x", "p", "podSelector: {matchLabels: {pod: a}}\ningress: [{ports: [{port: 80}]}]"))
    assert can(r, "y/a", "x/a", 80, "TCP") and not can(r, "y/a", "x/a", 80, "UDP")
    assert not can(r, "y/a", "x/a", 80, "SCTP")
    # e2e "should enforce ingress policy allowing any port traffic to a server on a specific protocol".
    r = build(e2e_model(), np("x", "p", "podSelector: {matchLabels: {pod: a}}\n"
                                       "ingress: [{ports: [{protocol: UDP}]}]"))
    assert conn(r, "y/a", "x/a") == "UDP 1-65535"
    # e2e "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'".
    r = build(e2e_model(), np("x", "p", "podSelector: {matchLabels: {pod: a}}\n"
                                       "ingress: [{ports: [{protocol: SCTP, port: 80}]}]"))
    assert conn(r, "y/a", "x/a") == "SCTP 80"


def test_end_port_is_inclusive() -> None:
    r = build(e2e_model(), np("x", "p", "podSelector: {matchLabels: {pod: a}}\n"
                                       "ingress: [{ports: [{port: 80, endPort: 85}]}]"))
    assert conn(r, "y/a", "x/a") == "TCP 80-85"
    assert can(r, "y/a", "x/a", 85) and not can(r, "y/a", "x/a", 86) and not can(r, "y/a", "x/a", 79)


def test_missing_ports_allow_every_protocol_including_those_without_ports() -> None:
    r = build(e2e_model(), np("x", "p", "podSelector: {matchLabels: {pod: a}}\n"
                                       "ingress: [{from: [{podSelector: {}}]}]"))
    c = r.connection(r.resolve("x/b")[0], r.resolve("x/a")[0]).conns
    assert c is not None and c.is_all and c.allows(1)       # ICMP too


def test_ip_block_matches_pod_ips_and_the_explanation_says_so() -> None:
    # Pitfall 8: e2e "should allow egress access to server in CIDR block" uses <podIP>/32; y/a is 10.1.2.1.
    from cnimodel.policy.explain import explain

    r = build(e2e_model(), np("y", "p", "podSelector: {matchLabels: {pod: b}}\n"
                                       "ingress: [{from: [{ipBlock: {cidr: 10.1.2.1/32}}]}]"))
    assert can(r, "y/a", "y/b") and not can(r, "y/c", "y/b")
    c = r.connection(r.resolve("y/a")[0], r.resolve("y/b")[0])
    text = " ".join(s.reason for side in explain(r, c).sides for s in side.steps)
    assert "matched by address" in text and "10.1.2.1" in text and "netpol-analyzer" in text


def test_namespaces_are_selected_by_the_metadata_name_label_even_when_not_declared() -> None:
    docs = [pod_doc("a", None, "x", "10.3.1.1", labels={"app": "a"}),
            pod_doc("b", None, "prod", "10.3.2.1", labels={"app": "b"}),
            pod_doc("c", None, "dev", "10.3.3.1", labels={"app": "c"})]
    r = build(docs, np("x", "p", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: "
                                 "{kubernetes.io/metadata.name: prod}}}]}]"))
    assert can(r, "prod/b", "x/a") and not can(r, "dev/c", "x/a")


def test_not_in_and_does_not_exist_match_pods_without_the_label() -> None:
    docs = [namespace("x"), pod_doc("a", None, "x", "10.4.1.1", labels={"app": "a"}),
            pod_doc("plain", None, "x", "10.4.1.2"),
            pod_doc("canary", None, "x", "10.4.1.3", labels={"track": "canary"}),
            pod_doc("stable", None, "x", "10.4.1.4", labels={"track": "stable"})]
    r = build(docs, np("x", "p", """
podSelector: {matchLabels: {app: a}}
ingress: [{from: [{podSelector: {matchExpressions: [{key: track, operator: NotIn, values: [canary]}]}}]}]
"""))
    assert can(r, "x/plain", "x/a") and can(r, "x/stable", "x/a") and not can(r, "x/canary", "x/a")


def test_a_pod_and_itself_are_not_evaluated() -> None:
    r = build(e2e_model(), np("x", "deny", "podSelector: {}\npolicyTypes: [Ingress, Egress]"))
    c = r.connection(r.resolve("x/a")[0], r.resolve("x/a")[0])
    assert c.conns is None and "undefined" in c.note
    # and listings leave self pairs out
    assert all(c.src.name != c.dst.name for c in r.connections(r.pods(), r.pods(), all_pairs=True))
