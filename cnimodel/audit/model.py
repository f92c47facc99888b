"""The audit's answers: differences between the model and the state people paste, each with what fixes it (as
data: ``cnimodel.render.scripts.fixes`` writes the apply script's lines), and the errors for input that cannot
be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fix:
    """One step that puts a difference right: an ``action`` (``ip-route``, ``ip-route-del``, ``netroute``,
    ``hns-network-del``, ``az-route``, ``kube-proxy-restart`` …, the keys of ``fixes.LINES``) and the facts or
    names it acts on."""

    action: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Difference:
    """``status`` missing (in the model, not live), extra (live, not in the model) or different; ``fix`` the
    steps, in order, that put it right."""

    status: str
    kind: str  # route, neighbor, fdb, netroute, hns-network, hns-network-policy, hns-endpoint, endpoint-policy, …
    key: str
    model: str
    live: str
    fix: tuple[Fix, ...] = ()


@dataclass(frozen=True)
class Source:
    """One input file and what it was read as."""

    file: str
    kind: str
    entries: int

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "kind": self.kind, "entries": self.entries}


@dataclass
class AuditReport:
    """What an audit found on one node: of a live host or namespace (``netns``), or of captured state
    (``sources``)."""

    node: str
    sources: list[Source] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    netns: str | None = None  # a live audit of a network namespace (None: this host, or captured state)

    @property
    def ok(self) -> bool:
        return not self.differences



class InputError(ValueError):
    """A file that cannot be audited: unreadable, truncated, of an unknown kind, or from another cluster."""

    def __init__(self, file: str, message: str, fix: str, where: str = "") -> None:
        self.file, self.where, self.fix = file, where, fix
        super().__init__(message)

    def render(self) -> str:
        place = f"{self.file} {self.where}" if self.where else self.file
        return f"{place}: {self}\n    fix: {self.fix}"
