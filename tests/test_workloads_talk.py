"""The talk's workloads (origin.md: an IIS pod on port 80 and a DaemonSet placed on Windows nodes with
``nodeSelector: beta.kubernetes.io/os: windows``) in topologies/workloads-talk.yaml, end to end.

Cluster: master (Linux, control-plane NoSchedule taint), lin1 (Linux), win1 and win2 (Windows, build 20348).
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from builders import cluster_doc, load_docs, run

from cnimodel.cluster import Cluster
from cnimodel.plan import Plan, load_plan
from cnimodel.plan.workloads import finding_code, pods_of

TALK = Path(__file__).parent.parent / "topologies" / "workloads-talk.yaml"


@pytest.fixture(scope="module")
def talk() -> Cluster:
    return Cluster.build(load_plan([TALK]))


def nodes_of(plan: Plan, workload: str) -> list[str]:
    return sorted(p.node or "" for p in plan.pods if p.workload == workload)


def test_the_talks_daemonset_lands_on_exactly_the_windows_nodes(talk: Cluster) -> None:
    pods = [p for p in talk.plan.pods if p.workload == "kube-system/win-logger[DaemonSet]"]
    assert sorted((p.name, p.node) for p in pods) == [("win-logger-win1", "win1"), ("win-logger-win2", "win2")]


@pytest.mark.parametrize("label", ["beta.kubernetes.io/os", "kubernetes.io/os"])
def test_both_os_labels_select_the_windows_nodes(tmp_path: Path, label: str) -> None:
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"},
          "spec": {"selector": {"matchLabels": {"a": "b"}},
                   "template": {"metadata": {"labels": {"a": "b"}},
                                "spec": {"nodeSelector": {label: "windows"},
                                         "containers": [{"name": "c", "image": "mcr.microsoft.com/windows/"
                                                         "nanoserver:ltsc2022"}]}}}}
    plan = load_docs(tmp_path, [cluster_doc(), ds])  # the §10 nodes: master, lin1, win1, win2
    assert nodes_of(plan, "default/ds[DaemonSet]") == ["win1", "win2"]


def test_iis_replicas_one_per_windows_node_with_their_l2bridge_addresses(talk: Cluster) -> None:
    """Two replicas over two eligible nodes that each already run one DaemonSet pod: win1, then win2. Each
    pod's address comes from its own node's pod CIDR, the one kube-controller-manager gave that node."""
    iis = sorted(pods_of(talk.plan, "web/iis"), key=lambda p: p.name)
    assert [p.node for p in iis] == ["win1", "win2"]
    for pod in iis:
        cidr = talk.allocation.nodes[pod.node or ""].pod_cidr
        ip = talk.pod_ip(pod.key)
        assert cidr is not None and ip is not None and ip in cidr
    # nodes in plan order get the /24s in order (cni-plugins.md §10): win1 10.244.2.0/24, win2 10.244.3.0/24
    assert talk.allocation.nodes["win1"].pod_cidr == IPv4Network("10.244.2.0/24")
    assert iis[0].ports[0].port == 80 and iis[0].labels["app"] == "iis"


def test_host_network_daemonset_takes_the_node_address_and_tolerates_the_control_plane(talk: Cluster) -> None:
    assert nodes_of(talk.plan, "kube-system/node-exporter[DaemonSet]") == ["lin1", "master"]
    assert talk.pod_ip("kube-system/node-exporter-master") == IPv4Address("10.240.0.4")


def test_statefulset_names_and_no_findings(talk: Cluster) -> None:
    assert sorted(p.name for p in pods_of(talk.plan, "default/client[StatefulSet]")) == ["client-0", "client-1"]
    assert [w.message for w in talk.plan.warnings if finding_code(w)] == []


def test_ipam_json_lists_each_pod_with_its_workload() -> None:
    r = run("ipam", str(TALK), "-o", "json")
    assert r.exit_code == 0, r.stderr
    pods = {p["name"]: p for p in json.loads(r.stdout)["pods"]}
    assert pods["win-logger-win1"]["workload"] == "kube-system/win-logger[DaemonSet]"
    assert pods["client-0"]["workload"] == "default/client[StatefulSet]"
    assert pods["win-logger-win2"]["node"] == "win2"
