"""kubectl List dumps that hold workloads (``kubectl get all -A -o json``, ``kubectl get deploy,rs -o yaml``).

A dump holds the controllers *and* the objects they made: a Deployment, its ReplicaSet and the ReplicaSet's
pods; a CronJob, its Job and the Job's pod. The pods listed are the truth (their names, nodes and IPs), so
a workload with listed pods is not expanded again, an owned ReplicaSet or Job is covered by its owner, and
every pod is credited to its top-level workload through ``metadata.ownerReferences``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import cluster_doc, write_docs

from cnimodel.cluster import Cluster
from cnimodel.plan import Plan, load_plan

IMG = "registry.k8s.io/e2e-test-images/agnhost:2.47"
WIN_IMG = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
HASH = "7c9f8d6b5d"


def meta(name: str, ns: str, uid: str, owner: tuple[str, str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """Metadata as the API server returns it (uid, resourceVersion, timestamps, ownerReferences)."""
    m: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid, "resourceVersion": "4711",
                         "creationTimestamp": "2024-05-01T10:00:00Z", **extra}
    if owner:
        kind, oname, ouid = owner
        m["ownerReferences"] = [{"apiVersion": "apps/v1" if kind != "Job" and kind != "CronJob" else "batch/v1",
                                 "kind": kind, "name": oname, "uid": ouid, "controller": True,
                                 "blockOwnerDeletion": True}]
    return m


def pod_spec(image: str = IMG, **spec: Any) -> dict[str, Any]:
    return {"containers": [{"name": "c", "image": image, "ports": [{"containerPort": 80}]}], **spec}


def deployment() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web", "web", "d-1"),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "iis"}},
                     "template": {"metadata": {"labels": {"app": "iis"}},
                                  "spec": pod_spec(WIN_IMG, nodeSelector={"kubernetes.io/os": "windows"})}},
            "status": {"replicas": 2, "readyReplicas": 2}}


def replicaset() -> dict[str, Any]:
    labels = {"app": "iis", "pod-template-hash": HASH}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": meta(f"web-{HASH}", "web", "rs-1", ("Deployment", "web", "d-1"), labels=labels),
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": pod_spec(WIN_IMG, nodeSelector={"kubernetes.io/os": "windows"})}}}


def rs_pod(suffix: str, node: str, ip: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(f"web-{HASH}-{suffix}", "web", f"p-{suffix}", ("ReplicaSet", f"web-{HASH}", "rs-1"),
                             labels={"app": "iis", "pod-template-hash": HASH}),
            "spec": {**pod_spec(WIN_IMG, nodeSelector={"kubernetes.io/os": "windows"}), "nodeName": node},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


def cronjob_and_job() -> list[dict[str, Any]]:
    tmpl = {"metadata": {"labels": {"app": "backup"}}, "spec": pod_spec(restartPolicy="OnFailure")}
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("backup", "ops", "cj-1"),
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": tmpl}}}}
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": meta("backup-28450170", "ops", "j-1", ("CronJob", "backup", "cj-1")),
           "spec": {"parallelism": 1, "template": tmpl}}
    return [cron, job]


def load_list(tmp_path: Path, items: list[dict[str, Any]]) -> Plan:
    return load_plan([write_docs(tmp_path / "cluster.yaml", [cluster_doc()]),
                      write_docs(tmp_path / "dump.json", items)])  # .json: one `kind: List`


def test_kubectl_get_all_dump_uses_the_listed_pods(tmp_path: Path) -> None:
    job_pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": meta("backup-28450170-x2f9k", "ops", "p-j", ("Job", "backup-28450170", "j-1"),
                                labels={"app": "backup", "job-name": "backup-28450170"}),
               "spec": {**pod_spec(), "nodeName": "lin1"}}
    items = [deployment(), replicaset(), rs_pod("abcde", "win1", "10.244.2.7"), rs_pod("fghij", "win2", "10.244.3.9"),
             *cronjob_and_job(), job_pod]
    cluster = Cluster.build(load_list(tmp_path, items))
    plan = cluster.plan
    assert sorted((p.name, p.node, p.workload) for p in plan.pods) == [
        ("backup-28450170-x2f9k", "lin1", "ops/backup[CronJob]"),
        (f"web-{HASH}-abcde", "win1", "web/web[Deployment]"),
        (f"web-{HASH}-fghij", "win2", "web/web[Deployment]")]
    assert str(cluster.pod_ip(f"web/web-{HASH}-abcde")) == "10.244.2.7"  # status.podIP kept
    assert sorted(f"{w.kind}/{w.name}" for w in plan.workloads) == [
        "CronJob/backup", "Deployment/web", "Job/backup-28450170", f"ReplicaSet/web-{HASH}"]
    assert not any("not model" in w.message for w in plan.warnings)


def test_deployment_and_its_replicaset_without_pods_expand_once(tmp_path: Path) -> None:
    """`kubectl get deploy,rs -o json`: the ReplicaSet is the Deployment's, so 2 pods, not 4."""
    plan = load_list(tmp_path, [deployment(), replicaset()])
    assert sorted((p.node, p.workload) for p in plan.pods) == [
        ("win1", "web/web[Deployment]"), ("win2", "web/web[Deployment]")]


