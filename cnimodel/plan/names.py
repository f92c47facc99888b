"""What a name a user types stands for: ``ns/name`` is a pod, or else a workload's pods; ``ns/name[Kind]``
picks the kind (``[Pod]`` only a pod). Shared by the commands that accept workload names (reach, lb, check,
trace), so all of them read a name the same way and fail with the same words.

>>> [p.name for p in resolve_pods(plan, "web/iis")]           # doctest: +SKIP
['iis-5c8f6d9b7z-0', 'iis-5c8f6d9b7z-1']
"""

from __future__ import annotations

import re

from cnimodel.plan.errors import Error
from cnimodel.plan.model import Plan, Pod


class NameError_(Error, ValueError):  # the trailing underscore keeps clear of the builtin NameError
    """A name that stands for no pod: the message says what the plan holds instead."""


_NAME = re.compile(r"^(?:(?P<ns>[^/\[\]]+)/)?(?P<name>[^/\[\]]+)(?:\[(?P<kind>[A-Za-z]+)\])?$")
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[object, ...]:
    """Sort key that orders ``web-2`` before ``web-10`` (replica ordinals), so "the first pod" of a workload
    is its ordinal 0, as the controller made it, and not whatever sorts first as text."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(name))


def resolve_pods(plan: Plan, name: str) -> list[Pod]:
    """The pods ``ns/name`` (``ns`` defaults to ``default``) or ``ns/name[Kind]`` stands for, in a
    deterministic order (namespace, then natural name order); a pod of that name wins over a workload
    unless a kind other than ``Pod`` is given. Raises NameError_ naming what exists instead."""
    m = _NAME.match(name.strip())
    if m is None:
        raise NameError_(f"{name!r} is not NAMESPACE/NAME or NAMESPACE/NAME[Kind]")
    ns, short, kind = m.group("ns") or "default", m.group("name"), m.group("kind")
    if kind is not None and kind.lower() == "pod":
        kind = "Pod"
    if kind in (None, "Pod"):
        hit = [p for p in plan.pods if p.namespace == ns and p.name == short]
        if hit:
            return hit
        if kind == "Pod":
            raise NameError_(f"no pod {ns}/{short} in the plan" + _hint(plan, ns))
    kinds = {w.kind.lower(): w.kind for w in plan.workloads} | {p.owner.kind.lower(): p.owner.kind
                                                               for p in plan.pods if p.owner is not None}
    want = kinds.get(kind.lower(), kind) if kind is not None else None  # [deployment] reads as [Deployment]
    pods = [p for p in plan.pods if p.owner is not None and p.owner.namespace == ns and p.owner.name == short
            and (want is None or p.owner.kind == want)]
    if pods:
        return sorted(pods, key=lambda p: natural_key(p.name))
    same = [w for w in plan.workloads if w.namespace == ns and w.name == short]
    if same and want is not None and all(w.kind != want for w in same):
        have = ", ".join(sorted(str(w.ref) for w in same))
        raise NameError_(f"{ns}/{short} is {have}, not a {want}")
    if same:
        w = next((w for w in same if want is None or w.kind == want), same[0])
        raise NameError_(f"{w.ref} has no pods: it has no replicas, none could be scheduled (see `cnimodel "
                         "check`), or spec.expand is false")
    what = "pod or workload" if kind is None else ("pod" if kind == "Pod" else want or kind)
    raise NameError_(f"no {what} {ns}/{short} in the plan" + _hint(plan, ns))


def _hint(plan: Plan, ns: str) -> str:
    """A few names of the namespace, so a typo shows its fix; the namespaces when this one is empty."""
    names = sorted({str(p.owner) for p in plan.pods if p.owner is not None and p.owner.namespace == ns}
                   | {f"{p.key}[Pod]" for p in plan.pods if p.namespace == ns and p.owner is None})
    if names:
        return f"; {ns} holds {', '.join(names[:6])}" + (" …" if len(names) > 6 else "")
    spaces = sorted({p.namespace for p in plan.pods})
    return (f"; no pod is in namespace {ns!r} (namespaces with pods: {', '.join(spaces[:8])}"
            + (" …" if len(spaces) > 8 else "") + ")") if spaces else "; the plan has no pods"
