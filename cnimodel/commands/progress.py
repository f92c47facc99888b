"""Progress on long work: a rich display on stderr once a command has run for about two seconds.

Only on a terminal: when stderr is a file or a pipe nothing is drawn, and a command whose answer is JSON passes
``enabled=False``. The display is transient (it leaves nothing behind) and draws from rich's own thread, so a
stage that never reports (reading a plan) still shows its spinner and elapsed time.

>>> with progress() as bar:                                       # doctest: +SKIP
...     bar.stage("reading the plan"); plan = load(paths)
...     bar.stage("writing pairs", total=len(sources)); bar.update(done)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

DELAY = 2.0  # seconds of work before the display appears: quick commands never show it


class Progress:
    """The stages of one command; does nothing until shown."""

    def __init__(self, console: Console | None, delay: float) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"description": "", "total": None, "completed": 0}
        if console is not None:
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=True, redirect_stdout=False,
                            redirect_stderr=False)
            self._timer = threading.Timer(delay, self._show)
            self._timer.daemon = True
            self._timer.start()

    @property
    def shown(self) -> bool:
        return self._task is not None

    def _show(self) -> None:
        with self._lock:
            if self._bar is not None and self._task is None:
                self._task = self._bar.add_task(**self._state)
                self._bar.start()

    def stage(self, description: str, total: int | None = None) -> None:
        """A new stage: what is being done and, when known, how many steps it has."""
        self._set(description=description, total=total, completed=0)

    def update(self, completed: int) -> None:
        """How many steps of the stage are done."""
        self._set(completed=completed)

    def _set(self, **fields: Any) -> None:
        if self._bar is None:
            return
        with self._lock:
            self._state.update(fields)
            if self._task is not None:
                self._bar.update(self._task, **fields)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._task is not None and self._bar is not None:
                self._bar.stop()
            self._bar = None


@contextmanager
def progress(enabled: bool = True, console: Console | None = None, delay: float = DELAY) -> Iterator[Progress]:
    """A progress display on ``console`` (default: the CLI's stderr) if it is a terminal and ``enabled``."""
    if console is None:
        from cnimodel.commands.consoles import ERR

        console = ERR
    p = Progress(console if enabled and console.is_terminal else None, delay)
    try:
        yield p
    finally:
        p.close()


KEY = "cnimodel.progress"  # ctx.meta: the command's display


def for_command(enabled: bool = True) -> Progress:
    """``progress()`` for the running click command, one per command: the first call makes it (``enabled`` then
    decides whether it shows), later calls — the plan reading every command shares, the command's own stages —
    get the same one. Closed when the command's context closes."""
    import click

    from cnimodel.commands.consoles import ERR

    ctx = click.get_current_context()
    p = ctx.meta.get(KEY)
    if p is None:
        p = ctx.meta[KEY] = Progress(ERR if enabled and ERR.is_terminal else None, DELAY)
        ctx.call_on_close(p.close)
    return p  # type: ignore[no-any-return]
