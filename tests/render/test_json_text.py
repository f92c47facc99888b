"""The JSON writer every command uses must write what ``json.dumps(value, indent=2)`` writes — the standard
library is the oracle, on generated values of every kind json accepts — except floats, written in their shortest
round-trip form (``1e16`` for json's ``1e+16``), NaN and infinities as null (json's ``NaN`` is not JSON)."""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from enum import IntEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnimodel.render.json_text import dumps, walk

floats = st.floats(allow_nan=True, allow_infinity=True)
plain = st.none() | st.booleans() | st.integers() | st.text()
keys = st.text() | st.integers() | st.booleans() | st.none()


def _values(scalars: st.SearchStrategy[object], keys: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
                        | st.dictionaries(keys, inner, max_size=5), max_leaves=40)


values = _values(plain, keys)  # without floats: the text is json's, byte for byte
# (keys msgspec refuses, a bool or None, send the value through json's encoder and its spelling: not here)
with_floats = _values(plain | floats, st.text() | st.integers())  # (a float key: a string spelled likewise)
any_value = _values(plain | floats, keys | st.floats(allow_nan=False))


@settings(max_examples=400)
@given(values)
def test_same_text_as_json_dumps(value: object) -> None:
    assert dumps(value) == json.dumps(value, indent=2)


@settings(max_examples=400)
@given(any_value)
def test_walk_is_json_dumps(value: object) -> None:
    assert walk(value) == json.dumps(value, indent=2)


@given(values)
def test_other_indents(value: object) -> None:
    assert dumps(value, indent=4) == json.dumps(value, indent=4)


def _finite(value: object) -> object:
    """``value`` as a JSON reader gets it back: NaN and the infinities as None, tuples as lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


@settings(max_examples=400)
@given(with_floats)
def test_floats_read_back_the_same(value: object) -> None:
    text = dumps(value)
    back = json.loads(text)
    assert back == json.loads(json.dumps(_finite(value)))
    # the layout is json's: the same lines once every number is set aside
    number = re.compile(r"-?\d[\d.eE+-]*|NaN|-?Infinity|null")
    assert number.sub("#", text) == number.sub("#", json.dumps(_finite(value), indent=2))


def test_float_spelling() -> None:
    assert dumps([1e16, 1e-05, 0.5, 1 / 3, -0.0, 2.0, float("nan"), float("-inf")]) == (
        "[\n  1e16,\n  0.00001,\n  0.5,\n  0.3333333333333333,\n  -0.0,\n  2.0,\n  null,\n  null\n]")


def test_past_ascii_escaped_as_json_escapes_it() -> None:
    value = {"é…": ["\x7f", "\U0001f600", "\ud800", "tab\t"], "ascii": "a/b\\c\"d"}
    assert dumps(value) == json.dumps(value, indent=2)
    assert dumps({"k": "\u2026"}) == '{\n  "k": "\\u2026"\n}'


class Level(IntEnum):
    LOW = 1


class Name(str):
    pass


def test_subclasses_as_json_writes_them() -> None:
    value = {"enum": Level.LOW, "name": Name("x"), "ordered": OrderedDict(b=[1, (2, 3)], a={}), "empty": [],
             Level.LOW: "int key", 2.5: float("-inf"), None: float("nan")}
    assert dumps(value) == json.dumps(value, indent=2)


def test_what_json_refuses_is_refused() -> None:
    for bad in ({(1, 2): "tuple key"}, [object()]):
        with pytest.raises(TypeError):
            json.dumps(bad, indent=2)
        with pytest.raises(TypeError):
            dumps(bad)
