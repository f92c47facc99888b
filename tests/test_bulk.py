"""bulk(): the cyclic GC is paused inside, back on after the outermost block, and a large block's objects are
frozen so the first collections after loading a big plan do not walk them all again."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cnimodel.bulk import FREEZE_AT, bulk


@pytest.fixture
def fresh_gc() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    gc.collect()
    try:
        yield
    finally:
        gc.unfreeze()
        if not was:
            gc.disable()


def test_large_block_is_frozen_and_gc_is_back_on(fresh_gc: None) -> None:
    before = gc.get_freeze_count()
    with bulk():
        assert not gc.isenabled()
        kept = [[i] for i in range(FREEZE_AT + 1000)]  # one tracked list each
    assert gc.isenabled()
    assert gc.get_freeze_count() - before >= FREEZE_AT
    assert gc.get_count()[0] < 1000  # nothing young left for the next collection to walk
    del kept


def test_the_count_of_frozen_objects_follows_the_collector(fresh_gc: None) -> None:
    """``frozen_objects`` (read at once) against ``gc.get_freeze_count()`` (a walk of the generation)."""
    from cnimodel.bulk import frozen_objects

    before, counted = gc.get_freeze_count(), frozen_objects()
    with bulk():
        kept = [[i] for i in range(FREEZE_AT + 1000)]
        dropped = [[i] for i in range(5000)]
        del dropped  # made and freed in the block: not counted
    moved = gc.get_freeze_count() - before
    assert FREEZE_AT + 1000 <= frozen_objects() - counted <= moved
    del kept


def test_small_block_is_not_frozen(fresh_gc: None) -> None:
    before = gc.get_freeze_count()
    with bulk():
        kept = [[i] for i in range(100)]
    assert gc.isenabled() and gc.get_freeze_count() == before
    del kept


def test_nested_blocks_leave_gc_off_until_the_outermost_ends(fresh_gc: None) -> None:
    before = gc.get_freeze_count()
    with bulk():
        with bulk():
            kept = [[i] for i in range(FREEZE_AT + 1000)]
        assert not gc.isenabled() and gc.get_freeze_count() == before  # the inner block neither enables nor freezes
    assert gc.isenabled() and gc.get_freeze_count() - before >= FREEZE_AT
    del kept


def test_cyclic_garbage_after_a_block_is_still_collected(fresh_gc: None) -> None:
    with bulk():
        kept = [[i] for i in range(FREEZE_AT + 1000)]
    a: list = []
    a.append(a)  # a cycle made after the block: the collector still sees it
    del a
    assert gc.collect() >= 1
    del kept
