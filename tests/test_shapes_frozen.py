"""frozen_fitting walks a kept object once: the same frozen copy as freeze, and a Misfit exactly where fits fails."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cnimodel.plan.fields import freeze
from cnimodel.plan.shapes import SHAPES, Misfit, fits, frozen_fitting

SLICE: dict[str, Any] = {
    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
    "metadata": {"name": "web-x", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"},
                 "extra": {"deep": [1, {"a": None}]}},
    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    "endpoints": [{"addresses": ["10.0.0.2"], "nodeName": "n1", "conditions": {"ready": True, "serving": None},
                   "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "shop"}, "zone": None}],
}


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SLICE)
    here: Any = doc
    for step in path[:-1]:
        here = here[step]
    here[path[-1]] = value
    return doc


@pytest.mark.parametrize("doc", [
    SLICE,
    _with(["metadata", "labels", "tier"], 3),  # a label value may be a number (quoted or not)
    _with(["metadata", "unknownField"], {"x": [1, 2]}),  # fields the shape leaves out are copied as they are
    _with(["endpoints", 0, "conditions"], None),
])
def test_same_copy_as_freeze(doc: dict[str, Any]) -> None:
    shape = SHAPES["EndpointSlice"]
    assert fits(doc, shape)
    assert frozen_fitting(doc, shape) == freeze(doc)


@pytest.mark.parametrize("doc", [
    _with(["ports", 0, "port"], "8080"),  # an int field given as a string
    _with(["endpoints", 0, "addresses"], "10.0.0.2"),  # a list given as a string
    _with(["endpoints", 0, "conditions", "ready"], "true"),
    _with(["metadata", "labels"], ["a"]),  # a map given as a list
    _with(["endpoints", 0], 5),
    _with(["endpoints"], {"addresses": []}),
])
def test_misfit_where_fits_fails(doc: dict[str, Any]) -> None:
    shape = SHAPES["EndpointSlice"]
    assert not fits(doc, shape)
    with pytest.raises(Misfit):
        frozen_fitting(doc, shape)


def test_bool_is_not_a_number() -> None:
    shape = SHAPES["EndpointSlice"]
    doc = _with(["ports", 0, "port"], True)
    assert not fits(doc, shape)
    with pytest.raises(Misfit):
        frozen_fitting(doc, shape)
