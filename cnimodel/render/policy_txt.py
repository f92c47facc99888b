"""Reachability as text: netpol-analyzer's ``src => dst : conn`` lines, and the ``--explain`` report."""

from __future__ import annotations

from collections.abc import Iterable

from cnimodel.policy.analysis import Connection
from cnimodel.policy.explain import Explanation

RULE = "-" * 100


def conn_text(c: Connection) -> str:
    """``All Connections``, ``TCP 80,443-450;UDP 53``, ``No Connections``, or why it was not evaluated."""
    return "not evaluated" if c.conns is None else c.conns.text()


def line(c: Connection) -> str:
    """``ns1/a[Pod] => ns2/b[Pod] : TCP 80`` (a note in parentheses for self, own-node and host traffic)."""
    text = f"{c.src.label} => {c.dst.label} : {conn_text(c)}"
    return f"{text} ({c.note})" if c.note else text


def lines(conns: Iterable[Connection]) -> str:
    return "".join(line(c) + "\n" for c in conns)


def explanation(x: Explanation) -> str:
    """One pair: its line, then per direction who selects the local side and what decided each portion."""
    c = x.connection
    out = [RULE, f"{c.src.label} => {c.dst.label} : {conn_text(c)}"]
    if c.note:
        out.append(f"  note: {c.note}")
    for s in x.sides:
        verdict = "ALLOWED" if all(st.allowed for st in s.steps) else \
            "DENIED" if not any(st.allowed for st in s.steps) else "PARTLY ALLOWED"
        out.append(f"  {s.direction.upper()} of {s.subject.label} ({verdict}): {s.status}")
        for title in s.selected_by:
            out.append(f"    selected by {title}")
        for note in s.notes:
            out.append(f"    note: {note}")
        for st in s.steps:
            out.append(f"    {'allowed' if st.allowed else 'denied'} {st.conns.text()}: {st.reason}")
    return "\n".join(out) + "\n"


def explanations(xs: Iterable[Explanation]) -> str:
    return "".join(explanation(x) for x in xs)
