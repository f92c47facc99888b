"""EndpointSlices of a kubectl JSON List read from typed records (plan/fastjson.py ``SliceRecord``) against the
plain path (json.loads, the shape check, the Service catalog's dict reader): the same objects, the same endpoints,
the same warnings and errors, on slices written the odd ways the API server and people write them."""

from __future__ import annotations

import copy
import json
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml
from test_dumps import HYBRID
from test_dumps_fastjson import _errors_both_ways

from cnimodel.cluster import Cluster
from cnimodel.plan import PlanError, fastjson, load_plan
from cnimodel.plan.model import RecordObject
from cnimodel.plan.shapes import SHAPES
from cnimodel.services.catalog import build_catalog

WEB = {"apiVersion": "v1", "kind": "Service",
       "metadata": {"name": "web", "namespace": "default", "uid": "0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a09"},
       "spec": {"clusterIP": "10.96.0.50", "clusterIPs": ["10.96.0.50"], "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                          {"name": "metrics", "port": 9100, "protocol": "TCP", "targetPort": 9100}],
                "type": "ClusterIP"}, "status": {"loadBalancer": {}}}


def _slice(name: str, endpoints: list[Any], ports: list[Any] | None = None, **top: Any) -> dict[str, Any]:
    """A slice as the EndpointSlice controller writes it (managedFields and all), for Service default/web."""
    meta = {"generateName": "web-", "generation": 1, "name": name, "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                       "kubernetes.io/service-name": "web"},
            "managedFields": [{"apiVersion": "discovery.k8s.io/v1", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:addressType": {}, "f:endpoints": {}},
                               "manager": "kube-controller-manager", "operation": "Update"}],
            "ownerReferences": [{"apiVersion": "v1", "blockOwnerDeletion": True, "controller": True,
                                 "kind": "Service", "name": "web", "uid": WEB["metadata"]["uid"]}]}
    given = [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "metrics", "port": 9100, "protocol": "TCP"}]
    body = {"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "endpoints": endpoints,
            "kind": "EndpointSlice", "metadata": meta, "ports": ports if ports is not None else given}
    body.update(top)
    return body


def _ep(ip: Any, node: str | None = "lin1", **more: Any) -> dict[str, Any]:
    e = {"addresses": [ip], "conditions": {"ready": True, "serving": True, "terminating": False},
         "targetRef": {"kind": "Pod", "name": f"web-{ip}", "namespace": "default", "uid": "u"}}
    if node is not None:
        e["nodeName"] = node
    e.update(more)
    return e


ODD = [
    _slice("web-plain", [_ep("10.244.1.5"), _ep("10.244.1.6", node=None)]),
    # conditions left out, empty, or null; a targetRef without a namespace, with a null one, of another kind
    _slice("web-conditions", [
        _ep("10.244.1.7", conditions=None), _ep("10.244.1.8", conditions={}),
        _ep("10.244.1.9", conditions={"ready": False, "serving": True, "terminating": True}),
        _ep("10.244.1.10", targetRef={"kind": "Pod", "name": "bare"}),
        _ep("10.244.1.11", targetRef={"kind": "Pod", "name": "nulled", "namespace": None}),
        _ep("10.244.1.12", targetRef={"kind": "Node", "name": "lin1"}), _ep("10.244.1.13", targetRef={}),
        {"addresses": ["10.244.1.14"]}]),
    # addresses written unusually: none, empty, null, two, not canonical, IPv6, not an address at all
    _slice("web-addresses", [
        {"conditions": {"ready": True}}, {"addresses": []}, {"addresses": None}, None,
        _ep("10.244.1.15", addresses=["10.244.1.15", "10.244.1.99"]), _ep("fd00::16"),
        _ep("10.244.1.17", zone="z1", hints={"forZones": [{"name": "z1"}, None]})]),
    # ports kube-proxy ignores, and one the Service does not have
    _slice("web-ports", [_ep("10.244.1.18")], ports=[
        {"port": 8080, "protocol": "TCP"}, {"name": "http", "protocol": "TCP"}, {"name": "http", "port": 0},
        None, {"name": "other", "port": 7000}, {"name": "metrics", "port": 9100, "protocol": None}]),
    _slice("web-fqdn", [_ep("10.244.1.19")], addressType="FQDN"),
    _slice("web-no-type", [_ep("10.244.1.20")], addressType=None),
    _slice("web-api", [_ep("10.244.1.21")], apiVersion=None),
    {**_slice("web-unlabelled", [_ep("10.244.1.22")]), "metadata": {"name": "web-unlabelled", "namespace": "default"}},
    {**_slice("web-no-ns", [_ep("10.244.1.23")]), "metadata": {
        "name": "web-no-ns", "labels": {"kubernetes.io/service-name": "web", "number": 5, "flag": True}}},
    {**_slice("web-empty-ns", [_ep("10.244.1.24")]), "metadata": {
        "name": "web-empty-ns", "namespace": "", "labels": {"kubernetes.io/service-name": "web"}}},
]


