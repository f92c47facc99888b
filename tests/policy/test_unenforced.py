"""Policies the nodes do not enforce are said in reach, trace and render's own output (issue #16 §5), not only
by check. Which nodes enforce follows the plugins (flannel alone enforces nothing; Calico for Windows acts only on
HNS networks matching KUBE_NETWORK, default 'Calico.*', which flannel's 'flannel.4096' does not match)."""

from __future__ import annotations

import json
from pathlib import Path

from builders import cluster_doc, pod_doc, run, write_docs

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.policy.enforcement import unenforced

DENY_DB = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-db"},
           "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"]}}
VXLAN = {"plugin": "flannel", "backend": "vxlan",
         "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "VNI": 4096, "Port": 4789}}}


def _pods() -> list[dict]:
    web, db = pod_doc("web", "lin1"), pod_doc("db", "win1")
    web["metadata"]["labels"], db["metadata"]["labels"] = {"app": "web"}, {"app": "db"}
    return [web, db]


def _plan(tmp_path: Path, **spec: object) -> Path:
    return write_docs(tmp_path / "plan.yaml", [cluster_doc(**spec), *_pods(), DENY_DB])


def test_no_node_enforces(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    r = run("reach", str(plan))
    first = r.stdout.splitlines()[0]
    assert first.startswith("warning: 1 policy in the plan, but no node enforces it: ") and "not isolated" in first
    doc = json.loads(run("reach", str(plan), "-o", "json").stdout)
    assert doc["unenforced"] == {"policies": 1, "nodes": ["master", "lin1", "win1", "win2"], "allNodes": True,
                                 "reason": doc["unenforced"]["reason"]}
    assert "enforces no NetworkPolicy" in doc["unenforced"]["reason"]
    assert run("reach", str(plan), "-o", "md").stdout.startswith("> warning: 1 policy")
    t = run("trace", str(plan), "default/web", "default/db")
    assert t.stdout.startswith("warning: 1 policy in the plan")
    assert json.loads(run("trace", str(plan), "default/web", "default/db", "-o", "json").stdout)["unenforced"]
    assert run("render", str(plan), "-o", "dot").stdout.startswith("// warning: 1 policy")
    assert run("render", str(plan), "-o", "mermaid").stdout.startswith("%% warning: 1 policy")


def test_some_nodes_enforce(tmp_path: Path) -> None:
    plan = _plan(tmp_path, network=VXLAN, policy={"plugin": "calico", "config": {"CALICO_NETWORKING_BACKEND": "none"}})
    gaps = unenforced(Cluster.build(load_plan([plan])))
    assert gaps is not None and gaps.nodes == ("win1", "win2") and not gaps.everywhere
    assert "2 of 4 nodes enforce none (win1, win2)" in gaps.sentence()
    assert "KUBE_NETWORK" in gaps.reason


def test_nothing_said_when_every_node_enforces_or_there_is_no_policy(tmp_path: Path) -> None:
    enforced = _plan(tmp_path, network=VXLAN, policy={"plugin": "calico", "config": {
        "CALICO_NETWORKING_BACKEND": "none", "KUBE_NETWORK": "^flannel\\.4096$"}})
    assert unenforced(Cluster.build(load_plan([enforced]))) is None
    assert json.loads(run("reach", str(enforced), "-o", "json").stdout)["unenforced"] is None
    bare = write_docs(tmp_path / "bare.yaml", [cluster_doc(), *_pods()])
    assert not run("reach", str(bare)).stdout.startswith("warning")


def test_the_html_report_carries_it(tmp_path: Path) -> None:
    from cnimodel.overview import overview
    from cnimodel.render.html import collect

    data = collect(overview(Cluster.build(load_plan([_plan(tmp_path)]))))
    assert data["unenforced"]["allNodes"] and data["unenforced"]["text"].startswith("1 policy in the plan")
