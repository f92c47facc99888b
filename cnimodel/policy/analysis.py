"""Reachability of a plan: endpoints people name (pods, nodes, external ranges), the connection between
two of them, and every connection of a selection, from the class engine.

What the class engine cannot know is decided here, per endpoint: a pod reaching itself is undefined
(not evaluated); traffic from a pod's own node is always allowed; hostNetwork pods and nodes speak with
their node's address, so only address criteria match them.
"""

from __future__ import annotations

import bisect
import fnmatch
from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

import numpy as np

from cnimodel.bulk import bulk
from cnimodel.plan import NotRunning, Plan, Pod
from cnimodel.plan.errors import EndpointError
from cnimodel.plan.names import parse_endpoint
from cnimodel.policy.compile import compile_policies
from cnimodel.policy.connset import ConnSet
from cnimodel.policy.endpoint import KIND_LABELS, Connection, Endpoint, Variant
from cnimodel.policy.engine import ClassEngine
from cnimodel.policy.model import PolicySet
from cnimodel.policy.universe import Enforcement, Universe, build_universe

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

__all__ = ["BIG", "KIND_LABELS", "OWN_NODE_NOTE", "SELF_NOTE", "Connection", "Endpoint", "Reachability",
           "Variant"]

SELF_NOTE = ("self: a pod reaching itself is undefined by the NetworkPolicy spec (kubernetes/kubernetes#95879); "
             "not evaluated")
OWN_NODE_NOTE = ("from the destination pod's own node: always allowed (ingress from the local node, such as "
                 "kubelet probes, is exempt from NetworkPolicy)")
MANIFEST_ENFORCEMENT = Enforcement(True, "no ClusterPlan: every pod is treated as enforced, as netpol-analyzer does")


# Above this many pairs a selection is answered by class rows of the class matrix (computed once, every class
# pair); below, pair by pair without it (a one-pair question on a 150,000-pod plan should not fill the matrix).
BIG = 20_000




