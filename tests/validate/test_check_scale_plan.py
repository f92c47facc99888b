"""Scale-envelope checks (tools-and-planning.md §3.6: 5,000 nodes, 110 pods per node, 150,000 pods, 300,000
containers; ~10,000 Services) and the loader's own findings passed through with codes."""

from __future__ import annotations

from dataclasses import replace

from builders import write_docs
from vplans import cluster_doc, hits, nodes, pod_doc, service

from cnimodel.plan import load_plan
from cnimodel.validate import validate


def test_scale001_nodes(tmp_path):
    assert len(hits(tmp_path, [cluster_doc()], "CNI-SCALE-001", max_nodes=5001)) == 1
    assert not hits(tmp_path, [cluster_doc()], "CNI-SCALE-001", max_nodes=5000)


def test_scale002_pods_per_node(tmp_path):
    found = hits(tmp_path, [cluster_doc(nodes=nodes(lin1={"maxPods": 111}))], "CNI-SCALE-002")
    assert len(found) == 1 and found[0].objects == ("lin1[Node]",) and found[0].severity == "info"
    assert not hits(tmp_path, [cluster_doc(nodes=nodes(lin1={"maxPods": 110}))], "CNI-SCALE-002")


def _plan(tmp_path, docs):
    return load_plan([write_docs(tmp_path / "p.yaml", docs)])


def test_scale003_scale004_pods_and_containers(tmp_path):
    # The envelope checks count the plan's objects; repeating one pod stands in for 150,001 distinct ones.
    two = pod_doc("a", "lin1", containers=[{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}])
    plan = _plan(tmp_path, [cluster_doc(), two])
    pod = plan.pods[0]
    big = replace(plan, pods=(pod,) * 150_001)
    codes = {"CNI-SCALE-003", "CNI-SCALE-004"}
    assert {f.code for f in validate(big, None, codes=codes).findings} == codes  # 300,002 containers
    edge = replace(plan, pods=(pod,) * 150_000)  # exactly at both limits
    assert not validate(edge, None, codes=codes).findings


def test_scale005_services(tmp_path):
    plan = _plan(tmp_path, [cluster_doc(), service("web")])
    svc = plan.objects[0]
    assert validate(replace(plan, objects=(svc,) * 10_001), None, codes={"CNI-SCALE-005"}).findings
    assert not validate(replace(plan, objects=(svc,) * 10_000), None, codes={"CNI-SCALE-005"}).findings


def deployment(selector: dict) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"nodeSelector": selector,
                                           "containers": [{"name": "c", "image": "nginx:1.27"}]}}}}


def test_plan001_unschedulable(tmp_path):
    found = hits(tmp_path, [cluster_doc(), deployment({"disk": "ssd"})], "CNI-PLAN-001")
    assert len(found) == 1 and "2 of 2 pods of default/web[Deployment]" in found[0].message
    assert found[0].objects == ("default/web[Deployment]",)
    assert not hits(tmp_path, [cluster_doc(), deployment({"kubernetes.io/os": "linux"})], "CNI-PLAN-001")


def test_plan002_pinned_node_mismatch(tmp_path):
    pinned = pod_doc("p", "lin1", nodeSelector={"kubernetes.io/os": "windows"})
    found = hits(tmp_path, [cluster_doc(), pinned], "CNI-PLAN-002")
    assert len(found) == 1 and found[0].objects == ("default/p[Pod]",)
    assert not hits(tmp_path, [cluster_doc(), pod_doc("p", "lin1", nodeSelector={"kubernetes.io/os": "linux"})],
                    "CNI-PLAN-002")


def test_plan003_other_warnings(tmp_path):
    # flannel host-gw with Windows nodes: host-local's .2 is the bridge endpoint (kubernetes#74766).
    found = hits(tmp_path, [cluster_doc()], "CNI-PLAN-003")
    assert len(found) == 1 and "cbr0_ep" in found[0].message
    assert not hits(tmp_path, [cluster_doc(nodes=nodes()[:2])], "CNI-PLAN-003")


def test_plan004_runtime_class_conflict(tmp_path):
    rc = {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "win"}, "handler": "runhcs",
          "scheduling": {"nodeSelector": {"kubernetes.io/os": "windows"}}}
    web = deployment({"kubernetes.io/os": "linux"})
    web["spec"]["template"]["spec"]["runtimeClassName"] = "win"
    (found,) = hits(tmp_path, [cluster_doc(), rc, web], "CNI-PLAN-004")
    assert found.objects == ("default/web[Deployment]",) and found.locations[0].path.endswith("runtimeClassName")
    assert "runtimeClass.scheduling.nodeSelector[kubernetes.io/os] = windows" in found.message
    web["spec"]["template"]["spec"]["nodeSelector"] = {}
    assert not hits(tmp_path, [cluster_doc(), rc, web], "CNI-PLAN-004")
