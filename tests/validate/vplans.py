"""Plan builders for the validator tests: small documents around the reference's worked example
(cni-plugins.md §10: master 10.240.0.4, lin1 .10, win1 .20, win2 .30 on 10.240.0.0/24)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from builders import WORKED_NODES, cluster_doc, pod_doc, write_docs

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.validate import CheckOptions, Report, validate

VXLAN_4096 = {"plugin": "flannel", "backend": "vxlan",
              "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "VNI": 4096, "Port": 4789}}}


def nodes(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The worked example's nodes with per-node changes: ``nodes(win1={"windowsBuild": 17763})``."""
    out = copy.deepcopy(WORKED_NODES)
    for n in out:
        n.update(changes.get(n["name"], {}))
    return out


def service(name: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    body = {"ports": [{"port": 80, "protocol": "TCP"}], **spec}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": body}


def netpol(name: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"podSelector": {}, **spec}}


def run_check(tmp_path: Path, docs: list[dict[str, Any]], code: str | None = None, name: str = "plan.yaml",
              **options: Any) -> Report:
    """Load, build and validate ``docs`` (only ``code`` when given)."""
    plan = load_plan([write_docs(tmp_path / name, docs)])
    cluster = Cluster.build(plan) if plan.has_cluster else None
    return validate(plan, cluster, CheckOptions(**options), codes={code} if code else None)


def hits(tmp_path: Path, docs: list[dict[str, Any]], code: str, **options: Any) -> list[Any]:
    """The findings of one check."""
    return [f for f in run_check(tmp_path, docs, code, **options).findings if f.code == code]


__all__ = ["VXLAN_4096", "cluster_doc", "hits", "netpol", "nodes", "pod_doc", "run_check", "service"]
