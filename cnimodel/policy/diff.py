"""Semantic diff of two plans' reachability: the pairs whose connections were added, removed or changed.

Endpoints are matched by name (pods by namespace/name; external ranges cut at the boundaries of both
plans). Pods are grouped by their (class in A, class in B) pair, so the class matrices are compared group
by group and only differing group pairs are expanded to pod pairs. hostNetwork pods are compared one by
one, since their answers depend on which node they share with the other end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np

from cnimodel.policy.analysis import Peer, Reachability
from cnimodel.policy.connset import ConnSet

DiffKind = Literal["changed", "added", "removed"]


@dataclass(frozen=True)
class DiffRow:
    kind: DiffKind
    src: Peer          # the endpoint as plan B has it (plan A's when only A has it)
    dst: Peer
    before: ConnSet        # NONE when nothing was allowed, or the endpoint was not in plan A
    after: ConnSet
    info: str = ""


def joint_externals(a: Reachability, b: Reachability) -> list[tuple[Peer, Peer]]:
    """The external ranges of both plans, cut at the boundaries of either: each as (A's, B's) endpoint."""
    cuts = sorted({iv.lo for iv in a.u.intervals} | {iv.lo for iv in b.u.intervals} | {1 << 32})
    out = []
    for lo, nxt in pairwise(cuts):
        ea, known_a = a.external_range(lo, nxt - 1)
        eb, known_b = b.external_range(lo, nxt - 1)
        if not (known_a and known_b):
            out.append((ea, eb))
    return out


def diff(a: Reachability, b: Reachability) -> Iterator[DiffRow]:
    """Rows in source, destination order: pods by name, then external ranges."""
    pods_a = {e.name: e for e in a.pods()}
    pods_b = {e.name: e for e in b.pods()}
    names = sorted(pods_a.keys() | pods_b.keys(), key=lambda k: tuple(k.split("/", 1)))
    ends: list[tuple[Peer | None, Peer | None]] = [(pods_a.get(n), pods_b.get(n)) for n in names]
    ends += joint_externals(a, b)
    fa, fb = a.class_matrix(), b.class_matrix()
    joint: dict[ConnSet, int] = {ConnSet.NONE: 0}
    map_a = np.array([joint.setdefault(c, len(joint)) for c in a.engine.conns], np.int64)
    map_b = np.array([joint.setdefault(c, len(joint)) for c in b.engine.conns], np.int64)
    by_joint: dict[tuple, list[int]] = defaultdict(list)
    singles: list[int] = []
    for i, (ea, eb) in enumerate(ends):
        if (ea is not None and ea.is_host) or (eb is not None and eb.is_host):
            singles.append(i)
        else:
            by_joint[(ea.cls if ea else -1, eb.cls if eb else -1)].append(i)
    keys = list(by_joint)
    if keys:
        ca = np.array([k[0] for k in keys])
        cb = np.array([k[1] for k in keys])
        ia, ib = np.maximum(ca, 0), np.maximum(cb, 0)
        before = map_a[fa[np.ix_(ia, ia)]]
        after = map_b[fb[np.ix_(ib, ib)]]
        before[(ca < 0)[:, None] | (ca < 0)[None, :]] = 0
        after[(cb < 0)[:, None] | (cb < 0)[None, :]] = 0
        differ = np.argwhere(before != after)
    else:
        differ = np.empty((0, 2), np.int64)
    # Group pairs that differ: every member pair shares the two class answers, computed once.
    answers: dict[tuple[int, int], tuple[ConnSet, ConnSet]] = {}
    pairs: list[tuple[int, int, tuple[int, int] | None]] = []
    for g1, g2 in differ.tolist():
        answers[(g1, g2)] = (a.engine.conns[int(fa[keys[g1][0], keys[g2][0]])] if keys[g1][0] >= 0 and keys[g2][0] >= 0
                             else ConnSet.NONE,
                             b.engine.conns[int(fb[keys[g1][1], keys[g2][1]])] if keys[g1][1] >= 0 and keys[g2][1] >= 0
                             else ConnSet.NONE)
        pairs.extend((s, d, (g1, g2)) for s in by_joint[keys[g1]] for d in by_joint[keys[g2]] if s != d)
    single = set(singles)
    for s in singles:
        pairs.extend((s, d, None) for d in range(len(ends)) if d != s)
        pairs.extend((d, s, None) for d in range(len(ends)) if d != s and d not in single)
    pairs.sort(key=lambda x: (x[0], x[1]))
    for s, d, g in pairs:
        if ends[s][0] is not None and ends[s][0].kind == "external" and ends[d][0] is not None \
                and ends[d][0].kind == "external":
            continue
        row = _row(a, b, ends[s], ends[d], answers[g] if g is not None else None)
        if row is not None:
            yield row


def _row(a: Reachability, b: Reachability, s: tuple[Peer | None, Peer | None],
         d: tuple[Peer | None, Peer | None], known: tuple[ConnSet, ConnSet] | None) -> DiffRow | None:
    def conns(r: Reachability, x: Peer | None, y: Peer | None) -> ConnSet:
        if x is None or y is None:
            return ConnSet.NONE
        c = r.connection(x, y).conns
        return ConnSet.NONE if c is None else c

    before, after = known if known is not None else (conns(a, s[0], d[0]), conns(b, s[1], d[1]))
    if before == after:
        return None
    kind: DiffKind = "changed" if before and after else "added" if after else "removed"
    info = []
    for label, (ea, eb) in (("source", s), ("destination", d)):
        if ea is None:
            info.append(f"{label} {eb.label} added" if eb else "")
        elif eb is None:
            info.append(f"{label} {ea.label} removed")
    return DiffRow(kind, s[1] or s[0], d[1] or d[0], before, after,  # type: ignore[arg-type]
                   "; ".join(i for i in info if i))
