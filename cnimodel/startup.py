"""The ``cnimodel`` program's first import: a Ctrl-C while it is still importing its modules ends it with one
line and status 130 (as an interrupt later does, cnimodel/commands/base.py), not a KeyboardInterrupt traceback.

cnimodel/__init__.py imports it first thing when the program starts (only Python's own start-up is outside).
Only when the running program is ``cnimodel`` (or ``python -m cnimodel``): a library user keeps their own hook.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

_previous = sys.excepthook


def _quiet_interrupt(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
        os._exit(130)  # raising from an excepthook would print a second traceback
    _previous(kind, value, tb)


# `python -m cnimodel` imports the package while argv[0] is still "-m"; the console script's argv[0] is its path.
if sys.argv and (sys.argv[0] == "-m" or sys.argv[0].endswith(("cnimodel", os.path.join("cnimodel", "__main__.py")))):
    sys.excepthook = _quiet_interrupt
