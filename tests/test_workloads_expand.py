"""Each workload kind expands into the pods its controller would create: how many, their names, the labels
the controller adds, what they inherit from the template, and their owner.

Counts follow the Kubernetes API docs: replicas defaults to 1; a Job runs ``parallelism`` pods (default 1),
fewer when ``completions`` is smaller, none when suspended; a CronJob's pods are one Job's worth.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from builders import at, cluster_doc, load_docs, plan_errors, write_docs

from cnimodel.plan import Plan, load_plan
from cnimodel.plan.workloads import pods_of

IMG = "registry.k8s.io/e2e-test-images/agnhost:2.47"
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' alphabet for generated name parts


def template(labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": labels or {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": IMG}], **spec}}


def workload(kind: str, name: str, ns: str | None = None, api: str = "apps/v1", **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    body: dict[str, Any] = {"selector": {"matchLabels": {"app": "x"}}, "template": template(), **spec}
    if kind in ("Job",):
        body.pop("selector")
    if kind == "CronJob":
        body = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template(), **spec}}}
    return {"apiVersion": "batch/v1" if kind in ("Job", "CronJob") else api, "kind": kind, "metadata": meta,
            "spec": body}


def names(plan: Plan, ref: str) -> list[str]:
    return sorted(p.name for p in pods_of(plan, ref))


def load(tmp_path: Path, *docs: dict[str, Any], **cluster: Any) -> Plan:
    return load_docs(tmp_path, [cluster_doc(**cluster), *docs])


def test_statefulset_pods_are_name_ordinal_with_their_own_name_label(tmp_path: Path) -> None:
    plan = load(tmp_path, workload("StatefulSet", "db", "data", replicas=3, serviceName="db"))
    pods = sorted(pods_of(plan, "data/db[StatefulSet]"), key=lambda p: p.name)
    assert [p.name for p in pods] == ["db-0", "db-1", "db-2"]
    assert [p.labels["statefulset.kubernetes.io/pod-name"] for p in pods] == ["db-0", "db-1", "db-2"]
    assert [p.labels["apps.kubernetes.io/pod-index"] for p in pods] == ["0", "1", "2"]
    assert all(p.labels["app"] == "x" and p.workload == "data/db[StatefulSet]" for p in pods)


def test_deployment_pods_carry_a_stable_template_hash(tmp_path: Path) -> None:
    plan = load(tmp_path, workload("Deployment", "web", replicas=3))
    pods = sorted(pods_of(plan, "default/web[Deployment]"), key=lambda p: p.name)
    h = pods[0].labels["pod-template-hash"]
    assert len(h) == 10 and set(h) <= set(NAME_ALPHABET)
    assert [p.name for p in pods] == [f"web-{h}-0", f"web-{h}-1", f"web-{h}-2"]
    again = load(tmp_path / "again", workload("Deployment", "web", replicas=3))
    assert {p.labels["pod-template-hash"] for p in again.pods} == {h}
    changed = workload("Deployment", "web", replicas=3)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    other = load(tmp_path / "changed", changed)
    assert {p.labels["pod-template-hash"] for p in other.pods} != {h}  # a new template is a new ReplicaSet


@pytest.mark.parametrize(("spec", "count"), [({}, 1), ({"replicas": 0}, 0), ({"replicas": 4}, 4)])
def test_replicas_default_to_one(tmp_path: Path, spec: dict[str, Any], count: int) -> None:
    plan = load(tmp_path, workload("ReplicaSet", "rs", **spec))
    assert names(plan, "default/rs") == [f"rs-{i}" for i in range(count)]


@pytest.mark.parametrize(("spec", "count"), [
    ({}, 1), ({"parallelism": 3}, 3), ({"parallelism": 3, "completions": 2}, 2),
    ({"parallelism": 2, "completions": 5}, 2), ({"parallelism": 3, "suspend": True}, 0)])
def test_job_runs_parallelism_pods(tmp_path: Path, spec: dict[str, Any], count: int) -> None:
    plan = load(tmp_path, workload("Job", "batch", **spec))
    pods = sorted(pods_of(plan, "default/batch[Job]"), key=lambda p: p.name)
    assert [p.name for p in pods] == [f"batch-{i}" for i in range(count)]
    assert all(p.labels["job-name"] == p.labels["batch.kubernetes.io/job-name"] == "batch" for p in pods)


def test_cronjob_is_one_jobs_worth_of_pods(tmp_path: Path) -> None:
    plan = load(tmp_path, workload("CronJob", "backup", "ops", parallelism=2))
    pods = sorted(pods_of(plan, "ops/backup[CronJob]"), key=lambda p: p.name)
    assert [p.name for p in pods] == ["backup-next-0", "backup-next-1"]
    assert pods[0].labels["job-name"] == "backup-next"
    suspended = workload("CronJob", "backup", "ops")
    suspended["spec"]["suspend"] = True
    assert not load(tmp_path / "s", suspended).pods


def test_template_fields_and_namespace_defaulting(tmp_path: Path) -> None:
    w = workload("Deployment", "dns", replicas=1)
    w["spec"]["template"]["spec"] = {
        "hostNetwork": True,
        "containers": [{"name": "a", "image": "coredns/coredns:1.11.1",
                        "ports": [{"containerPort": 53, "protocol": "UDP", "name": "dns"}]},
                       {"name": "b", "image": IMG, "ports": [{"containerPort": 9153, "hostPort": 9153}]}]}
    w["spec"]["template"]["metadata"]["namespace"] = "ignored"  # pods live in their workload's namespace
    pod = load(tmp_path, w).pods[0]
    assert pod.namespace == "default" and pod.host_network
    assert pod.images == ("coredns/coredns:1.11.1", IMG)
    assert [(p.port, p.protocol, p.name, p.host_port) for p in pod.ports] == [
        (53, "UDP", "dns", None), (9153, "TCP", None, 9153)]
    assert str(pod.owner) == "default/dns[Deployment]"


def test_selector_must_match_the_template_labels(tmp_path: Path) -> None:
    bad = workload("Deployment", "web")
    bad["spec"]["selector"] = {"matchLabels": {"app": "y"}}
    assert "does not match" in at(plan_errors(tmp_path, [cluster_doc(), bad]), "spec.selector").message
    expr = workload("Deployment", "web")
    expr["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["x", "z"]}]}
    assert len(load(tmp_path, expr).pods) == 1


def test_apps_v1_needs_a_selector_older_apis_default_it(tmp_path: Path) -> None:
    missing = workload("Deployment", "web")
    del missing["spec"]["selector"]
    problem = at(plan_errors(tmp_path, [cluster_doc(), missing]), "spec.selector")
    assert "required" in problem.message and "app: x" in problem.hint
    old = workload("Deployment", "web", api="extensions/v1beta1")  # the 2018 talk's API version
    del old["spec"]["selector"]
    assert len(load(tmp_path, old).pods) == 1


def test_a_workload_without_template_is_a_warning_not_fatal(tmp_path: Path) -> None:
    empty = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}, "spec": {}}
    plan = load(tmp_path, empty)
    assert not plan.pods and "no pod template" in at(plan.warnings, "spec.template").message


def test_duplicate_workloads_are_errors(tmp_path: Path) -> None:
    problems = plan_errors(tmp_path, [cluster_doc(), workload("Deployment", "w"), workload("Deployment", "w")])
    dup = [p for p in problems if "Deployment default/w (apps) is given twice" in p.message]
    assert len(dup) == 1 and dup[0].origin.document == 2 and "(document 2)" in dup[0].message


def test_expand_false_uses_only_the_listed_pods(tmp_path: Path) -> None:
    listed = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": template()["spec"]}
    plan = load(tmp_path, workload("Deployment", "web", replicas=3), listed, expand=False)
    # the listed pod is still scheduled: to master, first in plan order (untainted in the §10 example)
    assert [(p.name, p.node) for p in plan.pods] == [("p", "master")]
    assert [w.name for w in plan.workloads] == ["web"]


def test_manifests_without_nodes_expand_but_place_nothing(tmp_path: Path) -> None:
    """A directory of manifests (no ClusterPlan, no nodes), as a policy analysis reads it."""
    ds = workload("DaemonSet", "agent", "kube-system")
    plan = load_plan([write_docs(tmp_path / "m.yaml", [workload("Deployment", "web", replicas=2), ds])])
    assert {(p.workload, p.node) for p in plan.pods} == {
        ("default/web[Deployment]", None), ("kube-system/agent[DaemonSet]", None)}
    assert len(plan.pods) == 3  # 2 replicas + one pod standing for the DaemonSet
    assert not plan.warnings


def test_pods_of_names_a_pod_or_a_workload(tmp_path: Path) -> None:
    plan = load(tmp_path, workload("StatefulSet", "db", replicas=2),
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db"}, "spec": template()["spec"]})
    assert [p.name for p in pods_of(plan, "default/db")] == ["db"]  # a pod of that name wins
    assert names(plan, "default/db[StatefulSet]") == ["db-0", "db-1"]
    assert names(plan, "db[StatefulSet]") == ["db-0", "db-1"]  # namespace defaults to default
    assert pods_of(plan, "default/none") == ()


def test_owner_prints_like_netpol_analyzer(tmp_path: Path) -> None:
    plan = load(tmp_path, workload("DaemonSet", "agent", "kube-system"))
    assert all(re.fullmatch(r"kube-system/agent\[DaemonSet\]", p.workload) for p in plan.pods)
    bare = load(tmp_path / "b", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                 "spec": template()["spec"]})
    assert bare.pods[0].workload == "default/p[Pod]" and bare.pods[0].owner is None
