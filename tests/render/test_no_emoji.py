"""Text is printed as written: rich would turn `:100:` (an IPv6 address such as fd00:100::10, a file name, an
address:port:protocol triple) into an emoji unless its consoles are told not to."""

from __future__ import annotations

import shutil
from pathlib import Path

from builders import run_process

ROOT = Path(__file__).resolve().parents[2]


def test_colon_words_stay_text(tmp_path: Path) -> None:
    plan = tmp_path / "hy:100:brid.yaml"
    shutil.copy(ROOT / "topologies" / "default.yaml", plan)
    first = run_process("summary", str(plan)).stdout.splitlines()[0]
    assert first.endswith(f"({plan})")
    assert "\N{HUNDRED POINTS SYMBOL}" not in first
