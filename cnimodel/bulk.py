"""Bulk work without the cyclic garbage collector.

Loading a 150,000-pod plan creates millions of small containers, none of them cyclic; with the collector
on, its repeated full passes cost several times the parsing itself (figures: tools/bench_foundation.py).

Turning the collector back on is not free either: everything allocated in the block sits in the youngest
generation, so the next collections walk all of it (paid by whichever query
comes first) and a later full collection walks it again. A large block's objects are the plan and the
cluster — alive as long as the process uses them — so they are moved to the permanent generation instead
(gc.freeze), where collections skip them. Only cyclic garbage made inside such a block outlives it, and
reference counting still frees everything else.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

# Below this many new container objects (≈ a 400-node plan) the collections after the block cost a few ms: no freeze,
# so the many small plans of a test session stay collectable.
FREEZE_AT = 10_000

_frozen = 0  # objects moved to the permanent generation by ``freeze_objects`` (about: see there)


def freeze_objects() -> None:
    """``gc.freeze()``, counting what it moves: ``gc.get_freeze_count()`` walks the whole permanent generation
    (50 ms at the 1.5 million objects of a 10,000-Service plan), this count is read at once."""
    global _frozen
    _frozen += gc.get_count()[0]  # (tracked objects made and not freed since the last collection or freeze)
    gc.freeze()


def frozen_objects() -> int:
    """About how many objects ``freeze_objects`` moved to the permanent generation in this process."""
    return _frozen


@contextmanager
def bulk(freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic GC for the block (nesting-safe); reference counting still frees memory.

    On leaving the outermost block normally after a large allocation — or any allocation with ``freeze``,
    for blocks whose results are cached as long as their cluster — the objects are frozen (see above).
    Never after an exception: its traceback's frames are cyclic garbage the collector must still see.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    done = False
    try:
        yield
        done = True
    finally:
        if was_enabled:
            if done and (freeze or gc.get_count()[0] >= FREEZE_AT):
                freeze_objects()
            gc.enable()


def frozen(cls: type[T], **fields: Any) -> T:
    """An instance of the frozen dataclass ``cls`` from every one of its fields, without the generated
    ``__init__``, which sets each field through ``object.__setattr__`` (slow for many fields): for the records a
    large plan makes by the 100,000 (pods, their origins, Services). The caller passes every field; the
    instance compares, hashes and refuses assignment as one built by ``__init__`` does."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def replaced(obj: T, **changes: Any) -> T:
    """``dataclasses.replace(obj, **changes)`` for a frozen dataclass, as ``frozen`` builds one: its ``__dict__``
    copied with the changes, without the per-call field introspection and the frozen ``__init__``. Values a
    ``cached_property`` kept are copied too: a caller changing a field one of them reads drops it."""
    new = object.__new__(type(obj))
    fields = new.__dict__
    fields.update(obj.__dict__)
    fields.update(changes)
    return new
