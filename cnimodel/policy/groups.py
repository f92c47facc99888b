"""Workloads as reachability endpoints: ``ns/web[Deployment]`` stands for all its pods.

netpol-analyzer reports one line per workload, assuming its pods alike. Here they need not be: a StatefulSet
pod's own ``statefulset.kubernetes.io/pod-name`` label can be selected, pods on a node that enforces no policy
are not isolated, and a node reaching a pod on itself is always allowed. So a workload end answers with what
*every* pair of its pods allows (the intersection), and lists the distinct answers when they differ.

>>> g = group("shop/web[Deployment]", r.resolve("shop/web-*"))   # doctest: +SKIP
>>> next(connections(r, [g], r.resolve("shop/db-0"))).conns.text()  # doctest: +SKIP
'TCP 5432'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from cnimodel.policy.analysis import BIG, Connection, Peer, Reachability, Variant
from cnimodel.policy.connset import ConnSet

NOTES_SHOWN = 2  # notes of member pairs shown on a workload line; the rest are counted


def group(label: str, members: Sequence[Peer]) -> Peer:
    """One endpoint named ``label`` (``ns/name[Kind]``) standing for ``members`` (at least one pod)."""
    first = members[0]
    return Peer("pod", label, first.cls, None, None, all(m.host_network for m in members),
                    members=tuple(members))


def by_workload(r: Reachability, endpoints: Iterable[Peer]) -> list[Peer]:
    """The endpoints with the pods of each workload folded into one ``ns/name[Kind]`` endpoint, placed where
    its first pod was (netpol-analyzer's unit); bare pods, nodes and external ranges stay as they are."""
    owner = {p.key: p.owner for p in r.plan.pods if p.owner is not None}
    out: list[Peer | str] = []
    pods: dict[str, list[Peer]] = {}
    for e in endpoints:
        w = owner.get(e.name) if e.kind == "pod" and not e.members else None
        if w is None:
            out.append(e)
            continue
        label = str(w)
        if label not in pods:
            pods[label] = []
            out.append(label)
        pods[label].append(e)
    return [group(x, pods[x]) if isinstance(x, str) else x for x in out]


def expand(endpoints: Iterable[Peer]) -> list[Peer]:
    """The endpoints with every workload replaced by its pods (``--explain`` explains pod by pod)."""
    return [m for e in endpoints for m in (e.members or (e,))]


def _key(e: Peer, by_node: bool) -> tuple[object, ...]:
    """What ``Reachability.connection`` reads of an endpoint apart from its name: pods alike under this key
    get the same answer from any endpoint that is not one of them. A pod's node counts only for a host end
    (its note and its own node) or when the other end holds one (a host end reaches pods on its own node)."""
    return (e.kind, e.cls, e.host_network, e.node if by_node or e.is_host else None)


def _reps(members: Sequence[Peer], by_node: bool) -> list[tuple[Peer, int]]:
    """One member per key, with how many members it stands for (a Deployment of one class: one)."""
    out: dict[tuple[object, ...], list[object]] = {}
    for m in members:
        slot = out.setdefault(_key(m, by_node), [m, 0])
        slot[1] += 1  # type: ignore[operator]
    return [(m, n) for m, n in out.values()]  # type: ignore[misc]


class EndGroup:
    """An end's pods, their names and representatives, worked out once per end and not once per pair (a
    workload against ``'*/*'`` meets 150,000 destinations)."""

    def __init__(self, e: Peer) -> None:
        self.members = e.members or (e,)
        self.names = frozenset(m.name for m in self.members)
        self.has_host = any(m.is_host for m in self.members)
        self._reps: dict[bool, list[tuple[Peer, int]]] = {}
        self._kinds: dict[bool, frozenset[tuple[object, ...]]] = {}

    def reps(self, by_node: bool) -> list[tuple[Peer, int]]:
        got = self._reps.get(by_node)
        if got is None:
            got = self._reps[by_node] = _reps(self.members, by_node)
        return got

    def kinds(self, other: EndGroup) -> frozenset[tuple[object, ...]]:
        """The kinds of pod this end holds as seen from ``other``: two pairs of ends of equal kinds, with no pod
        in common, get the same connections from ``connection`` (its notes and examples aside)."""
        got = self._kinds.get(other.has_host)
        if got is None:
            got = self._kinds[other.has_host] = frozenset(_key(m, other.has_host) for m, _ in self.reps(other.has_host))
        return got


def connection(r: Reachability, src: Peer, dst: Peer, restrict: ConnSet | None = None,
               sides: tuple[EndGroup, EndGroup] | None = None) -> Connection:
    """What ``src`` may open to ``dst`` when either is a workload: what all pairs of their pods allow, with
    the distinct answers as ``variants`` when pairs differ. Pairs of a pod with itself are left out; when only
    such pairs remain the answer is "not evaluated", as for a pod and itself."""
    if not src.members and not dst.members:
        c = r.connection(src, dst)
        return c if restrict is None or c.conns is None else Connection(src, dst, c.conns & restrict, c.note)
    sa, sb = sides or (EndGroup(src), EndGroup(dst))
    a, b = sa.members, sb.members
    if sa.names.isdisjoint(sb.names):
        pairs = [(s, d, ns * nd) for s, ns in sa.reps(sb.has_host) for d, nd in sb.reps(sa.has_host)]
    elif a == b and not sa.has_host:
        pairs = _own_pairs(a)
    else:  # a workload and one of its pods, or its pods on hosts (notes per pod): every pair by name
        pairs = [(s, d, 1) for s in a for d in b]
    answers: dict[ConnSet, list[object]] = {}
    notes: list[str] = []
    self_note = ""
    for s, d, n in pairs:
        c = r.connection(s, d)
        if c.conns is None:
            self_note = c.note
            continue
        conns = c.conns if restrict is None else c.conns & restrict
        slot = answers.setdefault(conns, [0, s, d])
        slot[0] += n  # type: ignore[operator]
        # the note's sentences each once: pairs (a, b) and (b, a) of hostNetwork pods say the same two things
        for part in r.note_parts(s, d) if c.note else ():
            if part not in notes:
                notes.append(part)
    if not answers:
        return Connection(src, dst, None, self_note)
    common = ConnSet.ALL
    for conns in answers:
        common = common & conns
    variants: tuple[Variant, ...] = ()
    if len(answers) > 1:
        variants = tuple(Variant(c, n, s.json_name, d.json_name)  # type: ignore[union-attr]
                         for c, (n, s, d) in sorted(answers.items(), key=lambda kv: (-kv[1][0], kv[0].text())))
    return Connection(src, dst, common, _note(variants, notes), variants)


def _own_pairs(members: Sequence[Peer]) -> list[tuple[Peer, Peer, int]]:
    """A workload and itself, none of its pods on a host: one pair per pair of kinds of pod, counting the pairs it
    stands for, self pairs left out (a kind of one pod meets itself only as its pod and itself). The pairs come
    in the order every pair by name would first meet them, so each answer keeps the same example pair."""
    kinds: dict[tuple[object, ...], list[int]] = {}
    for i, m in enumerate(members):
        kinds.setdefault(_key(m, False), []).append(i)
    found: list[tuple[int, int, int]] = []
    for k1, i1 in kinds.items():
        for k2, i2 in kinds.items():
            if k1 != k2:
                found.append((i1[0], i2[0], len(i1) * len(i2)))
            elif len(i1) > 1:
                found.append((i1[0], i1[1], len(i1) * (len(i1) - 1)))
    if not found:  # one pod: only the pair with itself, not evaluated
        return [(members[0], members[0], 1)]
    return [(members[i], members[j], n) for i, j, n in sorted(found)]


def _note(variants: Sequence[Variant], notes: Sequence[str]) -> str:
    parts = []
    if variants:
        total = sum(v.pairs for v in variants)
        shown = ", ".join(f"{v.conns.text()} for {v.pairs} (e.g. {v.src} => {v.dst})" for v in variants)
        parts.append(f"pods differ: shown is what all {total} pod pairs allow; {shown}")
    parts += notes[:NOTES_SHOWN]
    if len(notes) > NOTES_SHOWN:
        parts.append(f"{len(notes) - NOTES_SHOWN} more notes: ask for the pods one by one")
    return "; ".join(parts)


def connections(r: Reachability, sources: Sequence[Peer], destinations: Sequence[Peer], *,
                all_pairs: bool = False, port: tuple[str, int] | None = None,
                keep_self: bool = False) -> Iterator[Connection]:
    """``Reachability.connections`` with workload ends. A workload pair is listed when all its pod pairs allow
    something, when they differ (some allow, some not), or with ``all_pairs``."""
    if not any(e.members for e in (*sources, *destinations)):
        yield from r.connections(sources, destinations, all_pairs=all_pairs, port=port, keep_self=keep_self)
        return
    if len(sources) * len(destinations) > BIG:  # by class rows (cnimodel/policy/pairs.py)
        from cnimodel.policy.pairs import Pairs

        yield from Pairs(r, sources, destinations, all_pairs=all_pairs, port=port, keep_self=keep_self,
                         grouped=connection).connections()
        return
    restrict = ConnSet.ports(port[0], port[1], port[1]) if port else None
    dsides = [EndGroup(d) for d in destinations]
    for s in sources:
        side = EndGroup(s)
        for d, dside in zip(destinations, dsides, strict=True):
            if not s.members and not d.members:
                yield from r.connections([s], [d], all_pairs=all_pairs, port=port, keep_self=keep_self)
                continue
            if s.kind == d.kind == "external":
                continue
            c = connection(r, s, d, restrict, (side, dside))
            if c.conns is None:
                if keep_self:
                    yield c
                continue
            if c.conns or c.variants or all_pairs:
                yield c
