"""What every check may ask, computed once and lazily: node groups, VTEPs, enforcement, the service catalog,
pod label classes, and the raw objects behind an origin.

Lazy at scale: per-node questions are answered for one representative node per kind of node (same OS, same
underlay subnet, same plugin description), never by building every node's facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Network
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cnimodel.clouds import CLOUD_ROUTE_LIMITS  # noqa: F401  (routes one cloud route table holds by default)
from cnimodel.dataplane import NodeFacts, PolicyEnforcement, Vtep
from cnimodel.plan import NodeSpec, Origin, Plan, Pod, Problem, Problems
from cnimodel.policy.universe import calico_extra, service_accounts
from cnimodel.validate.paths import walk

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.services import Catalog

T = TypeVar("T")
PodClass = tuple[str, frozenset[tuple[str, str]], frozenset[tuple[str, str]]]  # namespace, labels, Calico's extra
CLOUDS = ("azure", "aws", "gce", "openstack", "none")
# Node label prefixes the clouds' kubelets and cloud providers set, for ``cloud`` auto-detection.
CLOUD_LABELS = {"kubernetes.azure.com/": "azure", "eks.amazonaws.com/": "aws", "cloud.google.com/gke": "gce"}


@dataclass(frozen=True)
class CheckOptions:
    """What the plan does not say but the checks need.

    ``surge``: nodes an upgrade adds on top of the plan (AKS and GKE default 1). ``max_nodes``: the node count
    the cluster must grow to (default: the plan's). ``cloud``: where the plan runs (None: detect from node
    labels and the plugin). ``external``: peered, on-premises or other ranges the cluster must not overlap.
    ``route_table_limit``: routes the cloud route table holds (default: per cloud).
    """

    surge: int = 1
    max_nodes: int | None = None
    cloud: str | None = None
    external: tuple[IPv4Network, ...] = ()
    route_table_limit: int | None = None


def node_obj(name: str) -> str:
    return f"{name}[Node]"


def pod_obj(pod: Pod) -> str:
    return f"{pod.namespace}/{pod.name}[Pod]"


def phrase(names: Sequence[str], limit: int = 5) -> str:
    """``a, b, c`` or ``a, b, c, d, e … (12 in all)``."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} … ({len(names)} in all)"


def first(items: Iterable[Any], limit: int = 20) -> tuple[Any, ...]:
    """At most ``limit`` items: findings name the first objects, not all 5,000."""
    out = []
    for x in items:
        if len(out) == limit:
            break
        out.append(x)
    return tuple(out)


