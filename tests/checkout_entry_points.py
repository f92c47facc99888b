"""This checkout's entry points, for a test run whose installed (editable) cnimodel is another checkout's.

Imported by conftest.py before anything imports cnimodel (the CLI registers plugin commands at import).
"""

from __future__ import annotations

import sys
from pathlib import Path


def install() -> None:
    """Make this checkout's entry points visible when the installed (editable) distribution is another
    checkout's: a plugin or command a branch adds is found through pyproject.toml's tables, which only an
    install writes into metadata. Entry points the installed metadata lacks go into a dist-info directory on
    sys.path (and PYTHONPATH, for the CLI run as a process)."""
    import atexit
    import os
    import shutil
    import tempfile
    import tomllib
    from importlib.metadata import entry_points

    tables = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["entry-points"]
    missing = {group: {n: v for n, v in eps.items() if not entry_points(group=group, name=n)}
               for group, eps in tables.items()}
    missing = {g: eps for g, eps in missing.items() if eps}
    if not missing:
        return
    root = Path(tempfile.mkdtemp(prefix="cnimodel-entry-points-"))
    atexit.register(shutil.rmtree, root, True)
    info = root / "cnimodel_checkout-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cnimodel-checkout\nVersion: 0\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{g}]\n" + "".join(f"{n} = {v}\n" for n, v in eps.items()) for g, eps in missing.items()))
    sys.path.append(str(root))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(root)) if p)


install()
