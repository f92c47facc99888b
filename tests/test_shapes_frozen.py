"""frozen_fitting walks a kept object once: the same frozen copy as freeze, and a Misfit exactly where fits fails."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cnimodel.plan.fields import freeze, thaw
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
    given = copy.deepcopy(doc)
    expected = freeze(copy.deepcopy(doc))
    doc = copy.deepcopy(doc)  # (the walk freezes what it is given in place)
    assert frozen_fitting(doc, shape) == expected
    assert thaw(doc) == given


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


def test_a_misfit_found_deep_in_is_reported_at_its_path() -> None:
    """The walk has frozen the fields before the misfit in place; the report still reads the object as given."""
    from cnimodel.plan.errors import Origin, Problems
    from cnimodel.plan.kube import parse_kept

    doc = copy.deepcopy(SLICE)
    doc["endpoints"].append({"addresses": ["10.0.0.3", 7], "conditions": {"ready": "true"}})
    problems = Problems()
    assert parse_kept(doc, Origin("slices.yaml"), problems) is None
    said = sorted(p.render() for p in problems.items)
    assert said == [
        "slices.yaml endpoints[1].addresses[1]: error: expected a string, found a number 7\n"
        "    fix: write a string here",
        "slices.yaml endpoints[1].conditions.ready: error: expected true or false, found a string 'true'\n"
        "    fix: write true or false here"]


def test_one_dict_at_two_places_a_yaml_alias_is_frozen_at_both() -> None:
    from cnimodel.plan.errors import Origin, Problems
    from cnimodel.plan.kube import parse_kept

    text = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: &team {matchLabels: {team: a}}}
  egress:
  - {action: Deny, to: [{namespaces: *team}, {networks: [0.0.0.0/0]}]}
"""
    import yaml

    shared, plain = yaml.safe_load(text), yaml.safe_load(text.replace("&team ", "").replace(
        "*team", "{matchLabels: {team: a}}"))
    assert shared["spec"]["subject"]["namespaces"] is shared["spec"]["egress"][0]["to"][0]["namespaces"]
    problems = Problems()
    a, b = parse_kept(shared, Origin("p.yaml"), problems), parse_kept(plain, Origin("p.yaml"), problems)
    assert problems.items == [] and a is not None and a == b
