"""Fast copies of frozen fact values, for the thousands of per-peer facts one node holds at scale.

A frozen dataclass's generated __init__ sets each field through object.__setattr__, slow over a 5,000-node
plan's peer routes (tools/bench_foundation.py). Facts of one kind built in a loop differ in two fields,
so they are built as copies of one template's field dict instead. The result is
an ordinary instance: equal, hashable, ordered and frozen like one made by its constructor. Only for fact
classes without __post_init__ or __slots__ (Route, Neighbor, FdbEntry, Encap, HnsPolicy).
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")
_new = object.__new__
_set = object.__setattr__  # frozen classes refuse setattr; this is how their own __init__ sets fields too


def like(template: T, name1: str, value1: Any, name2: str, value2: Any) -> T:
    """``dataclasses.replace(template, name1=value1, name2=value2)`` without running __init__ (no validation,
    no defaults). Two fields by position: the loops here vary two, and keyword arguments would cost as much
    as the constructor for a small class."""
    fields = template.__dict__.copy()
    fields[name1] = value1
    fields[name2] = value2
    obj = _new(type(template))
    _set(obj, "__dict__", fields)
    return obj
