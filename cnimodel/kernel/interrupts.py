"""Interrupts (Ctrl-C, SIGTERM) held back while the kernel is mid-step, so ``netns up`` can always clean up.

A KeyboardInterrupt lands between any two bytecodes: between creating a namespace and recording it, half-way
through opening a netlink socket (whose event loop then complains when it is collected), or while this thread
is inside another namespace. ``guarded()`` installs a handler for SIGINT and SIGTERM for the length of a kernel
job; inside it, ``held()`` sections only note a signal, which is raised as KeyboardInterrupt when the outermost
section ends — at a point where every object is whole and recorded. Outside ``guarded()`` (another thread, or
Python's own handler) the sections change nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _State:
    guarded = False
    depth = 0
    pending = False


_state = _State()


def _handler(_sig: int, _frame: FrameType | None) -> None:
    if _state.depth:
        _state.pending = True
        return
    raise KeyboardInterrupt


@contextmanager
def guarded() -> Iterator[None]:
    """Route SIGINT and SIGTERM through the holding handler for the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or _state.guarded:
        yield
        return
    old = {s: signal.signal(s, _handler) for s in _SIGNALS}
    _state.guarded, _state.depth, _state.pending = True, 0, False
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        pending = _state.pending and _state.depth == 0
        _state.guarded, _state.depth, _state.pending = False, 0, False
        if pending:
            raise KeyboardInterrupt


def hold() -> None:
    """Start a section in which an interrupt is only noted."""
    _state.depth += 1


def release(undo: Callable[[], Any] | None = None) -> None:
    """End a section; an interrupt noted during the outermost one is raised now (after ``undo`` ran)."""
    _state.depth -= 1
    if _state.depth == 0 and _state.pending:
        _state.pending = False
        if undo is not None:
            undo()
        raise KeyboardInterrupt


def drop() -> None:
    """End a section, forgetting any interrupt noted (a cleanup that re-raises its own cause)."""
    _state.depth -= 1
    if _state.depth == 0:
        _state.pending = False


@contextmanager
def held() -> Iterator[None]:
    """``with held(): …``: the block runs whole; an interrupt during it is raised when it ends."""
    hold()
    try:
        yield
    except BaseException:
        drop()
        raise
    release()
