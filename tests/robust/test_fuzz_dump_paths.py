"""Property: a kubectl dump's pods read the same through the typed record (plan/fastjson.py ``PodRecord``), the
loose Structs and plain ``json.loads`` — whatever odd value a pod's field holds: the same plan and warnings, or
the same errors (issue #20's fast reader must not change what a plan means)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mutate import ODD_VALUES

from cnimodel.plan import PlanError, fastjson, load_plan

HYBRID = Path(__file__).resolve().parents[1] / "fixtures" / "dumps" / "flannel-hybrid.yaml"
ITEMS = yaml.safe_load(HYBRID.read_text())["items"]
POD = next(i for i in ITEMS if i["kind"] == "Pod" and i["spec"].get("containers", [{}])[0].get("ports"))
# the fields the typed record names, where a wrong type must send the pod the old way
PATHS = (
    ("metadata", "name"), ("metadata", "namespace"), ("metadata", "labels"), ("metadata", "annotations"),
    ("metadata", "ownerReferences"), ("spec", "nodeName"), ("spec", "hostNetwork"), ("spec", "containers"),
    ("spec", "containers", 0, "image"), ("spec", "containers", 0, "ports"),
    ("spec", "containers", 0, "ports", 0, "containerPort"), ("spec", "containers", 0, "ports", 0, "protocol"),
    ("spec", "containers", 0, "ports", 0, "name"), ("spec", "containers", 0, "ports", 0, "hostPort"),
    ("spec", "containers", 0, "ports", 0, "hostIP"), ("spec", "nodeSelector"), ("spec", "tolerations"),
    ("spec", "affinity"), ("spec", "serviceAccountName"), ("spec", "runtimeClassName"), ("spec", "dnsPolicy"),
    ("spec", "initContainers"), ("status", "podIP"), ("status",), ("spec",),
)


def _put(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set ``value`` at ``path`` when every step before it is there (an earlier change may have replaced one)."""
    here = doc
    for i, step in enumerate(path):
        fits = (isinstance(here, dict) and isinstance(step, str)) or (
            isinstance(here, list) and isinstance(step, int) and step < len(here))
        if not fits:
            return
        if i == len(path) - 1:
            here[step] = value
        elif isinstance(here, dict) and step not in here:
            return
        else:
            here = here[step]


def _outcome(path: Path) -> Any:
    try:
        plan = load_plan([path])
    except PlanError as e:
        return ("errors", [p.render() for p in e.problems])
    return ("plan", plan.pods, [w.render() for w in plan.warnings], [p.key for p in plan.pods])


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(ODD_VALUES)), min_size=1, max_size=3))
@example(changes=[(("spec", "hostNetwork"), None)])  # null is unset (the API server's reading) on every path
def test_the_three_readers_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    pod = copy.deepcopy(POD)
    pod["metadata"]["name"] = "odd"
    for path, value in changes:
        _put(pod, path, value)
    _agree([*ITEMS, pod], _outcome, tmp_path, monkeypatch, changes)


def _agree(items: list[Any], outcome: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: Any) -> None:
    """``outcome`` of a dump of ``items`` is the same through the fast decoder and through ``json.loads``."""
    file = tmp_path / "dump.json"
    try:
        file.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    except ValueError:  # inf: not JSON
        return
    monkeypatch.setattr(fastjson, "ENABLED", True)
    fast = outcome(file)
    monkeypatch.setattr(fastjson, "ENABLED", False)
    assert fast == outcome(file), changes


SLICE = next(i for i in ITEMS if i["kind"] == "EndpointSlice")
# every field the slice record (plan/fastjson.py ``SliceRecord``) names, where a wrong type must send the slice the
# old way, and the values the Service catalog reads from it
SLICE_PATHS = (
    ("metadata",), ("metadata", "name"), ("metadata", "namespace"), ("metadata", "labels"),
    ("metadata", "labels", "kubernetes.io/service-name"), ("metadata", "annotations"),
    ("metadata", "ownerReferences"), ("metadata", "ownerReferences", 0, "controller"), ("apiVersion",),
    ("addressType",), ("endpoints",), ("endpoints", 0), ("endpoints", 0, "addresses"),
    ("endpoints", 0, "addresses", 0), ("endpoints", 0, "conditions"), ("endpoints", 0, "conditions", "ready"),
    ("endpoints", 0, "conditions", "serving"), ("endpoints", 0, "conditions", "terminating"),
    ("endpoints", 0, "nodeName"), ("endpoints", 0, "zone"), ("endpoints", 0, "hints"),
    ("endpoints", 0, "targetRef"), ("endpoints", 0, "targetRef", "kind"), ("endpoints", 0, "targetRef", "name"),
    ("endpoints", 0, "targetRef", "namespace"), ("ports",), ("ports", 0), ("ports", 0, "name"),
    ("ports", 0, "port"), ("ports", 0, "protocol"), ("ports", 0, "appProtocol"),
)


def _slice_outcome(path: Path) -> Any:
    from cnimodel.cluster import Cluster
    from cnimodel.services.catalog import build_catalog

    try:
        plan = load_plan([path])
    except PlanError as e:
        return ("errors", [p.render() for p in e.problems])
    try:
        cat = build_catalog(Cluster.build(plan))
    except PlanError as e:
        return ("catalog errors", plan.objects, [p.render() for p in e.problems])
    return ("plan", plan.objects, [w.render() for w in plan.warnings], cat.endpoints,
            [w.render() for w in cat.warnings])


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SLICE_PATHS), st.sampled_from(ODD_VALUES)), min_size=1, max_size=3))
@example(changes=[(("endpoints", 0, "targetRef", "namespace"), None)])  # null, not left out: "None/…" as .get
@example(changes=[(("endpoints", 0, "addresses", 0), "fd00::10")])
def test_a_slice_reads_the_same_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    item = copy.deepcopy(SLICE)
    for path, value in changes:
        _put(item, path, value)
    _agree([i for i in ITEMS if i is not SLICE] + [item], _slice_outcome, tmp_path, monkeypatch, changes)
