#!/usr/bin/env python3
"""Benchmark packet traces on a large plan (run by hand; not a test).

    python tools/bench_trace.py                              # 5,000 nodes, 50,000 pods, 1,000 Services
    python tools/bench_trace.py --backend vxlan --traces 1000

The plan comes from tools/gen_plan.py (every 4th node Windows, flannel host-gw or vxlan, pods round-robin
over nodes and 50 namespaces), with Calico policy-only enforcing NetworkPolicy (unless --no-policy), one
policy pair per namespace (ingress from the namespace, egress to the namespace, DNS and the internet on
443) and --services ClusterIP Services of --endpoints pods each. Loading, building the cluster, the policy
reachability and the Services catalog are timed once; then random traces are timed one by one:
pod → pod on another node, and pod → Service. Each is timed twice: cold (the first time its nodes are
visited, when their facts and route tables are built lazily) and warm (the same trace again). The target
(issue 7): one trace under 5 ms once loaded.

Why the graph indexes node tables as PrefixColumns over shared NetworkRows (cnimodel/net/lpm.py) and not as a
PrefixTable each (`python tools/bench_trace.py`, 5,000 host-gw nodes, 2 shared cores, 2026-12-07):
  PrefixColumns: pod → pod cold median 2.01 ms (p99 2.75), pod → Service cold 1.70 ms; peak RSS 507 MB
  PrefixTable per node: pod → pod cold median 7.88 ms (p99 20.5), pod → Service cold 7.98 ms; peak RSS 980 MB
(warm traces alike: 0.17–0.28 ms median).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)
from gen_plan import generate

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.policy import Reachability
from cnimodel.trace import trace


def plan_docs(nodes: int, pods: int, services: int, endpoints: int, backend: str, policy: bool) -> list[dict]:
    docs = generate(nodes, pods, backend=backend, subnet_prefix=19)  # one L2 subnet: host-gw needs it
    if policy:
        docs[0]["spec"]["policy"] = {"plugin": "calico", "config": {"CALICO_NETWORKING_BACKEND": "none"}}
    items = docs[-1]["items"] if docs[-1]["kind"] == "List" else []
    by_ns: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_ns[item["metadata"]["namespace"]].append(item)
    extra: list[dict[str, Any]] = []
    spaces = sorted(by_ns)
    for k in range(services):
        ns = spaces[k % len(spaces)]
        chunk = by_ns[ns][(k // len(spaces)) * endpoints:(k // len(spaces) + 1) * endpoints]
        for pod in chunk:
            pod["metadata"]["labels"]["svc"] = f"s{k:05d}"
        extra.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{k:05d}", "namespace": ns},
                      "spec": {"selector": {"svc": f"s{k:05d}"}, "ports": [{"port": 80, "targetPort": "http"}],
                               "clusterIP": str(IPv4Address(int(IPv4Address("10.96.16.0")) + k))}})
    for ns in spaces if policy else ():
        extra.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "same-namespace", "namespace": ns},
                      "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}})
        extra.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "egress", "namespace": ns},
                      "spec": {"podSelector": {"matchLabels": {"app": "app1"}}, "policyTypes": ["Egress"],
                               "egress": [{"to": [{"podSelector": {}}]},
                                          {"ports": [{"protocol": "UDP", "port": 53}]},
                                          {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                                           "ports": [{"port": 443}]}]}})
    return docs[:-1] + extra + items if items else docs + extra


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def report(name: str, cold: list[float], warm: list[float]) -> None:
    def fig(xs: list[float]) -> str:
        xs = sorted(xs)
        return (f"median {statistics.median(xs):6.2f} ms, p99 {xs[max(0, int(len(xs) * 0.99) - 1)]:6.2f} ms, "
                f"max {xs[-1]:6.2f} ms")
    print(f"{name:<16} cold {fig(cold)}")
    print(f"{'':<16} warm {fig(warm)}   ({len(warm)} traces)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=50000)
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--backend", choices=["host-gw", "vxlan"], default="host-gw")
    ap.add_argument("--no-policy", action="store_true", help="no policy plugin and no NetworkPolicies")
    ap.add_argument("--traces", type=int, default=500, help="traces of each kind")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    docs = plan_docs(a.nodes, a.pods, a.services, a.endpoints, a.backend, not a.no_policy)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, f)
        path = f.name
    plan, t_load = timed(lambda: load_plan([path]))
    Path(path).unlink()
    cluster, t_build = timed(lambda: Cluster.build(plan))
    reach, t_reach = timed(lambda: Reachability.from_cluster(cluster) if not a.no_policy else None)
    pods = sorted(k for k, p in cluster.allocation.pods.items() if not p.pod.host_network)
    services = sorted(o.key for o in plan.objects if o.kind == "Service")
    rnd = random.Random(a.seed)
    # The catalog of every Service is built by the first decision; time it apart from the traces.
    _, t_catalog = timed(lambda: trace(cluster, pods[0], services[0]) if services else None)
    print(f"plan: {a.nodes} nodes ({a.backend}), {len(pods)} pods, {len(services)} Services, "
          f"{'no policy' if a.no_policy else f'{len(reach.policies.policies)} policies (Calico policy-only)'}")
    print(f"load {t_load:.2f} s, cluster {t_build:.2f} s, policy reachability {t_reach:.2f} s, first trace with "
          f"the Services catalog {t_catalog:.2f} s")
    node_of = {k: cluster.allocation.pods[k].pod.node for k in pods}
    kinds: dict[str, list[tuple[str, str]]] = {"pod → pod": [], "pod → Service": []}
    while len(kinds["pod → pod"]) < a.traces:
        s, d = rnd.choice(pods), rnd.choice(pods)
        if node_of[s] != node_of[d]:
            kinds["pod → pod"].append((s, d))
    kinds["pod → Service"] = [(rnd.choice(pods), rnd.choice(services)) for _ in range(a.traces)] if services else []
    dispositions: dict[str, int] = defaultdict(int)
    gc.disable()  # as the CLI's bulk work: the collector's passes over the loaded plan are not trace work
    for name, pairs in kinds.items():
        cold, warm = [], []
        for s, d in pairs:
            t0 = time.perf_counter()
            (t, *_) = trace(cluster, s, d, port=80)
            t1 = time.perf_counter()
            trace(cluster, s, d, port=80)
            t2 = time.perf_counter()
            cold.append((t1 - t0) * 1000)
            warm.append((t2 - t1) * 1000)
            dispositions[t.disposition] += 1
        if pairs:
            report(name, cold, warm)
    gc.enable()
    print("dispositions:", ", ".join(f"{k} {v}" for k, v in sorted(dispositions.items())))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB  (target: < 5 ms a trace)")


if __name__ == "__main__":
    main()
