"""The fast decoder of kubectl JSON Lists (cnimodel/plan/fastjson.py) against json.loads: the same Plan from both.

Each hand-written dump is loaded twice, with the msgspec path and with the plain one, and every part of the plan
the engines read is compared; so is what a bad item reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import FIXTURES
from test_dumps import AKS, HYBRID, _canal_dump

from cnimodel.cluster import Cluster
from cnimodel.plan import Plan, PlanError, fastjson, load_plan

pytest.importorskip("msgspec")


def _list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Plan, Plan]:
    monkeypatch.setattr(fastjson, "ENABLED", True)
    fast = load_plan([path])
    monkeypatch.setattr(fastjson, "ENABLED", False)
    plain = load_plan([path])
    return fast, plain


def _errors_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The errors loading ``path`` reports with the msgspec path, then with the plain one."""
    out = []
    for enabled in (True, False):
        monkeypatch.setattr(fastjson, "ENABLED", enabled)
        with pytest.raises(PlanError) as e:
            load_plan([path])
        out.append([p.render() for p in e.value.problems])
    return out


def _same(fast: Plan, plain: Plan) -> None:
    for field in ("name", "nodes", "pods", "namespaces", "objects", "workloads", "cluster_cidr", "service_cidr",
                  "network", "policy", "underlay", "from_dump", "stated"):
        assert getattr(fast, field) == getattr(plain, field), field
    assert [w.render() for w in fast.warnings] == [w.render() for w in plain.warnings]


@pytest.mark.parametrize("source", ["hybrid", "aks", "canal", "kubectl"])
def test_fast_and_plain_json_give_the_same_plan(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if source == "hybrid":
        items = yaml.safe_load(HYBRID.read_text())["items"]
    elif source == "aks":
        items = json.loads(AKS.read_text())["items"]
    elif source == "canal":
        items = _canal_dump()
    else:  # the older kubectl fixtures: nodes and pods as `kubectl get -o yaml` prints them
        items = [i for f in ("nodes.yaml",) for i in yaml.safe_load((FIXTURES / "kubectl" / f).read_text())["items"]]
        items += json.loads((FIXTURES / "kubectl" / "pods.json").read_text())["items"]
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(_list(items), indent=4, sort_keys=True))  # kubectl's layout
    fast, plain = _both(path, monkeypatch)
    _same(fast, plain)
    if source != "kubectl":
        monkeypatch.setattr(fastjson, "ENABLED", True)
        a = Cluster.build(fast)
        b = Cluster.build(plain)
        assert a.plan.inferred == b.plan.inferred
        assert {k: p.ip for k, p in a.allocation.pods.items()} == {k: p.ip for k, p in b.allocation.pods.items()}


def test_the_fast_path_is_taken_and_skips_managed_fields(tmp_path: Path) -> None:
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(yaml.safe_load(HYBRID.read_text()), indent=4))
    doc = fastjson.decode(path.read_bytes())
    assert doc is not None and isinstance(doc["items"], fastjson.Items)
    records = [i for i in doc["items"] if isinstance(i, fastjson.PodRecord)]
    assert records and not any(isinstance(i, dict) and i.get("kind") == "Pod" for i in doc["items"])
    pod = fastjson.as_dict(records[0])
    assert "managedFields" not in pod["metadata"] and "conditions" not in pod["status"]
    assert pod["status"] == {"podIP": "10.244.0.2"}
    assert pod["spec"]["containers"][0] == {"image": "registry.k8s.io/coredns/coredns:v1.11.3", "ports": [
        {"containerPort": 53, "name": "dns", "protocol": "UDP"}, {"containerPort": 53, "name": "dns-tcp",
                                                                  "protocol": "TCP"},
        {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}]}
    # kept objects lose managedFields on either path
    plan = load_plan([path])
    assert all("managedFields" not in (o.body.get("metadata") or {}) for o in plan.objects)


def test_bad_items_report_the_same_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = yaml.safe_load(HYBRID.read_text())["items"]
    node, pod = base[0], base[4]
    bad_pod = json.loads(json.dumps(pod))
    bad_pod["metadata"]["name"] = "bad"
    bad_pod["spec"]["containers"][0]["ports"][0]["containerPort"] = "fifty-three"
    odd_pod = json.loads(json.dumps(pod))
    odd_pod["metadata"] = ["not", "a", "mapping"]  # a Struct cannot hold it: decoded whole
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(_list([node, bad_pod, odd_pod])))
    errors = _errors_both_ways(path, monkeypatch)
    assert errors[0] == errors[1]
    assert any("items[1].spec.containers[0].ports[0].containerPort" in t for t in errors[0])


def test_a_syntax_error_is_located_by_the_plain_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastjson, "ENABLED", True)
    path = tmp_path / "dump.json"
    path.write_text('{\n    "apiVersion": "v1",\n    "items": [\n        {"kind": "Node",}\n    ],\n'
                    '    "kind": "List"\n}\n')
    with pytest.raises(PlanError) as e:
        load_plan([path])
    (err,) = e.value.problems
    assert err.origin.path == "line 4 column 25" and "invalid JSON" in err.message


