"""Structural mutations of the example plans, and the command lines the fuzz suite runs on them.

A mutation picks a place in a plan's documents (any mapping key or list item) and deletes it, replaces it with a
value of another type or an edge value (an address at the top of the space, a prefix length of 0 or 32, IPv6
where IPv4 belongs, markup and unicode in names, huge numbers), duplicates it, or empties a container. The
values are the ones issue #22 lists; what a command must do with them is the same every time: exit 0, 1 or 2,
never an internal error.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"

# Edge values of every type the readers meet (a plan's author can write any of them).
ODD_VALUES: tuple[Any, ...] = (
    None, 0, -1, 1, 24, 32, 33, 65536, 2**31, 2**63, 10**40, 1.5, float("inf"), True, False,
    "", " ", "x", "-", "[/]", "[/bold]", "[red]x[/red]", "ns/[/]", "ünïcødé-名前", "a" * 300, "/", "a/b/c",
    "default/", "/x", "::1", "fd00::/64", "fd00::10", "255.255.255.255", "255.255.255.255/32", "0.0.0.0",
    "0.0.0.0/0", "0.0.0.0/32", "10.0.0.0/33", "10.0.0.1/24", "10.244.0.0/31", "10.244.0.0/32", "1.2.3.4",
    "10.244.0.0/8", "-1", "65536", "1e9", "true", "null", "*", "%", "\t", "a\nb",
    [], {}, [1], [None], ["x"], [{}], {"a": 1}, {"": None}, {"x": []}, [[[]]],
)


@dataclass(frozen=True)
class Target:
    """One place in the documents: the container holding it and its key (a dict key or a list index)."""

    path: tuple[Any, ...]  # from the document list down to the container, then the key


def places(docs: list[Any]) -> list[tuple[Any, ...]]:
    """Every path (document index first) to a value inside the documents, in document order."""
    out: list[tuple[Any, ...]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                out.append((*path, k))
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                out.append((*path, i))
                walk(v, (*path, i))

    for d, doc in enumerate(docs):
        walk(doc, (d,))
    return out


def _container(docs: list[Any], path: tuple[Any, ...]) -> tuple[Any, Any]:
    node: Any = docs
    for key in path[:-1]:
        node = node[key]
    return node, path[-1]


def edge_cidr(value: str, length: int, top: bool) -> str:
    """``value`` with another prefix length, or with its address moved to the top of the space."""
    addr, _, _ = value.partition("/")
    return f"{'255.255.255.255' if top else addr}/{length}"


OPS = ("delete", "replace", "replace", "wrap", "duplicate", "empty", "cidr", "stringify", "tweak", "tweak", "tweak")

# Values of the same type as the one they replace, at its edges: a plan that still reads, but oddly.
INT_EDGES = (0, 1, -1, 2, 31, 32, 255, 1500, 4095, 4096, 65535, 65536, 2**31 - 1, 2**32)
NAME_EDGES = ("{}[/]", "[/bold]{}", "{}[red]", "{}-ünï", "{}.x", "{}_x", "X{}", "{}" + "a" * 70, "", "{}/x")
ADDRESS_EDGES = ("0.0.0.0", "255.255.255.255", "127.0.0.1", "169.254.0.1", "224.0.0.1", "10.0.0.0", "fd00::1")


def tweak(current: Any, length: int) -> Any:
    """An edge value of ``current``'s own type: the plan stays readable, the engines meet the edge."""
    if isinstance(current, bool):
        return not current
    if isinstance(current, int):
        return INT_EDGES[length % len(INT_EDGES)]
    if isinstance(current, str):
        addr, slash, _ = current.partition("/")
        if addr.count(".") == 3 and addr.replace(".", "").isdigit():
            if slash:
                return edge_cidr(current, length, top=length % 4 == 0)
            return ADDRESS_EDGES[length % len(ADDRESS_EDGES)]
        return NAME_EDGES[length % len(NAME_EDGES)].format(current)
    if isinstance(current, list) and current:
        return current[::-1] if length % 2 else current * 2
    return current


