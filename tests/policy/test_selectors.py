"""Selectors: Calico's expression language (tigera docs _selectors.mdx; libcalico-go selector parser) and
Kubernetes LabelSelector, evaluated on hand-picked label sets."""

from __future__ import annotations

import pytest

from cnimodel.policy.labelselector import parse_label_selector
from cnimodel.policy.selectors import SelectorError, parse_calico

WEB = {"app": "web", "tier": "fe"}
DB = {"app": "db"}
NONE: dict[str, str] = {}


@pytest.mark.parametrize(("expr", "web", "db", "none"), [
    ("app == 'web'", True, False, False),
    ('app == "web"', True, False, False),
    ("app != 'web'", False, True, True),                 # != holds when the label is absent
    ("app in {'web', 'api'}", True, False, False),
    ("app not in {'web'}", False, True, True),           # not in holds when the label is absent
    ("app in {}", False, False, False),
    ("has(tier)", True, False, False),
    ("!has(tier)", False, True, True),
    ("! has( tier )", False, True, True),
    ("all()", True, True, True),
    ("", True, True, True),                               # empty: all()
    ("global()", False, False, False),                    # only non-namespaced resources
    ("app contains 'e'", True, False, False),
    ("app starts with 'w'", True, False, False),
    ("app ends with 'b'", True, True, False),
    ("tier ends with 'x'", False, False, False),
    # precedence: || loosest, then &&, then !
    ("app == 'db' || app == 'web' && tier == 'be'", False, True, False),
    ("(app == 'db' || app == 'web') && tier == 'fe'", True, False, False),
    ("!app == 'web' && has(app)", False, True, False),
    ("!!has(tier)", True, False, False),
    ("!(app == 'web' || app == 'db')", False, False, True),
])
def test_calico_expressions(expr: str, web: bool, db: bool, none: bool) -> None:
    sel = parse_calico(expr)
    assert (sel.matches(WEB), sel.matches(DB), sel.matches(NONE)) == (web, db, none)


@pytest.mark.parametrize("expr", [
    "app = 'web'", "app == web", "has(", "has()", "app == 'web", "app == 'web' &&", "app == 'web' & b == 'c'",
    "app == 'web')", "(app == 'web'", "app in {'a' 'b'}", "app in 'a'", "app like 'x'", "app == 'web' foo",
    "$app == 'x'",
])
def test_malformed_calico_expressions_are_rejected(expr: str) -> None:
    with pytest.raises(SelectorError):
        parse_calico(expr)


def test_k8s_label_selector_ands_everything() -> None:
    sel, problems = parse_label_selector({"matchLabels": {"app": "web"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["fe", "be"]},
        {"key": "canary", "operator": "DoesNotExist"}]})
    assert problems == []
    assert sel.matches(WEB) and not sel.matches({**WEB, "canary": ""}) and not sel.matches({"app": "web"})


def test_k8s_not_in_and_does_not_exist_match_missing_keys() -> None:
    sel, _ = parse_label_selector({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]})
    assert sel.matches(NONE) and not sel.matches({"env": "prod"}) and sel.matches({"env": "dev"})


def test_empty_k8s_selector_matches_everything() -> None:
    sel, problems = parse_label_selector({})
    assert problems == [] and sel.matches(NONE)


@pytest.mark.parametrize(("data", "path"), [
    ({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]}, "matchExpressions[0].operator"),
    ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "matchExpressions[0].values"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "matchExpressions[0].values"),
    ({"matchLabels": {"bad key!": "x"}}, "matchLabels[bad key!]"),
    ({"matchLabels": {"a": "-bad"}}, "matchLabels[a]"),
    ({"matchLabel": {"a": "b"}}, "matchLabel"),
])
def test_k8s_selector_problems_name_the_field(data: dict, path: str) -> None:
    _, problems = parse_label_selector(data)
    assert [p for p, _ in problems] == [path]
