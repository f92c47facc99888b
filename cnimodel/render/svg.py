"""SVG through Graphviz: the system ``dot`` lays out DOT text (from ``render.dot`` or ``render.policy_dot``)."""

from __future__ import annotations

import shutil
import subprocess


class GraphvizMissing(RuntimeError):
    """``dot`` is not on PATH."""


def to_svg(dot_text: str, engine: str = "dot", timeout: float = 600) -> str:
    """SVG of ``dot_text``; raises GraphvizMissing without Graphviz and RuntimeError when it fails."""
    exe = shutil.which(engine)
    if exe is None:
        raise GraphvizMissing(f"Graphviz `{engine}` is not installed (Debian: apt-get install graphviz); "
                              "-o dot prints the DOT text instead")
    done = subprocess.run([exe, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout.decode("utf-8")
