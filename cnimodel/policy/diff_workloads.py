"""The reachability diff at netpol-analyzer's unit: workloads (``ns/web[Deployment]``), bare pods and
external ranges. A workload is matched across the plans by its name, whatever its pods are called (a
changed pod template renames a Deployment's pods); its answer in each plan is what every pair of its pods
allows (cnimodel/policy/groups.py), so pods added or removed by a replica count change no line.
"""

from __future__ import annotations

from collections.abc import Iterator

from cnimodel.policy.analysis import Peer, Reachability
from cnimodel.policy.connset import ConnSet
from cnimodel.policy.diff import DiffKind, DiffRow, joint_externals
from cnimodel.policy.groups import EndGroup, by_workload, connection


def diff_workloads(a: Reachability, b: Reachability) -> Iterator[DiffRow]:
    """Rows in source, destination order: workloads and pods by name, then external ranges."""
    ends_a = {e.label: e for e in by_workload(a, a.pods())}
    ends_b = {e.label: e for e in by_workload(b, b.pods())}
    names = sorted(ends_a.keys() | ends_b.keys(), key=_order)
    ends: list[tuple[Peer | None, Peer | None]] = [(ends_a.get(n), ends_b.get(n)) for n in names]
    ends += joint_externals(a, b)
    answer_a, answer_b = _Answers(a), _Answers(b)
    for s in ends:
        for d in ends:
            if all(e is not None and e.kind == "external" for e in (s[0] or s[1], d[0] or d[1])):
                continue  # a workload to itself stays: what its pods allow one another
            before, after = answer_a(s[0], d[0]), answer_b(s[1], d[1])
            if before == after:
                continue
            kind: DiffKind = "changed" if before and after else "added" if after else "removed"
            info = [f"{label} {x[1].label} added" if x[0] is None else f"{label} {x[0].label} removed"
                    for label, x in (("source", s), ("destination", d)) if x[0] is None or x[1] is None]
            yield DiffRow(kind, s[1] or s[0], d[1] or d[0], before, after, "; ".join(info))  # type: ignore[arg-type]


def _order(label: str) -> tuple[str, str]:
    ns, _, rest = label.partition("/")
    return ns, rest


class _Answers:
    """What one end may open to another in one plan, worked out once per pair of pod kinds: ends holding the
    same kinds of pod (one class, no host end: most replicas of most workloads) answer alike, so a plan of
    thousands of workloads evaluates a few hundred distinct pairs, not millions."""

    def __init__(self, r: Reachability) -> None:
        self.r = r
        self.known: dict[tuple[object, ...], ConnSet] = {}
        self.sides: dict[int, EndGroup] = {}

    def _side(self, e: Peer) -> EndGroup:
        got = self.sides.get(id(e))
        if got is None:
            got = self.sides[id(e)] = EndGroup(e)
        return got

    def __call__(self, s: Peer | None, d: Peer | None) -> ConnSet:
        """Nothing when either end is missing from the plan or the pair is not evaluated."""
        if s is None or d is None:
            return ConnSet.NONE
        ss, sd = self._side(s), self._side(d)
        key = None
        if ss.names.isdisjoint(sd.names):  # (an end and itself answers for its own pairs: not shared)
            key = (ss.kinds(sd), sd.kinds(ss))
            if key in self.known:
                return self.known[key]
        c = connection(self.r, s, d, sides=(ss, sd))
        conns = ConnSet.NONE if c.conns is None else c.conns
        if key is not None:
            self.known[key] = conns
        return conns
