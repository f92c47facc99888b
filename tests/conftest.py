"""The fixtures the tests share; the builders live in tests/builders.py (``from builders import …``)."""

from __future__ import annotations

from pathlib import Path

import checkout_entry_points  # noqa: F401  (first: this checkout's plugins and commands, before cnimodel loads them)
import pytest
from builders import cluster_doc, pod_doc, write_docs


@pytest.fixture
def worked(tmp_path: Path) -> Path:
    """The §10 worked example as a plan file, with two pods on lin1 and two on win1."""
    docs = [cluster_doc(),
            pod_doc("a", "lin1"), pod_doc("b", "lin1"),
            pod_doc("w-0", "win1", namespace="web"), pod_doc("w-1", "win1", namespace="web")]
    return write_docs(tmp_path / "worked.yaml", docs)
