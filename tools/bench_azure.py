#!/usr/bin/env python3
"""Benchmark Azure CNI allocation at scale: a node-subnet plan of N nodes (every 4th Windows) with maxPods
30, nodes 31 addresses apart as AKS lays them out, and P pods spread over the nodes.

    python tools/bench_azure.py --nodes 5000 --pods 150000

Times load (plan file → Plan), allocation (Cluster.build: VNet sizing, secondary IPs, pod IPs) and one
node's facts. Target (issue 4): allocation under 3 s at 5,000 nodes. Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.plugins import _azure_ipam as vnet


def generate(nodes: int, pods: int, max_pods: int = 30) -> list[dict[str, Any]]:
    """ClusterPlan + Pod documents; the subnet is the smallest that fits (nodes + 1) × (1 + maxPods)."""
    prefix = vnet.smallest_prefix(vnet.addresses_needed([max_pods] * nodes, 1, max_pods)) or 8
    base = int(IPv4Address("10.64.0.0"))  # clear of the service range
    subnet = f"{IPv4Address(base)}/{prefix}"
    node_docs = [{"name": f"aks-{i:05d}", "os": "windows" if i % 4 == 3 else "linux",
                  "ip": str(IPv4Address(base + 4 + i * (1 + max_pods)))} for i in range(nodes)]
    plan = {"apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": f"aks-{nodes}"}, "spec": {
        "serviceCIDR": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10",
        "network": {"plugin": "azure-cni", "config": {"maxPods": max_pods}},
        "underlay": {"subnets": [{"name": "aks-subnet", "cidr": subnet}]}, "nodes": node_docs}}
    pod_docs = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "default"},
                 "spec": {"nodeName": node_docs[i % nodes]["name"], "containers": [{"name": "c", "image": "x"}]}}
                for i in range(pods)]
    return [plan, *pod_docs]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=150000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aks.json"
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": generate(args.nodes, args.pods)}))
        t0 = time.perf_counter()
        plan = load_plan([path])
        t1 = time.perf_counter()
        cluster = Cluster.build(plan)
        t2 = time.perf_counter()
        last = plan.nodes[-1].name
        facts = cluster.facts(last)
        t3 = time.perf_counter()
    alloc = cluster.allocation
    print(f"{args.nodes} nodes, {len(alloc.pods)} pods, subnet {plan.underlay.subnets[0].cidr}, "
          f"max nodes {alloc.max_nodes}")
    print(f"load {t1 - t0:.2f} s | allocation (Cluster.build) {t2 - t1:.2f} s | facts of {last} "
          f"{(t3 - t2) * 1000:.1f} ms ({len(facts.routes)} routes, {len(facts.hns_endpoints)} HNS endpoints)")


if __name__ == "__main__":
    main()
