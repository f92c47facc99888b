"""The class-based engine: decisions per (signature, remote features), never per pod pair.

A class's *signature* in one direction is what its side of the decision depends on: the policies that
select it there (in tier order) and how the rules' local-side criteria see it. A remote class's
*features* under a signature are how that signature's remote-side criteria see it (which peers match,
what its named ports resolve to). Every class pair with equal (signature, features) gets the same verdicts,
so the walk runs once for each, and the whole class matrix is filled with numpy broadcasting.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from cnimodel.policy.connset import ConnSet
from cnimodel.policy.evaluate import Decision, Matcher, Verdict, allowed, decide
from cnimodel.policy.model import Direction, Policy, PolicySet, RulePeer, Tier
from cnimodel.policy.universe import PeerClass, Universe

DIRECTIONS: tuple[Direction, Direction] = ("ingress", "egress")


@dataclass(frozen=True, eq=False)
class Signature:
    """What one side of a decision depends on (see the module docstring)."""

    id: int
    direction: Direction
    why: str                                         # "" when policed; else not-enforced, host, external, no-policy
    applicable: tuple[tuple[Tier, tuple[Policy, ...]], ...]
    remote_peers: tuple[RulePeer, ...]
    remote_named: tuple[tuple[str, str | None], ...]


class ClassEngine:
    """Decisions over the classes of a universe; ``matrix()`` computes every class pair at once."""

    def __init__(self, policies: PolicySet, universe: Universe) -> None:
        self.policies = policies
        self.u = universe
        self.m = Matcher(universe.atom_ids, universe.node_atom_ids)
        self.conns: list[ConnSet] = []
        self._conn_ids: dict[ConnSet, int] = {}
        self._sigs: list[Signature] = []
        self._sig_ids: dict[tuple, int] = {}
        self._class_sig: dict[Direction, list[int]] = {d: [] for d in DIRECTIONS}
        self._memo: dict[tuple[int, tuple], tuple[Decision, int]] = {}
        self._peer_vecs: dict[int, np.ndarray] = {}
        self._named_vecs: dict[tuple[str, str | None], np.ndarray] = {}
        self._kind_vec: np.ndarray | None = None
        self._post: dict[str, dict] | None = None
        self.ALL = self.intern(ConnSet.ALL)
        self._build_signatures()

    def intern(self, c: ConnSet) -> int:
        i = self._conn_ids.get(c)
        if i is None:
            i = self._conn_ids[c] = len(self.conns)
            self.conns.append(c)
        return i

    # --- signatures ---------------------------------------------------------------------------------

    def _build_signatures(self) -> None:
        tiers = self.policies.tiers
        subject_of: dict[int, list[tuple[int, int, Policy]]] = defaultdict(list)
        for ti, tier in enumerate(tiers):
            for pi, p in enumerate(tier.policies):
                subject_of[self.m.aid(p.subject)].append((ti, pi, p))
        for c in self.u.classes:
            selecting = sorted((x for a in c.atoms for x in subject_of.get(a, ())), key=lambda x: (x[0], x[1]))
            for d in DIRECTIONS:
                self._class_sig[d].append(self._signature(c, d, [(ti, p) for ti, _, p in selecting
                                                                 if p.rules(d) is not None]))

    def _signature(self, c: PeerClass, d: Direction, selecting: list[tuple[int, Policy]]) -> int:
        why = "external" if c.kind == "external" else "host" if c.kind == "host" else \
            "not-enforced" if not c.enforced else "no-policy" if not selecting else ""
        if why:
            key: tuple = (d, why)
        else:
            local_bits = []
            remote_peers: dict[int, RulePeer] = {}
            remote_named: dict[tuple[str, str | None], None] = {}
            for _, p in selecting:
                for r in p.rules(d) or ():
                    local, remote = (r.dst, r.src) if d == "ingress" else (r.src, r.dst)
                    for peer in local or ():
                        local_bits.append(self.m.peer(peer, c))
                    for peer in remote or ():
                        remote_peers.setdefault(id(peer), peer)
                    for pm in (r.ports, r.not_ports):
                        for n in pm.named if pm is not None else ():
                            if d == "ingress":
                                local_bits.append(tuple(c.resolve(*n)))
                            else:
                                remote_named[n] = None
            key = (d, tuple(p.uid for _, p in selecting), tuple(local_bits))
        sid = self._sig_ids.get(key)
        if sid is None:
            sid = self._sig_ids[key] = len(self._sigs)
            if why:
                self._sigs.append(Signature(sid, d, why, (), (), ()))
            else:
                grouped: list[tuple[Tier, list[Policy]]] = []
                for ti, p in selecting:
                    tier = self.policies.tiers[ti]
                    if not grouped or grouped[-1][0] is not tier:
                        grouped.append((tier, []))
                    grouped[-1][1].append(p)
                self._sigs.append(Signature(sid, d, "", tuple((t, tuple(ps)) for t, ps in grouped),
                                            tuple(remote_peers.values()), tuple(remote_named)))
        return sid

    def signature(self, cls: int, d: Direction) -> Signature:
        return self._sigs[self._class_sig[d][cls]]

    @property
    def signature_count(self) -> int:
        return len(self._sigs)

    # --- one pair -----------------------------------------------------------------------------------

    def features(self, sig: Signature, remote: PeerClass) -> tuple:
        return (remote.kind, tuple(self.m.peer(p, remote) for p in sig.remote_peers),
                tuple(tuple(remote.resolve(*n)) for n in sig.remote_named))

    def decision(self, local: int, remote: int, d: Direction) -> tuple[Decision, int]:
        """Verdicts (and the interned allowed set) for ``d`` of class ``local`` with class ``remote``."""
        sig = self.signature(local, d)
        if sig.why:
            return (Verdict(ConnSet.ALL, True, sig.why),), self.ALL  # type: ignore[arg-type]
        rc = self.u.classes[remote]
        key = (sig.id, self.features(sig, rc))
        hit = self._memo.get(key)
        if hit is None:
            dec = decide(self.m, d, self.u.classes[local], rc, sig.applicable)
            hit = self._memo[key] = (dec, self.intern(allowed(dec)))
        return hit

    def allowed(self, src: int, dst: int) -> ConnSet:
        """Connections from class ``src`` to class ``dst``: the source's egress AND the destination's ingress."""
        return self.conns[self.decision(src, dst, "egress")[1]] & self.conns[self.decision(dst, src, "ingress")[1]]

    # --- every pair ---------------------------------------------------------------------------------

    def _postings(self) -> None:
        """Which classes hold each atom, referenced CIDR and node atom (as index lists), once."""
        atoms: dict[int, list[int]] = defaultdict(list)
        cidrs: dict[object, list[int]] = defaultdict(list)
        nodes: dict[int, list[int]] = defaultdict(list)
        for c in self.u.classes:
            for a in c.atoms:
                atoms[a].append(c.index)
            for net in c.cidrs:
                cidrs[net].append(c.index)
            for a in c.node_atoms:
                nodes[a].append(c.index)
        self._post = {"atom": atoms, "cidr": cidrs, "node": nodes}

    def _bits(self, kind: str, key: object) -> np.ndarray:
        if self._post is None:
            self._postings()
        v = np.zeros(len(self.u.classes), bool)
        v[self._post[kind].get(key, [])] = True  # type: ignore[index]
        return v

    def _peer_vec(self, p: RulePeer) -> np.ndarray:
        """``m.peer(p, c)`` for every class at once, from the postings (the same criteria, vectorised)."""
        v = self._peer_vecs.get(id(p))
        if v is not None:
            return v
        n = len(self.u.classes)
        v = np.zeros(n, bool) if p.nothing else np.ones(n, bool)
        if p.endpoint is not None:
            v &= self._bits("atom", self.m.aid(p.endpoint))   # atoms are only ever held by pod classes
        if p.not_endpoint is not None:
            v &= ~self._bits("atom", self.m.aid(p.not_endpoint))
        if p.nets is not None:
            hit = np.zeros(n, bool)
            for net in p.nets:
                hit |= self._bits("cidr", net)
            v &= hit
        for net in p.not_nets:
            v &= ~self._bits("cidr", net)
        if p.nodes is not None:
            v &= self._bits("node", self.m.nid(p.nodes))
        self._peer_vecs[id(p)] = v
        return v

    def _named_vec(self, n: tuple[str, str | None]) -> np.ndarray:
        v = self._named_vecs.get(n)
        if v is None:
            codes: dict[tuple, int] = {}
            v = self._named_vecs[n] = np.fromiter(
                (codes.setdefault(tuple(c.resolve(*n)), len(codes)) for c in self.u.classes), np.int64,
                len(self.u.classes))
        return v

    def _kinds(self) -> np.ndarray:
        if self._kind_vec is None:
            code = {"pod": 0, "host": 1, "external": 2}
            self._kind_vec = np.fromiter((code[c.kind] for c in self.u.classes), np.int64, len(self.u.classes))
        return self._kind_vec

    def _codes(self, sig: Signature) -> np.ndarray:
        """One integer per class: equal integers ⇔ equal features under ``sig``."""
        cols: list[np.ndarray] = [self._kinds(), *(self._peer_vec(p).astype(np.int64) for p in sig.remote_peers)]
        widths = [2] + [1] * (len(cols) - 1)
        for n in sig.remote_named:
            v = self._named_vec(n)
            cols.append(v)
            widths.append(max(1, int(v.max()).bit_length()))
        n_cls = len(self.u.classes)
        if sum(widths) <= 62:
            code = np.zeros(n_cls, np.int64)
            for col, w in zip(cols, widths, strict=True):
                code = (code << w) | col
            return code
        _, inv = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
        return inv.reshape(-1).astype(np.int64)

    def direction_matrix(self, d: Direction) -> np.ndarray:
        """``M[a, b]`` = interned allowed set of direction ``d`` for local class ``a`` with remote ``b``."""
        n = len(self.u.classes)
        out = np.empty((n, n), np.int32)
        rows_of: dict[int, list[int]] = defaultdict(list)
        for cls, sid in enumerate(self._class_sig[d]):
            rows_of[sid].append(cls)
        for sid, rows in rows_of.items():
            sig = self._sigs[sid]
            if sig.why:
                out[rows, :] = self.ALL
                continue
            _, first, inv = np.unique(self._codes(sig), return_index=True, return_inverse=True)
            table = np.fromiter((self.decision(rows[0], int(b), d)[1] for b in first), np.int32, len(first))
            out[rows, :] = table[inv.reshape(-1)]
        return out

    def matrix(self, block: int = 1024) -> np.ndarray:
        """``F[a, b]`` = interned connections from class ``a`` to class ``b``, for every class pair."""
        eg = self.direction_matrix("egress")
        ing = self.direction_matrix("ingress")
        n = eg.shape[0]
        out = np.empty((n, n), np.int32)
        meet: dict[tuple[int, int], int] = {}
        for r0 in range(0, n, block):
            e = eg[r0:r0 + block]
            i = ing[:, r0:r0 + block].T
            k = len(self.conns)
            key = e.astype(np.int64) * k + i
            if k * k <= 1 << 22:  # few distinct sets: find the pairs present without sorting
                present = np.zeros(k * k, bool)
                present[key.ravel()] = True
                lut = np.zeros(k * k, np.int32)
                for kv in np.flatnonzero(present).tolist():
                    lut[kv] = self._meet(meet, *divmod(kv, k))
                out[r0:r0 + block] = lut[key]
                continue
            uniq, inv = np.unique(key, return_inverse=True)
            lut = np.fromiter((self._meet(meet, *divmod(kv, k)) for kv in uniq.tolist()), np.int32, len(uniq))
            out[r0:r0 + block] = lut[inv.reshape(e.shape)]
        return out

    def _meet(self, cache: dict[tuple[int, int], int], a: int, b: int) -> int:
        m = cache.get((a, b))
        if m is None:
            m = cache[(a, b)] = self.intern(self.conns[a] & self.conns[b])
        return m
