"""Plan builders for the ovn-kubernetes tests: Linux nodes on 10.0.0.0/24, the ovnkube config as ovnkube.conf
sections (OpenShift's shape: 10.128.0.0/14 with /23 host subnets, services 172.30.0.0/16), pods and policies.

Hand-derived values the tests share (docs/ovn-kubernetes.md cites each rule): with cluster-subnets
10.128.0.0/14/23 the subnet allocator's rotation gives node 1 10.128.0.0/23, node 2 10.129.0.0/23, node 3
10.130.0.0/23, node 4 10.131.0.0/23, node 5 10.128.2.0/23; node IDs start at 2, so join IPs 100.64.0.2, .3, …
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.plugins.ovn_kubernetes.harness import missing_tools

needs_ovn = pytest.mark.skipif(bool(missing_tools()), reason="OVN is not installed (apt-get install ovn-central "
                               "ovn-common): the proof against ovn-northd and ovn-trace needs it")

NODES = [{"name": "lin1", "os": "linux", "ip": "10.0.0.11"}, {"name": "lin2", "os": "linux", "ip": "10.0.0.12"}]
WINDOWS = [{"name": "win1", "os": "windows", "ip": "10.0.0.21", "windowsBuild": 20348}]
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.47"


def config(**sections: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, dict[str, Any]] = {
        "default": {"cluster-subnets": "10.128.0.0/14/23"},
        "kubernetes": {"service-cidrs": "172.30.0.0/16"},
        "gateway": {"mode": "shared", "nodeport": True},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return base


def hybrid_config(**sections: dict[str, Any]) -> dict[str, Any]:
    return config(kubernetes={"no-hostsubnet-nodes": "kubernetes.io/os=windows"},
                  hybridoverlay={"enabled": True, "cluster-subnets": "10.132.0.0/14/23"}, **sections)


def plan_doc(nodes: list[dict[str, Any]] | None = None, cfg: dict[str, Any] | None = None,
             network: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "serviceCIDR": "172.30.0.0/16",
        "network": network if network is not None else {"plugin": "ovn-kubernetes",
                                                         "config": config() if cfg is None else cfg},
        "underlay": {"subnets": [{"name": "nodes", "cidr": "10.0.0.0/24", "gateway": "10.0.0.1", "mtu": 1500}]},
        "nodes": copy.deepcopy(NODES if nodes is None else nodes),
    }
    body.update(spec)
    return {"apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": "ovn"}, "spec": body}


def pod(name: str, node: str, namespace: str = "default", labels: dict[str, str] | None = None,
        ports: list[dict[str, Any]] | None = None, image: str = AGNHOST, **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": image}
    if ports:
        container["ports"] = ports
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [container], **spec}}


def netpol(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def service(name: str, namespace: str, ports: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"ports": ports, **spec}}


def write(tmp_path: Path, docs: list[dict[str, Any]], name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def build(tmp_path: Path, docs: list[dict[str, Any]]) -> Cluster:
    return Cluster.build(load_plan([write(tmp_path, docs)]))
