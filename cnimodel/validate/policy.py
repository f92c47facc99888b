"""Policy enforcement checks: NetworkPolicies whose pods sit on nodes that enforce none, a policy plugin that
enforces nothing on some nodes, and the Windows builds a policy agent supports (services-lb.md §4.2, §4.4
rule 13; cni-plugins.md §3.11, §7.5–7.7, §8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from functools import cached_property

from cnimodel.plan import NodeSpec
from cnimodel.policy.compile import compile_policies
from cnimodel.policy.model import EndpointSel, Policy
from cnimodel.policy.universe import ns_view, pod_view
from cnimodel.validate.context import Context, PodClass, first, node_obj, phrase
from cnimodel.validate.registry import Hit, check

# Windows builds each policy agent supports, keyed by the agent named in the enforcement fact (``by``):
# Calico for Windows supports Windows Server 2019 and 2022 (projectcalico/calico#11691).
AGENT_WINDOWS_BUILDS = {"calico-felix": {17763: "Windows Server 2019", 20348: "Windows Server 2022"}}


class Selection:
    """Which pod classes a compiled policy selects (namespace and pod labels, per the policy's flavor)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._ns_views: dict[tuple[str, str], dict[str, str]] = {}
        self._pod_views: dict[tuple[PodClass, str], Mapping[str, str]] = {}  # a class's labels as a flavor sees them
        self._selected: dict[int, list[PodClass]] = {}  # by id: the policies are self.policies, kept
        self._by_selector: dict[tuple[object, str], list[str]] = {}  # namespaces a namespace selector admits

    @cached_property
    def policies(self) -> list[Policy]:
        return compile_policies(self.ctx.plan).policies

    def selects(self, sel: EndpointSel, ns: str, labels: dict[str, str], extra: dict[str, str] | None = None
                ) -> bool:
        return self._in_scope(sel, ns) and sel.pod.matches(pod_view(ns, labels, sel.flavor, extra))

    @cached_property
    def by_namespace(self) -> dict[str, list[PodClass]]:
        out: dict[str, list[PodClass]] = defaultdict(list)
        for key in self.ctx.pod_classes:
            out[key[0]].append(key)
        return out

    def classes(self, p: Policy) -> list[PodClass]:
        """The pod classes (namespace, labels, Calico's extra) ``p`` selects (a namespaced policy looks in its
        namespace only); worked out once per policy, for every check that asks."""
        got = self._selected.get(id(p))
        if got is None:
            got = self._selected[id(p)] = self._classes(p)
        return got

    def _classes(self, p: Policy) -> list[PodClass]:
        scope = p.subject.scope
        by_ns = self.by_namespace
        sel, flavor, views = p.subject, p.subject.flavor, self._pod_views
        if scope.name is not None:
            names = [scope.name] if self._in_scope(sel, scope.name) else []
        elif scope.selector is not None:
            names = self._namespaces(sel)
        else:
            names = list(by_ns)
        out = []
        for ns in names:  # the namespace part once per namespace, then its classes' labels
            for key in by_ns.get(ns, ()):
                view = views.get((key, flavor))
                if view is None:
                    view = views[(key, flavor)] = pod_view(key[0], dict(key[1]), flavor, dict(key[2]))
                if sel.pod.matches(view):
                    out.append(key)
        return out

    def _namespaces(self, sel: EndpointSel) -> list[str]:
        """The namespaces (of those holding pods, in their order) a namespace selector admits, worked out once
        per selector and flavor, the candidates narrowed by an index of the namespaces' labels."""
        assert sel.scope.selector is not None
        key = (sel.scope.selector, sel.flavor)
        got = self._by_selector.get(key)
        if got is None:
            names, index = self._ns_index
            cand = sel.scope.selector.candidates(index)
            got = self._by_selector[key] = [names[i] for i in (range(len(names)) if cand is None else sorted(cand))
                                            if self._in_scope(sel, names[i])]
        return got

    @cached_property
    def _ns_index(self) -> tuple[list[str], dict[tuple[str, str | None], frozenset[int]]]:
        """The namespaces holding pods, and (label, value) and (label, None) → their positions, over every
        flavor's view of a namespace's labels (a superset: candidates are then tried on the flavor's view)."""
        names = list(self.by_namespace)
        index: dict[tuple[str, str | None], set[int]] = defaultdict(set)
        for i, ns in enumerate(names):
            for flavor in ("k8s", "calico"):
                for k, v in ns_view(ns, self.ctx.namespace_labels.get(ns, {}), flavor).items():
                    index[(k, v)].add(i)
                    index[(k, None)].add(i)
        return names, {k: frozenset(v) for k, v in index.items()}

    def _in_scope(self, sel: EndpointSel, ns: str) -> bool:
        """Whether ``sel``'s namespace part admits namespace ``ns``."""
        scope = sel.scope
        if scope.name is not None and scope.name != ns:
            return False
        if scope.selector is not None:
            key = (ns, sel.flavor)
            view = self._ns_views.get(key)
            if view is None:
                view = self._ns_views[key] = ns_view(ns, self.ctx.namespace_labels.get(ns, {}), sel.flavor)
            return bool(scope.selector.matches(view))
        return True


def selection(ctx: Context) -> Selection:
    """The run's shared ``Selection``."""
    return ctx.memo(Selection, lambda: Selection(ctx))


def _obj(p: Policy) -> str:
    return f"{p.key}[{p.kind.replace(' ', '')}]"


@check("CNI-POL-001", "warning", "policy", "A policy selects pods on nodes that enforce no NetworkPolicy",
       "services-lb.md §4.4 rule 13; cni-plugins.md §3.11, §8 (flannel, win-bridge, win-overlay enforce none)")
def unenforced_policy(ctx: Context) -> Iterator[Hit]:
    sel = selection(ctx)
    if not sel.policies:
        return
    enforced: dict[str, bool] = {}
    reasons: dict[str, str] = {}

    def node_enforces(name: str) -> bool:
        e = enforced.get(name)
        if e is None:
            f = ctx.enforcement(ctx.plan.node(name))
            e = enforced[name] = f.enforced
            reasons[name] = f.reason
        return e

    # a class's pods on nodes enforcing nothing: those nodes, and how many pods (a pod is in one class only)
    unenforced: dict[PodClass, tuple[set[str], int]] = {}
    none: tuple[set[str], int] = (set(), 0)

    def unenforced_of(key: PodClass) -> tuple[set[str], int]:
        got = unenforced.get(key)
        if got is None:
            off = [pod.node for pod in ctx.pod_classes[key] if pod.node is not None and not node_enforces(pod.node)]
            got = unenforced[key] = (set(off), len(off)) if off else none
        return got

    for p in sel.policies:
        nodes: set[str] = set()
        pods = 0
        for key in sel.classes(p):
            off, count = unenforced_of(key)
            if count:  # (most classes: none)
                nodes |= off
                pods += count
        if nodes:
            names = sorted(nodes)
            yield Hit(f"{p.title} selects {pods} pod(s) on {len(names)} node(s) that enforce no NetworkPolicy "
                      f"({phrase(names, 3)}: {reasons[names[0]]}): the policy has no effect there",
                      "add a policy engine for those nodes (e.g. Calico policy-only), or keep the pods off them",
                      (_obj(p), *(node_obj(n) for n in first(names, 5))), (p.origin,))


@check("CNI-POL-002", "warning", "policy", "The policy plugin enforces nothing on some nodes",
       "cni-plugins.md §7.5 (felix on Windows acts only on HNS networks matching KUBE_NETWORK)")
def plugin_idle(ctx: Context) -> Iterator[Hit]:
    if ctx.cluster.policy is None:
        return
    for (os_, _, what), nodes in _by_os_kind(ctx).items():
        e = ctx.enforcement(nodes[0])
        if not e.enforced:
            names = [n.name for n in nodes]
            yield Hit(f"the policy plugin runs but {len(nodes)} {os_} node(s) ({phrase(names, 3)}; {what}) enforce "
                      f"nothing: {e.reason}", "fix the policy plugin's settings for those nodes",
                      tuple(node_obj(n) for n in first(names, 5)), (ctx.plan.policy.origin,))


def _by_os_kind(ctx: Context) -> dict[tuple[str, str, str], list[NodeSpec]]:
    out: dict[tuple[str, str, str], list[NodeSpec]] = defaultdict(list)
    for (os_, _, what), nodes in ctx.kinds.items():
        out[(os_, "", what)].extend(nodes)
    return dict(out)


@check("CNI-POL-003", "warning", "policy", "The policy agent does not support a Windows node's build",
       "services-lb.md §4.1 (Calico for Windows supports only Windows Server 2019 and 2022, "
       "projectcalico/calico#11691); cni-plugins.md §7.7")
def agent_windows_build(ctx: Context) -> Iterator[Hit]:
    bad: dict[tuple[str, int], list[str]] = defaultdict(list)
    for n in ctx.windows:
        if n.windows_build is None:
            continue
        e = ctx.enforcement(n)
        builds = AGENT_WINDOWS_BUILDS.get(e.by or "")
        if e.enforced and builds is not None and n.windows_build not in builds:
            bad[(e.by or "", n.windows_build)].append(n.name)
    for (agent, build), names in bad.items():
        ok = ", ".join(f"{v} ({k})" for k, v in AGENT_WINDOWS_BUILDS[agent].items())
        yield Hit(f"{agent} enforces policy on {len(names)} Windows node(s) ({phrase(names, 3)}) of build {build}, "
                  f"which it does not support (supported: {ok})", "run a supported Windows build on those nodes",
                  tuple(node_obj(n) for n in first(names, 5)), (ctx.plan.node(names[0]).origin,))
