"""Read plan files (YAML or JSON, several documents, ``kind: List`` dumps, directories) into a Plan."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from cnimodel.bulk import bulk
from cnimodel.plan.checks import check_plan
from cnimodel.plan.cluster import API_VERSION, ClusterSpec, parse_cluster_plan
from cnimodel.plan.errors import Origin, PlanError, Problems
from cnimodel.plan.kube import KEPT_KINDS, parse_kept, parse_namespace, parse_node_object, parse_pod
from cnimodel.plan.model import KubeObject, Namespace, NodeSpec, Plan, PolicySpec, Underlay
from cnimodel.plan.workloads import WORKLOAD_KINDS, Workload, expand_plan, parse_workload

SUFFIXES = (".yaml", ".yml", ".json")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster at 5,000 nodes


def plan_files(paths: Sequence[str | Path], problems: Problems) -> list[Path]:
    """The files a plan is made of: each path as given, or the YAML/JSON files below a directory, sorted."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file())
            if not found:
                problems.error(Origin(str(p)), "the directory holds no .yaml, .yml or .json file",
                               "point at a plan file or a directory of them")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            problems.error(Origin(str(p)), "no such file or directory", "check the path")
    return files


def read_documents(path: Path, problems: Problems, text: str | None = None) -> list[Any]:
    """Every document of one file; a syntax error becomes a problem with its line and column."""
    try:
        text = path.read_text() if text is None else text
    except (OSError, UnicodeDecodeError) as e:
        problems.error(Origin(str(path)), f"cannot read the file: {e}")
        return []
    if path.suffix == ".json":
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as e:
            problems.error(Origin(str(path), path=f"line {e.lineno} column {e.colno}"),
                           f"invalid JSON: {e.msg}", "fix the JSON syntax at that position")
            return []
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problems.error(Origin(str(path), path=where), f"invalid YAML: {getattr(e, 'problem', e)}",
                       "fix the YAML syntax at that position")
        return []


def _objects(path: Path, problems: Problems, text: str | None) -> Iterator[tuple[dict[str, Any], Origin]]:
    for d, doc in enumerate(read_documents(path, problems, text)):
        if doc is None:
            continue
        origin = Origin(str(path), d)
        if not isinstance(doc, dict):
            problems.error(origin, f"a document must be a mapping, found {type(doc).__name__}",
                           "each document needs apiVersion and kind")
            continue
        if doc.get("kind") == "List" or (str(doc.get("kind", "")).endswith("List") and "items" in doc):
            items = doc.get("items") or []
            if not isinstance(items, list):
                problems.error(origin.at("items"), "expected a list of objects")
                continue
            for i, item in enumerate(items):
                if isinstance(item, dict):
                    yield item, origin.at(f"items[{i}]")
                else:
                    problems.error(origin.at(f"items[{i}]"), "expected an object")
        else:
            yield doc, origin


def load_plan(paths: Sequence[str | Path], texts: dict[str, str] | None = None) -> Plan:
    """Load, check and return a plan, or raise PlanError listing every problem found.

    ``texts`` maps a path to its content, for plans that do not live on disk (the embedded default).
    """
    with bulk():
        return _load(paths, texts)


def _load(paths: Sequence[str | Path], texts: dict[str, str] | None) -> Plan:
    problems = Problems()
    files = [Path(p) for p in texts] if texts else plan_files(paths, problems)
    cluster: ClusterSpec | None = None
    nodes_from_objects: list[NodeSpec] = []
    namespaces: list[Namespace] = []
    pods = []
    kept: list[KubeObject] = []
    workloads: list[Workload] = []
    ignored: Counter[str] = Counter()
    for path in files:
        for doc, origin in _objects(path, problems, texts.get(str(path)) if texts else None):
            kind = doc.get("kind")
            if not isinstance(kind, str):
                problems.error(origin.at("kind"), "is required", "set kind, e.g. ClusterPlan, Pod, Node")
                continue
            if kind == "ClusterPlan":
                if doc.get("apiVersion") != API_VERSION:
                    problems.error(origin.at("apiVersion"), f"expected {API_VERSION!r}, found "
                                   f"{doc.get('apiVersion')!r}", f"set apiVersion: {API_VERSION}")
                if cluster is not None:
                    problems.error(origin, "a second ClusterPlan document",
                                   f"keep one ClusterPlan per plan (the first is in {cluster.origin.file})")
                    continue
                cluster = parse_cluster_plan(doc, origin, problems)
            elif kind == "Node":
                if (n := parse_node_object(doc, origin, problems)) is not None:
                    nodes_from_objects.append(n)
            elif kind == "Pod":
                if (p := parse_pod(doc, origin, problems)) is not None:
                    pods.append(p)
            elif kind == "Namespace":
                if (ns := parse_namespace(doc, origin, problems)) is not None:
                    namespaces.append(ns)
            elif kind in WORKLOAD_KINDS:
                if (w := parse_workload(doc, origin, problems)) is not None:
                    workloads.append(w)
            elif kind in KEPT_KINDS:
                if (o := parse_kept(doc, origin, problems)) is not None:
                    kept.append(o)
            else:
                ignored[kind] += 1
    if ignored:
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(ignored.items()))
        problems.warn(Origin(", ".join(str(f) for f in files[:3]) + (" …" if len(files) > 3 else "")),
                      f"kinds cnimodel does not model were ignored: {listed}")
    plan = _assemble(cluster, nodes_from_objects, namespaces, pods, kept, problems, files)
    plan = expand_plan(plan, workloads, problems, expand=cluster.expand if cluster else True)
    plan = check_plan(plan, problems)
    if problems.errors:
        raise PlanError(problems.items)
    return replace(plan, warnings=tuple(problems.warnings))


def _assemble(cluster: ClusterSpec | None, extra_nodes: list[NodeSpec], namespaces: list[Namespace],
              pods: list, kept: list[KubeObject], problems: Problems, files: list[Path]) -> Plan:
    sources = tuple(str(f) for f in files)
    if cluster is None:
        return Plan(name="manifests", cluster_cidr=None, service_cidr=None, node_cidr_mask_size=24,
                    dns_service_ip=None, network=None, policy=PolicySpec(), underlay=Underlay(()),
                    nodes=tuple(extra_nodes), namespaces=tuple(namespaces), pods=tuple(pods),
                    objects=tuple(kept), sources=sources, origin=Origin(", ".join(sources) or "<plan>"))
    return Plan(name=cluster.name, cluster_cidr=cluster.cluster_cidr, service_cidr=cluster.service_cidr,
                node_cidr_mask_size=cluster.node_cidr_mask_size, dns_service_ip=cluster.dns_service_ip,
                network=cluster.network, policy=cluster.policy, underlay=cluster.underlay,
                nodes=cluster.nodes + tuple(extra_nodes), namespaces=tuple(namespaces), pods=tuple(pods),
                objects=tuple(kept), sources=sources, origin=cluster.origin, kube_proxy=cluster.kube_proxy)
