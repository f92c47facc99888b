#!/usr/bin/env python3
"""Write a plan of N nodes with S Services of E endpoints each, for the Services benchmark.

    python tools/gen_services.py --nodes 5000 --services 10000 --endpoints 10 -o /tmp/lb-5k.json

Nodes come from tools/gen_plan.py (every 4th node Windows, flannel host-gw, /24 pod CIDRs from 10.0.0.0/11
in node order). Each Service gets E pods spread round-robin over the nodes, each with its address in
``status.podIP`` (Linux nodes from .2, Windows nodes from .3: .2 is cbr0_ep), and one EndpointSlice naming
those pods with their nodes — the input kube-proxy reads. The mix: 80% ClusterIP, 10% NodePort, 10%
LoadBalancer (half of them externalTrafficPolicy Local), every 10th with ClientIP affinity. (More than
~2,700 NodePort/LoadBalancer Services would not fit the default node-port range 30000-32767.)
"""

from __future__ import annotations

import argparse
import json
import sys
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_plan import generate as generate_nodes

CLUSTER = IPv4Network("10.0.0.0/11")


# A pod's image as its node's OS runs it (gen_plan's Windows nodes are build 20348, Windows Server 2022): the
# EndpointSlices list every pod as a ready endpoint, which a Linux image on a Windows node never is.
IMAGES = {"linux": "nginx:1.27", "windows": "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"}


def generate(nodes: int, services: int, endpoints: int, windows_every: int = 4,
             linux_images: bool = False) -> list[dict[str, Any]]:
    """The plan as documents: the ClusterPlan, then pods, Services and EndpointSlices. ``linux_images``: every
    pod runs the Linux image, also on Windows nodes (the shape of the first benchmarks: a quarter of the pods
    never run there, each an image warning, while their slices call them ready)."""
    docs = generate_nodes(nodes, 0, windows_every=windows_every, namespaces=0)
    node_docs = docs[0]["spec"]["nodes"]
    used = [0] * nodes
    items: list[dict[str, Any]] = []
    ns = "bench"
    items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    p = 0
    for s in range(services):
        name = f"svc{s:05d}"
        eps = []
        for _ in range(endpoints):
            n = p % nodes
            p += 1
            node = node_docs[n]
            first = 3 if node["os"] == "windows" else 2
            ip = IPv4Address(int(CLUSTER.network_address) + n * 256 + first + used[n])
            used[n] += 1
            pod = f"{name}-{len(eps)}"
            items.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": ns,
                                                                           "labels": {"app": name}},
                          "spec": {"nodeName": node["name"], "containers": [
                              {"name": "c", "image": IMAGES["linux" if linux_images else node["os"]],
                               "ports": [{"containerPort": 8080,
                                                                               "name": "http"}]}]},
                          "status": {"podIP": str(ip)}})
            eps.append({"addresses": [str(ip)], "nodeName": node["name"], "conditions": {"ready": True},
                        "targetRef": {"kind": "Pod", "name": pod, "namespace": ns}})
        kind = s % 10
        spec: dict[str, Any] = {"selector": {"app": name},
                                "clusterIP": str(IPv4Address(int(IPv4Address("10.96.16.0")) + s)),
                                "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
        svc: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
                               "spec": spec}
        if kind == 8:
            spec["type"] = "NodePort"
        elif kind == 9:
            spec["type"] = "LoadBalancer"
            if s % 20 == 9:
                spec["externalTrafficPolicy"] = "Local"
            svc["status"] = {"loadBalancer": {"ingress": [{"ip": str(IPv4Address(int(IPv4Address("20.0.0.0")) + s))}]}}
        if s % 10 == 3:
            spec["sessionAffinity"] = "ClientIP"
        items.append(svc)
        items.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                      "metadata": {"name": f"{name}-x", "namespace": ns,
                                   "labels": {"kubernetes.io/service-name": name}},
                      "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}], "endpoints": eps})
    if max(used) > 110:
        raise SystemExit(f"{max(used)} pods on one node: use more nodes or fewer endpoints")
    return [docs[0], *items]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--windows-every", type=int, default=4)
    ap.add_argument("--linux-images", action="store_true",
                    help="every pod runs nginx, also on Windows nodes (the first benchmarks' shape)")
    ap.add_argument("-o", "--output", default="-", help="JSON file to write; - for stdout")
    args = ap.parse_args()
    docs = generate(args.nodes, args.services, args.endpoints, args.windows_every, args.linux_images)
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
    if args.output == "-":
        sys.stdout.write(body)
    else:
        Path(args.output).write_text(body)


if __name__ == "__main__":
    main()
