#!/usr/bin/env python3
"""Benchmark: one node's complete kube-proxy rule set, both views, on a large plan.

    python tools/bench_lb.py                      # 5,000 nodes, 10,000 Services x 10 endpoints
    python tools/bench_lb.py --plan /tmp/lb.json  # an existing plan (tools/gen_services.py writes one)

Once the plan is loaded and the cluster built (timed, not part of the target), each round times from
scratch: the service catalog (every Service and endpoint), one Windows node's winkernel view (HNS load
balancers and remote endpoints) and one Linux node's iptables view; then their rendering (HNS JSON and
the VFP listing; iptables-save). The first Linux view also builds what every Linux node shares and the
catalog keeps (chain names, the rules of service ports that do not depend on the node); so each round
then times a second Windows and a second Linux node on the same catalog: the cost of each further node.
The best of --rounds is reported, as CPU seconds (on a shared machine other processes take wall time,
not this one's CPU time) and wall seconds. The target (issue #6): one node's complete rule set, for a node
of each view, <= 2 s from scratch: catalog + the Windows node's view, and catalog + the Linux node's view
(the catalog counted in each, though kube-proxy holds its Services and slices before it syncs). The sum of
the catalog and both views is printed too: what one process pays for one node of each OS.

Why kube-proxy's rules (services/kubeproxy_service.py), the HNS backends and remote endpoints
(services/winkernel.py) and the endpoints (services/endpoints.py) are built positionally with
``tuple.__new__`` (a record's fields in its class's order) rather than through their constructors by keyword
(`python tools/bench_lb.py --rounds 2`, 2 shared cores, 2026-12-07; CPU seconds):
  positional: catalog 0.447, winkernel view 0.293, iptables view 0.458; catalog + both views 1.198
  by keyword: catalog 0.507, winkernel view 0.348, iptables view 0.539; catalog + both views 1.409
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)

from cnimodel.bulk import bulk
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.render import lb_hns, lb_iptables, lb_json
from cnimodel.services import vfp_rules
from cnimodel.services.catalog import build_catalog
from cnimodel.services.kubeproxy_iptables import LinuxNode
from cnimodel.services.winkernel import WinNode


def cpu(fn: Callable[[], Any]) -> tuple[Any, tuple[float, float]]:
    """The result, and the (CPU, wall) seconds it took."""
    t, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, (time.process_time() - t, time.perf_counter() - w)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", help="plan file (default: generate one)")
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    path = args.plan
    if path is None:
        from gen_services import generate

        docs = generate(args.nodes, args.services, args.endpoints)
        path = str(Path(tempfile.mkdtemp()) / "lb-bench.json")
        Path(path).write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    t = time.perf_counter()
    plan = load_plan([path])
    cluster = Cluster.build(plan)
    print(f"plan loaded and cluster built in {time.perf_counter() - t:.1f} s (not part of the target)")
    gc.freeze()  # as `cnimodel lb` does once the plan is loaded; it then runs without the collector
    wins = [n.name for n in plan.nodes if n.os == "windows"][:2]
    lins = [n.name for n in plan.nodes if n.os == "linux"][:2]
    for n in wins + lins:
        cluster.facts(n)  # the network plugin's facts: not this engine's work
    best: dict[str, tuple[float, float]] = {}
    with bulk():
        for _ in range(args.rounds):
            for key, value in one_round(cluster, wins, lins).items():
                had = best.get(key, value)
                best[key] = (min(had[0], value[0]), min(had[1], value[1]))  # each the best of the rounds

    def fig(key: str) -> str:
        return f"{best[key][0]:6.3f} {best[key][1]:6.3f}"

    print(f"best of {args.rounds} rounds, seconds (CPU, wall):")
    print(f"  service catalog                     {fig('catalog')}")
    print(f"  winkernel view of {wins[0]:<17} {fig('windows')}   rendered (HNS JSON + VFP) {fig('windows render')}")
    print(f"  iptables view of {lins[0]:<18} {fig('linux')}   rendered (iptables-save)  {fig('linux render')}")
    print(f"  one Windows node, from scratch      {fig('windows node')}   (catalog + its view; target <= 2 s)")
    print(f"  one Linux node, from scratch        {fig('linux node')}   (catalog + its view; target <= 2 s)")
    print(f"  catalog + both views                {fig('total')}")
    print("  a further node, on the same catalog:")
    print(f"  winkernel view of {wins[1]:<17} {fig('windows 2')}")
    print(f"  iptables view of {lins[1]:<18} {fig('linux 2')}")
    print(f"  both views                          {fig('total 2')}")
    t = time.process_time()
    sum(range(1_000_000))
    print(f"machine: sum(range(10**6)) takes {time.process_time() - t:.3f} s of CPU here "
          "(about 0.01 s on a current desktop)")


def one_round(cluster: Cluster, wins: list[str], lins: list[str]) -> dict[str, tuple[float, float]]:
    """Everything from scratch once: catalog, both views, both renderings; then a further node of each OS."""
    cat, t_cat = cpu(lambda: build_catalog(cluster))
    view, t_w = cpu(lambda: WinNode(cluster, wins[0], cat).view())
    iv, t_l = cpu(lambda: LinuxNode(cluster, lins[0], cat).view())
    _, t_wr = cpu(lambda: (json.dumps(lb_hns.objects(view)),
                           json.dumps([lb_json.vfp_rule(r) for r in vfp_rules(view)])))
    text, t_lr = cpu(lambda: lb_iptables.render(iv))
    _, t_w2 = cpu(lambda: WinNode(cluster, wins[1], cat).view())
    _, t_l2 = cpu(lambda: LinuxNode(cluster, lins[1], cat).view())
    print(f"  round: {len(cat.services)} Services, {cat.total_endpoints} endpoints; {wins[0]}: "
          f"{len(view.load_balancers)} HNS load balancers, {len(view.created)} kube-proxy endpoints; {lins[0]}: "
          f"{text.count(chr(10))} iptables-save lines")

    def add(*ts: tuple[float, float]) -> tuple[float, float]:
        return sum(t[0] for t in ts), sum(t[1] for t in ts)

    return {"catalog": t_cat, "windows": t_w, "linux": t_l, "windows render": t_wr, "linux render": t_lr,
            "windows node": add(t_cat, t_w), "linux node": add(t_cat, t_l), "total": add(t_cat, t_w, t_l),
            "windows 2": t_w2, "linux 2": t_l2, "total 2": add(t_w2, t_l2)}


if __name__ == "__main__":
    main()
