#!/usr/bin/env python3
"""Write a plan of N nodes (tools/gen_plan.py) plus D Deployments of R replicas each, for the workload benchmark.

    python tools/gen_workloads.py --nodes 5000 --deployments 5000 --replicas 30 -o /tmp/wl-5k.json

The Deployments mix what clusters hold: three in four select Linux nodes (``kubernetes.io/os: linux``),
one in four selects Windows nodes with the deprecated ``beta.kubernetes.io/os`` label and a Windows Server
2022 image (the generated Windows nodes run build 20348); every tenth asks for a node label through required
node affinity and tolerates the control-plane taint; every fiftieth has no selector at all. Node 0 is a
tainted control plane.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from gen_plan import generate

WINDOWS_IMAGE = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"


def deployment(d: int, replicas: int, namespaces: int) -> dict[str, Any]:
    """Deployment number ``d`` (its kind of placement follows from d, as the module doc says)."""
    name, ns = f"app{d:05d}", f"ns{d % namespaces:04d}"
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx:1.27",
                                            "ports": [{"containerPort": 8080, "name": "http"}]}]}
    if d % 50 == 49:
        pass  # no selector: the pods may land on any OS (and the image check says so)
    elif d % 4 == 3:
        spec["nodeSelector"] = {"beta.kubernetes.io/os": "windows"}
        spec["containers"][0]["image"] = WINDOWS_IMAGE
    else:
        spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
    if d % 10 == 0:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In",
                                                         "values": ["general", "batch"]}]}]}}}
        spec["tolerations"] = [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                "effect": "NoSchedule"}]
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def generate_workloads(nodes: int, deployments: int, replicas: int, namespaces: int = 50,
                       max_pods: int = 110) -> list[dict[str, Any]]:
    """The ClusterPlan (nodes labelled ``pool: general|batch``, node 0 a tainted control plane), Namespaces,
    and the Deployments."""
    docs = generate(nodes, 0, namespaces=namespaces)
    for i, node in enumerate(docs[0]["spec"]["nodes"]):
        node["labels"] = {"pool": "batch" if i % 3 == 2 else "general"}
        node["maxPods"] = max_pods
        if i == 0:
            node["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    return docs + [deployment(d, replicas, namespaces) for d in range(deployments)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--deployments", type=int, default=5000)
    ap.add_argument("--replicas", type=int, default=30)
    ap.add_argument("--namespaces", type=int, default=50)
    ap.add_argument("-o", "--output", default="-", help="a .json file (one List), or - for stdout")
    args = ap.parse_args()
    docs = generate_workloads(args.nodes, args.deployments, args.replicas, args.namespaces)
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
    if args.output == "-":
        sys.stdout.write(body)
    else:
        Path(args.output).write_text(body)


if __name__ == "__main__":
    main()
