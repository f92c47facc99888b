"""Findings as SARIF 2.1.0 (OASIS), so code-scanning tools show them on the plan file's lines.

One run; the driver's rules are the checks that ran; each result names its rule by id and index, its level
(error, warning, note), the plan file (a URI relative to the working directory when the file is below it) and
the line and column of the offending field when ``marks`` knows them, and the field path as a logical location.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cnimodel.plan import Origin
from cnimodel.validate import Check, Finding, Report

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def uri(file: str, base: Path) -> str:
    """A relative URI for a file below ``base``, else an absolute ``file://`` URI."""
    p = Path(file)
    try:
        full = p.resolve()
        return full.relative_to(base.resolve()).as_posix()
    except ValueError:
        return full.as_uri()
    except OSError:
        return p.as_posix()


def _rule(c: Check) -> dict[str, Any]:
    return {
        "id": c.code,
        "name": getattr(c, "name", "") or "".join(w.title() for w in c.title.split()[:6] if w.isalnum()),
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": f"{c.title}. Rests on: {c.reference}."},
        "help": {"text": f"cnimodel docs/checks.md, {c.code}. Reference: {c.reference}."},
        "defaultConfiguration": {"level": LEVEL[c.severity]},
        "properties": {"concept": c.concept, "reference": c.reference, "tags": ["cnimodel", c.concept]},
    }


def _location(o: Origin, marks: Mapping[tuple[str, int, str], tuple[int, int]], base: Path,
              ident: int | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri(o.file, base)}}
    hit = marks.get((o.file, o.document, o.path))
    if hit is not None:
        physical["region"] = {"startLine": hit[0], "startColumn": hit[1]}
    loc: dict[str, Any] = {"physicalLocation": physical}
    if o.path:
        loc["logicalLocations"] = [{"fullyQualifiedName": o.path, "kind": "member"}]
    if ident is not None:
        loc["id"] = ident
    return loc


def _result(f: Finding, index: int, marks: Mapping[tuple[str, int, str], tuple[int, int]], base: Path,
            fallback: Origin | None) -> dict[str, Any]:
    places = list(f.locations) or ([fallback] if fallback is not None else [])
    text = f"{f.message}. Fix: {f.fix}." if f.fix else f.message
    result: dict[str, Any] = {
        "ruleId": f.code, "ruleIndex": index, "level": LEVEL[f.severity], "message": {"text": text},
        "properties": {"severity": f.severity, "objects": list(f.objects), "fix": f.fix, "reference": f.reference},
    }
    if places:
        result["locations"] = [_location(places[0], marks, base)]
    if len(places) > 1:
        result["relatedLocations"] = [_location(o, marks, base, i) for i, o in enumerate(places[1:], 1)]
    digest = hashlib.sha256("\0".join([f.code, *(o.path for o in places[:1]), f.message]).encode()).hexdigest()
    result["partialFingerprints"] = {"cnimodelFinding/v1": digest[:32]}
    return result


def render(report: Report, checks: Sequence[Check], marks: Mapping[tuple[str, int, str], tuple[int, int]],
           version: str, base: Path, plan_origin: Origin | None = None) -> dict[str, Any]:
    """The SARIF log: ``checks`` become the driver's rules (in order), ``marks`` give lines and columns."""
    index = {c.code: i for i, c in enumerate(checks)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cnimodel", "version": version, "rules": [_rule(c) for c in checks]}},
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index[f.code], marks, base, plan_origin) for f in report.findings],
        }],
    }
