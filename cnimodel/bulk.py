"""Bulk work without the cyclic garbage collector.

Loading a 150,000-pod plan creates millions of small containers, none of them cyclic; with the collector
on, its repeated full passes cost 4x the parsing itself (5.6 s vs 0.9 s for json.loads of a 42 MB plan).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic GC for the block (nesting-safe); reference counting still frees memory."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
