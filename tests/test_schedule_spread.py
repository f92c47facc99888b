"""Placement of whole plans: even, deterministic spread; taints keeping pods off the control plane; maxPods
exhaustion and unschedulable pods as named findings (warnings, never PlanErrors).

The spread rule (docs/workloads.md): each pod goes to the eligible node with the fewest pods of its workload,
then the fewest pods in all, then the earliest in plan order. Every expected placement below is worked out
by hand from that rule.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from builders import build_docs, cluster_doc, load_docs, pod_doc

from cnimodel.plan import Plan
from cnimodel.plan.workloads import finding_code

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.47"  # published for Linux and Windows: no image finding
CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
LINUX = {"kubernetes.io/os": "linux"}


def nodes(**max_pods: int) -> list[dict[str, Any]]:
    """A tainted control plane, three Linux workers, one Windows worker (plan order as listed)."""
    out = [{"name": "master", "os": "linux", "ip": "10.240.0.4", "taints": [CP_TAINT]},
           {"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
           {"name": "lin2", "os": "linux", "ip": "10.240.0.11"},
           {"name": "lin3", "os": "linux", "ip": "10.240.0.12"},
           {"name": "win1", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 20348}]
    for n in out:
        if n["name"] in max_pods:
            n["maxPods"] = max_pods[n["name"]]
    return out


def deployment(name: str, replicas: int, ns: str = "default", **spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": AGNHOST}], **spec}}}}


def placed(plan: Plan, owner: str) -> list[str]:
    """Nodes of a workload's placed pods, in pod-name order (the ordinal is the last name part); Pending pods
    (no node) are left out: ``pending`` lists them."""
    pods = sorted((p for p in plan.pods if p.workload == owner and p.node is not None),
                  key=lambda p: int(p.name.rsplit("-", 1)[1]))
    return [p.node or "" for p in pods]


def pending(plan: Plan, owner: str) -> dict[str, str]:
    """A workload's Pending pods (kept without a node, as the API server keeps them) → their NotRunning code."""
    return {p.name: p.not_running.code for p in plan.pods
            if p.workload == owner and p.node is None and p.not_running is not None}


def findings(plan: Plan) -> dict[str, str]:
    return {c: w.message for w in plan.warnings if (c := finding_code(w))}


def test_five_replicas_over_three_eligible_nodes(tmp_path: Path) -> None:
    """Eligible: lin1, lin2, lin3 (master is tainted, win1 is not Linux). Round 1 takes them in plan order,
    round 2 starts again: lin1, lin2, lin3, lin1, lin2."""
    plan = load_docs(tmp_path, [cluster_doc(nodes()), deployment("web", 5, nodeSelector=LINUX)])
    assert placed(plan, "default/web[Deployment]") == ["lin1", "lin2", "lin3", "lin1", "lin2"]
    again = load_docs(tmp_path, [cluster_doc(nodes()), deployment("web", 5, nodeSelector=LINUX)], "again.yaml")
    assert [(p.name, p.node) for p in again.pods] == [(p.name, p.node) for p in plan.pods]
    assert not findings(plan)


def test_spread_counts_pods_already_on_the_nodes(tmp_path: Path) -> None:
    """A pod pinned to lin1 first: the order becomes lin2 (0), lin3 (0), lin1 (1) and stays so each round."""
    docs = [cluster_doc(nodes()), pod_doc("pinned", "lin1"), deployment("web", 5, nodeSelector=LINUX)]
    plan = load_docs(tmp_path, docs)
    assert placed(plan, "default/web[Deployment]") == ["lin2", "lin3", "lin1", "lin2", "lin3"]


def test_second_workload_fills_the_emptiest_node_first(tmp_path: Path) -> None:
    """a: lin1, lin2. Then b: lin3 has 0 pods, lin1 and lin2 have 1 — lin3, then lin1 (earlier in plan)."""
    plan = load_docs(tmp_path, [cluster_doc(nodes()), deployment("a", 2, nodeSelector=LINUX),
                                deployment("b", 2, nodeSelector=LINUX)])
    assert placed(plan, "default/a[Deployment]") == ["lin1", "lin2"]
    assert placed(plan, "default/b[Deployment]") == ["lin3", "lin1"]


