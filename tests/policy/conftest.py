"""Helpers for the policy tests: build a plan from YAML snippets and ask the engine one pair at a time.

Expected values in these tests are derived by hand from /work/shared/reference/policy-semantics.md and the
Kubernetes documentation and e2e tests it cites, never copied from the engine's output.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from builders import container_ports, pod_doc

from cnimodel.plan import load_plan
from cnimodel.policy import Reachability


def namespace(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def docs_of(*parts: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in parts:
        if isinstance(p, str):
            out.extend(d for d in yaml.safe_load_all(p) if d)
        elif isinstance(p, list):
            out.extend(p)
        else:
            out.append(p)
    return out


def e2e_model(ports: list[tuple[int, str, str | None]] | None = None) -> list[dict[str, Any]]:
    """The e2e suite's model: namespaces x, y, z (label ns=<name>), pods a, b, c (label pod=<name>)."""
    ports = ports if ports is not None else [(80, "TCP", "serve-80-tcp"), (81, "TCP", "serve-81-tcp")]
    out = []
    for i, ns in enumerate("xyz"):
        out.append(namespace(ns, {"ns": ns}))
        for j, p in enumerate("abc"):
            out.append(pod_doc(p, None, ns, f"10.1.{i + 1}.{j + 1}", labels={"pod": p}, ports=container_ports(ports)))
    return out


def build(*parts: Any) -> Reachability:
    text = yaml.safe_dump_all(docs_of(*parts))
    return Reachability.from_plan(load_plan(["case.yaml"], texts={"case.yaml": text}))


def conn(r: Reachability, src: str, dst: str) -> str:
    """The connection text of one pair (``not evaluated`` for a pod and itself)."""
    c = r.connection(r.resolve(src)[0], r.resolve(dst)[0])
    return "not evaluated" if c.conns is None else c.conns.text()


def can(r: Reachability, src: str, dst: str, port: int = 80, proto: str = "TCP") -> bool:
    c = r.connection(r.resolve(src)[0], r.resolve(dst)[0])
    assert c.conns is not None
    return c.conns.allows(proto, port)


def truth(r: Reachability, port: int = 80, proto: str = "TCP") -> dict[tuple[str, str], bool]:
    """Every ordered pair of distinct pods → allowed on (proto, port), like the e2e TruthTable."""
    pods = [e.name for e in r.pods()]
    return {(s, d): can(r, s, d, port, proto) for s in pods for d in pods if s != d}


def expect(pods: list[str], allowed: set[tuple[str, str]] | None = None,
           blocked: set[tuple[str, str]] | None = None) -> dict[tuple[str, str], bool]:
    """An e2e-style expectation: all True, then ``blocked`` pairs False (or all False, then ``allowed``)."""
    pairs = {(s, d) for s in pods for d in pods if s != d}
    if allowed is not None:
        return {p: p in allowed for p in pairs}
    return {p: p not in (blocked or set()) for p in pairs}


@pytest.fixture
def jsonify() -> Any:
    return lambda s: json.loads(s)
