"""Plan builders for the Services tests: the cni-plugins.md §10 cluster (master, lin1, win1, win2 on
10.240.0.0/24; pod CIDRs 10.244.0-3.0/24 in node order) plus Services, slices and pods written by hand."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from builders import pod_doc

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan

NODES = [
    {"name": "master", "os": "linux", "ip": "10.240.0.4"},
    {"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
    {"name": "win1", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 20348},
    {"name": "win2", "os": "windows", "ip": "10.240.0.30", "windowsBuild": 20348},
]


def cluster_doc(backend: str = "host-gw", kube_proxy: dict[str, Any] | None = None,
                nodes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    backend_conf: dict[str, Any] = {"Type": backend}
    if backend == "vxlan":
        backend_conf.update({"VNI": 4096, "Port": 4789})  # Windows needs VNI >= 4096 on UDP 4789
    spec: dict[str, Any] = {
        "clusterCIDR": "10.244.0.0/16", "serviceCIDR": "10.96.0.0/12",
        "network": {"plugin": "flannel", "backend": backend,
                    "config": {"Network": "10.244.0.0/16", "Backend": backend_conf}},
        "underlay": {"subnets": [{"name": "nodes", "cidr": "10.240.0.0/24", "gateway": "10.240.0.1"}]},
        "nodes": copy.deepcopy(NODES if nodes is None else nodes),
    }
    if kube_proxy is not None:
        spec["kubeProxy"] = kube_proxy
    return {"apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": "lb"}, "spec": spec}


AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.47"  # multi-OS: runs on Linux and Windows nodes alike


def service(name: str, ports: list[dict[str, Any]], namespace: str = "default", cluster_ip: str | None = None,
            ingress: list[str] | None = None, annotations: dict[str, str] | None = None,
            **spec: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Service",
                           "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
                           "spec": {"ports": ports, **spec}}
    if cluster_ip:
        doc["spec"]["clusterIP"] = cluster_ip
    if ingress:
        doc["status"] = {"loadBalancer": {"ingress": [{"ip": ip} for ip in ingress]}}
    return doc


def endpoint_slice(svc: str, endpoints: list[dict[str, Any]], ports: list[dict[str, Any]],
                   namespace: str = "default", name: str | None = None) -> dict[str, Any]:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": name or f"{svc}-abc", "namespace": namespace,
                         "labels": {"kubernetes.io/service-name": svc}},
            "endpoints": endpoints, "ports": ports}


def ep(ip: str, node: str | None, **conditions: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"addresses": [ip]}
    if node:
        out["nodeName"] = node
    if conditions:
        out["conditions"] = conditions
    return out


def build(tmp_path: Path, docs: list[dict[str, Any]], backend: str = "host-gw",
          kube_proxy: dict[str, Any] | None = None, nodes: list[dict[str, Any]] | None = None,
          name: str = "plan.yaml") -> Cluster:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all([cluster_doc(backend, kube_proxy, nodes), *docs], sort_keys=False))
    return Cluster.build(load_plan([path]))


def web_example(ingress: list[str] | None = None, **spec: Any) -> list[dict[str, Any]]:
    """services-lb.md §3.6: ns1/web, port http 80/TCP → 8080, nodePort 30080; endpoints 10.244.1.5 (lin1),
    10.244.2.7 (win1), 10.244.3.9 (win2), each a pod at that address so Windows nodes hold its HNS endpoint."""
    spec.setdefault("type", "NodePort")
    return [
        pod_doc("web-a", "lin1", namespace="ns1", ip="10.244.1.5"),
        pod_doc("web-b", "win1", namespace="ns1", ip="10.244.2.7"),
        pod_doc("web-c", "win2", namespace="ns1", ip="10.244.3.9"),
        service("web", [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}], namespace="ns1",
                cluster_ip="10.96.0.10", ingress=ingress, **spec),
        endpoint_slice("web", [ep("10.244.1.5", "lin1"), ep("10.244.2.7", "win1"), ep("10.244.3.9", "win2")],
                       [{"name": "http", "port": 8080, "protocol": "TCP"}], namespace="ns1"),
    ]