def test_control_plane_taint_keeps_pods_off_unless_tolerated(tmp_path: Path) -> None:
    plain = load_docs(tmp_path, [cluster_doc(nodes()), deployment("any", 5)])
    assert placed(plain, "default/any[Deployment]") == ["lin1", "lin2", "lin3", "win1", "lin1"]
    tolerant = deployment("any", 5, tolerations=[{"key": "node-role.kubernetes.io/control-plane",
                                                  "operator": "Exists", "effect": "NoSchedule"}])
    plan = load_docs(tmp_path, [cluster_doc(nodes()), tolerant], "tolerant.yaml")
    assert placed(plan, "default/any[Deployment]") == ["master", "lin1", "lin2", "lin3", "win1"]
    everything = deployment("any", 5, tolerations=[{"operator": "Exists"}])  # empty key: tolerates all taints
    plan = load_docs(tmp_path, [cluster_doc(nodes()), everything], "everything.yaml")
    assert "master" in placed(plan, "default/any[Deployment]")


def test_no_execute_taint_filters_and_an_equal_toleration_lets_in(tmp_path: Path) -> None:
    ns = nodes()
    ns[1]["taints"] = [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]  # lin1
    plan = load_docs(tmp_path, [cluster_doc(ns), deployment("web", 2, nodeSelector=LINUX)])
    assert placed(plan, "default/web[Deployment]") == ["lin2", "lin3"]
    db = deployment("db", 1, nodeSelector={**LINUX, "kubernetes.io/hostname": "lin1"},
                    tolerations=[{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoExecute"}])
    plan = load_docs(tmp_path, [cluster_doc(ns), db], "db.yaml")
    assert placed(plan, "default/db[Deployment]") == ["lin1"]


def test_max_pods_exhaustion_is_a_named_finding(tmp_path: Path) -> None:
    """lin1..lin3 hold 1 pod each: 3 of 5 replicas fit; the scheduler's count per reason, sorted as strings:
    master's taint, win1's OS, and the three full Linux nodes."""
    docs = [cluster_doc(nodes(lin1=1, lin2=1, lin3=1)), deployment("web", 5, nodeSelector=LINUX)]
    cluster = build_docs(tmp_path, docs)  # still a usable plan: no PlanError
    plan = cluster.plan
    assert placed(plan, "default/web[Deployment]") == ["lin1", "lin2", "lin3"]
    msg = findings(plan)["max-pods"]
    assert msg.startswith("max-pods: 2 of 5 pods of default/web[Deployment] fit no node")
    assert ("0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had "
            "untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Too many pods.") in msg
    warning = next(w for w in plan.warnings if finding_code(w) == "max-pods")
    assert warning.severity == "warning" and warning.origin.path == "spec.template.spec.nodeSelector"
    assert "maxPods" in warning.hint
    assert len(cluster.allocation.pods) == 3
    waiting = pending(plan, "default/web[Deployment]")
    assert sorted(waiting.values()) == ["max-pods", "max-pods"] and all(n.endswith(("-3", "-4")) for n in waiting)
    assert set(waiting) == {k.split("/")[1] for k in cluster.allocation.not_running}


def test_unschedulable_pods_are_a_named_finding_and_stay_pending(tmp_path: Path) -> None:
    """The three pods exist, as the API server keeps them: no node, no address, and the reason they never run."""
    docs = [cluster_doc(nodes()), deployment("ssd", 3, nodeSelector={"disktype": "ssd"})]
    cluster = build_docs(tmp_path, docs)
    assert not placed(cluster.plan, "default/ssd[Deployment]")
    assert list(pending(cluster.plan, "default/ssd[Deployment]").values()) == ["unschedulable"] * 3
    ssd = [p.key for p in cluster.plan.pods if p.workload == "default/ssd[Deployment]"]
    assert not set(ssd) & set(cluster.allocation.pods)
    assert all("didn't match Pod's node affinity/selector" in cluster.allocation.not_running[k].reason for k in ssd)
    msg = findings(cluster.plan)["unschedulable"]
    assert msg.startswith("unschedulable: 3 of 3 pods of default/ssd[Deployment] fit no node")
    assert ("0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            "4 node(s) didn't match Pod's node affinity/selector.") in msg


def test_bare_pods_without_a_node_are_scheduled_too(tmp_path: Path) -> None:
    """Pinned a→lin1, b→lin2; the free pod goes to lin3 (0 pods, first such in plan order after the tainted
    master); the Windows-only pod to win1; the impossible one is reported by name and left out."""
    free = pod_doc("free", None, nodeSelector=LINUX)
    win = pod_doc("winpod", None, nodeSelector={"beta.kubernetes.io/os": "windows"})
    never = pod_doc("never", None, nodeSelector={"kubernetes.io/os": "plan9"})
    plan = load_docs(tmp_path, [cluster_doc(nodes()), pod_doc("a", "lin1"), pod_doc("b", "lin2"), free, win, never])
    where = {p.name: p.node for p in plan.pods}
    assert where == {"a": "lin1", "b": "lin2", "free": "lin3", "winpod": "win1", "never": None}
    stops = {p.name: (p.not_running.code, p.not_running.sandbox) for p in plan.pods if p.not_running}
    assert stops == {"never": ("unschedulable", False)}
    assert findings(plan)["unschedulable"].startswith("unschedulable: pod default/never fits no node")


def test_daemonsets_are_placed_before_other_workloads(tmp_path: Path) -> None:
    """lin1..lin3 hold one pod each; the DaemonSet, though listed last, gets them all and the Deployment
    finds no room."""
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "kube-system"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"metadata": {"labels": {"app": "agent"}},
                                "spec": {"nodeSelector": LINUX, "containers": [{"name": "a", "image": AGNHOST}]}}}}
    plan = load_docs(tmp_path, [cluster_doc(nodes(lin1=1, lin2=1, lin3=1)), deployment("web", 1, nodeSelector=LINUX),
                                ds])
    assert sorted(p.name for p in plan.pods if p.node) == ["agent-lin1", "agent-lin2", "agent-lin3"]
    assert "max-pods" in findings(plan)


def test_windows_build_selector(tmp_path: Path) -> None:
    ns = nodes()
    ns.append({"name": "win2", "os": "windows", "ip": "10.240.0.30", "windowsBuild": 17763})
    sel = {"kubernetes.io/os": "windows", "node.kubernetes.io/windows-build": "10.0.17763"}
    plan = load_docs(tmp_path, [cluster_doc(ns), deployment("old", 2, nodeSelector=sel)])
    assert placed(plan, "default/old[Deployment]") == ["win2", "win2"]


def test_required_affinity_with_gt_on_a_node_label(tmp_path: Path) -> None:
    ns = nodes()
    for n, gen in zip(ns, ["9", "3", "5", "7", "8"], strict=True):
        n["labels"] = {"gen": gen}
    term = {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["4"]},
                                 {"key": "kubernetes.io/os", "operator": "NotIn", "values": ["windows"]}]}
    aff = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    plan = load_docs(tmp_path, [cluster_doc(ns), deployment("new", 3, affinity=aff)])
    assert placed(plan, "default/new[Deployment]") == ["lin2", "lin3", "lin2"]  # master tainted, lin1 gen 3


