"""Where a finding's field sits in its file: line and column, found by re-reading the file with YAML node marks.

Only the SARIF output asks for it, once per file a finding names; the checks themselves never read files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from cnimodel.plan import Origin
from cnimodel.validate.paths import mark, split
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
        if file.endswith(".json"):
            text = _read(file)
            if text is not None:
                for document, path in places:
                    if document == 0 and (hit := json_mark(text, path)) is not None:
                        out[(file, document, path)] = hit
            continue
        docs = _compose(file)
        for document, path in places:
            if document < len(docs) and docs[document] is not None:
                out[(file, document, path)] = mark(docs[document], path)
    return out


def _read(file: str) -> str | None:
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def json_mark(text: str, path: str) -> tuple[int, int] | None:
    """The (line, column) of ``path`` in a JSON text, like ``mark`` for YAML: the key of the last mapping entry
    the path reaches. Values on the way are skipped by the C decoder, so a 40 MB plan takes a second, not the
    minutes composing it as YAML would."""
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    best = pos
    try:
        for t in split(path):
            if isinstance(t, int):
                if text[pos] != "[":
                    break
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                for _ in range(t):
                    _, pos = _DECODER.raw_decode(text, pos)
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    if text[pos] != ",":
                        return _line_col(text, best)
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                best = pos
            else:
                if text[pos] != "{":
                    break
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                while True:
                    if text[pos] != '"':
                        return _line_col(text, best)
                    key_at = pos
                    key, pos = _DECODER.raw_decode(text, pos)
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # past ':'
                    if key == t:
                        best = key_at
                        break
                    _, pos = _DECODER.raw_decode(text, pos)
                    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                    if text[pos] != ",":
                        return _line_col(text, best)
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    except (IndexError, ValueError):
        pass
    return _line_col(text, best)


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, pos) + 1
    return text.count("\n", 0, pos) + 1, pos - line_start + 1


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
