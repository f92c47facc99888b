"""Calico service-account matching, as libcalico-go converts it for felix (projectcalico/calico):

- a pod's WorkloadEndpoint carries ``projectcalico.org/serviceaccount: <spec.serviceAccountName>``
  (libcalico-go/lib/backend/syncersv1/updateprocessors/workloadendpointprocessor.go), the name being
  ``default`` when the pod gives none (the ServiceAccount admission plugin sets it) and the deprecated
  ``spec.serviceAccount`` when only that is given (the v1 → internal conversion);
- it inherits its ServiceAccount's labels under ``pcsa.`` plus ``pcsa.projectcalico.org/name: <name>`` from
  the profile ``ksa.<ns>.<name>`` (libcalico-go/lib/backend/k8s/conversion/conversion.go
  ServiceAccountToProfile) — only when the account exists;
- ``serviceAccounts.selector`` and a policy's ``serviceAccountSelector`` get the ``pcsa.`` prefix on every key
  (updateprocessors/rules.go parseServiceAccounts, networkpolicyprocessor.go); ``serviceAccounts.names`` become
  ``projectcalico.org/serviceaccount in {…}``; both are ANDed, and a rule selecting by account is scoped to
  the policy's namespace like any rule selector (rules.go getEndpointSelector).

Every expected answer below is worked out by hand from those conversions.
"""

from __future__ import annotations

from typing import Any

import pytest
from builders import pod_doc

from cnimodel.policy import Reachability

from .conftest import build, can, namespace


def account(ns: str, name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns,
                                                                      "labels": labels}}


def model() -> list[dict[str, Any]]:
    """x/a runs as web (tier=frontend), x/b as default (no field), x/c as db (tier=backend, given by the
    deprecated spec.serviceAccount), x/d as ghost (no such ServiceAccount); y/a as web (unlabelled)."""
    return [namespace("x"), namespace("y"),
            pod_doc("a", None, "x", "10.1.1.1", labels={"pod": "a"}, serviceAccountName="web"),
            pod_doc("b", None, "x", "10.1.1.2", labels={"pod": "b"}),
            pod_doc("c", None, "x", "10.1.1.3", labels={"pod": "c"}, serviceAccount="db"),
            pod_doc("d", None, "x", "10.1.1.4", labels={"pod": "d"}, serviceAccountName="ghost"),
            pod_doc("a", None, "y", "10.1.2.1", labels={"pod": "a"}, serviceAccountName="web"),
            account("x", "web", tier="frontend"), account("x", "db", tier="backend"), account("y", "web")]


def calico(kind: str, name: str, spec: str, ns: str | None = None) -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    meta = f"{{name: {name}, namespace: {ns}}}" if ns else f"{{name: {name}}}"
    return f"apiVersion: projectcalico.org/v3\nkind: {kind}\nmetadata: {meta}\nspec:\n{body}\n"


def isolated(r: Reachability) -> set[str]:
    """Pods that y/a cannot reach on TCP 80 (or x/b for y/a itself)."""
    return {e.name for e in r.pods() if e.name != "y/a" and not can(r, "y/a", e.name)} | (
        {"y/a"} if not can(r, "x/b", "y/a") else set())


def test_the_pod_reader_keeps_the_account() -> None:
    r = build(model())
    accounts = {w.key: w.pod.service_account for w in r.u.workloads}
    assert accounts == {"x/a": "web", "x/b": "default", "x/c": "db", "x/d": "ghost", "y/a": "web"}


@pytest.mark.parametrize(("selector", "denied"), [
    ("tier == 'frontend'", {"x/a"}),                          # pcsa.tier: x/web only
    ("has(tier)", {"x/a", "x/c"}),                             # x/d's account is not in the plan: no labels
    ("projectcalico.org/name == 'ghost'", set()),              # no profile, so no pcsa.projectcalico.org/name
    ("projectcalico.org/name == 'web'", {"x/a", "y/a"}),       # the name label of both web accounts
    ("!has(tier)", {"x/b", "x/d", "y/a"}),                     # default and ghost have no labels here
])
def test_policy_service_account_selector_reads_the_account_labels(selector: str, denied: set[str]) -> None:
    gnp = calico("GlobalNetworkPolicy", "deny", f"serviceAccountSelector: \"{selector}\"\ningress: [{{action: Deny}}]")
    assert isolated(build(model(), gnp)) == denied