def test_host_port_conflicts_are_unschedulable_not_max_pods(tmp_path: Path) -> None:
    """hostPort 8080 fits once per node: 3 Linux workers take 3 of 4 replicas."""
    dep = deployment("edge", 4, nodeSelector=LINUX)
    dep["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    plan = load_docs(tmp_path, [cluster_doc(nodes()), dep])
    assert placed(plan, "default/edge[Deployment]") == ["lin1", "lin2", "lin3"]
    msg = findings(plan)["unschedulable"]
    assert "3 node(s) didn't have free ports for the requested pod ports" in msg and "max-pods" not in findings(plan)


def test_template_pinned_to_a_full_node(tmp_path: Path) -> None:
    """spec.nodeName in the template bypasses the scheduler: lin1 (maxPods 2) takes 2 of 3."""
    plan = load_docs(tmp_path, [cluster_doc(nodes(lin1=2)), deployment("pin", 3, nodeName="lin1")])
    assert placed(plan, "default/pin[Deployment]") == ["lin1", "lin1"]
    assert "0/1 nodes are available: 1 Too many pods." in findings(plan)["max-pods"]


def test_the_network_plugins_max_pods_bounds_placement(tmp_path: Path) -> None:
    """Azure CNI in node-subnet mode gives a node without maxPods AKS's default of 30 (cni-plugins.md §6):
    two such nodes take 60 of 70 replicas, and the plan still builds (allocation agrees with placement)."""
    aks = cluster_doc([{"name": "n0", "os": "linux", "ip": "10.240.0.4"},
                       {"name": "n1", "os": "linux", "ip": "10.240.0.40"}],
                      clusterCIDR=None, network={"plugin": "azure-cni", "config": {}},
                      underlay={"subnets": [{"name": "aks", "cidr": "10.240.0.0/22", "gateway": "10.240.0.1"}]})
    cluster = build_docs(tmp_path, [aks, deployment("web", 70)])
    assert sorted(Counter(p.node for p in cluster.plan.pods if p.node).values()) == [30, 30]
    assert "0/2 nodes are available: 2 Too many pods." in findings(cluster.plan)["max-pods"]
    assert len(cluster.allocation.pods) == 60
