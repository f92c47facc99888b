"""The report's panels that come from other engines: load-balancer rules (cnimodel.services) and the
reachability matrix (cnimodel.policy). Each returns None when its engine is not installed, so the page
leaves the panel out and says why.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from cnimodel.cluster import Cluster
from cnimodel.render.html.pool import Pool

NS_MATRIX_LIMIT = 200      # namespaces drawn in the namespace × namespace matrix
CLASS_LIMIT = 1500         # pod classes whose class × class matrix is embedded for the drill-down
OVERRIDE_LIMIT = 50_000    # same-node host-network pairs decided one by one


def lb_rules(cluster: Cluster, node: str, pools: dict[str, Pool]) -> dict[str, Any] | None:
    """What kube-proxy programs on ``node`` (as ``cnimodel lb -o json`` shows it), rows pooled across nodes;
    None when the plan has no Services or cnimodel.services is missing."""
    try:
        from cnimodel.render import lb_json
        from cnimodel.services import catalog, iptables_view, vfp_rules, winkernel_view
    except ImportError:
        return None
    cat = cluster.memo(("render-html", "catalog"), lambda: catalog(cluster))
    if not cat.services:
        return None
    config = cluster.memo(("render-html", "kube-proxy"), lambda: cat.config.to_json())
    from cnimodel.services.decide import proxy_of

    proxy = proxy_of(cluster, node)
    if proxy == "plugin":  # the plugin's own load balancers: not modelled yet
        return None
    rows, lines = pools.setdefault("lbRows", Pool()), pools.setdefault("lbLines", Pool())
    if proxy == "winkernel":
        view = winkernel_view(cluster, node)
        body = lb_json.windows_node(view, vfp_rules(view), config)
        return {"os": "windows", "proxy": body["proxy"], "network": body["network"],
                "servicePorts": rows.runs(_port_summary(p) for p in body["servicePorts"]),
                "loadBalancers": rows.runs(lb for p in body["servicePorts"] for lb in p["loadBalancers"]),
                "vfp": rows.runs(body["vfp"]), "endpoints": rows.runs(body["endpoints"]), "notes": body["notes"]}
    body = lb_json.linux_node(iptables_view(cluster, node), config)
    text: list[str] = []
    for table, chains in body["tables"].items():
        text.append(f"*{table}")
        for chain_rules in chains.values():
            text += chain_rules
    return {"os": "linux", "proxy": body["proxy"], "servicePorts": rows.runs(
        {"servicePort": p["servicePort"], "protocol": p["protocol"], "port": p["port"],
         "endpoints": p["clusterEndpoints"], "local": p["localEndpoints"], "notes": p["notes"]}
        for p in body["servicePorts"]), "lines": lines.runs(text), "notes": body["notes"]}


def _port_summary(p: dict[str, Any]) -> dict[str, Any]:
    return {"servicePort": p["servicePort"], "protocol": p["protocol"], "port": p["port"],
            "endpoints": sorted({b["ip"] for lb in p["loadBalancers"] for b in lb["backends"]}),
            "local": sorted({b["ip"] for lb in p["loadBalancers"] for b in lb["backends"] if b["local"]}),
            "notes": p["notes"]}


def reachability(cluster: Cluster) -> dict[str, Any] | None:
    """Namespace × namespace reachability, and what the page needs to drill down to pods.

    A namespace cell lists the distinct connections between its pods (a pod and itself left out). The
    drill-down reads a pod's connections from the class × class matrix, with the pairs the policy engine
    decides per endpoint (a host-network pod and a pod on its own node) listed as overrides.
    """
    try:
        import numpy as np

        from cnimodel.policy import Reachability
    except ImportError:
        return None
    # from_plan builds its own Cluster; a from_cluster (when cnimodel.policy offers one) reuses ours.
    from_cluster = getattr(Reachability, "from_cluster", None)
    r = from_cluster(cluster) if from_cluster is not None else Reachability.from_plan(cluster.plan)
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
    conns = [None] * len(conn_ids)
    for engine_id, i in conn_ids.items():
        c = r.engine.conns[engine_id]
        conns[i] = {"text": c.text(), "all": c.is_all, "none": not c}
    remap = np.zeros(max(conn_ids) + 1 if conn_ids else 1, np.int32)
    for engine_id, i in conn_ids.items():
        remap[engine_id] = i
    matrix = remap[sub].tolist() if len(used) <= CLASS_LIMIT else None
    return {
        "_classes": classes if matrix is not None else {},
        "namespaces": namespaces, "conns": conns, "cells": cells, "classes": len(used), "matrix": matrix,
        "overrides": [[s, d, conn_ids[c] if c >= 0 else -1] for s, d, c in overrides],
        "warnings": [str(w) for w in r.warnings],
        "limits": {"namespaces": NS_MATRIX_LIMIT, "classes": CLASS_LIMIT},
    }


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


def _overrides(r: Any, classes: dict[str, int], sub: Any) -> list[tuple[str, str, int]]:
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
