"""Where a finding's field sits in its file: line and column, found by re-reading the file with YAML node marks.

Only the SARIF output asks for it, once per file a finding names; the checks themselves never read files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from cnimodel.plan import Origin
from cnimodel.validate.paths import mark
from cnimodel.validate.registry import Finding

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Key = tuple[str, int, str]


def marks(findings: Iterable[Finding]) -> dict[Key, tuple[int, int]]:
    """``(file, document, path) → (line, column)`` (1-based) for every location the findings name and the
    files hold; locations in unreadable files are left out."""
    wanted: dict[str, set[tuple[int, str]]] = {}
    for f in findings:
        for o in f.locations:
            wanted.setdefault(o.file, set()).add((o.document, o.path))
    out: dict[Key, tuple[int, int]] = {}
    for file, places in wanted.items():
        docs = _compose(file)
        for document, path in places:
            if document < len(docs) and docs[document] is not None:
                out[(file, document, path)] = mark(docs[document], path)
    return out


def _compose(file: str) -> list[yaml.Node | None]:
    path = Path(file)
    if not path.is_file():
        return []
    try:
        with path.open(encoding="utf-8") as stream:
            return list(yaml.compose_all(stream, Loader=_Loader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []


def key(o: Origin) -> Key:
    return (o.file, o.document, o.path)
