"""The report's panels that come from other engines' answers: load-balancer rules (``NodeServices``) and the
reachability matrix (``NamespaceMatrix``), laid out as the page reads them."""

from __future__ import annotations

from typing import Any

from cnimodel.overview import NodeServices
from cnimodel.policy.matrix import CLASS_LIMIT, NS_MATRIX_LIMIT, NamespaceMatrix
from cnimodel.render import lb_json
from cnimodel.render.html.pool import Pool


def lb_rules(services: NodeServices | None, pools: dict[str, Pool]) -> dict[str, Any] | None:
    """What kube-proxy programs on a node (as ``cnimodel lb -o json`` shows it), rows pooled across nodes."""
    if services is None:
        return None
    rows, lines = pools.setdefault("lbRows", Pool()), pools.setdefault("lbLines", Pool())
    if services.winkernel is not None:
        body = lb_json.windows_node(services.winkernel, list(services.vfp), services.config)
        return {"os": "windows", "proxy": body["proxy"], "network": body["network"],
                "servicePorts": rows.runs(_port_summary(p) for p in body["servicePorts"]),
                "loadBalancers": rows.runs(lb for p in body["servicePorts"] for lb in p["loadBalancers"]),
                "vfp": rows.runs(body["vfp"]), "endpoints": rows.runs(body["endpoints"]), "notes": body["notes"]}
    assert services.iptables is not None
    body = lb_json.linux_node(services.iptables, services.config)
    text: list[str] = []
    for table, chains in body["tables"].items():
        text.append(f"*{table}")
        for chain_rules in chains.values():
            text += chain_rules
    return {"os": "linux", "proxy": body["proxy"], "servicePorts": rows.runs(
        {"servicePort": p["servicePort"], "protocol": p["protocol"], "port": p["port"],
         "endpoints": p["clusterEndpoints"], "local": p["localEndpoints"], "notes": p["notes"]}
        for p in body["servicePorts"]), "lines": lines.runs(text), "notes": body["notes"]}


def _port_summary(p: dict[str, Any]) -> dict[str, Any]:
    return {"servicePort": p["servicePort"], "protocol": p["protocol"], "port": p["port"],
            "endpoints": sorted({b["ip"] for lb in p["loadBalancers"] for b in lb["backends"]}),
            "local": sorted({b["ip"] for lb in p["loadBalancers"] for b in lb["backends"] if b["local"]}),
            "notes": p["notes"]}


def reachability(m: NamespaceMatrix) -> dict[str, Any]:
    """The namespace × namespace matrix and the class × class matrix the page drills down with."""
    return {
        "namespaces": list(m.namespaces), "cells": m.cells, "classes": m.class_count, "matrix": m.matrix,
        "conns": [{"text": c.text(), "all": c.is_all, "none": not c} for c in m.conns],
        "overrides": [list(o) for o in m.overrides], "warnings": list(m.warnings),
        "limits": {"namespaces": NS_MATRIX_LIMIT, "classes": CLASS_LIMIT},
    }
