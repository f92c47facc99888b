"""Reachability namespace by namespace, with what a reader needs to drill down to pods: the answer the HTML
report's matrix shows (docs/render.md, ``reach``).

A namespace cell lists the distinct connections between its pods (a pod and itself left out). The drill-down
reads a pod's connections from the class × class matrix, with the pairs the engine decides per endpoint (a
host-network pod and a pod on its own node) listed as overrides.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cnimodel.policy.analysis import Reachability
from cnimodel.policy.connset import ConnSet

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

NS_MATRIX_LIMIT = 200      # namespaces whose namespace × namespace cells are computed
CLASS_LIMIT = 1500         # pod classes whose class × class matrix is kept for the drill-down
OVERRIDE_LIMIT = 50_000    # same-node host-network pairs decided one by one


@dataclass(frozen=True)
class NamespaceMatrix:
    """``conns``: the distinct connections, indexed by the numbers the other fields hold; ``cells[a][b]``: those
    between namespaces a and b (None past NS_MATRIX_LIMIT); ``classes``: each pod's class (empty when ``matrix``
    is None); ``matrix[c][d]``: the connection from class c to class d (None past CLASS_LIMIT); ``overrides``:
    (src pod, dst pod, connection or -1 when not evaluated) where the per-endpoint answer differs."""

    namespaces: tuple[str, ...]
    conns: tuple[ConnSet, ...]
    cells: list[list[list[int]]] | None
    class_count: int
    classes: dict[str, int]
    matrix: list[list[int]] | None
    overrides: tuple[tuple[str, str, int], ...]
    warnings: tuple[str, ...]


def namespace_matrix(cluster: Cluster) -> NamespaceMatrix:
    """The plan's reachability by namespace and by pod class (see the module doc)."""
    r = Reachability.from_cluster(cluster)
    u = r.u
    full = r.class_matrix()
    used = sorted({u.workload_class[i] for i in range(len(u.workloads))})
    local = {c: i for i, c in enumerate(used)}
    sub = full[np.ix_(used, used)] if used else np.zeros((0, 0), np.int32)
    classes: dict[str, int] = {w.key: local[u.workload_class[i]] for i, w in enumerate(u.workloads)}
    members: dict[str, Counter[int]] = defaultdict(Counter)
    for i, w in enumerate(u.workloads):
        members[w.pod.namespace][local[u.workload_class[i]]] += 1
    namespaces = sorted(members)
    conn_ids: dict[int, int] = {}
    for c in np.unique(sub).tolist():
        conn_ids.setdefault(int(c), len(conn_ids))
    overrides = _overrides(r, classes, sub)
    for _, _, c in overrides:
        conn_ids.setdefault(c, len(conn_ids))
    decided: dict[tuple[str, str], Counter[tuple[int, int]]] = defaultdict(Counter)
    extra: dict[tuple[str, str], set[int]] = defaultdict(set)
    for s, d, c in overrides:
        ns_pair = (s.split("/", 1)[0], d.split("/", 1)[0])
        decided[ns_pair][classes[s], classes[d]] += 1
        if c >= 0:
            extra[ns_pair].add(conn_ids[c])
    cells: list[list[list[int]]] | None = None
    if len(namespaces) <= NS_MATRIX_LIMIT:
        cells = [[sorted(_cell(sub, members[a], members[b], a == b, conn_ids, decided.get((a, b), Counter()))
                         | extra.get((a, b), set())) for b in namespaces] for a in namespaces]
    conns: list[ConnSet] = [ConnSet()] * len(conn_ids)
    for engine_id, i in conn_ids.items():
        conns[i] = r.engine.conns[engine_id]
    remap = np.zeros(max(conn_ids) + 1 if conn_ids else 1, np.int32)
    for engine_id, i in conn_ids.items():
        remap[engine_id] = i
    matrix = remap[sub].tolist() if len(used) <= CLASS_LIMIT else None
    return NamespaceMatrix(
        namespaces=tuple(namespaces), conns=tuple(conns), cells=cells, class_count=len(used),
        classes=classes if matrix is not None else {}, matrix=matrix,
        overrides=tuple((s, d, conn_ids[c] if c >= 0 else -1) for s, d, c in overrides),
        warnings=tuple(str(w) for w in r.warnings))


def _cell(sub: Any, a: Counter[int], b: Counter[int], same: bool, conn_ids: dict[int, int],
          decided: Counter[tuple[int, int]]) -> set[int]:
    """The connections of the class pairs that hold at least one pair of pods the class matrix decides (not a
    pod and itself, not a pair decided per endpoint)."""
    found: set[int] = set()
    for ca, na in a.items():
        for cb, nb in b.items():
            pairs = na * (na - 1) if same and ca == cb else na * nb
            if pairs > decided.get((ca, cb), 0):
                found.add(conn_ids[int(sub[ca, cb])])
    return found


def _overrides(r: Reachability, classes: dict[str, int], sub: Any) -> list[tuple[str, str, int]]:
    """Pairs on one node where a host-network pod is involved and the engine's per-endpoint answer differs
    from the class matrix (-1: not evaluated)."""
    on_node: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(r.u.workloads):
        if w.pod.node is not None:
            on_node[w.pod.node].append(i)
    out: list[tuple[str, str, int]] = []
    for members in on_node.values():
        if not any(r.u.workloads[i].host_network for i in members):
            continue
        ends = [r.pod(i) for i in members]
        for s in ends:
            for d in ends:
                if s.name == d.name or not (s.host_network or d.host_network):
                    continue
                c = r.connection(s, d)
                got = -1 if c.conns is None else r.engine.intern(c.conns)
                if got != int(sub[classes[s.name], classes[d.name]]):
                    out.append((s.name, d.name, got))
                if len(out) >= OVERRIDE_LIMIT:
                    return out
    return out


__all__ = ["CLASS_LIMIT", "NS_MATRIX_LIMIT", "NamespaceMatrix", "namespace_matrix"]
