"""Problems found in plan input: each names the file, the document, the field path, what is wrong and the fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cnimodel.bulk import frozen

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Origin:
    """Where an object came from: file, document index in that file, and the path of the object inside it."""

    file: str
    document: int = 0
    path: str = ""

    def where(self) -> str:
        """``plan.yaml (document 2) items[3]``: the place as messages name it."""
        text = self.file + (f" (document {self.document + 1})" if self.document else "")
        return f"{text} {self.path}" if self.path else text

    def at(self, sub: str) -> Origin:
        """The origin of a field below this object: ``origin.at("spec.nodes[3]")``."""
        if not sub:
            return self
        if not self.path:
            return origin_at(self.file, self.document, sub)
        sep = "" if sub.startswith("[") else "."
        return origin_at(self.file, self.document, f"{self.path}{sep}{sub}")


def origin_at(file: str, document: int, path: str) -> Origin:
    """The loader makes one per listed object (150,000 and more): built without the frozen ``__init__``."""
    return frozen(Origin, file=file, document=document, path=path)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in the plan input."""

    origin: Origin
    message: str
    hint: str = ""
    severity: Severity = "error"

    def render(self) -> str:
        """``plan.yaml (document 1) spec.nodes[3].ip: message\\n  fix: hint``."""
        text = f"{self.origin.where()}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n    fix: {self.hint}"
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "file": self.origin.file,
            "document": self.origin.document,
            "path": self.origin.path,
            "message": self.message,
            "fix": self.hint,
        }


class Error(Exception):
    """Every error cnimodel raises for its users (``cnimodel.Error``): bad plan input, or a question the plan
    cannot answer (an unknown name, a malformed address). The message says what is wrong and how to fix it."""


class QuestionError(Error):
    """A question the plan cannot answer: an unknown node, pod or Service, a malformed address."""


class EndpointError(QuestionError, ValueError):
    """An endpoint name (``cnimodel.plan.names`` grammar) that cannot be read or stands for nothing the plan
    holds; the message says what would be accepted, or what the plan holds instead."""


class PlanError(Error):
    """Raised when plan input cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity != "error"]
        super().__init__("\n".join(p.render() for p in self.problems) or "invalid plan")


@dataclass
class Problems:
    """A collector: parsers and checks report into it and go on, so the user sees every problem at once."""

    items: list[Problem] = field(default_factory=list)

    def error(self, origin: Origin, message: str, hint: str = "") -> None:
        self.items.append(frozen(Problem, origin=origin, message=message, hint=hint, severity="error"))

    def warn(self, origin: Origin, message: str, hint: str = "") -> None:
        # (bulk.frozen: a large plan's warnings come by the 10,000, e.g. one per pod whose image cannot run)
        self.items.append(frozen(Problem, origin=origin, message=message, hint=hint, severity="warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise PlanError(self.items)
