"""``cnimodel lb --src`` and ``cnimodel check --object`` read a pod or workload name as ``reach`` does.

lb runs on the talk's plan (topologies/workloads-talk.yaml). Addresses by hand: kube-controller-manager gives
the nodes pod CIDRs in plan order (master .0, lin1 .1, win1 .2, win2 .3 of 10.244.0.0/16). The StatefulSet
default/client (2 replicas, Linux only; master is tainted) lands on lin1 twice; host-local starts at .2 and
node-exporter there is hostNetwork, so client-0 is 10.244.1.2 and client-1 10.244.1.3. The IIS Deployment's 2
replicas spread over win1 and win2; on l2bridge .2 is the host endpoint, and the win-logger DaemonSet's pod
(DaemonSets are placed, and addressed, first) takes .3, so iis-…-0 is 10.244.2.4 and iis-…-1 10.244.3.4 — the
two backends of web/iis (ClusterIP 10.96.0.100:80), half the new connections each.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from builders import cluster_doc, pod_doc, run, write_docs

TALK = str(Path(__file__).resolve().parents[1] / "topologies" / "workloads-talk.yaml")
IIS = re.compile(r"web/iis-[bcdfghjklmnpqrstvwxz2456789]{10}-")


def lb(*args: str) -> Any:
    r = run("lb", TALK, "--dst", "10.96.0.100:80", *args)
    assert r.exit_code == 0, r.output
    return r


def test_lb_src_workload_decides_for_each_pod_on_its_node() -> None:
    body = json.loads(lb("--src", "default/client", "-o", "json").stdout)
    assert [(d["client"], d["workload"], d["node"], d["source"], d["sourceKind"]) for d in body] == [
        ("default/client-0", "default/client[StatefulSet]", "lin1", "10.244.1.2", "pod"),
        ("default/client-1", "default/client[StatefulSet]", "lin1", "10.244.1.3", "pod")]
    for d in body:
        assert d["disposition"] == "LOAD_BALANCED" and d["service"] == "web/iis"
        assert sorted((b["ip"], b["weight"]) for b in d["backends"]) == [("10.244.2.4", 0.5), ("10.244.3.4", 0.5)]


def test_lb_src_pod_gives_one_decision_object() -> None:
    d = json.loads(lb("--src", "default/client-1", "-o", "json").stdout)
    assert (d["client"], d["workload"], d["node"], d["source"]) == ("default/client-1", None, "lin1", "10.244.1.3")


def test_lb_src_workload_text_names_each_client() -> None:
    text = IIS.sub("web/iis-H-", lb("--src", "web/iis[Deployment]").stdout)
    clients = [ln for ln in text.splitlines() if ln.startswith("client ")]
    assert clients == ["client web/iis-H-0 of web/iis[Deployment] (10.244.2.4 on win1)",
                       "client web/iis-H-1 of web/iis[Deployment] (10.244.3.4 on win2)"]
    assert "win1: 10.96.0.100:80/TCP from 10.244.2.4 (pod)" in text


def test_lb_src_with_node_keeps_the_pods_there() -> None:
    body = json.loads(lb("--src", "web/iis", "--node", "win2", "-o", "json").stdout)
    assert [(d["node"], d["source"]) for d in body] == [("win2", "10.244.3.4")]


@pytest.mark.parametrize(("args", "message"), [
    (["--src", "web/nope"], "--src 'web/nope': no pod or workload web/nope in the plan; web holds web/iis[Deployment]"),
    (["--src", "web/iis", "--node", "lin1"], "--src 'web/iis': no pod of it runs on node(s) lin1"),
    (["--src", "nope"], "--src 'nope' is neither an IP address nor a pod or workload"),
    ([], "--dst needs --node"),
])
def test_lb_src_bad_names_exit_2(args: list[str], message: str) -> None:
    r = run("lb", TALK, "--dst", "10.96.0.100:80", *args)
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.output


# --- check --object -------------------------------------------------------------------------------------------

def _deploy(name: str, image: str, os_: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"nodeSelector": {"kubernetes.io/os": os_},
                                           "containers": [{"name": "c", "image": image}]}}}}


@pytest.fixture
def findings_plan(tmp_path: Path) -> str:
    """winapp: a Windows image kept on Linux nodes (CNI-WIN-005, an error); nowhere: no node has os plan9
    (CNI-PLAN-001, a warning; its pod stays Pending, so the workload has no pods); a bare pod on lin1."""
    docs = [cluster_doc(), _deploy("winapp", "mcr.microsoft.com/windows/servercore:ltsc2022", "linux"),
            _deploy("nowhere", "busybox", "plan9"), pod_doc("bare", "lin1")]
    return str(write_docs(tmp_path / "plan.yaml", docs))


def check(plan: str, *objects: str) -> tuple[int, dict[str, Any]]:
    r = run("check", plan, "-o", "json", *[a for o in objects for a in ("--object", o)])
    return r.exit_code, json.loads(r.stdout)


def codes(doc: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(f["code"], tuple(f["objects"])) for f in doc["findings"]]


def test_check_object_workload_keeps_its_findings_and_fails_on_its_error(findings_plan: str) -> None:
    rc, doc = check(findings_plan, "default/winapp")
    assert codes(doc) == [("CNI-WIN-005", ("default/winapp[Deployment]",))]
    assert rc == 1 and doc["summary"]["error"] == 1 and doc["summary"]["warning"] == 0


def test_check_object_workload_without_pods_still_has_its_findings(findings_plan: str) -> None:
    rc, doc = check(findings_plan, "default/nowhere[deployment]")  # any case, as kubectl reads kinds
    assert codes(doc) == [("CNI-PLAN-001", ("default/nowhere[Deployment]",))]
    assert rc == 0  # only a warning about this object: the error elsewhere does not count


def test_check_object_pod_sees_its_workloads_findings(findings_plan: str) -> None:
    ipam = json.loads(run("ipam", findings_plan, "-o", "json").stdout)
    (pod,) = [p for p in ipam["pods"] if p["workload"] == "default/winapp[Deployment]"]
    rc, doc = check(findings_plan, f"default/{pod['name']}")
    assert codes(doc) == [("CNI-WIN-005", ("default/winapp[Deployment]",))] and rc == 1


def test_check_object_node_and_several_objects(findings_plan: str) -> None:
    _, everything = check(TALK)
    _, node = check(TALK, "win1[Node]")
    assert node["findings"] and node["findings"] == [f for f in everything["findings"] if "win1[Node]" in f["objects"]]
    _, both = check(findings_plan, "default/winapp", "default/nowhere")
    assert [c for c, _ in codes(both)] == ["CNI-WIN-005", "CNI-PLAN-001"]


@pytest.mark.parametrize(("obj", "message"), [
    ("default/nope", "--object 'default/nope': no pod or workload default/nope in the plan"),
    ("lin9", "--object 'lin9': no node named 'lin9' in the plan"),
    ("default/winapp[Job]", "default/winapp is default/winapp[Deployment], not a Job"),
    ("default/x[Service]", "--object 'default/x[Service]': no Service default/x in the plan"),
    ("a/b/c", "--object 'a/b/c': 'a/b/c' is not NAMESPACE/NAME or NAMESPACE/NAME[Kind]"),
])
def test_check_object_bad_names_exit_2(findings_plan: str, obj: str, message: str) -> None:
    r = run("check", findings_plan, "--object", obj)
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.output
