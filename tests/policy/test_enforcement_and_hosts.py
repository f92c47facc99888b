"""Enforcement comes from the plan; self, hostNetwork and node traffic are reported as such
(policy-semantics.md §2.9-§2.11, pitfall 12)."""

from __future__ import annotations

import yaml
from builders import pod_doc

from cnimodel import examples
from cnimodel.plan import load_plan
from cnimodel.policy import Reachability
from cnimodel.policy.explain import explain

from .conftest import build, can, conn, namespace

DENY_ALL = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny-all", "namespace": "default"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}


def cluster_plan(name: str, extra: list[dict], replace: tuple[str, str] | None = None) -> Reachability:
    text = examples.path(name).read_text()
    if replace:
        text = text.replace(*replace)
    text += "\n---\n" + yaml.safe_dump_all(extra)
    return Reachability.from_plan(load_plan([name], texts={name: text}))


def test_a_plan_whose_plugins_enforce_nothing_isolates_nobody_and_says_why() -> None:
    # The default plan runs flannel host-gw with no policy plugin: nothing enforces NetworkPolicy.
    r = cluster_plan("default.yaml", [DENY_ALL])
    assert conn(r, "default/client", "web/iis-0") == "All Connections"
    c = r.connection(r.resolve("default/client")[0], r.resolve("web/iis-0")[0])
    egress = explain(r, c).sides[0]
    assert "not enforced" in egress.status and "enforces no NetworkPolicy" in egress.status


def test_enforcement_is_per_node() -> None:
    # canal-windows with Calico for Windows' default KUBE_NETWORK ("Calico.*"): felix on Windows matches no
    # HNS network and enforces nothing there, while Linux nodes enforce with iptables.
    extra = [DENY_ALL, pod_doc("lin-b", "master", "default", "", labels={"app": "b"})]
    del extra[1]["status"]
    r = cluster_plan("canal-windows.yaml", extra, ('KUBE_NETWORK: "^flannel\\\\.4096$"', 'KUBE_NETWORK: "Calico.*"'))
    assert not can(r, "default/iis-0", "default/client")     # client (lin1) is isolated for ingress
    assert not can(r, "default/client", "default/lin-b")     # and for egress
    assert can(r, "default/client", "default/iis-0") is False  # the client's own egress isolation denies
    assert conn(r, "8.8.8.8", "default/iis-0") == "All Connections"   # iis-0 (win1) is not isolated
    c = r.connection(r.resolve("8.8.8.8")[0], r.resolve("default/iis-0")[0])
    ingress = explain(r, c).sides[1]
    assert "KUBE_NETWORK" in ingress.status


def test_manifests_alone_treat_every_pod_as_enforced() -> None:
    r = build(namespace("default"), pod_doc("a", None, "default", "10.9.0.1"),
              pod_doc("b", None, "default", "10.9.0.2"), DENY_ALL)
    assert conn(r, "default/a", "default/b") == "No Connections"
    c = r.connection(r.resolve("default/a")[0], r.resolve("default/b")[0])
    assert "netpol-analyzer" in explain(r, c).sides[0].status


HOSTS = [namespace("x"),
          pod_doc("a", "n1", "x", "10.9.1.1", labels={"app": "a"}),
          pod_doc("b", "n2", "x", "10.9.1.2", labels={"app": "b"}),
         pod_doc("h", "n1", "x", "172.20.0.1", labels={"app": "a"}, hostNetwork=True),
         {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
          "status": {"addresses": [{"type": "InternalIP", "address": "172.20.0.1"}]}},
         {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"},
          "status": {"addresses": [{"type": "InternalIP", "address": "172.20.0.2"}]}},
         {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "x"},
          "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}]}]}}]


def test_traffic_from_the_pods_own_node_is_always_allowed() -> None:
    r = build(HOSTS)
    assert conn(r, "x/h", "x/a") == "All Connections"      # hostNetwork pod on n1, x/a on n1
    assert "own node" in r.connection(r.resolve("x/h")[0], r.resolve("x/a")[0]).note
    assert conn(r, "n1[Node]", "x/a") == "All Connections"


def test_host_network_pods_are_not_matched_by_pod_selectors() -> None:
    r = build(HOSTS)
    # x/h carries app=a, but speaks with n1's address: the podSelector does not match it on n2's pod.
    assert conn(r, "x/h", "x/b") == "No Connections"
    assert "hostNetwork" in r.connection(r.resolve("x/h")[0], r.resolve("x/b")[0]).note
    assert conn(r, "x/a", "x/b") == "All Connections"


def test_host_network_pods_are_reached_by_address_and_their_ingress_is_not_policed() -> None:
    r = build(HOSTS, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "b-egress", "namespace": "x"},
                      "spec": {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Egress"],
                               "egress": [{"to": [{"ipBlock": {"cidr": "172.20.0.1/32"}}]}]}})
    assert conn(r, "x/b", "x/h") == "All Connections"        # egress by address; no pod ingress policy applies
    assert conn(r, "x/b", "n2[Node]") == "No Connections"


def test_node_addresses_resolve_to_nodes_and_cidrs_to_everything_inside() -> None:
    r = build(HOSTS)
    assert [e.label for e in r.resolve("172.20.0.2")] == ["n2[Node]"]
    labels = [e.label for e in r.resolve("10.9.1.0/24")]
    assert labels[:2] == ["x/a[Pod]", "x/b[Pod]"] and all("External" in x for x in labels[2:])
