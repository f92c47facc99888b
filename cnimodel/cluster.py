"""A built cluster: the plan, its plugin, the allocation, and every node's facts computed on demand.

Facts are computed per node and cached, never for all nodes at once unless asked: one node's table
on a 5,000-node plan costs one pass over the other nodes' leases, not N².
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import TypeVar

from cnimodel.bulk import bulk
from cnimodel.dataplane import Encap, NodeFacts, PolicyEnforcement, Route, RouteTable, Vtep
from cnimodel.ipam import Allocation, allocate
from cnimodel.net import PrefixTable, longest_match
from cnimodel.plan import NodeSpec, Origin, Plan, PlanError, Problem, Problems
from cnimodel.plugin import Addressing, NetworkPlugin, NodeRoles, PolicyPlugin, load_plugin, plugins_of

DEFAULT_ROUTE = IPv4Network("0.0.0.0/0")
T = TypeVar("T")


@dataclass(frozen=True)
class NodeView:
    """A node's answer as ``routes`` shows it: its facts, with its address, its plugin as described, the roles
    its plugin states, the IPAM that addressed it and who enforces policy there."""

    facts: NodeFacts
    ip: IPv4Address
    plugin: str
    roles: NodeRoles
    addressing: str | None
    enforcement: PolicyEnforcement


@dataclass(frozen=True)
class Lookup:
    """The answer of a longest-prefix match: which table, which route, and where the packet goes next."""

    table: str
    dst: IPv4Address
    route: Route | None

    @property
    def next_hop(self) -> IPv4Address | None:
        if self.route is None or self.route.type == "blackhole":
            return None
        return self.route.via if self.route.via is not None else self.dst

    @property
    def dev(self) -> str | None:
        return self.route.dev if self.route else None


_P = TypeVar("_P")


def _settle(name: str, origin: Origin, problems: Problems, make: Callable[[], _P]) -> _P:
    """A plugin reading its settings: a setting of a type it does not expect (a number where it reads a list)
    is the plan's mistake, so it becomes a PlanError at the plugin's settings rather than an internal error."""
    try:
        return make()
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as e:
        problems.error(origin, f"the {name} plugin cannot read its settings: {type(e).__name__}: {e}",
                       "check the types of the settings under this field (and of the config files it names) "
                       "against the plugin's documentation; if they are right, please report it as a bug")
        raise PlanError(problems.items) from None


class Cluster:
    """Build with ``Cluster.build(plan)``; ask with ``facts(node)``, ``underlay()``, ``lookup(...)``."""

    def __init__(self, plan: Plan, plugin: NetworkPlugin, allocation: Allocation,
                 policy: PolicyPlugin | None = None) -> None:
        self.plan = plan
        self.plugin = plugin
        self.policy = policy
        self.allocation = allocation
        self.fast = plugin.fast_path()  # the plugin's optional speed capability; None: answers from full facts
        self._roles: dict[str, NodeRoles] = {}
        self._facts: dict[str, NodeFacts] = {}
        self._local: dict[str, NodeFacts | None] = {}
        self._tables: dict[str, PrefixTable[Route]] = {}
        self._encaps: dict[str, PrefixTable[Encap]] = {}
        self._underlay: RouteTable | None = None
        self.warnings: tuple[Problem, ...] = plan.warnings
        self._memo: dict[object, object] = {}

    @classmethod
    def build(cls, plan: Plan) -> Cluster:
        """Load the plan's plugin and allocate addresses; raises PlanError with every problem found."""
        with bulk():
            return cls._build(plan)

    @classmethod
    def _build(cls, plan: Plan) -> Cluster:
        from cnimodel.infer import complete

        plan = complete(plan)  # a dump's ClusterPlan values; settings the manifests carry (ConfigMaps, DaemonSets)
        problems = Problems()
        if plan.network is None:
            problems.error(plan.origin, "the plan has no ClusterPlan document",
                           "add a `kind: ClusterPlan` document (see docs/plan-format.md)")
            problems.items += plan.warnings  # (why: a file skipped as a config, a kind not modelled)
            problems.raise_if_errors()
        assert plan.network is not None
        try:
            plugin_cls = load_plugin(plan.network.plugin, NetworkPlugin)
        except KeyError:
            problems.error(plan.network.origin.at("plugin"), f"unknown network plugin {plan.network.plugin!r}",
                           f"use one of: {', '.join(plugins_of(NetworkPlugin)) or '(none installed)'}")
            raise PlanError(problems.items) from None
        if plan.cluster_cidr is None and plugin_cls.cluster_cidr == "always":
            problems.error(plan.origin.at("spec.clusterCIDR"), f"is required by the {plan.network.plugin} plugin",
                           "add `clusterCIDR: 10.244.0.0/16` (kube-controller-manager --cluster-cidr)")
            raise PlanError(problems.items)
        plugin = _settle(plan.network.plugin, plan.network.origin, problems, lambda: plugin_cls(plan, problems))
        if plan.cluster_cidr is None and plugin_cls.cluster_cidr == "ask" and plugin.needs_cluster_cidr():
            problems.error(plan.origin.at("spec.clusterCIDR"), f"is required by the {plan.network.plugin} plugin "
                           "as configured", "add `clusterCIDR: 10.244.0.0/16` (the pods' range)")
        policy = None
        if plan.policy.plugin:
            try:
                policy_cls = load_plugin(plan.policy.plugin, PolicyPlugin)
            except KeyError:
                problems.error(plan.policy.origin.at("plugin"), f"unknown policy plugin {plan.policy.plugin!r}",
                               f"use one of: {', '.join(plugins_of(PolicyPlugin)) or '(none installed)'}")
                raise PlanError(problems.items) from None
            policy = _settle(plan.policy.plugin, plan.policy.origin, problems,
                             lambda: policy_cls(plan, problems, plugin))
        problems.raise_if_errors()
        ipam: Addressing = (policy.ipam() if policy is not None else None) or plugin.addressing()
        allocation = allocate(plan, ipam, problems, plugin.pod_add_failure)
        problems.raise_if_errors()
        cluster = cls(plan, plugin, allocation, policy)
        cluster.warnings += tuple(problems.warnings)
        if cluster.fast is not None:
            cluster.fast.prepare(cluster)
        return cluster

    def node(self, name: str) -> NodeSpec:
        return self.plan.node(name)

    def roles(self, name: str) -> NodeRoles:
        """What node ``name``'s plugin does there: forwarding model, encapsulation kind, Services (cached)."""
        r = self._roles.get(name)
        if r is None:
            r = self._roles[name] = self.plugin.roles(self.plan.node(name))
        return r

    def endpoint(self, name: str) -> Vtep | None:
        """Node ``name``'s tunnel endpoint: from the plugin's fast path when it has one, else from the node's
        facts when its roles say it encapsulates (None otherwise: nothing is built)."""
        if self.fast is not None:
            return self.fast.endpoint(self.plan.node(name))
        if not self.roles(name).encapsulation.encapsulates:
            return None
        vteps = self.facts(name).vteps
        return vteps[0] if vteps else None

    def facts(self, name: str) -> NodeFacts:
        """Every fact of one node (cached)."""
        f = self._facts.get(name)
        if f is None:
            node = self.plan.node(name)
            f = self.plugin.node_facts(self, node)
            self._late_errors()
            if self.policy is not None:
                f = self.policy.node_facts(self, node, f)
            else:
                f = replace(f, policy=self.plugin.policy_enforcement(node))
            self._facts[name] = f
        return f

    def release(self, name: str) -> None:
        """Forget node ``name``'s cached facts: a command that walks every node once (``routes`` on 5,000 nodes:
        a route per peer on each, 25 million in all) keeps one node's in memory at a time."""
        self._facts.pop(name, None)

    def _late_errors(self) -> None:
        """Errors a plugin found reading settings it reads only when a node's facts are asked (a Windows conf's
        dns list that is not a list): the plan's errors all the same, raised as the build's would be."""
        problems = getattr(self.plugin, "problems", None)
        if isinstance(problems, Problems) and problems.errors:
            raise PlanError(problems.items)

    def local_facts(self, name: str) -> NodeFacts:
        """``facts(name)`` without its per-peer entries when the plugin can leave them out (cheaper on a large
        overlay: what a packet needs of a node it passes once), else — or once built — the full facts."""
        f = self._facts.get(name)
        return f if f is not None else self._local_only(name) or self.facts(name)

    def _local_only(self, name: str) -> NodeFacts | None:
        if name in self._local:
            return self._local[name]
        node = self.plan.node(name)
        f = self.fast.local_facts(self, node) if self.fast is not None else None
        if f is not None and self.policy is not None:
            local = f
            f = self.policy.node_facts(self, node, f)
            if f.routes != local.routes:  # routes derived from the node's table (calico-ipam blocks) need it whole
                f = None
        elif f is not None:
            f = replace(f, policy=self.plugin.policy_enforcement(node))
        self._local[name] = f
        return f

    def deferred(self, name: str) -> bool:
        """Whether node ``name``'s per-peer entries are not built and its plugin answers for one destination
        (then ``lookup`` and ``encap`` build none of them)."""
        return name not in self._facts and self._local_only(name) is not None

    def has_memo(self, key: object) -> bool:
        return key in self._memo

    def encap(self, name: str, dst: IPv4Address) -> Encap | None:
        """The node's Encap fact for ``dst`` (the first with the longest prefix holding it), without building
        the node's other per-peer entries when its plugin answers for one destination."""
        if self.deferred(name):
            assert self.fast is not None  # a deferred node's plugin has the capability
            return self.fast.peer_encap(self, self.plan.node(name), dst)
        t = self._encaps.get(name)
        if t is None:
            t = self._encaps[name] = PrefixTable((e.dst, e) for e in self.facts(name).encaps)
        hit = t.lookup(dst)
        return hit[1] if hit else None

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """A value computed once per cluster: plugins keep what many nodes share here (one subnet's peer
        routes), so a node's facts cost a filter, not a rebuild."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def view(self, name: str) -> NodeView:
        """Node ``name``'s facts with what is said beside them (``NodeView``)."""
        node, rng = self.plan.node(name), self.allocation.nodes[name].range
        return NodeView(self.facts(name), node.ip, self.plugin.describe(node), self.roles(name),
                        rng.ipam if rng is not None else None, self.enforcement(name))

    def enforcement(self, name: str) -> PolicyEnforcement:
        """Whether node ``name`` enforces NetworkPolicy, and by what (cheap: builds no facts)."""
        node = self.plan.node(name)
        if self.policy is not None:
            return self.policy.enforcement(self, node)
        return self.plugin.policy_enforcement(node)

    def underlay(self) -> RouteTable:
        """The underlay's route table: its connected subnets, plugin/cloud routes, and the way out."""
        if self._underlay is None:
            u = self.plan.underlay
            routes = [Route(s.cidr, dev=s.name, scope="link", kind="connected", owner="underlay",
                            next_hop_type="VnetLocal") for s in u.subnets]
            routes += self.plugin.underlay_routes(self)
            if self.policy is not None:
                routes += self.policy.underlay_routes(self)
            for s in u.static_routes:  # the plan's own (a user-defined route): on the subnet of its next hop
                dev = next(n.name for n in u.subnets if s.next_hop in n.cidr)
                routes.append(Route(s.prefix, via=s.next_hop, dev=dev, kind="static", owner="plan",
                                    next_hop_type="VirtualAppliance", name=s.name))
            routes.append(Route(DEFAULT_ROUTE, kind="default", owner="underlay", next_hop_type="Internet"))
            self._underlay = RouteTable(u.name, tuple(routes))
        return self._underlay

    def table(self, name: str) -> PrefixTable[Route]:
        """The LPM table of a node, or of the underlay when ``name`` is the underlay's name."""
        t = self._tables.get(name)
        if t is None:
            routes = self.underlay().routes if name == self.plan.underlay.name else self.facts(name).routes
            t = self._tables[name] = PrefixTable((r.dst, r) for r in routes)
        return t

    def lookup(self, name: str, dst: IPv4Address) -> Lookup:
        """Longest-prefix match of ``dst`` in the table of node (or underlay) ``name``."""
        if name not in self._tables and name != self.plan.underlay.name and self.deferred(name):
            # the node's own routes, then the one peer route the plugin finds (per-peer routes come last)
            local = self.local_facts(name)
            assert self.fast is not None  # a deferred node's plugin has the capability
            peer = self.fast.peer_route(self, self.plan.node(name), dst)
            routes = (*local.routes, peer) if peer is not None else local.routes
            return Lookup(name, dst, longest_match(((r.dst, r) for r in routes), dst))
        hit = self.table(name).lookup(dst)
        return Lookup(name, dst, hit[1] if hit else None)

    def pod_ip(self, key: str) -> IPv4Address | None:
        a = self.allocation.pods.get(key)
        return a.ip if a else None
