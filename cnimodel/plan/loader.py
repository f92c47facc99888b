"""Read plan files (YAML or JSON, several documents, ``kind: List`` dumps, directories) into a Plan."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from cnimodel.bulk import bulk
from cnimodel.plan import fastjson, fastyaml
from cnimodel.plan.checks import check_plan
from cnimodel.plan.cluster import API_VERSION, CONFIG_KEYS, INFERABLE, ClusterSpec, parse_cluster_plan
from cnimodel.plan.errors import Origin, PlanError, Problems, origin_at
from cnimodel.plan.installed import Installed
from cnimodel.plan.kube import (
    CLUSTER_SCOPED,
    KEPT_KINDS,
    kept_record,
    parse_kept,
    parse_namespace,
    parse_node_object,
    parse_pod,
    pod_from_record,
)
from cnimodel.plan.limits import (
    LIMITS_DOC,
    MAX_FOLDER_ENTRIES,
    MAX_INPUT_BYTES,
    MAX_OBJECTS,
    InputRefused,
    check_aliases,
    read_limited,
)
from cnimodel.plan.model import KubeObject, Namespace, NodeSpec, Plan, PolicySpec, Underlay
from cnimodel.plan.names import WORKLOAD_KINDS
from cnimodel.plan.unmodelled import Unmodelled
from cnimodel.plan.workloads import Workload, expand_plan, parse_workload

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = Path("-")  # ``-`` among the inputs: standard input, read once (kubectl's ``-f -``)


def _plan_files(paths: Sequence[str | Path], problems: Problems) -> list[tuple[Path, bool]]:
    """Each plan file with whether it was found by walking a directory (rather than named by the user).
    A file reached twice (named, and inside a named folder) is read once, where it was first reached."""
    files: list[tuple[Path, bool]] = []
    seen: set[Path] = set()

    def add(f: Path, walked: bool) -> None:
        key = f.resolve() if f != STDIN else f
        if key not in seen:
            seen.add(key)
            files.append((f, walked))

    for p in map(Path, paths):
        if p == STDIN:
            add(p, False)
            continue
        try:
            kind = _stat_kind(p)
        except ValueError:  # a NUL byte in the path
            problems.error(Origin(repr(str(p))), "the path holds a NUL byte, which no file name can",
                           "check how the path was produced")
            continue
        if kind == "dir":
            try:
                found = _walk(p)
            except InputRefused as e:
                problems.error(Origin(str(p)), e.message, e.fix)
                continue
            if not found:
                problems.error(Origin(str(p)), "the directory holds no .yaml, .yml or .json file",
                               "point at a plan file or a directory of them")
            for f in found:
                add(f, True)
        elif kind == "missing":
            problems.error(Origin(str(p)), "no such file or directory", "check the path")
        else:  # a file, or a FIFO or device: read_limited says what it accepts
            add(p, False)
    return files


def _stat_kind(p: Path) -> str:
    if "\0" in str(p):
        raise ValueError("embedded null byte")  # (is_dir and lexists would only answer False)
    try:
        return "dir" if p.is_dir() else "other" if os.path.lexists(p) else "missing"
    except OSError:
        return "other"  # (a loop of symbolic links, a path too long: read_limited names the error)


def _walk(top: Path) -> list[Path]:
    """The plan files below a folder, sorted; symbolic links to folders are not followed, hidden folders
    (.git) are skipped, and a walk past MAX_FOLDER_ENTRIES entries is refused (``cnimodel ipam /``)."""
    found: list[Path] = []
    seen = 0
    for root, dirs, names in os.walk(top):
        seen += len(dirs) + len(names)
        if seen > MAX_FOLDER_ENTRIES:
            raise InputRefused(f"the folder holds more than {MAX_FOLDER_ENTRIES:,} files and folders: not a plan "
                               "folder", f"name the plan files, or the folder that holds only them "
                               f"({LIMITS_DOC})")
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += (Path(root) / n for n in names if n.endswith(SUFFIXES) and os.path.isfile(os.path.join(root, n)))
    return sorted(found)


def name_of(path: Path) -> str:
    """How messages name an input: its path, or ``<stdin>``."""
    return "<stdin>" if path == STDIN else str(path)


def _read(path: Path) -> str | bytes | memoryview:
    """The file's bytes when it is a JSON file the fast decoder may take (a large kubectl dump), else its text.
    At most MAX_INPUT_BYTES; a device, socket or directory is refused (InputRefused)."""
    if path == STDIN:
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputRefused(f"standard input is larger than the {MAX_INPUT_BYTES >> 30} GiB a plan file may be",
                               f"split the input into several files ({LIMITS_DOC})")
        return data if fastjson.ENABLED and data.lstrip()[:1] == b"{" else data.decode("utf-8-sig")
    if fastjson.ENABLED and path.suffix == ".json" and path.is_file() \
            and path.stat().st_size <= MAX_INPUT_BYTES:
        return fastjson.read(path)
    return read_limited(path, MAX_INPUT_BYTES, "plan file").decode("utf-8-sig")


def read_documents(path: Path, problems: Problems, text: str | None = None) -> list[Any]:
    """Every document of one file; a syntax error becomes a problem with its line and column."""
    data: str | bytes | memoryview
    try:
        data = _read(path) if text is None else text
        if not isinstance(data, str):
            fast = fastjson.decode(data)
            if fast is not None:
                return [fast]
            text = bytes(data).decode("utf-8-sig")
        else:
            text = data
    except InputRefused as e:
        problems.error(Origin(name_of(path)), e.message, e.fix)
        return []
    except UnicodeDecodeError as e:
        problems.error(Origin(name_of(path), path=f"byte {e.start}"), f"is not UTF-8 text ({e.reason}: "
                       f"{bytes(e.object[e.start:e.start + 4])!r}…)", "save the file as UTF-8 (plans are UTF-8 "
                       "YAML or JSON; a binary file or another encoding cannot be read)")
        return []
    except OSError as e:
        problems.error(Origin(name_of(path)), f"cannot read the file: {e.strerror or e}",
                       "check the path and its permissions")
        return []
    if path.suffix == ".json" or (path == STDIN and text.lstrip()[:1] in ("{", "[")):
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as e:
            problems.error(Origin(name_of(path), path=f"line {e.lineno} column {e.colno}"),
                           f"invalid JSON: {e.msg}", "fix the JSON syntax at that position")
            return []
        except RecursionError:
            problems.error(Origin(name_of(path)), "the JSON is nested too deeply to read (thousands of levels)",
                           "check the file for a runaway nesting; plans are a few levels deep")
            return []
    try:
        if "&" in text and "*" in text:  # anchors and aliases: refuse an expansion past the limit first
            check_aliases(text, fastyaml.Loader)
        return list(fastyaml.load_all(text))
    except InputRefused as e:
        problems.error(Origin(name_of(path)), e.message, e.fix)
        return []
    except RecursionError:
        problems.error(Origin(name_of(path)), "the YAML is nested too deeply to read (hundreds of levels)",
                       "check the file for a runaway nesting; plans are a few levels deep")
        return []
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problems.error(Origin(name_of(path), path=where), f"invalid YAML: {getattr(e, 'problem', e)}",
                       "fix the YAML syntax at that position")
        return []


# Top-level keys of the configs a plan references with configFile: CNI confs/conflists and flannel's net-conf.json.
_CNI_KEYS = frozenset(("cniVersion", "plugins", "type", "delegate"))
_NETCONF_KEYS = frozenset(("Network", "Backend", "SubnetLen", "SubnetMin", "SubnetMax", "EnableIPv6", "IPv6Network"))


def config_like(docs: list[Any]) -> str | None:
    """What a file holding no apiVersion/kind looks like ("a CNI config", "a flannel net-conf.json"), else None."""
    if not docs or not all(isinstance(d, dict) and "kind" not in d and "apiVersion" not in d for d in docs):
        return None
    keys = set().union(*docs)
    if keys & _CNI_KEYS:
        return "a CNI config"
    return "a flannel net-conf.json" if keys & _NETCONF_KEYS else None


def _referenced(loaded: list[tuple[Path, bool, list[Any]]]) -> set[Path]:
    """The files ClusterPlan documents read through configFile/cniConfigFile/windowsConfigFile (resolved
    relative to the plan file, as the plan parser reads them): configs, never plan documents."""
    out: set[Path] = set()
    for path, _, docs in loaded:
        for doc in docs:
            if not (isinstance(doc, dict) and doc.get("kind") == "ClusterPlan"):
                continue
            spec = doc.get("spec")
            network = spec.get("network") if isinstance(spec, dict) else None
            if not isinstance(network, dict):
                continue
            for key in CONFIG_KEYS:
                ref = network.get(key)
                if isinstance(ref, str) and ref and "#" not in ref:
                    out.add((path.parent / ref).resolve())
    return out


_RECORDS = (fastjson.PodRecord, fastjson.SliceItem)


def _objects(path: Path, problems: Problems, docs: list[Any]
             ) -> Iterator[tuple[dict[str, Any] | fastjson.PodRecord | fastjson.SliceItem, Origin]]:
    for d, doc in enumerate(docs):
        if doc is None:
            continue
        origin = Origin(name_of(path), d)
        if not isinstance(doc, dict):
            problems.error(origin, f"a document must be a mapping, found {type(doc).__name__}",
                           "each document needs apiVersion and kind")
            continue
        if doc.get("kind") == "List" or (str(doc.get("kind", "")).endswith("List") and "items" in doc):
            items = doc.get("items") or []
            if not isinstance(items, list | fastjson.Items):
                problems.error(origin.at("items"), "expected a list of objects",
                               "write `items:` as a list of Kubernetes objects (- apiVersion: …)")
                continue
            file, document = origin.file, origin.document
            for i, item in enumerate(items):
                if isinstance(item, dict) or type(item) in _RECORDS:
                    yield item, origin_at(file, document, f"items[{i}]")  # (origin.at, one per listed object)
                else:
                    problems.error(origin.at(f"items[{i}]"), f"expected an object, found {type(item).__name__}",
                                   "each item is a Kubernetes object: a mapping with apiVersion and kind")
        else:
            yield doc, origin


def _once(doc: dict[str, Any], kind: str, origin: Origin, seen: dict[tuple[str, str, str, str], Origin],
          problems: Problems) -> None:
    """Report an object given twice (same API group, kind, namespace and name), naming both places."""
    meta = doc.get("metadata")
    if type(meta) is not dict or kind == "ClusterPlan":  # a second ClusterPlan has its own message
        return
    name, ns, api = meta.get("name"), meta.get("namespace"), doc.get("apiVersion")
    if type(name) is not str:
        return
    _seen(kind, api, ns, name, origin, seen, problems)


def _seen(kind: str, api: Any, ns: Any, name: str, origin: Origin, seen: dict[tuple[str, str, str, str], Origin],
          problems: Problems) -> None:
    if type(ns) is not str or not ns:
        ns = "" if kind in CLUSTER_SCOPED else "default"
    group = api.rpartition("/")[0] if type(api) is str else ""
    first = seen.setdefault((group, kind, ns, name), origin)  # (150,000 pods: once each, cheaply)
    if first is not origin:
        what = f"{kind} {ns + '/' if ns else ''}{name}" + (f" ({group})" if group else "")
        problems.error(origin.at("metadata.name"), f"{what} is given twice: also at {first.where()}",
                       "keep one of the two: remove it from one file, or leave one of the inputs out")


def load_plan(paths: Sequence[str | Path], texts: dict[str, str] | None = None,
              installed: Installed | None = None) -> Plan:
    """Load, check and return a plan, or raise PlanError listing every problem found.

    ``texts`` maps a name to its content, for documents that do not live on disk (objects given to
    ``cnimodel.load``, the embedded default); they join the files ``paths`` names. ``installed`` (the front
    doors give ``cnimodel.plugin.installed()``) checks plugin names and places pods by the plugin's capacity.
    """
    with bulk():
        return _load(paths, texts, installed)


def _load(paths: Sequence[str | Path], texts: dict[str, str] | None, installed: Installed | None) -> Plan:
    problems = Problems()
    texts = texts or {}  # contents given in memory: they join the files named (and are not read from disk)
    listed = _plan_files([p for p in paths if str(p) not in texts], problems) + [(Path(p), False) for p in texts]
    given = ", ".join(name_of(p) for p, _ in listed[:3]) + (" …" if len(listed) > 3 else "")
    loaded = [(path, walked, read_documents(path, problems, texts.get(str(path))))
              for path, walked in listed]
    configs = _referenced(loaded)
    files: list[Path] = []
    cluster: ClusterSpec | None = None
    cluster_docs: list[tuple[dict[str, Any], Origin]] = []
    nodes_from_objects: list[NodeSpec] = []
    namespaces: list[Namespace] = []
    pods = []
    kept: list[KubeObject] = []
    workloads: list[Workload] = []
    ignored: Counter[str] = Counter()
    identities: dict[tuple[str, str, str, str], Origin] = {}
    unmodelled = Unmodelled(problems)
    counted = sum(len(d["items"]) if isinstance(d, dict) and isinstance(d.get("items"), list | fastjson.Items)
                  else 1 for _, _, docs in loaded for d in docs)
    if counted > MAX_OBJECTS:
        shown = ", ".join(name_of(p) for p, _, _ in loaded[:3]) + (" …" if len(loaded) > 3 else "")
        problems.error(Origin(shown), f"the inputs hold {counted:,} objects: more than the {MAX_OBJECTS:,} a plan "
                       "may hold", f"model a part of the cluster ({LIMITS_DOC})")
        raise PlanError(problems.items)
    for path, walked, docs in loaded:
        if configs and path != STDIN and path.resolve() in configs and not any(
                isinstance(d, dict) and "kind" in d for d in docs):
            continue  # read by the ClusterPlan's configFile, as the plugin reads it (a manifest stays a plan file)
        looks = config_like(docs)
        if looks and walked:
            # A config the plan does not reference, lying in the plan directory: not a plan document.
            problems.warn(Origin(name_of(path)), f"skipped: {looks} (no apiVersion or kind), not a plan document",
                          "reference it from spec.network.configFile (or cniConfigFile) to use it")
            continue
        files.append(path)
        for doc, origin in _objects(path, problems, docs):
            if type(doc) is fastjson.PodRecord:  # a dump's pod, its field types checked as it was decoded
                if (p := pod_from_record(doc, origin, problems)) is not None:
                    pods.append(p)
                    unmodelled.record(doc, origin, p.ports)
                    continue
                doc = fastjson.as_dict(doc)  # a value the checked reader is to name
            elif type(doc) is fastjson.SliceItem:  # a dump's EndpointSlice, decoded as its shape checks it
                o = kept_record(doc, origin)
                _seen("EndpointSlice", doc.record.apiVersion, o.namespace, o.name, origin, identities, problems)
                kept.append(o)
                continue
            kind = doc.get("kind")
            if not isinstance(kind, str):
                fix = (f"this looks like {looks}: reference it from spec.network.configFile instead of loading it "
                       "as a plan file" if looks else "set kind, e.g. ClusterPlan, Pod, Node")
                problems.error(origin.at("kind"), "is required", fix)
                continue
            if kind != "Pod":  # pods are checked for duplicates by key with the generated ones (plan/checks.py)
                _once(doc, kind, origin, identities, problems)
            if kind == "ClusterPlan":
                if doc.get("apiVersion") != API_VERSION:
                    problems.error(origin.at("apiVersion"), f"expected {API_VERSION!r}, found "
                                   f"{doc.get('apiVersion')!r}", f"set apiVersion: {API_VERSION}")
                if cluster_docs:
                    problems.error(origin, "a second ClusterPlan document",
                                   f"keep one ClusterPlan per plan (the first is in {cluster_docs[0][1].file})")
                    continue
                cluster_docs.append((doc, origin))  # read below, once it is known whether Nodes come with it
            elif kind == "Node":
                if (n := parse_node_object(doc, origin, problems)) is not None:
                    nodes_from_objects.append(n)
            elif kind == "Pod":
                if (p := parse_pod(doc, origin, problems)) is not None:
                    pods.append(p)
                unmodelled.pod(doc, origin, host_ports=p is None or any(c.host_port for c in p.ports))
            elif kind == "Namespace":
                if (ns := parse_namespace(doc, origin, problems)) is not None:
                    namespaces.append(ns)
            elif kind in WORKLOAD_KINDS:
                if (w := parse_workload(doc, origin, problems)) is not None:
                    workloads.append(w)
                unmodelled.template(doc, kind, origin)
                if kind == "DaemonSet" and (o := parse_kept(doc, origin, problems)) is not None:
                    kept.append(o)  # also kept whole: cnimodel.discover reads the plugin daemon's flags
            elif kind in KEPT_KINDS:
                if (o := parse_kept(doc, origin, problems)) is not None:
                    kept.append(o)
                if kind == "Service":
                    unmodelled.service(doc, origin)
            else:
                ignored[kind] += 1
    if cluster_docs:  # beside Node objects (a cluster's dump) it may leave out what cnimodel.infer reads there
        cluster = parse_cluster_plan(*cluster_docs[0], problems, partial=bool(nodes_from_objects),
                                     installed=installed)
    if ignored:
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(ignored.items()))
        problems.warn(Origin(", ".join(str(f) for f in files[:3]) + (" …" if len(files) > 3 else "")),
                      f"kinds cnimodel does not model were ignored: {listed}")
    plan = _assemble(cluster, nodes_from_objects, namespaces, pods, kept, problems, files, given or "<plan>")
    capacity = installed.max_pods(plan) if installed is not None else None
    plan = expand_plan(plan, workloads, problems, expand=cluster.expand if cluster else True, max_pods=capacity)
    plan = check_plan(plan, problems, cluster=not plan.from_dump)  # cnimodel.infer checks the rest
    if problems.errors:
        raise PlanError(problems.items)
    return replace(plan, warnings=tuple(problems.warnings))


def _assemble(cluster: ClusterSpec | None, extra_nodes: list[NodeSpec], namespaces: list[Namespace],
              pods: list, kept: list[KubeObject], problems: Problems, files: list[Path], given: str = "<plan>") -> Plan:
    sources = tuple(str(f) for f in files)
    if cluster is None:
        return Plan(name="manifests", cluster_cidr=None, service_cidr=None, node_cidr_mask_size=24,
                    dns_service_ip=None, network=None, policy=PolicySpec(), underlay=Underlay(()),
                    nodes=tuple(extra_nodes), namespaces=tuple(namespaces), pods=tuple(pods),
                    objects=tuple(kept), sources=sources, origin=Origin(", ".join(sources) or given),
                    from_dump=bool(extra_nodes))
    return Plan(name=cluster.name, cluster_cidr=cluster.cluster_cidr, service_cidr=cluster.service_cidr,
                node_cidr_mask_size=cluster.node_cidr_mask_size, dns_service_ip=cluster.dns_service_ip,
                network=cluster.network, policy=cluster.policy, underlay=cluster.underlay,
                nodes=cluster.nodes + tuple(extra_nodes), namespaces=tuple(namespaces), pods=tuple(pods),
                objects=tuple(kept), sources=sources, origin=cluster.origin, kube_proxy=cluster.kube_proxy,
                from_dump=bool(extra_nodes) and not cluster.stated >= INFERABLE, stated=cluster.stated)
