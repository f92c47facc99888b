"""Kubernetes ``metav1.LabelSelector`` (matchLabels AND every matchExpressions item), validated and compiled
to the selector tree of ``cnimodel.policy.selectors``; and kubectl's one-line rendering of it."""

from __future__ import annotations

import re
from typing import Any

from cnimodel.policy.selectors import All, Eq, Has, In, Not, NotIn, Sel, conj, is_mapping

_K8S_OPS = ("In", "NotIn", "Exists", "DoesNotExist")
_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def check_label_key(key: str) -> str | None:
    """Why ``key`` is not a valid label key (``prefix/name``), or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _PREFIX.match(prefix)):
        return f"label key {key!r} has an invalid prefix (a DNS subdomain is required)"
    if not _NAME.match(name):
        return f"label key {key!r} is invalid (name part: up to 63 of [A-Za-z0-9-_.], alphanumeric at both ends)"
    return None


def check_label_value(value: str) -> str | None:
    if len(value) > 63 or not _VALUE.match(value):
        return f"label value {value!r} is invalid (up to 63 of [A-Za-z0-9-_.], alphanumeric at both ends)"
    return None


def parse_label_selector(data: Any) -> tuple[Sel, list[tuple[str, str]]]:
    """A Kubernetes LabelSelector mapping → (selector, problems as (field path, message)).

    ``matchLabels`` and every ``matchExpressions`` item are ANDed; an empty selector matches everything.
    """
    problems: list[tuple[str, str]] = []
    if data is None:
        return All(), problems
    if not is_mapping(data):
        return All(), [("", f"expected a label selector mapping, found {type(data).__name__}")]
    parts: list[Sel] = []
    for field in data:
        if field not in ("matchLabels", "matchExpressions"):
            problems.append((str(field), "unknown label selector field (use matchLabels or matchExpressions)"))
    ml = data.get("matchLabels") or {}
    if not is_mapping(ml):
        problems.append(("matchLabels", "expected a mapping of label keys to values"))
        ml = {}
    for k, v in ml.items():
        k, v = str(k), "" if v is None else str(v)
        for why in (check_label_key(k), check_label_value(v)):
            if why:
                problems.append((f"matchLabels[{k}]", why))
        parts.append(Eq(k, v))
    me = data.get("matchExpressions") or []
    if not isinstance(me, list | tuple):
        problems.append(("matchExpressions", "expected a list of {key, operator, values}"))
        me = []
    for i, e in enumerate(me):
        where = f"matchExpressions[{i}]"
        if not is_mapping(e):
            problems.append((where, "expected {key, operator, values}"))
            continue
        key, op, values = e.get("key"), e.get("operator"), e.get("values")
        if not isinstance(key, str) or (why := check_label_key(key)):
            problems.append((f"{where}.key", why if isinstance(key, str) and why else "a label key is required"))
            continue
        if op not in _K8S_OPS:
            problems.append((f"{where}.operator", f"unknown operator {op!r} (use In, NotIn, Exists or DoesNotExist)"))
            continue
        vals = [str(v) for v in (values or [])] if isinstance(values, list | tuple) or values is None else None
        if vals is None:
            problems.append((f"{where}.values", "expected a list of strings"))
            continue
        if op in ("In", "NotIn") and not vals:
            problems.append((f"{where}.values", f"must be non-empty when operator is {op}"))
            continue
        if op in ("Exists", "DoesNotExist") and vals:
            problems.append((f"{where}.values", f"must be empty when operator is {op}"))
            continue
        if op == "In":
            parts.append(In(key, frozenset(vals)))
        elif op == "NotIn":
            parts.append(NotIn(key, frozenset(vals)))
        elif op == "Exists":
            parts.append(Has(key))
        else:
            parts.append(Not(Has(key)))
    return conj(parts), problems


def k8s_text(data: Any) -> str:
    """A LabelSelector as kubectl prints it: ``app=web,tier in (a,b),!canary``; ``{}`` for empty."""
    if not is_mapping(data) or not (data.get("matchLabels") or data.get("matchExpressions")):
        return "{}"
    out = [f"{k}={v}" for k, v in (data.get("matchLabels") or {}).items()]
    for e in data.get("matchExpressions") or []:
        if not is_mapping(e):
            continue
        op, key, vals = e.get("operator"), e.get("key"), ",".join(str(v) for v in e.get("values") or [])
        out.append(f"{key} in ({vals})" if op == "In" else f"{key} notin ({vals})" if op == "NotIn"
                   else str(key) if op == "Exists" else f"!{key}")
    return ",".join(out)