class Context:
    """The plan, its built cluster and the options, with lazily computed views the checks share."""

    def __init__(self, plan: Plan, cluster: Cluster | None = None, options: CheckOptions | None = None) -> None:
        self.plan = plan
        self._cluster = cluster
        self.options = options or CheckOptions()
        self._enforcement: dict[tuple[str, str], PolicyEnforcement] = {}
        self._raw: dict[str, list[Any]] = {}
        self._memo: dict[object, Any] = {}

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """A value several checks share, computed once per run."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]

    @property
    def cluster(self) -> Cluster:
        """The built cluster (checks registered with ``needs_cluster`` run only when there is one)."""
        assert self._cluster is not None, "this check needs a built cluster"
        return self._cluster

    @property
    def has_cluster(self) -> bool:
        return self._cluster is not None

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """What the loader and the plugins warned about."""
        return self._cluster.warnings if self._cluster is not None else self.plan.warnings

    # --- nodes ------------------------------------------------------------------------------------

    @cached_property
    def windows(self) -> list[NodeSpec]:
        return [n for n in self.plan.nodes if n.os == "windows"]

    @cached_property
    def linux(self) -> list[NodeSpec]:
        return [n for n in self.plan.nodes if n.os == "linux"]

    def describe(self, node: NodeSpec) -> str:
        return self.cluster.plugin.describe(node)

    @cached_property
    def kinds(self) -> dict[tuple[str, str, str], list[NodeSpec]]:
        """Nodes grouped by (OS, underlay subnet, what the plugin builds there), in plan order."""
        out: dict[tuple[str, str, str], list[NodeSpec]] = defaultdict(list)
        for n in self.plan.nodes:
            out[(n.os, n.subnet, self.describe(n))].append(n)
        return dict(out)

    def representative(self, nodes: Sequence[NodeSpec], with_pods: bool = False) -> NodeSpec | None:
        """The first node of a group (the first holding pods, when asked)."""
        if not with_pods:
            return nodes[0] if nodes else None
        by_node = self.cluster.allocation.by_node
        return next((n for n in nodes if by_node.get(n.name)), None)

    def facts(self, name: str) -> NodeFacts:
        return self.cluster.facts(name)

    @cached_property
    def cloud(self) -> str | None:
        """The cloud the plan runs on: the option, else what the network plugin says (a ``cloud`` attribute),
        else the nodes' cloud labels; None when nothing says."""
        given = self.options.cloud
        if given:
            return None if given == "none" else given
        said = getattr(self.cluster.plugin, "cloud", None)
        if isinstance(said, str):
            return said
        for n in self.plan.nodes:
            for key in n.labels:
                for prefix, cloud in CLOUD_LABELS.items():
                    if key.startswith(prefix):
                        return cloud
        return None

    # --- overlay ----------------------------------------------------------------------------------

    @cached_property
    def vteps(self) -> dict[str, Vtep]:
        """Every node's tunnel endpoint (any kind), as the cluster answers it: from the plugin's fast path when it
        has one (no facts built), else from the facts of the nodes whose roles say they encapsulate."""
        out: dict[str, Vtep] = {}
        for n in self.plan.nodes:
            v = self.cluster.endpoint(n.name)
            if v is not None:
                out[n.name] = v
        return out

    # --- policy -----------------------------------------------------------------------------------

    def enforcement(self, node: NodeSpec) -> PolicyEnforcement:
        """Whether ``node`` enforces NetworkPolicy, asked once per (OS, plugin description)."""
        key = (node.os, self.describe(node))
        e = self._enforcement.get(key)
        if e is None:
            e = self._enforcement[key] = self.cluster.enforcement(node.name)
        return e

    @cached_property
    def pod_classes(self) -> dict[PodClass, list[Pod]]:
        """Non-hostNetwork pods grouped by namespace, labels and what Calico adds for their service account
        (``calico_extra``): selectors are evaluated once per class."""
        out: dict[PodClass, list[Pod]] = defaultdict(list)
        cache: dict[tuple[tuple[str, str], ...], frozenset[tuple[str, str]]] = {}  # a tuple is cheaper to make
        accounts = service_accounts(self.plan)
        extras: dict[tuple[str, str], frozenset[tuple[str, str]]] = {}
        for p in self.plan.pods:
            if p.host_network:
                continue
            items = tuple(p.labels.items())
            key = cache.get(items)
            if key is None:
                key = cache[items] = frozenset(items)
            extra = extras.get((p.namespace, p.service_account))
            if extra is None:
                extra = extras[(p.namespace, p.service_account)] = frozenset(calico_extra(p, accounts).items())
            out[(p.namespace, key, extra)].append(p)
        return dict(out)

    @cached_property
    def namespace_labels(self) -> dict[str, dict[str, str]]:
        return {ns.name: dict(ns.labels) for ns in self.plan.namespaces}

    # --- services ---------------------------------------------------------------------------------

    @cached_property
    def catalog(self) -> Catalog | None:
        """The services engine's catalog (None when the plan has no Service)."""
        if not any(o.kind == "Service" for o in self.plan.objects):
            return None
        from cnimodel.services import catalog

        return catalog(self.cluster)

    # --- raw objects ------------------------------------------------------------------------------

    def raw(self, origin: Origin) -> Any:
        """The object as written at ``origin`` (re-read from its file, cached per file), or None. Used only for
        the few objects a cheap test already singled out (fields the typed plan does not keep)."""
        docs = self._raw.get(origin.file)
        if docs is None:
            from cnimodel.plan.loader import read_documents

            path = Path(origin.file)
            docs = self._raw[origin.file] = read_documents(path, Problems()) if path.is_file() else []
        if origin.document >= len(docs):
            return None
        return walk(docs[origin.document], origin.path)
