"""The check registry: every check is a small function with a stable code, a severity, a concept, a title and
the reference it rests on. A check yields ``Hit``s; the runner stamps them into ``Finding``s.

Codes are ``CNI-<AREA>-<NNN>`` (areas: ADDR address plan, OVL overlay, ROUTE routing, WIN Windows, POL policy,
SCALE scale envelope, NAME names and labels the API server refuses, PLAN findings the plan loader already
made). A code never changes meaning; a retired code is not reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cnimodel.plan import Origin

if TYPE_CHECKING:
    from cnimodel.validate.context import Context

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
CONCEPTS = ("address", "overlay", "routing", "windows", "policy", "scale", "names", "plan")


@dataclass(frozen=True)
class Hit:
    """What one check found: the sentence, the fix, the objects involved (``ns/name[Kind]``) and where in the
    plan files the offending fields are."""

    message: str
    fix: str
    objects: tuple[str, ...] = ()
    at: tuple[Origin, ...] = ()


@dataclass(frozen=True)
class Check:
    """One registered check."""

    code: str
    severity: Severity
    concept: str
    title: str
    reference: str
    run: Callable[[Context], Iterable[Hit]]
    needs_cluster: bool = True

    @property
    def name(self) -> str:
        """The function's name in CamelCase (SARIF ``rule.name``)."""
        return "".join(part.title() for part in self.run.__name__.strip("_").split("_"))


@dataclass(frozen=True)
class Finding:
    """A check's finding: code, severity, the objects involved, message, fix and the reference it rests on."""

    code: str
    severity: Severity
    concept: str
    title: str
    message: str
    fix: str
    objects: tuple[str, ...]
    locations: tuple[Origin, ...]
    reference: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code, "severity": self.severity, "concept": self.concept, "title": self.title,
            "message": self.message, "fix": self.fix, "objects": list(self.objects),
            "locations": [{"file": o.file, "document": o.document, "path": o.path} for o in self.locations],
            "reference": self.reference,
        }


CHECKS: dict[str, Check] = {}


def check(code: str, severity: Severity, concept: str, title: str, reference: str, needs_cluster: bool = True,
          ) -> Callable[[Callable[[Context], Iterable[Hit]]], Callable[[Context], Iterable[Hit]]]:
    """Register a check function under ``code``: ``@check("CNI-ADDR-001", "error", "address", "…", "…")``.

    ``needs_cluster`` False: the check reads only the plan's objects and also runs on manifests without a
    ClusterPlan (the policy lints)."""
    assert concept in CONCEPTS, concept
    assert severity in SEVERITIES, severity

    def register(fn: Callable[[Context], Iterable[Hit]]) -> Callable[[Context], Iterable[Hit]]:
        if code in CHECKS:
            raise ValueError(f"check code {code} registered twice")
        CHECKS[code] = Check(code, severity, concept, title, reference, fn, needs_cluster)
        return fn

    return register


def at_least(severity: Severity, minimum: Severity) -> bool:
    return RANK[severity] >= RANK[minimum]