class Reachability:
    """Build once with ``Reachability.from_plan(plan)``; then ask ``connection``, ``connections``."""

    def __init__(self, plan: Plan, policies: PolicySet, universe: Universe) -> None:
        self.plan = plan
        self.policies = policies
        self.u = universe
        self.engine = ClassEngine(policies, universe)
        self.warnings = [*policies.warnings, *universe.warnings]
        # Pods that never run (Allocation.not_running): left out of the universe, so they hold no address here.
        self.not_running: dict[str, NotRunning] = {}
        self._host_ips = sorted({int(w.ip) for w in universe.workloads if w.ip is not None}
                                | {int(n.ip) for n in universe.nodes.values()})
        self._matrix: np.ndarray | None = None

    @classmethod
    def from_plan(cls, plan: Plan) -> Reachability:
        """Compile the plan's policies and fold its peers into classes (PlanError on bad policy input).

        With a ClusterPlan the cluster gives pod IPs and per-node enforcement; with manifests alone every
        pod is enforced and keeps its ``status.podIP``."""
        with bulk():  # the build allocates much and frees little: collections would only rescan the plan
            if plan.has_cluster:
                from cnimodel.cluster import Cluster

                return cls.from_cluster(Cluster.build(plan))
            return cls._build(plan, None)

    @classmethod
    def from_cluster(cls, cluster: Cluster) -> Reachability:
        """The reachability of an already-built cluster (its pod IPs and per-node enforcement), built once
        per cluster and kept on it: a trace asks for every packet, and rebuilding would cost per question."""
        def build() -> Reachability:
            with bulk():
                return cls._build(cluster.plan, cluster)

        return cluster.memo(("policy-reachability",), build)

    @classmethod
    def _build(cls, plan: Plan, cluster: Cluster | None) -> Reachability:
        policies = compile_policies(plan)
        ips: dict[str, IPv4Address | None] = {p.key: p.ip for p in plan.pods}
        stopped = dict(cluster.allocation.not_running) if cluster is not None else {
            p.key: p.not_running for p in plan.pods if p.not_running is not None}
        if cluster is not None:
            for key, a in cluster.allocation.pods.items():
                ips[key] = a.ip
            cache: dict[str, Enforcement] = {}
            node_names = {n.name for n in plan.nodes}

            def enforcement(pod: Pod) -> Enforcement:
                if pod.node is None or pod.node not in node_names:
                    return Enforcement(True, "the pod is not scheduled on a planned node; treated as enforced")
                if pod.node not in cache:
                    e = cluster.enforcement(pod.node)
                    why = e.reason or (f"enforced by {e.by}" + (f" ({e.mechanism})" if e.mechanism else ""))
                    cache[pod.node] = Enforcement(e.enforced, f"node {pod.node}: {why}")
                return cache[pod.node]
        else:
            def enforcement(pod: Pod) -> Enforcement:
                return MANIFEST_ENFORCEMENT
        running = [p for p in plan.pods if p.key not in stopped] if stopped else None
        r = cls(plan, policies, build_universe(plan, policies, enforcement, ips, running))
        r.not_running = stopped
        if stopped:
            shown = ", ".join(f"{k} ({nr.code})" for k, nr in list(stopped.items())[:5])
            r.warnings.append(f"{len(stopped)} pod(s) never run and are left out (no address, no connection): "
                              f"{shown}{' …' if len(stopped) > 5 else ''}")
        return r

    # --- endpoints ----------------------------------------------------------------------------------

    def pod(self, i: int) -> Endpoint:
        w = self.u.workloads[i]
        return Endpoint("pod", w.key, self.u.workload_class[i], w.pod.node, w.ip, w.host_network, i)

    def node(self, name: str) -> Endpoint:
        n = self.u.nodes[name]
        return Endpoint("node", name, self.u.node_class[name], name, n.ip)

    def pods(self) -> list[Endpoint]:
        return [self.pod(i) for i in range(len(self.u.workloads))]

    def externals(self, within: IPv4Network | None = None) -> list[Endpoint]:
        """External ranges (clipped to ``within``), leaving out ranges made only of pod and node addresses."""
        lo_b, hi_b = (0, (1 << 32) - 1) if within is None else (int(within.network_address),
                                                                int(within.broadcast_address))
        out = []
        for iv in self.u.intervals:
            lo, hi = max(iv.lo, lo_b), min(iv.hi, hi_b)
            if lo > hi:
                continue
            known = bisect.bisect_right(self._host_ips, hi) - bisect.bisect_left(self._host_ips, lo)
            if known >= hi - lo + 1:
                continue
            out.append(Endpoint("external", f"{IPv4Address(lo)}-{IPv4Address(hi)}", iv.cls))
        return out

    def external_range(self, lo: int, hi: int) -> tuple[Endpoint, bool]:
        """The range ``lo``-``hi`` (inside one interval) as an endpoint, and whether pods and nodes use every
        address in it."""
        known = bisect.bisect_right(self._host_ips, hi) - bisect.bisect_left(self._host_ips, lo)
        name = f"{IPv4Address(lo)}-{IPv4Address(hi)}"
        return Endpoint("external", name, self.u.external_class(IPv4Address(lo))), known >= hi - lo + 1

    def everything(self) -> list[Endpoint]:
        """Every pod (sorted by namespace/name), then the external ranges in address order."""
        return self.pods() + self.externals()

    def resolve(self, spec: str) -> list[Endpoint]:
        """An endpoint name (``cnimodel.plan.names`` grammar) → endpoints: ``ns/pod`` (``*`` and ``?`` are
        wildcards), a node (``NAME`` or ``NAME[Node]``), an address or a range (every pod, node and outside range
        in it). A workload is ``reach``'s to group (``ns/name[Kind]``: cnimodel/policy/groups.py)."""
        if (i := self.u.by_key.get(spec)) is not None:  # a pod's own key, whatever the grammar makes of markup in it
            return [self.pod(i)]
        e = parse_endpoint(spec)
        if e.kind == "node":
            if e.name not in self.u.nodes:
                raise EndpointError(f"no node named {e.name!r} in the plan")
            return [self.node(e.name)]
        if e.kind in ("object", "pattern"):
            if e.kind == "pattern":
                found = [self.pod(i) for i, w in enumerate(self.u.workloads) if fnmatch.fnmatchcase(w.key, e.key)]
            else:
                i = self.u.by_key.get(e.key) if e.object_kind in (None, "Pod") else None
                found = [] if i is None else [self.pod(i)]
                if i is None and e.key in self.not_running:
                    raise EndpointError(self.never_runs(e.key))
            if not found:
                raise EndpointError(f"no pod matches {spec!r} (write NAMESPACE/POD; *, ? and [set] are wildcards)")
            return found
        if e.kind == "nodeport":
            raise EndpointError(f"{spec!r}: reachability is between pods, nodes and addresses; a NodePort is "
                                "`cnimodel lb`'s")
        net = e.network if e.network is not None else IPv4Network(e.ip)
        lo, hi = int(net.network_address), int(net.broadcast_address)
        inside = [self.pod(i) for i, w in enumerate(self.u.workloads)
                  if w.ip is not None and not w.host_network and lo <= int(w.ip) <= hi]
        nodes = [self.node(n) for n, spec_ in self.u.nodes.items() if lo <= int(spec_.ip) <= hi]
        return inside + nodes + self.externals(net)

    def never_runs(self, key: str) -> str:
        """The sentence for a pod left out because it never runs."""
        return f"pod {key} never runs ({self.not_running[key]}): it holds no address and has no connection"

    # --- answers ------------------------------------------------------------------------------------

    def connection(self, src: Endpoint, dst: Endpoint) -> Connection:
        """What ``src`` may open to ``dst``, with the special cases decided per endpoint."""
        special = self._special(src, dst)
        if special == OWN_NODE_NOTE:
            return Connection(src, dst, ConnSet.ALL, special)
        if special is not None:
            return Connection(src, dst, None, special)
        return Connection(src, dst, self.engine.allowed(src.cls, dst.cls), "; ".join(self._end_notes(src, dst)))

    def note_parts(self, src: Endpoint, dst: Endpoint) -> list[str]:
        """The sentences of ``connection(src, dst).note`` (a workload line says each once, whatever the pair)."""
        special = self._special(src, dst)
        return [special] if special is not None else self._end_notes(src, dst)

    @staticmethod
    def _special(src: Endpoint, dst: Endpoint) -> str | None:
        """The note of a pair decided per endpoint, not by policy: a pair with itself (not evaluated), a host
        end reaching a pod on its own node (always allowed); None for the others."""
        same = (src.kind, src.name) == (dst.kind, dst.name) or (
            src.is_host and dst.is_host and src.node is not None and src.node == dst.node)
        if same:
            return (SELF_NOTE if src.kind == "pod" and not src.is_host
                    else f"self: both ends are node {src.node}'s own network namespace; not evaluated")
        if src.is_host and dst.kind == "pod" and not dst.is_host and src.node is not None and src.node == dst.node:
            return OWN_NODE_NOTE
        return None

    @staticmethod
    def _end_notes(src: Endpoint, dst: Endpoint) -> list[str]:
        """One sentence per end policy selectors cannot see as a pod: hostNetwork pods and nodes."""
        notes = []
        for e in (src, dst):
            if e.host_network:
                notes.append(f"{e.label} is a hostNetwork pod: its traffic carries node {e.node}'s address, so pod "
                             "selectors do not match it (the common implementation, Calico's included; the spec "
                             "leaves it undefined)")
            elif e.kind == "node":
                notes.append(f"{e.label}: traffic from or to the node's own address; only ipBlock/nets criteria "
                             "match it")
        return notes

    def class_matrix(self):
        """Every class pair at once (cached): ``F[a, b]`` indexes ``self.engine.conns``."""
        if self._matrix is None:
            self._matrix = self.engine.matrix()
        return self._matrix

    def connections(self, sources: Iterable[Endpoint], destinations: Iterable[Endpoint], *,
                    all_pairs: bool = False, port: tuple[str, int] | None = None,
                    keep_self: bool = False) -> Iterator[Connection]:
        """Each (source, destination) pair in order, but never two external ranges; pairs with nothing allowed
        only with ``all_pairs``; self pairs only with ``keep_self``. ``port``: restrict the answer to one
        (protocol, port)."""
        srcs, dsts = list(sources), list(destinations)
        if len(srcs) * len(dsts) > BIG:  # by class rows (cnimodel/policy/pairs.py)
            from cnimodel.policy.pairs import Pairs

            yield from Pairs(self, srcs, dsts, all_pairs=all_pairs, port=port, keep_self=keep_self).connections()
            return
        restrict = ConnSet.ports(port[0], port[1], port[1]) if port else None
        for s in srcs:
            for d in dsts:
                if s.kind == d.kind == "external":  # no policy sits between two outside addresses
                    continue
                c = self.connection(s, d)
                if c.conns is None:
                    if keep_self:
                        yield c
                    continue
                if restrict is not None:
                    c = Connection(s, d, c.conns & restrict, c.note)
                if c.conns or all_pairs:
                    yield c