def test_a_namespaced_policy_adds_its_namespace() -> None:
    np = calico("NetworkPolicy", "deny", "serviceAccountSelector: \"projectcalico.org/name == 'web'\"\n"
                "ingress: [{action: Deny}]", ns="y")
    assert isolated(build(model(), np)) == {"y/a"}


@pytest.mark.parametrize(("match", "allowed"), [
    ("{names: [web]}", {"x/a"}),                                   # scoped to x: y/a (also web) is not
    ("{names: [ghost]}", {"x/d"}),                                 # names match the spec, even without an object
    ("{selector: \"tier == 'backend'\"}", {"x/c"}),
    ("{names: [web, db], selector: \"tier == 'frontend'\"}", {"x/a"}),  # ANDed
    ("{selector: \"projectcalico.org/name == 'ghost'\"}", set()),
])
def test_rule_service_accounts_match_sources(match: str, allowed: set[str]) -> None:
    """x/b admits on ingress only sources matching the rule; everything else hits the default tier's end."""
    np = calico("NetworkPolicy", "from-accounts", f"selector: pod == 'b'\ningress: [{{action: Allow, source: "
                f"{{serviceAccounts: {match}}}}}]", ns="x")
    r = build(model(), np)
    sources = {e.name for e in r.pods() if e.name != "x/b" and can(r, e.name, "x/b")}
    assert sources == allowed


def test_a_pod_without_an_account_runs_as_default() -> None:
    np = calico("NetworkPolicy", "from-default", "selector: pod == 'c'\ningress: [{action: Allow, source: "
                "{serviceAccounts: {names: [default]}}}]", ns="x")
    r = build(model(), np)
    assert {e.name for e in r.pods() if e.name != "x/c" and can(r, e.name, "x/c")} == {"x/b"}


def test_an_empty_selector_selects_nothing_by_account() -> None:
    """serviceAccountSelector "" adds nothing (networkpolicyprocessor.go skips an empty one)."""
    gnp = calico("GlobalNetworkPolicy", "deny", "selector: pod == 'a'\nserviceAccountSelector: \"\"\n"
                 "ingress: [{action: Deny}]")
    assert isolated(build(model(), gnp)) == {"x/a", "y/a"}


def test_the_checked_pod_reader_keeps_the_account_too() -> None:
    """A label value that is not a string sends a pod through the checked reader (docs: kube.parse_pod)."""
    odd = pod_doc("b", None, "y", "10.1.2.2", labels={"pod": "b"}, serviceAccount="web")
    odd["metadata"]["labels"]["gen"] = 3
    r = build(model(), odd)
    assert {w.key: w.pod.service_account for w in r.u.workloads}["y/b"] == "web"


def test_a_policy_selecting_by_account_is_not_reported_as_selecting_nothing() -> None:
    """CNI-POL-011 evaluates subjects with the accounts' labels as well."""
    import yaml

    from cnimodel.plan import load_plan
    from cnimodel.validate import validate

    hits = calico("GlobalNetworkPolicy", "hits", "serviceAccountSelector: \"tier == 'frontend'\"\n"
                  "ingress: [{action: Deny}]")
    misses = calico("GlobalNetworkPolicy", "misses", "serviceAccountSelector: \"tier == 'nowhere'\"\n"
                    "ingress: [{action: Deny}]")
    text = yaml.safe_dump_all(model()) + "---\n" + hits + "---\n" + misses
    plan = load_plan(["case.yaml"], texts={"case.yaml": text})
    found = validate(plan, None, codes={"CNI-POL-011"}).findings
    assert [f.objects for f in found] == [("misses[GlobalNetworkPolicy]",)]
