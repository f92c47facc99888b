"""JSON text laid out as ``json.dumps(value, indent=2)`` lays it out, written faster (tools/bench_text.py).

``dumps`` has msgspec's C encoder write the compact text and its formatter lay it out. The text is what
``json.dumps`` writes — the same key order, layout, string escapes (every character past ASCII as ``\\uXXXX``,
as json's default ``ensure_ascii``) and integers — with one difference: a float is written in its shortest
round-trip form as msgspec spells it (``1e16``, ``0.00001``; json writes ``1e+16``, ``1e-05``; the same number for
every JSON reader), and NaN or an infinity, which JSON cannot hold, as ``null`` (json writes ``NaN``, which JSON
readers refuse). Between 0.0001 and 1e16 the two spell a float alike. A value msgspec refuses (a ``str``
subclass, a dict key that is a bool, None or a tuple, a lone surrogate) goes through json's own C encoder, as
before; one json refuses too raises its TypeError. ``walk`` writes ``json.dumps(value, indent)`` exactly in
one walk over the value (the way for NaN and Infinity on that path).
"""

from __future__ import annotations

import codecs
import json
from json.encoder import INFINITY
from json.encoder import encode_basestring_ascii as _text
from typing import Any

import msgspec

_int = int.__repr__
_encode = msgspec.json.Encoder().encode


_ASCII = bytes(range(0x7f))  # (0x7f is ASCII, yet json escapes it)


def _escaped(compact: bytes) -> bytes:
    """``compact`` with every character past ASCII (and DEL) escaped as json escapes it. The few distinct ones a
    large answer holds ("…") are found by deleting the ASCII bytes (what is left is whole UTF-8 sequences) and
    replaced one by one, each a pass in C; a text with many distinct ones goes through the codec once."""
    rest = compact.translate(None, _ASCII)
    if not rest:
        return compact
    chars = set(rest.decode())
    if len(chars) > 8:
        return compact.decode().encode("ascii", "cnimodel.json-ascii").replace(b"\x7f", b"\\u007f")
    for c in chars:
        compact = compact.replace(c.encode(), _text(c)[1:-1].encode())
    return compact


def _ascii(error: UnicodeError) -> tuple[str, int]:
    """A run of characters past ASCII as json escapes them (``\\u2026``; a pair of surrogates past U+FFFF)."""
    assert isinstance(error, UnicodeEncodeError)
    return _text(error.object[error.start:error.end])[1:-1], error.end


codecs.register_error("cnimodel.json-ascii", _ascii)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == INFINITY:
        return "Infinity"
    if value == -INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """A dict key as json writes it: strings as they are, the other scalars as their JSON text."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return _float(key)
    if isinstance(key, int):
        return _int(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def dumps(value: Any, indent: int = 2) -> str:
    """The JSON text of ``value``, laid out with ``indent`` spaces (see the module's docstring)."""
    return dumps_bytes(value, indent).decode("ascii")


def dumps_bytes(value: Any, indent: int = 2) -> bytes:
    """``dumps`` as ASCII bytes, for an answer written straight to a binary stream."""
    try:
        compact = _encode(value)
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):  # ValueError: a lone surrogate
        return _dumps_json(value, indent).encode("ascii")
    if not compact.isascii() or b"\x7f" in compact:  # (such characters only occur inside strings)
        compact = _escaped(compact)
    return msgspec.json.format(compact, indent=indent)


def _dumps_json(value: Any, indent: int) -> str:
    """Through json's C encoder: its compact text laid out by msgspec's formatter; NaN and Infinity by
    ``walk``."""
    # (check_circular off: a value with a cycle fails all the same, on Python's recursion limit)
    compact = json.dumps(value, check_circular=False)
    try:
        return msgspec.json.format(compact, indent=indent)
    except msgspec.DecodeError:
        return walk(value, indent)


def walk(value: Any, indent: int = 2) -> str:
    """``json.dumps(value, indent=indent)`` in one walk over ``value``."""
    parts: list[str] = []
    add = parts.append
    step = " " * indent

    # (strings and ints, most values, are written inline in the loops: a call per value costs a third)
    def write(v: Any, pad: str) -> None:
        t = type(v)
        if t is not dict and t is not list and t is not tuple:  # containers come here most: tested first
            if t is str:
                add(_text(v))
            elif t is int:
                add(_int(v))
            elif v is None:
                add("null")
            elif v is True:
                add("true")
            elif v is False:
                add("false")
            elif t is float:
                add(_float(v))
            elif isinstance(v, dict | list | tuple):
                write(dict(v) if isinstance(v, dict) else list(v), pad)  # a subclass, as its base type
            elif isinstance(v, str):  # subclasses of the scalars, as json treats them
                add(_text(v))
            elif isinstance(v, int):
                add(_int(v))
            elif isinstance(v, float):
                add(_float(v))
            else:
                raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")
        elif t is dict:
            if not v:
                add("{}")
                return
            inner = pad + step
            sep = ",\n" + inner
            add("{\n" + inner)
            first = True
            for k, item in v.items():
                if first:
                    first = False
                else:
                    add(sep)
                add(_text(k if type(k) is str else _key(k)))
                add(": ")
                t = type(item)
                if t is str:
                    add(_text(item))
                elif t is int:
                    add(_int(item))
                elif item is None:
                    add("null")
                elif item is True:
                    add("true")
                elif item is False:
                    add("false")
                else:
                    write(item, inner)
            add("\n" + pad + "}")
        else:
            if not v:
                add("[]")
                return
            inner = pad + step
            sep = ",\n" + inner
            add("[\n" + inner)
            first = True
            for item in v:
                if first:
                    first = False
                else:
                    add(sep)
                t = type(item)
                if t is str:
                    add(_text(item))
                elif t is int:
                    add(_int(item))
                else:
                    write(item, inner)
            add("\n" + pad + "]")

    write(value, "")
    return "".join(parts)
