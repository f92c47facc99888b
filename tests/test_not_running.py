"""One story across commands: a pod that never runs (its CNI ADD fails, its images cannot run on its node, it
fits no node, the kubelet rejects it) gets no address or keeps only its sandbox's, is no Service backend, is
left out of policy answers, and ends every trace to or from it with POD_NOT_RUNNING.

The plan is the worked example on flannel vxlan (master .0, lin1 10.244.1.0/24, win1 .2, win2 .3). Its CNI
conf is named vxlan0 while flanneld creates the HNS network flannel.4096; win-overlay looks the network up by
the conf's name (containernetworking/plugins win-overlay_windows.go: GetHNSNetworkByName(n.Name)), so every
pod ADD fails on win1 and win2 and nowhere else. A Windows image on lin1 is pulled after the kubelet has made
the pod's sandbox (kuberuntime_manager.go SyncPod: step 4 the sandbox, then the containers): its address is
held, its container never starts. The EndpointSlice controller leaves a pod without an address out and marks
one that is not ready ready=false (kubernetes/endpointslice util/controller_utils.go ShouldPodBeInEndpoints,
utils.go podToEndpoint), unless the Service sets publishNotReadyAddresses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import pod_doc, write_docs
from click.testing import CliRunner
from test_overlay_linux import plan_doc

from cnimodel.cli import cli
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.plan.errors import EndpointError
from cnimodel.policy.analysis import Reachability
from cnimodel.services import catalog
from cnimodel.trace import trace

IIS = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"  # a Windows image, build 20348


HTTP_PORT = [{"containerPort": 80, "name": "http"}]


def service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "iis", "namespace": "default"},
            "spec": {"selector": {"app": "iis"}, "clusterIP": "10.96.0.200",
                     "ports": [{"port": 80, "targetPort": "http"}], **spec}}


def story(tmp_path: Path, *extra: dict[str, Any], **svc: Any) -> Path:
    doc = plan_doc()
    doc["spec"]["network"]["cni"] = {"name": "vxlan0", "cniVersion": "0.3.0", "type": "flannel",
                                     "delegate": {"type": "win-overlay"}}
    return write_docs(tmp_path / "plan.yaml", [
        doc, pod_doc("client", "lin1", ports=HTTP_PORT),
        pod_doc("iis-0", "win1", image=IIS, labels={"app": "iis"}, ports=HTTP_PORT),
        pod_doc("web-0", "lin1", image=IIS, labels={"app": "iis"}, ports=HTTP_PORT), service(**svc), *extra])


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_ipam_gives_a_failed_add_no_address_and_keeps_the_sandbox_address(tmp_path: Path) -> None:
    c = Cluster.build(load_plan([story(tmp_path)]))
    a = c.allocation
    assert set(a.add_failures) == {"win1", "win2"} and "'vxlan0'" in a.add_failures["win1"]
    assert "default/iis-0" not in a.pods
    assert a.not_running["default/iis-0"].code == "pod-add-failed"
    assert not a.not_running["default/iis-0"].sandbox
    # lin1's host-local walk: client .2, web-0 .3 (its sandbox holds the address)
    assert (str(a.pods["default/client"].ip), str(a.pods["default/web-0"].ip)) == ("10.244.1.2", "10.244.1.3")
    assert a.not_running["default/web-0"].code == "image-os-mismatch" and a.not_running["default/web-0"].sandbox
    assert a.runs("default/client") and not a.runs("default/web-0")
    doc = json.loads(run("ipam", str(story(tmp_path)), "-o", "json").stdout)
    stopped = {p["name"]: (p["ip"], p["code"]) for p in doc["notRunning"]}
    assert stopped == {"iis-0": (None, "pod-add-failed"), "web-0": ("10.244.1.3", "image-os-mismatch")}
    assert {n["name"]: n["podAddFailure"] is not None for n in doc["nodes"]} == {
        "master": False, "lin1": False, "win1": True, "win2": True}
    assert {p["name"]: p["running"] for p in doc["pods"]} == {"client": True, "web-0": False}


def test_a_pod_that_never_runs_is_no_backend(tmp_path: Path) -> None:
    cat = catalog(Cluster.build(load_plan([story(tmp_path)])))
    (sp,) = cat.service("default/iis").ports
    # iis-0 holds no address: left out; web-0 is not ready, not serving
    assert [(e.ip, e.ready, e.serving, e.pod) for e in cat.endpoints_of(sp)] == [
        ("10.244.1.3", False, False, "default/web-0")]
    r = run("lb", str(story(tmp_path)), "--node", "lin1", "-o", "iptables")
    assert "KUBE-SEP" not in r.stdout and "has no endpoints" in r.stdout


def test_publish_not_ready_addresses_keeps_the_sandbox_address_a_backend(tmp_path: Path) -> None:
    cat = catalog(Cluster.build(load_plan([story(tmp_path, publishNotReadyAddresses=True)])))
    (sp,) = cat.service("default/iis").ports
    assert [(e.ip, e.ready, e.serving) for e in cat.endpoints_of(sp)] == [("10.244.1.3", True, False)]


def test_policy_answers_leave_them_out(tmp_path: Path) -> None:
    r = Reachability.from_cluster(Cluster.build(load_plan([story(tmp_path)])))
    assert set(r.u.by_key) == {"default/client"}
    assert set(r.not_running) == {"default/iis-0", "default/web-0"}
    with pytest.raises(EndpointError, match="pod default/iis-0 never runs"):
        r.resolve("default/iis-0")
    # 10.244.1.3 is no pod's address here: it falls in an external range
    assert [e.kind for e in r.resolve("10.244.1.3")] == ["external"]
    out = run("reach", str(story(tmp_path)), "--to", "default/web-0")
    assert out.exit_code == 2 and "default/web-0 never runs" in out.stderr


@pytest.mark.parametrize(("src", "dst", "where", "hops"), [
    ("default/client", "default/iis-0", "holds no address", ["default/client"]),  # no address to send to
    ("default/iis-0", "default/client", "sends nothing", ["default/iis-0"]),
    ("default/web-0", "default/client", "sends nothing", ["default/web-0"]),
    ("default/client", "default/web-0", "nothing receives", ["default/client", "lin1"]),  # delivered to its sandbox
    ("default/client", "10.244.1.3", "nothing receives", ["default/client", "lin1"]),
])
def test_trace_ends_pod_not_running(tmp_path: Path, src: str, dst: str, where: str, hops: list[str]) -> None:
    c = Cluster.build(load_plan([story(tmp_path)]))
    fwd, back = trace(c, src, dst, both=True)
    assert fwd.disposition == "POD_NOT_RUNNING" and where in fwd.reason
    assert [h.node for h in fwd.hops] == hops
    assert fwd.hops[-1].steps[-1].action == "POD_NOT_RUNNING" and fwd.final is None
    assert back.disposition == "POD_NOT_RUNNING" and not back.hops


def test_trace_exits_1_when_not_delivered(tmp_path: Path) -> None:
    plan = str(story(tmp_path))
    r = run("trace", plan, "default/client", "default/iis-0", "-o", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert (doc["disposition"], doc["flow"]["dst"], doc["delivered"]) == ("POD_NOT_RUNNING", "0.0.0.0", None)
    assert doc["hops"][0]["steps"][0]["detail"]["code"] == "pod-add-failed"
    assert run("trace", plan, "default/client", "lin1").exit_code == 0


def test_pending_and_rejected_pods_never_run(tmp_path: Path) -> None:
    """A pod that fits no node stays Pending (no node, no address); one pinned to a node its own nodeSelector
    refuses is rejected by the kubelet (NodeAffinity admission): no sandbox, no address."""
    plan = story(tmp_path, pod_doc("lost", None, ports=HTTP_PORT, nodeSelector={"kubernetes.io/os": "plan9"}),
                 pod_doc("pinned", "win1", ports=HTTP_PORT, nodeSelector={"kubernetes.io/os": "linux"}))
    c = Cluster.build(load_plan([plan]))
    lost, pinned = c.allocation.not_running["default/lost"], c.allocation.not_running["default/pinned"]
    assert (lost.code, pinned.code) == ("unschedulable", "pinned-node-mismatch")
    assert "0/4 nodes are available" in lost.reason and "rejects" in pinned.reason
    assert not {"default/lost", "default/pinned"} & set(c.allocation.pods)
    (t,) = trace(c, "default/client", "default/lost")
    assert t.disposition == "POD_NOT_RUNNING" and "fits no node" in t.reason