def test_cronjob_and_its_job_without_pods_expand_once(tmp_path: Path) -> None:
    plan = load_list(tmp_path, cronjob_and_job())
    assert [(p.name, p.workload) for p in plan.pods] == [("backup-next-0", "ops/backup[CronJob]")]


def test_pods_of_a_replicaset_not_in_the_dump_name_their_deployment(tmp_path: Path) -> None:
    """`kubectl get pods -o json` alone: the ReplicaSet is called <deployment>-<pod-template-hash>."""
    plan = load_list(tmp_path, [rs_pod("abcde", "win1", "10.244.2.7")])
    assert plan.pods[0].workload == "web/web[Deployment]"
    orphan = rs_pod("zzzzz", "win1", "10.244.2.8")
    del orphan["metadata"]["labels"]["pod-template-hash"]
    plan = load_list(tmp_path / "o", [orphan])
    assert plan.pods[0].workload == f"web/web-{HASH}[ReplicaSet]"


def test_listed_pods_cover_only_their_own_workload(tmp_path: Path) -> None:
    """A dump with the Deployment's pods and another Deployment without any: only the second expands."""
    other = deployment()
    other["metadata"] = meta("api", "web", "d-2")
    plan = load_list(tmp_path, [deployment(), replicaset(), rs_pod("abcde", "win1", "10.244.2.7"), other])
    assert sorted(p.workload for p in plan.pods) == ["web/api[Deployment]", "web/api[Deployment]",
                                                     "web/web[Deployment]"]


def test_daemonset_pods_in_the_dump(tmp_path: Path) -> None:
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("kube-proxy", "kube-system", "ds-1"),
          "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                   "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}},
                                "spec": pod_spec(hostNetwork=True, nodeSelector={"kubernetes.io/os": "linux"})}}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": meta("kube-proxy-7xq2p", "kube-system", "p-kp", ("DaemonSet", "kube-proxy", "ds-1"),
                            labels={"k8s-app": "kube-proxy"}),
           "spec": {**pod_spec(hostNetwork=True), "nodeName": "lin1"}}
    plan = load_list(tmp_path, [ds, pod])
    assert [(p.name, p.workload) for p in plan.pods] == [("kube-proxy-7xq2p", "kube-system/kube-proxy[DaemonSet]")]
    plan = load_list(tmp_path / "no-pods", [ds])  # without its pods: one per Linux node of the §10 example
    assert sorted(p.name for p in plan.pods) == ["kube-proxy-lin1", "kube-proxy-master"]
