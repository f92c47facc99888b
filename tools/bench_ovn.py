#!/usr/bin/env python3
"""Benchmark `cnimodel ovn export` and `ovn verify` on a large ovn-kubernetes plan (run by hand; not a test).

    python tools/bench_ovn.py                       # 1,000 nodes, 10,000 pods, 100 Services, 500 traced flows
    python tools/bench_ovn.py --nodes 200 --flows 100

Nodes and pods come from tools/gen_plan.py (every 4th node Windows, pods round-robin over nodes and 50
namespaces, labels app0…app99); the ClusterPlan's network becomes ovn-kubernetes with the hybrid overlay
(cluster-subnets 10.0.0.0/11/24, hybrid 10.32.0.0/11/24, shared gateway, NodePorts on). One ClusterIP Service
per app label (in the namespace of its first pods) and one NetworkPolicy per namespace (ingress on 80 from the
namespace only). Timed: load and build, the Northbound model, the transact request, the control plane's start,
loading, ovn-northd's compile, ovn-trace of the sampled flows and cnimodel's own trace of each (``verify``, as
`cnimodel ovn verify` runs it). The issue's target (#19): export and verify a 500-flow sample of a 1,000-node plan
in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)
from gen_plan import generate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import checkout_entry_points  # noqa: F401  (the checkout's plugins, until an install registers them)

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.plugins.ovn_kubernetes.harness import ControlPlane
from cnimodel.plugins.ovn_kubernetes.verify import verify


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def plan(nodes: int, pods: int, namespaces: int) -> list[dict]:
    docs = generate(nodes, pods, 4, namespaces, plugin="ovn-kubernetes")
    spec = docs[0]["spec"]
    spec.pop("nodeCIDRMaskSize", None)
    spec["network"]["config"] = {
        "default": {"cluster-subnets": "10.0.0.0/11/24"},
        "kubernetes": {"service-cidrs": "10.96.0.0/12", "no-hostsubnet-nodes": "kubernetes.io/os=windows"},
        "gateway": {"mode": "shared", "nodeport": True},
        "hybridoverlay": {"enabled": True, "cluster-subnets": "10.32.0.0/11/24"}}
    extra = []
    for k in range(100):
        extra.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc{k}",
                                                                          "namespace": f"ns{k % namespaces:04d}"},
                      "spec": {"selector": {"app": f"app{k}"}, "ports": [{"port": 80, "targetPort": 80}]}})
    for n in range(namespaces):
        extra.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "same-namespace", "namespace": f"ns{n:04d}"},
                      "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                               "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 80}]}]}})
    last = docs[-1]
    if last.get("kind") == "List":
        last["items"] += extra
    else:
        docs += extra
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods-per-node", type=int, default=10)
    ap.add_argument("--namespaces", type=int, default=50)
    ap.add_argument("--flows", type=int, default=500)
    ap.add_argument("--write", type=Path, help="also write the plan here (to time `cnimodel ovn verify PLAN` itself)")
    args = ap.parse_args()
    t: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.json"
        docs = plan(args.nodes, args.nodes * args.pods_per_node, args.namespaces)
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                    "items": docs[:-1] + docs[-1]["items"]}))
        if args.write:
            args.write.write_text(path.read_text())
        start = time.monotonic()
        cluster = Cluster.build(load_plan([path]))
        t["load+build"] = time.monotonic() - start
        plugin = cluster.plugin
        seen: dict[str, object] = {}

        def probe(cp: ControlPlane) -> None:
            seen["lflows"] = cp.sbctl("--format=csv", "--no-headings", "--columns=_uuid", "list",
                                      "Logical_Flow").count("\n")
            seen["cpu"] = {n: cpu_seconds(pid) for n, pid in [*((n, p.pid) for n, p in cp.children), *cp.daemons]
                           if Path(f"/proc/{pid}").exists()}  # ovn-northd is stopped once it has compiled

        report = verify(cluster, plugin, args.flows, probe=probe)  # type: ignore[arg-type]
        t.update(report.timings)
        t["whole (load+build+verify)"] = time.monotonic() - start
        nb = plugin.northbound(cluster)  # type: ignore[attr-defined]
    verdicts: dict[str, int] = {}
    for r in report.results:
        verdicts[r.trace.verdict] = verdicts.get(r.trace.verdict, 0) + 1
    lflows, cpu = seen.get("lflows"), seen.get("cpu", {})
    print(f"{args.nodes} nodes, {len(cluster.allocation.pods)} pods, {len(nb.switches)} switches, "
          f"{len(nb.routers)} routers, {len(nb.load_balancers)} load balancers, {len(nb.port_groups)} port groups; "
          f"{lflows} logical flows compiled from what the sample crosses")
    for n in report.notes:
        print(f"  note: {n}")
    print(f"{len(report.results)} flows traced ({report.total_pairs} pod pairs): {verdicts}; "
          f"{len(report.mismatches)} differ from cnimodel's trace, {len(report.disagreements)} disagree with the "
          "policy engine")
    for k, v in t.items():
        print(f"  {k:28s} {v:7.2f} s")
    print("  CPU seconds of the OVN processes: "
          + ", ".join(f"{n} {v:.1f}" for n, v in cpu.items()))  # type: ignore[attr-defined]
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work on the machine slows it)")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (this process)")


if __name__ == "__main__":
    main()
