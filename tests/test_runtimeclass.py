"""RuntimeClass scheduling: a pod naming a RuntimeClass gets the class's scheduling.nodeSelector merged into its
own nodeSelector and its scheduling.tolerations added to its own, by the RuntimeClass admission plugin
(kubernetes/kubernetes plugin/pkg/admission/runtimeclass/admission.go, setScheduling): a key the pod already
sets to another value is a conflict the API server refuses the pod for. The DaemonSet controller picks nodes by
the template alone (daemon_controller.go NodeShouldRunDaemonPod), so a DaemonSet pod whose RuntimeClass rejects
its node stays Pending.

The first case is the Kubernetes docs' own Windows example (kubernetes/website
content/en/docs/concepts/windows/user-guide.md, "Simplifying with RuntimeClass"): RuntimeClass windows-2019
selects kubernetes.io/os windows, amd64 and node.kubernetes.io/windows-build 10.0.17763 and tolerates the
os=windows:NoSchedule taint the docs put on Windows nodes; the iis-2019 Deployment names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import cluster_doc, pod_doc, write_docs

from cnimodel.cluster import Cluster
from cnimodel.plan import Plan, load_plan
from cnimodel.plan.workloads import finding_code

OS_TAINT = {"key": "os", "value": "windows", "effect": "NoSchedule"}  # --register-with-taints='os=windows:NoSchedule'
NODES = [{"name": "master", "os": "linux", "ip": "10.240.0.4"},
         {"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
         {"name": "win2019", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 17763, "taints": [OS_TAINT]},
         {"name": "win2022", "os": "windows", "ip": "10.240.0.30", "windowsBuild": 20348, "taints": [OS_TAINT]}]
WINDOWS_2019 = {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "windows-2019"},
                "handler": "example-container-runtime-handler",
                "scheduling": {"nodeSelector": {"kubernetes.io/os": "windows", "kubernetes.io/arch": "amd64",
                                                "node.kubernetes.io/windows-build": "10.0.17763"},
                               "tolerations": [{"effect": "NoSchedule", "key": "os", "operator": "Equal",
                                                "value": "windows"}]}}
IIS = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2019"


def iis(replicas: int = 2, kind: str = "Deployment", **spec: Any) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "iis-2019"}
    body: dict[str, Any] = {"selector": {"matchLabels": labels},
                            "template": {"metadata": {"labels": labels},
                                         "spec": {"runtimeClassName": "windows-2019", **spec,
                                                  "containers": [{"name": "iis", "image": IIS,
                                                                  "ports": [{"containerPort": 80}]}]}}}
    if kind != "DaemonSet":
        body["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "iis-2019", "namespace": "default"},
            "spec": body}


def load(tmp_path: Path, *docs: dict[str, Any], nodes: list[dict[str, Any]] = NODES) -> Plan:
    return load_plan([write_docs(tmp_path / "plan.yaml", [cluster_doc(nodes=nodes), *docs])])


def where(plan: Plan) -> dict[str, str | None]:
    return {p.name: p.node for p in plan.pods}


def codes(plan: Plan) -> list[str | None]:
    return [finding_code(w) for w in plan.warnings if finding_code(w)]


def test_the_docs_windows_example_lands_on_the_2019_node(tmp_path: Path) -> None:
    plan = load(tmp_path, WINDOWS_2019, iis())
    assert sorted(where(plan).values()) == ["win2019", "win2019"]  # the only node it selects, its taint tolerated
    (pod, _) = plan.pods
    assert pod.runtime_class == "windows-2019" and pod.placement is not None
    assert dict(pod.placement.node_selector)["node.kubernetes.io/windows-build"] == "10.0.17763"
    assert codes(plan) == []  # the ltsc2019 image runs on build 17763
    cluster = Cluster.build(plan)
    assert not cluster.allocation.not_running and len(cluster.allocation.pods_on("win2019")) == 2


def test_without_the_class_the_taint_keeps_iis_on_linux(tmp_path: Path) -> None:
    """The same Deployment without runtimeClassName: the os=windows taint leaves lin1 (master is untainted
    here), where the Windows image never runs."""
    dep = iis(1)
    del dep["spec"]["template"]["spec"]["runtimeClassName"]
    plan = load(tmp_path, WINDOWS_2019, dep)
    assert list(where(plan).values()) == ["master"]
    assert codes(plan) == ["image-os-mismatch"]


def test_the_pods_own_selector_and_tolerations_are_kept(tmp_path: Path) -> None:
    dep = iis(1, nodeSelector={"tier": "web"}, tolerations=[{"key": "dedicated", "operator": "Exists"}])
    nodes = [*NODES[:2], {**NODES[2], "labels": {"tier": "web"},
                          "taints": [OS_TAINT, {"key": "dedicated", "value": "x", "effect": "NoSchedule"}]}, NODES[3]]
    plan = load(tmp_path, WINDOWS_2019, dep, nodes=nodes)
    (pod,) = plan.pods
    assert pod.node == "win2019"  # both taints tolerated: the pod's own and the class's
    assert pod.placement is not None and dict(pod.placement.node_selector)["tier"] == "web"
    assert {(t.key, t.value) for t in pod.placement.tolerations} == {("dedicated", ""), ("os", "windows")}


def test_a_conflicting_selector_is_refused(tmp_path: Path) -> None:
    plan = load(tmp_path, WINDOWS_2019, iis(nodeSelector={"kubernetes.io/os": "linux"}),
                pod_doc("bare", None, runtimeClassName="windows-2019", nodeSelector={"kubernetes.io/arch": "arm64"}))
    assert where(plan) == {}  # the Deployment makes no pods, the bare pod is refused
    msgs = [w.message for w in plan.warnings if finding_code(w) == "runtimeclass-conflict"]
    assert len(msgs) == 2  # bare pods are admitted first, then the workloads (docs/workloads.md, Order)
    assert "pod default/bare" in msgs[0] and "the pod does not exist" in msgs[0]
    assert "nodeSelector[kubernetes.io/arch] = amd64; pod.spec.nodeSelector[kubernetes.io/arch] = arm64" in msgs[0]
    assert ("conflict: runtimeClass.scheduling.nodeSelector[kubernetes.io/os] = windows; "
            "pod.spec.nodeSelector[kubernetes.io/os] = linux") in msgs[1]
    assert "default/iis-2019[Deployment]" in msgs[1] and "makes no pods" in msgs[1]


def test_the_same_value_is_no_conflict_and_an_admitted_pod_is_unchanged(tmp_path: Path) -> None:
    """A listed pod that admission already merged (a kubectl dump) carries the class's keys itself."""
    dumped = pod_doc("dumped", "win2019", runtimeClassName="windows-2019",
                     nodeSelector=dict(WINDOWS_2019["scheduling"]["nodeSelector"]),
                     tolerations=WINDOWS_2019["scheduling"]["tolerations"])
    plan = load(tmp_path, WINDOWS_2019, dumped)
    assert where(plan) == {"dumped": "win2019"} and codes(plan) == []


def test_a_class_the_plan_lacks_is_named_and_adds_nothing(tmp_path: Path) -> None:
    plan = load(tmp_path, iis(1))
    assert list(where(plan).values()) == ["master"]
    assert any("RuntimeClass 'windows-2019', which the plan does not hold" in w.message for w in plan.warnings)


def test_a_daemonset_pod_its_class_rejects_stays_pending(tmp_path: Path) -> None:
    """The DaemonSet controller decides by the template (no selector, no tolerations: master and lin1); the
    class's selector then rejects both, and every pod stays Pending."""
    plan = load(tmp_path, WINDOWS_2019, iis(kind="DaemonSet"))
    assert where(plan) == {"iis-2019-master": None, "iis-2019-lin1": None}
    assert {p.not_running.code for p in plan.pods if p.not_running} == {"unschedulable"}
    ds = iis(kind="DaemonSet", tolerations=[{"key": "os", "operator": "Exists"}])
    plan = load(tmp_path, WINDOWS_2019, ds)
    assert where(plan) == {"iis-2019-master": None, "iis-2019-lin1": None, "iis-2019-win2019": "win2019",
                           "iis-2019-win2022": None}
