"""Files that are not what they claim, and sizes past the documented limits (docs/limits.md, issue #22): each is
refused with exit status 2, its file named, and a fix; nothing hangs or reads without bound."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from builders import cluster_doc, plan_errors, pod_doc, run, write_docs

from cnimodel.plan import PlanError, limits, load_plan
from cnimodel.plan import loader as plan_loader


def _refused(*args: str) -> str:
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert "internal error" not in r.stderr and "fix:" in r.stderr, r.stderr
    return r.stderr


def test_a_device_as_the_plan_is_refused_not_read() -> None:
    err = _refused("ipam", "/dev/zero")
    assert "/dev/zero: error: is a device, not a plan file" in err


def test_a_fifo_as_the_plan_is_read_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.yaml"
    os.mkfifo(fifo)
    err = _refused("ipam", str(fifo))
    assert "no such file" not in err  # it exists; with no writer it reads as empty
    assert "the plan has no ClusterPlan document" in err


def test_a_nul_byte_in_a_path_is_named() -> None:
    with pytest.raises(PlanError) as info:
        load_plan(["plan\0.yaml"])
    assert "NUL byte" in info.value.problems[0].message and info.value.problems[0].hint


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    bad = tmp_path / "plan.yaml"
    bad.write_bytes(b"kind: ClusterPlan\n\xff\xfe")
    err = _refused("ipam", str(bad))
    assert f"{bad} byte 18: error: is not UTF-8 text" in err  # by hand: 17 characters and a newline before it


def test_json_nested_past_the_parsers_depth(tmp_path: Path) -> None:
    deep = tmp_path / "plan.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in _refused("ipam", str(deep))


def test_yaml_nested_deeply_in_labels_is_read_or_refused(tmp_path: Path) -> None:
    doc = cluster_doc()
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(doc) + "---\nkind: Pod\napiVersion: v1\nmetadata: {name: p, labels: "
                    + "{a: " * 2000 + "x" + "}" * 2000 + "}\n")
    r = run("ipam", str(path))
    assert r.exit_code == 2 and "internal error" not in r.stderr and "fix:" in r.stderr


def _laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_billion_laughs_in_a_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(_laughs())  # 9^10 values once expanded, from 91 written
    assert "YAML aliases expand it by more than 1,000,000 values" in _refused("ipam", str(path))


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    text = yaml.safe_dump(cluster_doc()).replace("spec:\n", "spec:\n  x-anchor: &n {a: 1}\n  x-alias: *n\n", 1)
    path.write_text(text)
    r = run("ipam", str(path))
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("target", ["/dev/zero", "DIR", "SELF", "LAUGHS", "DEEP", "FIFO"])
def test_config_files_that_are_not_configs(tmp_path: Path, target: str) -> None:
    plan = tmp_path / "plan.yaml"
    ref = {"/dev/zero": "/dev/zero", "DIR": str(tmp_path), "SELF": "plan.yaml", "LAUGHS": "laughs.yaml",
           "DEEP": "deep.json", "FIFO": "fifo.json"}[target]
    (tmp_path / "laughs.yaml").write_text(_laughs())
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    os.mkfifo(tmp_path / "fifo.json")
    doc = cluster_doc()
    doc["spec"]["network"]["configFile"] = ref
    write_docs(plan, [doc])
    err = _refused("ipam", str(plan))
    expected = {"/dev/zero": "is a device, not a config file", "DIR": "is a directory, not a config file",
                "SELF": "names the plan file itself", "LAUGHS": "YAML aliases expand it",
                "DEEP": "nested too deeply", "FIFO": "is not valid JSON"}[target]
    assert expected in err


def test_a_large_config_file_is_refused_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cnimodel.plan.cluster.MAX_CONFIG_BYTES", 1000)
    (tmp_path / "net-conf.json").write_text(json.dumps({"Network": "10.244.0.0/16", "pad": "x" * 2000}))
    doc = cluster_doc()
    doc["spec"]["network"]["configFile"] = "net-conf.json"
    write_docs(tmp_path / "plan.yaml", [doc])
    assert "is larger than the" in _refused("ipam", str(tmp_path / "plan.yaml"))


def test_a_folder_walk_stops_at_its_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_loader, "MAX_FOLDER_ENTRIES", 50)
    for i in range(60):
        (tmp_path / f"f{i}.txt").write_text("")
    assert "more than 50 files and folders: not a plan folder" in _refused("ipam", str(tmp_path))


def test_hidden_folders_are_not_walked(tmp_path: Path) -> None:
    write_docs(tmp_path / "plan.yaml", [cluster_doc()])
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "broken.yaml").write_text("kind: [")
    assert run("ipam", str(tmp_path)).exit_code == 0


def test_replicas_past_the_limit(tmp_path: Path) -> None:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
              "spec": {"replicas": 10**40, "selector": {"matchLabels": {"app": "d"}},
                       "template": {"metadata": {"labels": {"app": "d"}},
                                    "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
    problems = plan_errors(tmp_path, [cluster_doc(), deploy])
    [p] = [p for p in problems if p.origin.path == "spec.replicas"]
    assert p.hint == f"use a value from 0 to {limits.MAX_REPLICAS}"


def test_pods_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cnimodel.plan.workloads.MAX_PODS", 3)
    problems = plan_errors(tmp_path, [cluster_doc(), *(pod_doc(f"p{i}", "lin1") for i in range(4))])
    assert any("the plan would hold 4 pods" in p.message for p in problems)


def test_objects_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_loader, "MAX_OBJECTS", 3)
    problems = plan_errors(tmp_path, [cluster_doc(), *(pod_doc(f"p{i}", "lin1") for i in range(3))])
    assert any("the inputs hold 4 objects" in p.message for p in problems)


def test_a_plan_file_past_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_loader, "MAX_INPUT_BYTES", 100)
    path = write_docs(tmp_path / "plan.yaml", [cluster_doc()])
    assert "is larger than the" in _refused("ipam", str(path))


def test_a_folder_of_configs_only_names_its_files_and_why(tmp_path: Path) -> None:
    (tmp_path / "net-conf.json").write_text(json.dumps({"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}))
    err = _refused("ipam", str(tmp_path))
    assert f"{tmp_path}/net-conf.json: error: the plan has no ClusterPlan document" in err
    assert "skipped: a flannel net-conf.json (no apiVersion or kind), not a plan document" in err
    assert "<plan>" not in err
