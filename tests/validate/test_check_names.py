"""CNI-NAME-001: names and labels the API server refuses. Expectations by hand from apimachinery's rules:
Service = DNS-1035 label, Namespace = DNS-1123 label, Pod/Node/workload/NetworkPolicy = DNS-1123 subdomain,
label keys = [subdomain/]name (name 1-63, alphanumeric ends, '-', '_', '.' inside), values = empty or a name."""

from __future__ import annotations

import pytest
from vplans import cluster_doc, hits, netpol, nodes, pod_doc, service

from cnimodel.validate.names import label_problem, name_ok, suggest

CODE = "CNI-NAME-001"


@pytest.mark.parametrize(("name", "rule", "ok"), [
    ("web", "DNS-1035 label", True), ("web-1", "DNS-1035 label", True), ("1web", "DNS-1035 label", False),
    ("web.v1", "DNS-1035 label", False), ("Web", "DNS-1035 label", False), ("a" * 63, "DNS-1035 label", True),
    ("a" * 64, "DNS-1035 label", False), ("1web", "DNS-1123 label", True), ("web-", "DNS-1123 label", False),
    ("web.v1", "DNS-1123 subdomain", True), ("web..v1", "DNS-1123 subdomain", False),
    ("web_1", "DNS-1123 subdomain", False), (".web", "DNS-1123 subdomain", False),
    ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61, "DNS-1123 subdomain", True),  # 253
    ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62, "DNS-1123 subdomain", False),  # 254
])
def test_name_rules(name: str, rule: str, ok: bool) -> None:
    assert name_ok(name, rule) is ok
    if not ok:
        assert name_ok(suggest(name, rule), rule), suggest(name, rule)


@pytest.mark.parametrize(("key", "value", "bad"), [
    ("app", "web", False), ("app.kubernetes.io/name", "web_v1.2", False), ("app", "", False),
    ("App_Name", "Web", False), ("kubernetes.io/os", "windows", False),
    ("-app", "web", True), ("app", "web app", True), ("app", "v" * 64, True), ("Example.com/app", "x", True),
    ("/app", "x", True), ("example.com/", "x", True), ("a/b/c", "x", True),
])
def test_label_rules(key: str, value: str, bad: bool) -> None:
    assert (label_problem(key, value) is not None) is bad


def test_bad_names_of_each_kind_are_found(tmp_path):
    docs = [cluster_doc(nodes=nodes(lin1={"name": "Lin_1", "ip": "10.240.0.10"})),
            service("1api"), service("api"), netpol("deny.all"), netpol("Deny"),
            pod_doc("Web_0", "win1"), pod_doc("web-1", "win1", namespace="Shop")]
    found = hits(tmp_path, docs, CODE)
    objects = sorted(o for f in found for o in f.objects)
    assert objects == ["Lin_1[Node]", "Shop[Namespace]", "default/1api[Service]",
                       "default/Deny[NetworkPolicy]", "default/Web_0[Pod]"]
    by = {f.objects[0]: f for f in found}
    assert by["default/1api[Service]"].severity == "error"
    assert "is not a DNS-1035 label" in by["default/1api[Service]"].message
    assert "'api'" in by["default/1api[Service]"].fix
    assert "is not a DNS-1123 subdomain" in by["default/Web_0[Pod]"].message


def test_workloads_are_judged_once_not_per_pod(tmp_path):
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "Web", "namespace": "default"},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web", "tier": "front end"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}}
    found = hits(tmp_path, [cluster_doc(), deploy], CODE)
    assert [f.objects for f in found] == [("default/Web[Deployment]",), ("default/Web[Deployment]",)]
    assert "tier: the value 'front end'" in found[1].message


def test_labels_of_nodes_and_pods(tmp_path):
    docs = [cluster_doc(nodes=nodes(win1={"labels": {"pool": "win 2022"}})),
            {**pod_doc("a", "lin1"), "metadata": {"name": "a", "namespace": "default", "labels": {"-x": "y"}}}]
    found = hits(tmp_path, docs, CODE)
    assert sorted(f.objects[0] for f in found) == ["default/a[Pod]", "win1[Node]"]


def test_a_valid_plan_has_no_finding(tmp_path):
    docs = [cluster_doc(), service("web"), netpol("allow.web"), pod_doc("web-0", "win1", namespace="shop")]
    assert not hits(tmp_path, docs, CODE)


def test_many_findings_are_summed_up(tmp_path):
    docs = [cluster_doc()] + [pod_doc(f"Pod_{i}", "lin1") for i in range(60)]
    found = hits(tmp_path, docs, CODE)
    assert len(found) == 50 and found[-1].message.startswith("11 more like the above")
