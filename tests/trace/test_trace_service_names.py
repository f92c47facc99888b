"""One address for a Service whatever the command, and a name that is both a Pod and a Service (issue #16 §4).

The ClusterIP a plan leaves out is allocated as the API server's allocator would (KEP-3070, deterministic here):
in 10.96.0.0/12 the static band is min(max(16, 2^20/16), 256) = 256 addresses from .0.1, so the first dynamic
address, which a lone Service takes, is 10.96.0.0 + 1 + 256 = 10.96.1.1.
"""

from __future__ import annotations

import json
from pathlib import Path

from builders import cluster_doc, pod_doc, run, write_docs

FIRST_DYNAMIC = "10.96.1.1"


def _svc(name: str, port: int, target: int, **spec: object) -> dict:
    # as `kubectl expose` writes it: no clusterIP, selector run=<name>
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default",
                                                                "labels": {"run": name}},
            "spec": {"selector": {"run": name}, "ports": [{"port": port, "protocol": "TCP", "targetPort": target}],
                     **spec}}


def _web(port: int = 80) -> dict:
    # as `kubectl run web --image=nginx --port=80` writes it
    doc = pod_doc("web", "win1")
    doc["metadata"]["labels"] = {"run": "web"}
    doc["spec"]["containers"][0]["ports"] = [{"containerPort": port}]
    return doc


def _plan(tmp_path: Path, *docs: dict) -> str:
    return str(write_docs(tmp_path / "plan.yaml", [cluster_doc(), pod_doc("client", "lin1"), *docs]))


def test_every_command_uses_the_one_allocated_address(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _web(), _svc("front", 8080, 80, selector={"run": "web"}))
    lb = json.loads(run("lb", plan, "-o", "json").stdout)
    assert [s["clusterIPs"] for s in lb["services"]] == [[FIRST_DYNAMIC]]
    by_name = json.loads(run("trace", plan, "default/client", "default/front", "--port", "8080", "-o", "json").stdout)
    assert by_name["flow"]["dst"] == FIRST_DYNAMIC and by_name["flow"]["dstName"] == "default/front[Service]"
    by_ip = json.loads(run("trace", plan, "default/client", FIRST_DYNAMIC, "--port", "8080", "-o", "json").stdout)
    assert by_ip["flow"]["dstName"] == "default/front[Service]" and by_ip["disposition"] == by_name["disposition"]
    assert by_name["disposition"] == "ACCEPTED"
    r = run("render", plan, "-o", "dot", "--trace", "default/client", "default/front", "--port", "8080")
    assert r.exit_code == 0, r.stderr


def test_kubectl_run_expose_pod_and_service_of_one_name(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _web(), _svc("web", 80, 80))
    t = json.loads(run("trace", plan, "default/client", "default/web", "--port", "80", "-o", "json").stdout)
    assert t["flow"]["dstName"] == "default/web[Pod]"
    assert "default/web is a Pod and a Service; the Pod was traced (name the Service as default/web[Service])" \
        in t["reason"]
    s = json.loads(run("trace", plan, "default/client", "default/web[Service]", "--port", "80", "-o", "json").stdout)
    assert s["flow"]["dstName"] == "default/web[Service]" and s["flow"]["dst"] == FIRST_DYNAMIC


def test_a_port_only_the_service_has_picks_the_service(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _web(), _svc("web", 8080, 80))
    t = json.loads(run("trace", plan, "default/client", "default/web", "--port", "8080", "-o", "json").stdout)
    assert t["flow"]["dstName"] == "default/web[Service]" and t["flow"]["dst"] == FIRST_DYNAMIC
    assert "port 8080 is the Service's, so the Service was traced (name the pod as default/web[Pod])" in t["reason"]


def test_headless_and_external_name_say_why(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _web(), _svc("db", 5432, 5432, clusterIP="None"),
                 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext", "namespace": "default"},
                  "spec": {"type": "ExternalName", "externalName": "db.example.com"}})
    r = run("trace", plan, "default/client", "default/db", "--port", "5432")
    assert r.exit_code == 2 and "headless (clusterIP: None)" in r.stderr
    r = run("trace", plan, "default/client", "default/ext")
    assert r.exit_code == 2 and "ExternalName (db.example.com)" in r.stderr
