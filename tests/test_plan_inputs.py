"""Many inputs, one plan: files and folders positionally and with -f (kubectl's flag), standard input,
duplicates named with both places (issue #16 §1)."""

from __future__ import annotations

import json
from pathlib import Path

from builders import cluster_doc, pod_doc, run, write_docs

# A Pod as `kubectl get pod -o json` prints it (managedFields, status), written by hand from the API reference.
KUBECTL_POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
        "name": "web-0", "namespace": "shop", "uid": "6f0c7c4e-8d1a-4a8e-9f7e-3b2d1c0a9e11",
        "resourceVersion": "48213", "creationTimestamp": "2026-11-30T09:12:44Z", "labels": {"app": "web"},
        "managedFields": [{"manager": "kubectl-run", "operation": "Update", "apiVersion": "v1",
                           "time": "2026-11-30T09:12:44Z", "fieldsType": "FieldsV1",
                           "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}],
    },
    "spec": {"nodeName": "lin1", "containers": [{"name": "web", "image": "nginx:1.27",
                                                 "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
    "status": {"phase": "Running", "podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}],
               "hostIP": "10.240.0.10", "conditions": [{"type": "Ready", "status": "True"}]},
}


def _lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip()]


def test_two_files_positionally_and_with_f(tmp_path: Path) -> None:
    cluster = write_docs(tmp_path / "cluster.yaml", [cluster_doc()])
    pods = write_docs(tmp_path / "manifests.yaml", [pod_doc("a", "lin1"), pod_doc("b", "win1")])
    for args in ([str(cluster), str(pods)], ["-f", str(cluster), "-f", str(pods)], [str(cluster), "-f", str(pods)]):
        r = run("ipam", *args, "-o", "json")
        assert r.exit_code == 0, r.stderr
        got = {f"{p['namespace']}/{p['name']}": p["ip"] for p in json.loads(r.stdout)["pods"]}
        # lin1 holds 10.244.1.0/24 (second node, kube-controller-manager order): host-local gives .2 first;
        # win1 10.244.2.0/24: l2bridge keeps .2 for the host endpoint, so the first pod is .3.
        assert got == {"default/a": "10.244.1.2", "default/b": "10.244.2.3"}


def test_folders_are_read_recursively_and_a_file_reached_twice_counts_once(tmp_path: Path) -> None:
    cluster = write_docs(tmp_path / "plan" / "cluster.yaml", [cluster_doc()])
    write_docs(tmp_path / "plan" / "apps" / "deep" / "pods.yml", [pod_doc("a", "lin1")])
    r = run("ipam", str(tmp_path / "plan"), str(cluster), "-R", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [f"{p['namespace']}/{p['name']}" for p in json.loads(r.stdout)["pods"]] == ["default/a"]


def test_standard_input_as_kubectl_json(tmp_path: Path) -> None:
    cluster = write_docs(tmp_path / "cluster.yaml", [cluster_doc()])
    dump = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [KUBECTL_POD]}
    from click.testing import CliRunner

    from cnimodel.cli import cli

    r = CliRunner().invoke(cli, ["ipam", str(cluster), "-", "-o", "json"], input=json.dumps(dump))
    assert r.exit_code == 0, r.stderr
    pods = json.loads(r.stdout)["pods"]
    assert {f"{p['namespace']}/{p['name']}": p["ip"] for p in pods} == {"shop/web-0": "10.244.1.7"}


def test_standard_input_errors_name_stdin(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cnimodel.cli import cli

    cluster = write_docs(tmp_path / "cluster.yaml", [cluster_doc()])
    r = CliRunner().invoke(cli, ["ipam", str(cluster), "-"], input="kind: Pod\nmetadata: {name: [x\n")
    assert r.exit_code == 2
    assert "<stdin> line 3 column 1: error: invalid YAML" in r.stderr and "invalid YAML" in r.stderr


def test_a_duplicate_names_both_places(tmp_path: Path) -> None:
    cluster = write_docs(tmp_path / "cluster.yaml", [cluster_doc(), pod_doc("a", "lin1")])
    other = write_docs(tmp_path / "other.yaml", [pod_doc("b", "lin1"), pod_doc("a", "win1")])
    r = run("ipam", str(cluster), str(other))
    assert r.exit_code == 2
    lines = [line for line in r.stderr.splitlines() if "given twice" in line]
    assert lines == [f"{other} (document 2) metadata.name: error: Pod default/a is given twice: also at "
                     f"{cluster} (document 2)"]
    assert "Traceback" not in r.stderr


def test_same_name_in_another_namespace_or_kind_is_another_object(tmp_path: Path) -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"},
           "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}}
    plan = write_docs(tmp_path / "p.yaml", [cluster_doc(), pod_doc("a", "lin1"), pod_doc("a", "lin1", "other"), svc])
    assert run("ipam", str(plan)).exit_code == 0


def test_no_plan_is_a_usage_error() -> None:
    r = run("ipam")
    assert r.exit_code == 2 and "no plan given" in r.stderr


def test_standard_input_once() -> None:
    r = run("ipam", "-", "-f", "-")
    assert r.exit_code == 2 and "standard input (-) can be read once only" in r.stderr


def test_commands_with_more_arguments_take_many_inputs(tmp_path: Path) -> None:
    cluster = write_docs(tmp_path / "cluster.yaml", [cluster_doc()])
    pods = write_docs(tmp_path / "pods.yaml", [pod_doc("a", "lin1"), pod_doc("b", "win1")])
    r = run("lookup", str(cluster), str(pods), "10.244.2.3", "--node", "lin1")
    assert r.exit_code == 0, r.stderr
    assert "10.244.2.0/24" in r.stdout and "via 10.240.0.20" in r.stdout.replace("next hop", "via")
    r = run("trace", str(cluster), str(pods), "default/a", "default/b", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["disposition"] == "ACCEPTED"