def apply(docs: list[Any], path: tuple[Any, ...], op: str, value: Any, length: int) -> list[Any]:
    """A mutated deep copy of ``docs``; ``value`` and ``length`` feed the ops that need them."""
    docs = copy.deepcopy(docs)
    container, key = _container(docs, path)
    current = container[key]
    if op == "delete":
        del container[key]
    elif op == "replace":
        container[key] = copy.deepcopy(value)
    elif op == "wrap":  # a list where a mapping or a scalar belongs, or a mapping where a list belongs
        container[key] = [current] if not isinstance(current, list) else {"item": current}
    elif op == "duplicate":
        if isinstance(container, list):
            container.insert(key, copy.deepcopy(current))
        elif isinstance(current, list) and current:
            current.append(copy.deepcopy(current[-1]))
        else:
            container[key] = copy.deepcopy(current)
    elif op == "empty":
        container[key] = type(current)() if isinstance(current, list | dict | str) else None
    elif op == "cidr":
        if isinstance(current, str) and current[:1].isdigit():
            container[key] = edge_cidr(current, length, top=length % 3 == 0)
        else:
            container[key] = length
    elif op == "stringify":
        container[key] = str(current)
    elif op == "tweak":
        container[key] = tweak(current, length)
    return docs


def mutation(draw: Any, docs: list[Any], ops: tuple[str, ...] = OPS, shown: int = 0) -> tuple[list[Any], str] | None:
    """One drawn mutation of ``docs`` (hypothesis's ``draw``): the mutated copy and the step as the failure logs say
    it (the path from its ``shown``-th part); None when the documents hold no place."""
    from hypothesis import strategies as st

    where = places(docs)
    if not where:
        return None
    path = where[draw(st.integers(0, len(where) - 1))]
    op = draw(st.sampled_from(ops))
    value = draw(st.sampled_from(ODD_VALUES))
    length = draw(st.integers(0, 32))
    return apply(docs, path, op, value, length), f"{op} {'.'.join(map(str, path[shown:]))} {value!r:.40} /{length}"


def load(name: str) -> list[Any]:
    return [d for d in yaml.safe_load_all((TOPOLOGIES / name).read_text()) if d is not None]


def dump(docs: list[Any]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)


def names(docs: list[Any]) -> dict[str, list[str]]:
    """Node, pod and Service names the original plan holds (the commands' arguments)."""
    nodes: list[str] = []
    pods: list[str] = []
    services: list[str] = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind")
        meta = doc.get("metadata") or {}
        key = f"{meta.get('namespace', 'default')}/{meta.get('name')}"
        if kind == "ClusterPlan":
            nodes += [n["name"] for n in (doc.get("spec") or {}).get("nodes") or [] if isinstance(n, dict)]
        elif kind in ("Pod", "Deployment", "StatefulSet", "DaemonSet"):
            pods.append(key)
        elif kind == "Service":
            services.append(key)
    return {"nodes": nodes or ["lin1"], "pods": pods or ["default/client"], "services": services}


def command_lines(plan: str, n: dict[str, list[str]]) -> list[list[str]]:
    """Every command of the CLI, with the arguments the plan's names make meaningful."""
    node, pod = n["nodes"][0], n["pods"][0]
    other = n["pods"][-1] if len(n["pods"]) > 1 else n["nodes"][-1]
    svc = n["services"][0] if n["services"] else other
    return [
        ["summary", plan], ["ipam", plan], ["ipam", plan, "-o", "json"],
        ["routes", plan], ["routes", plan, "-o", "json"], ["routes", plan, "-o", "ip"],
        ["routes", plan, "-o", "hns"], ["routes", plan, "--node", node, "-o", "ip-batch"],
        ["lookup", plan, "10.244.1.5", "--node", node], ["lookup", plan, "255.255.255.255", "--node", "underlay"],
        ["check", plan], ["check", plan, "-o", "json"], ["check", plan, "-o", "sarif"],
        ["trace", plan, pod, other], ["trace", plan, pod, svc], ["trace", plan, node, "8.8.8.8", "-o", "json"],
        ["reach", plan], ["reach", plan, "-o", "json"],
        ["lb", plan], ["lb", plan, "-o", "json"], ["lb", plan, "-o", "iptables"], ["lb", plan, "-o", "hns"],
        ["lb", plan, "-o", "vfp"], ["lb", plan, "--dst", "10.96.0.10:53/udp", "--node", node],
        ["graph", plan], ["graph", plan, "-o", "dot"], ["graph", plan, "--dst", pod, "-o", "mermaid"],
        ["render", plan, "-o", "dot", "--out", "-"], ["render", plan, "-o", "mermaid", "--out", "-"],
        ["render", plan, "-o", "html", "--out", "-"],
        ["plan", "infer", plan], ["diff", plan, plan], ["ovn", "export", plan],
        ["audit", plan, "--node", node], ["reach", plan, "-o", "csv"], ["check", plan, "--min-severity", "error"],
        ["ipam", "-"], ["check", "-o", "sarif", "-"],  # the plan on standard input
    ]
