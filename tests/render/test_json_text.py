"""The JSON writer every command uses must write exactly what ``json.dumps(value, indent=2)`` writes: the
standard library is the oracle, on generated values of every kind json accepts."""

from __future__ import annotations

import json
from collections import OrderedDict
from enum import IntEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnimodel.render.json_text import dumps, walk

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text())
keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
                      | st.dictionaries(keys, inner, max_size=5), max_leaves=40)


@settings(max_examples=400)
@given(values)
def test_same_text_as_json_dumps(value: object) -> None:
    assert dumps(value) == json.dumps(value, indent=2)
    assert walk(value) == json.dumps(value, indent=2)  # (dumps's way for values holding NaN or Infinity)


@given(values)
def test_other_indents(value: object) -> None:
    assert dumps(value, indent=4) == json.dumps(value, indent=4)


class Level(IntEnum):
    LOW = 1


class Name(str):
    pass


def test_subclasses_as_json_writes_them() -> None:
    value = {"enum": Level.LOW, "name": Name("x"), "ordered": OrderedDict(b=[1, (2, 3)], a={}), "empty": [],
             Level.LOW: "int key", 2.5: float("-inf"), None: float("nan")}
    assert dumps(value) == json.dumps(value, indent=2)


def test_what_json_refuses_is_refused() -> None:
    for bad in ({"s": {1, 2}}, {(1, 2): "tuple key"}, [object()]):
        with pytest.raises(TypeError):
            json.dumps(bad, indent=2)
        with pytest.raises(TypeError):
            dumps(bad)
