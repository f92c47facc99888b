#!/usr/bin/env python3
"""Write a valid cnimodel plan of N nodes (mixed OS) and P pods, for benchmarks and scale tests.

    python tools/gen_plan.py --nodes 5000 --pods 150000 --windows-every 4 -o /tmp/plan-5k.json

Nodes sit on /20 underlay subnets (4,094 hosts each) under 10.128.0.0/9; pods spread round-robin over the
schedulable nodes and over ``--namespaces`` namespaces. The cluster CIDR is a /11 at /24 per node, which
holds 8,192 nodes. JSON is the default output (it loads about 10x faster than YAML at this size).
"""

from __future__ import annotations

import argparse
import json
import sys
from ipaddress import IPv4Address, IPv4Network
from typing import Any


def generate(nodes: int, pods: int, windows_every: int = 4, namespaces: int = 50, plugin: str = "flannel",
             backend: str = "host-gw", subnet_prefix: int = 20) -> list[dict[str, Any]]:
    """The plan as a list of documents (ClusterPlan first, then Namespaces and Pods)."""
    underlay = IPv4Network("10.128.0.0/9")
    per_subnet = (1 << (32 - subnet_prefix)) - 3  # minus network, gateway (.1) and broadcast
    subnets = []
    node_docs = []
    for i in range(nodes):
        s, k = divmod(i, per_subnet)
        if k == 0:
            net = IPv4Network((int(underlay.network_address) + s * (1 << (32 - subnet_prefix)), subnet_prefix))
            subnets.append({"name": f"subnet{s}", "cidr": str(net), "gateway": str(net.network_address + 1)})
        ip = IPv4Address(int(IPv4Network(subnets[-1]["cidr"]).network_address) + 2 + k)
        windows = windows_every > 0 and i % windows_every == windows_every - 1
        node: dict[str, Any] = {"name": f"node{i:05d}", "os": "windows" if windows else "linux", "ip": str(ip)}
        if windows:
            node["windowsBuild"] = 20348
        node_docs.append(node)
    network: dict[str, Any] = {"plugin": plugin}
    if plugin == "flannel":
        network["backend"] = backend
        network["config"] = {"Network": "10.0.0.0/11", "Backend": {"Type": backend}}
        if backend == "vxlan":
            network["config"]["Backend"].update({"VNI": 4096, "Port": 4789})
    docs: list[dict[str, Any]] = [{
        "apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": f"gen-{nodes}n-{pods}p"},
        "spec": {"clusterCIDR": "10.0.0.0/11", "serviceCIDR": "10.96.0.0/12", "nodeCIDRMaskSize": 24,
                 "network": network, "underlay": {"subnets": subnets, "routes": "host"}, "nodes": node_docs},
    }]
    docs += [{"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": f"ns{n:04d}", "labels": {"team": f"t{n % 10}"}}} for n in range(namespaces)]
    items = []
    for p in range(pods):
        node = node_docs[p % nodes]
        ns = f"ns{p % namespaces:04d}"
        image = ("mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022" if node["os"] == "windows"
                 else "nginx:1.27")
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": f"pod{p:06d}", "namespace": ns, "labels": {"app": f"app{p % 100}"}},
                      "spec": {"nodeName": node["name"],
                               "containers": [{"name": "c", "image": image,
                                               "ports": [{"containerPort": 80, "name": "http"}]}]}})
    if items:
        docs.append({"apiVersion": "v1", "kind": "List", "items": items})
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--pods", type=int, default=0)
    ap.add_argument("--windows-every", type=int, default=4, help="every k-th node is Windows (0: none)")
    ap.add_argument("--namespaces", type=int, default=50)
    ap.add_argument("--plugin", default="flannel")
    ap.add_argument("--backend", default="host-gw")
    ap.add_argument("-o", "--output", default="-", help="file to write (.json or .yaml); - for stdout (JSON)")
    args = ap.parse_args()
    if args.pods > args.nodes * 110:
        sys.exit(f"{args.pods} pods do not fit {args.nodes} nodes at 110 pods each")
    docs = generate(args.nodes, args.pods, args.windows_every, args.namespaces, args.plugin, args.backend)
    if args.output.endswith((".yaml", ".yml")):
        import yaml

        with open(args.output, "w") as f:
            yaml.safe_dump_all(docs, f, sort_keys=False)
        return
    # JSON holds one document: wrap the rest in a List so the loader sees every object.
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs[:-1] + docs[-1]["items"]} if len(docs) > 1
                      and docs[-1]["kind"] == "List" else {"apiVersion": "v1", "kind": "List", "items": docs})
    if args.output == "-":
        sys.stdout.write(body)
    else:
        with open(args.output, "w") as f:
            f.write(body)


if __name__ == "__main__":
    main()
