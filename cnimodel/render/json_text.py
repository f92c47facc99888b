"""JSON text as ``json.dumps(value, indent=2)`` writes it, byte for byte, faster (tools/bench_text.py).

With ``indent`` set, the standard library leaves its C encoder for a pure-Python generator chain, slow on one
node's HNS objects of a 10,000-Service plan. ``dumps`` has the C encoder write the compact text and msgspec's
formatter lay it out (it copies every scalar's text as it is); where the value holds what JSON does not (NaN,
Infinity), ``walk`` writes it in one walk over the value, appending pieces to one list, strings through the
C escaper (``ensure_ascii``, as json's default). Both take what ``json.dumps`` takes without a ``default``:
dicts, lists, tuples, str, int, float, bool, None (subclasses too), and the same non-string keys.
"""

from __future__ import annotations

import json
from json.encoder import INFINITY
from json.encoder import encode_basestring_ascii as _text
from typing import Any

import msgspec

_int = int.__repr__


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
    """``json.dumps(value, indent=indent)``: the standard C encoder's compact text (the same scalars, escapes
    and key order), laid out by msgspec's formatter; values JSON does not hold (NaN, Infinity) by ``walk``."""
    # (check_circular off: a value with a cycle fails all the same, on Python's recursion limit; the check's
    # bookkeeping per container is a tenth of the encoding of a large answer. The formatter takes the text as
    # it is, str in, str out.)
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
