"""``check -o json|sarif`` on a plan that cannot be built: the errors become CNI-PLAN-005 findings at their
files and field paths, the document is valid, and the exit status is 2 (issue #22)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from builders import cluster_doc, run, write_docs
from test_check_cli import sarif_schema


def _overlapping(tmp_path: Path) -> Path:
    # The worked example's pods take 10.244.0.0/16; a service range inside it overlaps it (by hand: /16 ⊃ /20).
    return write_docs(tmp_path / "plan.yaml", [cluster_doc(serviceCIDR="10.244.16.0/20")])


def test_json_lists_the_error_that_stopped_the_build(tmp_path: Path) -> None:
    r = run("check", str(_overlapping(tmp_path)), "-o", "json")
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    [f] = [f for f in doc["findings"] if f["severity"] == "error"]
    assert f["code"] == "CNI-PLAN-005"
    assert f["locations"] == [{"file": str(tmp_path / "plan.yaml"), "document": 0, "path": "spec.serviceCIDR"}]
    assert "overlaps" in f["message"] and f["fix"]
    assert doc["summary"]["error"] == 1
    assert "overlaps" in r.stderr  # stderr still tells a person


def test_sarif_is_a_valid_log_with_the_error_at_its_line(tmp_path: Path) -> None:
    path = _overlapping(tmp_path)
    r = run("check", str(path), "-o", "sarif")
    assert r.exit_code == 2
    log = json.loads(r.stdout)
    jsonschema.validate(log, sarif_schema())
    [res] = log["runs"][0]["results"]
    assert res["ruleId"] == "CNI-PLAN-005" and res["level"] == "error"
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if t.lstrip().startswith("serviceCIDR"))
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == line


@pytest.mark.parametrize("output", ["json", "sarif"])
def test_a_file_that_cannot_be_read_is_a_finding_too(tmp_path: Path, output: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe not utf-8")
    r = run("check", str(bad), "-o", output)
    assert r.exit_code == 2
    text = json.dumps(json.loads(r.stdout))
    assert "CNI-PLAN-005" in text and "UTF-8" in text


def test_text_output_is_unchanged(tmp_path: Path) -> None:
    r = run("check", str(_overlapping(tmp_path)))
    assert r.exit_code == 2 and r.stdout == "" and "overlaps" in r.stderr


def test_sarif_names_the_rules_a_plugin_contributes() -> None:
    """The ovn-kubernetes plugin's CNI-OVN-* checks run on its example: the SARIF log holds their rules (a result
    pointing at a rule the driver does not list is invalid SARIF; the lookup used to fail with KeyError)."""
    from cnimodel import examples

    r = run("check", str(examples.path("ovn-kubernetes-hybrid.yaml")), "-o", "sarif")
    assert r.exit_code in (0, 1), r.stderr
    log = json.loads(r.stdout)
    jsonschema.validate(log, sarif_schema())
    rules = [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]]
    assert {"CNI-OVN-001", "CNI-OVN-003"} <= set(rules) and "CNI-OVN-002" not in rules  # 002 retired (docs/checks.md)
    assert all(res["ruleIndex"] == rules.index(res["ruleId"]) for res in log["runs"][0]["results"])