def _dump(tmp_path: Path, extra: list[dict[str, Any]]) -> Path:
    items = yaml.safe_load(HYBRID.read_text())["items"] + [WEB] + extra
    path = tmp_path / "dump.json"
    path.write_text(json.dumps({"apiVersion": "v1", "items": items, "kind": "List",
                                "metadata": {"resourceVersion": ""}}, indent=4))
    return path


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool) -> tuple[Any, Any]:
    monkeypatch.setattr(fastjson, "ENABLED", fast)
    plan = load_plan([path])
    monkeypatch.setattr(fastjson, "ENABLED", True)
    return plan, build_catalog(Cluster.build(plan))


def test_odd_slices_read_the_same_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _dump(tmp_path, copy.deepcopy(ODD))
    fast, fast_cat = _read(path, monkeypatch, True)
    plain, plain_cat = _read(path, monkeypatch, False)
    records = [o for o in fast.objects if type(o) is RecordObject]
    assert {o.name for o in records} == {s["metadata"]["name"] for s in ODD} - {"web-empty-ns"} | {"kube-dns-9k2xd"}
    assert fast.objects == plain.objects  # (each record's body made as it is compared)
    assert [w.render() for w in fast.warnings] == [w.render() for w in plain.warnings]
    assert fast_cat.endpoints == plain_cat.endpoints
    assert [w.render() for w in fast_cat.warnings] == [w.render() for w in plain_cat.warnings]
    # what the odd slices give, by hand (the dict path is the other oracle): ready unless said otherwise, the
    # slice's namespace for a targetRef without one, "None" for a null one (as .get gives it), IPv6 and FQDN out
    by_ip = {e.ip: e for (sp, fam), eps in fast_cat.endpoints.items() if sp.name == "http" for e in eps}
    assert by_ip["10.244.1.7"].ready and by_ip["10.244.1.8"].serving
    assert not by_ip["10.244.1.9"].ready and by_ip["10.244.1.9"].terminating
    assert by_ip["10.244.1.10"].pod == "default/bare" and by_ip["10.244.1.11"].pod == "None/nulled"
    assert by_ip["10.244.1.12"].pod is None and by_ip["10.244.1.14"].pod is None
    assert by_ip["10.244.1.6"].node is None and "10.244.1.99" not in by_ip and "10.244.1.19" not in by_ip
    assert "fd00::16" not in by_ip
    assert "10.244.1.22" not in by_ip and "10.244.1.23" in by_ip
    said = [w.render() for w in fast_cat.warnings]
    assert sum("kube-proxy ignores a slice port" in w for w in said) == 3  # no name; no number; port 0
    assert sum("ignores an EndpointSlice without the kubernetes.io/service-name label" in w for w in said) == 1