def _odd_pods(base: dict[str, Any]) -> list[dict[str, Any]]:
    """Pods that leave the typed record's fast reader for the dict readers, or lead to a warning there."""
    def pod(name: str, change: Any) -> dict[str, Any]:
        p = json.loads(json.dumps(base))
        p["metadata"]["name"] = name
        p["metadata"].pop("annotations", None)  # (each pod carries only the field it is about)
        for key in ("affinity", "dnsPolicy", "initContainers", "topologySpreadConstraints", "dnsConfig",
                    "hostAliases"):
            p["spec"].pop(key, None)
        p["status"]["podIP"] = None
        change(p)
        return p
    c0 = "containers"
    return [
        pod("spread", lambda p: p["spec"].update(topologySpreadConstraints=[{"maxSkew": 1}])),
        pod("dnsconf", lambda p: p["spec"].update(dnsConfig={"nameservers": ["1.1.1.1"]})),
        pod("aliases", lambda p: p["spec"].update(hostAliases=[{"ip": "10.0.0.9", "hostnames": ["a"]}])),
        pod("antiaffine", lambda p: p["spec"].update(affinity={"podAntiAffinity": {}})),
        pod("dnsdefault", lambda p: p["spec"].update(dnsPolicy="Default")),
        pod("sidecar", lambda p: p["spec"].update(initContainers=[{"name": "s", "ports": [{"containerPort": 1}]}])),
        pod("multus", lambda p: p["metadata"].update(annotations={"k8s.v1.cni.cncf.io/networks": "macvlan"})),
        pod("hostip", lambda p: p["spec"][c0][0]["ports"][0].update(hostPort=5353, hostIP="10.0.0.1")),
        pod("noproto", lambda p: p["spec"][c0][0]["ports"][0].update(protocol="")),
        pod("badport", lambda p: p["spec"][c0][0]["ports"][0].update(containerPort=70000)),
        pod("emptyns", lambda p: p["metadata"].update(namespace="")),
        pod("badip", lambda p: p["status"].update(podIP="10.0.0.300")),
        pod("selector", lambda p: p["spec"].update(nodeSelector={"kubernetes.io/os": "linux"})),
        pod("owned", lambda p: p["metadata"].update(ownerReferences=[
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "controller": True,
             "uid": "0d6c1c4e-4a3e-4c57-a0a8-8b9a4a3b9e11"}])),
    ]


def test_pods_beside_the_typed_record_read_the_same_on_both_paths(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    items = yaml.safe_load(HYBRID.read_text())["items"]
    base = next(i for i in items if i["kind"] == "Pod" and i["spec"].get("containers", [{}])[0].get("ports"))
    path = tmp_path / "dump.json"
    odd = _odd_pods(base)
    path.write_text(json.dumps(_list([i for i in items if i["kind"] != "Pod"] + odd)))
    doc = fastjson.decode(path.read_bytes())
    assert doc is not None and sum(isinstance(i, fastjson.PodRecord) for i in doc["items"]) >= 10
    problems = _errors_both_ways(path, monkeypatch)
    assert problems[0] == problems[1]
    said = "\n".join(problems[0])
    for where in ("ports[0].protocol", "ports[0].containerPort", "status.podIP"):  # the checked reader names each
        assert where in said, said


def test_well_typed_odd_pods_give_the_same_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = yaml.safe_load(HYBRID.read_text())["items"]
    base = next(i for i in items if i["kind"] == "Pod" and i["spec"].get("containers", [{}])[0].get("ports"))
    good = [p for p in _odd_pods(base) if p["metadata"]["name"] not in ("noproto", "badport", "badip")]
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(_list(items + good)))
    fast, plain = _both(path, monkeypatch)
    _same(fast, plain)
    assert [p.key for p in fast.pods] == [f"{p.namespace}/{p.name}" for p in plain.pods]  # (set as read)
    owned = next(p for p in fast.pods if p.name == "owned")
    assert owned.owner is not None and owned.owner.kind == "ReplicaSet"
    assert next(p for p in fast.pods if p.name == "selector").placement is not None
    warned = "\n".join(w.render() for w in fast.warnings)
    assert "metadata.namespace: warning: is empty" in warned  # the checked reader's warning
    for field in ("topologySpreadConstraints", "dnsConfig", "hostAliases", "podAntiAffinity", "dnsPolicy",
                  "initContainers[].ports", "k8s.v1.cni.cncf.io/networks", "hostIP"):  # the scan's, once each
        assert warned.count(f"{field} is not modelled") == 1, (field, warned)


def test_the_typed_record_names_the_loose_structs_fields() -> None:
    """A field added to a pod reader goes into both Structs (fastjson.py's docstring): a record missing one would
    drop it from every well-typed pod."""
    for loose, typed in ((fastjson.PodSpec, fastjson.RecordSpec), (fastjson.Meta, fastjson.RecordMeta),
                         (fastjson.Container, fastjson.RecordContainer), (fastjson.PodStatus, fastjson.RecordStatus),
                         (fastjson.Pod, fastjson.PodRecord)):
        assert set(loose.__struct_fields__) == set(typed.__struct_fields__), (loose, typed)
