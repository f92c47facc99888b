"""Imported first by every benchmark: time this checkout's cnimodel, not whatever copy was installed last."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def process_env(checkout: str | Path = ROOT) -> dict[str, str]:
    """The environment for a timed ``python -m cnimodel`` child running ``checkout``'s code, its bytecode
    written first: an installed cnimodel has its .pyc files (pip compiles them), and a checkout run with
    PYTHONDONTWRITEBYTECODE (or a fresh one) would otherwise compile every module in every timed process."""
    import compileall
    import os

    compileall.compile_dir(str(Path(checkout) / "cnimodel"), quiet=1)
    return {**os.environ, "PYTHONPATH": str(checkout)}
