"""The forwarding graph as JSON (``cnimodel graph -o json``): vertices with their data, edges with their kind, class
and fact. Keys are documented in docs/json.md."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

import networkx as nx

from cnimodel.dataplane import Encap, NatRule, PolicyEnforcement, Route
from cnimodel.render import facts_json


def fact(f: Any) -> Any:
    """An edge fact as plain JSON values: its type and fields; routes and Encap facts in their usual shapes."""
    if f is None:
        return None
    if not is_dataclass(f):
        return str(f)
    out: dict[str, Any] = {"type": type(f).__name__}
    for field in fields(f):
        out[_camel(field.name)] = _value(field.name, getattr(f, field.name))
    return out


def _value(name: str, v: Any) -> Any:
    if isinstance(v, Route):
        return facts_json.route(v)
    if isinstance(v, Encap):
        return facts_json.encap(v)
    if isinstance(v, NatRule):
        return facts_json.nat_rule(v)
    if isinstance(v, PolicyEnforcement):
        return {"enforced": v.enforced, "by": v.by, "mechanism": v.mechanism, "reason": v.reason}
    if name == "decision":
        return {"service": v.service, "frontend": v.frontend, "disposition": v.disposition, "decidedBy": v.decided_by,
                "reason": v.reason}
    if name == "backend":
        return {"ip": v.ip, "port": v.port, "pod": v.pod, "node": v.node, "weight": round(v.weight, 6)}
    if name == "pod" and hasattr(v, "pod"):  # a PodAddress
        return v.pod.key
    if isinstance(v, IPv4Address | IPv4Network):
        return str(v)
    if isinstance(v, tuple | list):
        return [_value(name, x) for x in v]
    if is_dataclass(v):
        return fact(v)
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def to_json(g: nx.Graph) -> dict[str, Any]:
    """The picture (``cnimodel.graph.wiring``) or one destination's graph (``destination_graph``) as JSON."""
    out: dict[str, Any] = {"name": g.graph.get("name")}
    if g.is_directed():
        out["dst"] = g.graph.get("dst")
        out["classes"] = g.graph.get("classes", {})
    out["nodes"] = [{"id": n, **attrs} for n, attrs in g.nodes(data=True)]
    if g.is_multigraph():
        out["edges"] = [{"source": a, "target": b, "key": k, "kind": d.get("kind"), "class": d.get("cls"),
                         "toClass": d.get("to_cls"), "fact": fact(d.get("fact"))}
                        for a, b, k, d in g.edges(keys=True, data=True)]
    else:
        out["edges"] = [{"source": a, "target": b, **attrs} for a, b, attrs in g.edges(data=True)]
    return out


__all__ = ["fact", "to_json"]
