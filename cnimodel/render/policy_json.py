"""Reachability as JSON: ``{"connections": [{"src", "dst", "ports", "other", ...}]}`` (docs/policy.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cnimodel.policy.analysis import Connection
from cnimodel.policy.enforcement import Unenforced
from cnimodel.policy.explain import Explanation


def connection(c: Connection, x: Explanation | None = None) -> dict[str, Any]:
    """One pair; ``ports``/``other`` are null for a pair that was not evaluated (a pod and itself)."""
    out: dict[str, Any] = {"src": c.src.json_name, "dst": c.dst.json_name}
    if c.conns is None:
        out.update({"ports": None, "other": None})
    else:
        out.update(c.conns.to_json())
    if c.note:
        out["note"] = c.note
    if c.variants:  # a workload end whose pods differ: each distinct answer, with an example pair
        out["variants"] = [{"pairs": v.pairs, "src": v.src, "dst": v.dst, **v.conns.to_json()} for v in c.variants]
    if x is not None:
        out["explain"] = explanation(x)
    return out


def document(conns: Iterable[Connection], explanations: Iterable[Explanation] | None = None,
             unenforced: Unenforced | None = None) -> dict[str, Any]:
    """``connections``, and ``unenforced``: the plan's policies that some nodes do not enforce (null when none)."""
    rows = [connection(c) for c in conns] if explanations is None else [
        connection(x.connection, x) for x in explanations]
    return {"unenforced": unenforced.to_json() if unenforced is not None else None, "connections": rows}


def explanation(x: Explanation) -> dict[str, object]:
    """``{"egress": {...}, "ingress": {...}}`` (keys documented in docs/policy.md)."""
    out: dict[str, object] = {}
    for s in x.sides:
        out[s.direction] = {
            "subject": s.subject.json_name,
            "status": s.status,
            "selected_by": s.selected_by,
            "notes": s.notes,
            "steps": [{**st.conns.to_json(), "allowed": st.allowed, "reason": st.reason, "hops": st.hops}
                      for st in s.steps],
        }
    return out
