"""A streamed answer must be, byte for byte, the text of the whole value: ``json_text.dumps_bytes`` is the oracle,
on generated values whose lists are given as Lazy ones (as generators, read once) at every depth."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnimodel.render import json_stream
from cnimodel.render.json_text import dumps_bytes

scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6)
                      | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=30)
documents = st.dictionaries(st.text(max_size=4), values, max_size=5) | st.lists(values, max_size=5)


def lazied(value: Any, draw: st.DataObject) -> Any:
    """The value with some of its lists (not the top one) given as Lazy generators. Inside a Lazy's items, as
    the writer takes them: only in a dict item holding a Lazy as one of its own values (then at any depth)."""
    def go(v: Any, top: bool, allow: bool) -> Any:
        if isinstance(v, dict):
            return {k: go(x, False, allow) for k, x in v.items()}
        if isinstance(v, list):
            if allow and not top and draw.draw(st.booleans()):
                items = [item(x) for x in v]
                nested = any(json_stream._lazy_in(x) for x in items) or draw.draw(st.booleans())
                return json_stream.Lazy((x for x in items), nested=nested)
            return [go(x, False, allow) for x in v]
        return v

    def item(x: Any) -> Any:
        if isinstance(x, dict) and draw.draw(st.booleans()):
            streamed = {k: go(y, False, True) for k, y in x.items()}
            if any(type(y) is json_stream.Lazy for y in streamed.values()):
                return streamed
        return go(x, False, False)
    return go(value, True, True)


def streamed(value: Any, indent: int = 2) -> bytes:
    pieces: list[bytes] = []
    json_stream.write(pieces.append, value, indent)
    return b"".join(pieces)


@pytest.mark.parametrize("batch", [1, 2, 500])
@settings(max_examples=150)
@given(documents, st.data())
def test_streamed_is_the_whole_text(batch: int, value: Any, data: st.DataObject) -> None:
    json_stream.BATCH, saved = batch, json_stream.BATCH
    try:
        assert streamed(lazied(value, data)) == dumps_bytes(value)
        assert streamed(lazied(value, data), indent=4) == dumps_bytes(value, indent=4)
    finally:
        json_stream.BATCH = saved


def test_items_made_as_written() -> None:
    """The items of a Lazy are made one batch at a time, after what stands before them is written."""
    made: list[int] = []
    written: list[bytes] = []

    def items() -> Any:
        for i in range(5):
            made.append(i)
            yield {"i": i}

    def out(piece: bytes) -> None:
        written.append(piece)
        assert len(made) <= 2 * len(written)  # never the whole list ahead of the writing

    json_stream.BATCH, saved = 1, json_stream.BATCH
    try:
        json_stream.write(out, {"head": 1, "items": json_stream.Lazy(items()), "tail": []})
    finally:
        json_stream.BATCH = saved
    assert b"".join(written) == dumps_bytes({"head": 1, "items": [{"i": i} for i in range(5)], "tail": []})
    assert written[0].startswith(b'{\n  "head": 1,\n  "items": ') and made