def test_a_misfit_slice_reports_the_same_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = [_slice("web-bad", [_ep("10.244.1.5", conditions={"ready": "yes"})], ports=[{"name": "http", "port": "80"}]),
           _slice("web-bad-ip", [_ep(10)])]
    said = _errors_both_ways(_dump(tmp_path, bad), monkeypatch)
    assert said[0] == said[1]
    assert any("endpoints[0].conditions.ready" in p and "true or false" in p for p in said[0])
    assert any("ports[0].port" in p for p in said[0]) and any("addresses[0]" in p for p in said[0])


def test_a_record_object_is_a_kept_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a KubeObject does, a RecordObject does: compared, copied with a change, its body read once."""
    import dataclasses

    plan, _ = _read(_dump(tmp_path, [_slice("web-one", [_ep("10.244.1.5")])]), monkeypatch, True)
    obj = next(o for o in plan.objects if o.name == "web-one")
    assert type(obj) is RecordObject and "_body" not in obj.__dict__
    body = obj.body
    assert obj.body is body and body["endpoints"][0]["addresses"] == ("10.244.1.5",)
    assert "managedFields" not in body["metadata"]  # as parse_kept keeps every object
    moved = dataclasses.replace(obj, namespace="other")
    assert moved.namespace == "other" and moved.body == body and moved != obj
    assert dataclasses.replace(obj) == obj


def test_an_address_written_badly_is_an_error_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _dump(tmp_path, [_slice("web-zeros", [_ep("10.244.1.5"), _ep("010.244.1.16"), _ep(None)])])
    said = []
    for fast in (True, False):
        monkeypatch.setattr(fastjson, "ENABLED", fast)
        plan = load_plan([path])
        with pytest.raises(PlanError) as e:
            build_catalog(Cluster.build(plan))
        said.append([p.render() for p in e.value.problems])
    assert said[0] == said[1]
    assert [p.split(": ", 1)[1] for p in said[0] if "error" in p] == [
        "error: '010.244.1.16' is not an IP address\n    fix: write the pod IP, e.g. 10.244.1.5",
        "error: None is not an IP address\n    fix: write the pod IP, e.g. 10.244.1.5"]


def test_a_slice_given_twice_is_named_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _dump(tmp_path, [_slice("web-twice", [_ep("10.244.1.5")]), _slice("web-twice", [_ep("10.244.1.6")])])
    said = _errors_both_ways(path, monkeypatch)
    assert said[0] == said[1] and any("EndpointSlice default/web-twice (discovery.k8s.io) is given twice" in p
                                      for p in said[0])


_SCALAR = {"str": {str}, "int": {int}, "bool": {bool}, "label": {str, int, float, bool}}


def _types(annotation: Any) -> set[Any]:
    return {a for a in typing.get_args(annotation) or (annotation,) if a not in (type(None), msgspec.UnsetType)}


def _held(struct: Any, shape: Any, path: str) -> None:
    """Each field of the record is the shape's field, of the shape's type (or null), and no other."""
    hints = typing.get_type_hints(struct)
    names = set(struct.__struct_fields__) - {"apiVersion"}
    assert names == set(shape), path
    for name in names:
        sub, types = shape[name], _types(hints[name])
        where = f"{path}.{name}"
        if isinstance(sub, str):
            assert types == _SCALAR[sub], where
        elif isinstance(sub, tuple):  # ("map", "label")
            (inner,) = types
            assert typing.get_origin(inner) is dict and _types(typing.get_args(inner)[1]) == _SCALAR[sub[1]], where
        elif isinstance(sub, list):
            (inner,) = types
            assert typing.get_origin(inner) is list, where
            items = _types(typing.get_args(inner)[0])
            if isinstance(sub[0], str):
                assert items == _SCALAR[sub[0]], where
            else:
                _held(items.pop(), sub[0], where + "[]")
        else:
            _held(types.pop(), sub, where)


def test_the_slice_record_is_the_shape() -> None:
    _held(fastjson.SliceRecord, SHAPES["EndpointSlice"], "EndpointSlice")
