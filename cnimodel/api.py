"""The Python front door: ``cnimodel.load(...)`` and the questions as methods; answers as tables.

>>> import cnimodel
>>> net = cnimodel.load(cnimodel.example("default.yaml"))
>>> net.lookup("lin1", "10.244.2.3").next_hop
'10.240.0.20'
>>> net.trace("default/client", "web/iis-0", port=80).disposition
'ACCEPTED'
>>> net.routes("lin1").column("dst")[:3]
['0.0.0.0/0', '10.240.0.0/24', '10.244.1.0/24']

Names are the CLI's: pods and workloads as ``ns/name`` or ``ns/name[Kind]``, nodes by name, Services as
``ns/name[Service]`` or their ClusterIP, addresses as text. Every failure is a ``cnimodel.Error``: a plan that
cannot be read or built (``PlanError``, naming file, field and fix) or a question the plan cannot answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import AddressValueError, IPv4Address, ip_address
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnimodel.plan.errors import EndpointError, QuestionError
from cnimodel.table import Table

if TYPE_CHECKING:
    import networkx as nx

    from cnimodel.cluster import Cluster
    from cnimodel.plan import Plan
    from cnimodel.policy import Reachability
    from cnimodel.trace import Trace

Source = str | Path | Mapping[str, Any] | Sequence[Mapping[str, Any]]


def example(name: str) -> Path:
    """The path of an example plan shipped with cnimodel (``cnimodel topologies`` lists them)."""
    from cnimodel import examples

    return examples.path(name)


def load(*sources: Source) -> Network:
    """A plan from files, folders, kubectl dumps, and Kubernetes objects already in memory (dicts, or lists of
    them); merged as the CLI merges its inputs. Raises ``PlanError`` naming every problem."""
    from cnimodel.infer import load_complete

    paths: list[str] = []
    texts: dict[str, str] = {}
    for i, s in enumerate(sources):
        if isinstance(s, str | Path):
            paths.append(str(s))
        elif isinstance(s, Mapping):
            texts[f"<object {i + 1}>.json"] = json.dumps(s)
        elif isinstance(s, Sequence):
            texts[f"<objects {i + 1}>.json"] = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(s)})
        else:
            raise QuestionError(f"cannot load a {type(s).__name__}: give paths, folders, or Kubernetes objects as "
                                "dicts")
    if not sources:
        raise QuestionError("nothing to load: give plan files, folders or objects")
    return Network(load_complete(paths, texts))


@dataclass(frozen=True)
class LookupAnswer:
    """A longest-prefix match: the table searched, the route that matched (None: no route) and the next hop."""

    table: str
    dst: str
    route: dict[str, Any] | None
    next_hop: str | None
    dev: str | None

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "dst": self.dst, "route": self.route, "nextHop": self.next_hop, "dev": self.dev}


@dataclass
class TraceAnswer:
    """One packet's walk: ``disposition`` in the CLI's words, ``reason``, ``hops``; ``path`` the forwarding graph's
    vertices it crossed in order (a path in ``net.graph(dst=…)``), ``places`` the pods, nodes and tables its hops
    were at; ``reply`` the walk of the answer packet (computed on first use)."""

    trace: Trace
    _reply: Any = field(default=None, repr=False)

    @property
    def disposition(self) -> str:
        return self.trace.disposition

    @property
    def reason(self) -> str:
        return self.trace.reason

    @property
    def hops(self) -> list[dict[str, Any]]:
        return [h.to_json() for h in self.trace.hops]

    @property
    def path(self) -> list[str]:
        return list(self.trace.path)

    @property
    def places(self) -> list[str]:
        return [h.node for h in self.trace.hops]

    @property
    def reply(self) -> TraceAnswer:
        if callable(self._reply):
            self._reply = self._reply()
        return self._reply

    def to_json(self) -> dict[str, Any]:
        return self.trace.to_json()


@dataclass(frozen=True)
class ReachAnswer:
    """What ``src`` may open towards ``dst``: ``allowed`` (netpol-analyzer's words), ``why`` the policies and
    rules that decided each direction, ``connections`` one row per pair of pods (``routed``: whether the forwarding
    graph delivers the first pod's packets to the second, policy aside)."""

    allowed: str
    why: str
    connections: Table


class Network:
    """A loaded plan and the questions it answers. Build with ``cnimodel.load``."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    @cached_property
    def cluster(self) -> Cluster:
        from cnimodel.cluster import Cluster

        return Cluster.build(self.plan)

    # --- names ------------------------------------------------------------------------------------

    def nodes(self) -> Table:
        c = self.cluster
        rows = []
        for n in self.plan.nodes:
            a = c.allocation.nodes.get(n.name)
            rows.append((n.name, n.os, str(n.ip), n.subnet, str(a.pod_cidr) if a and a.pod_cidr else None,
                         c.plugin.describe(n)))
        return Table(("name", "os", "ip", "subnet", "podCIDR", "plugin"), rows)

    def pods(self) -> Table:
        c = self.cluster
        rows = []
        for p in self.plan.pods:
            a = c.allocation.pods.get(p.key)
            down = c.allocation.not_running.get(p.key)
            rows.append((p.namespace, p.name, p.node, str(a.ip) if a else None, p.workload, down is None))
        return Table(("namespace", "name", "node", "ip", "workload", "running"), rows)

    def services(self) -> Table:
        from cnimodel.services import catalog

        rows = [(s.namespace, s.name, s.type, [str(ip) for ip in s.cluster_ips],
                 [f"{p.port}/{p.protocol}" for p in s.ports], list(s.allocated))
                for s in catalog(self.cluster).services]
        return Table(("namespace", "name", "type", "clusterIPs", "ports", "allocated"), rows)

    # --- routing ----------------------------------------------------------------------------------

    def _table(self, node: str) -> str:
        from cnimodel.commands.base import table_name

        c = self.cluster
        name = table_name(c, node)
        if name != c.plan.underlay.name and name not in {n.name for n in c.plan.nodes}:
            names = ", ".join(sorted(n.name for n in c.plan.nodes)[:8])
            raise EndpointError(f"no node named {node!r} in the plan; nodes: {names} (or 'underlay')")
        return name

    def routes(self, node: str) -> Table:
        """A node's route table (or the underlay's: its name or ``underlay``), in table order."""
        from cnimodel.render import facts_json

        name = self._table(node)
        c = self.cluster
        routes = c.underlay().routes if name == c.plan.underlay.name else c.facts(name).routes
        rows = [facts_json.route(r) for r in routes]
        columns = tuple(rows[0]) if rows else tuple(facts_json.route.__annotations__)
        return Table(columns, [tuple(r.values()) for r in rows])

    def lookup(self, node: str, dst: str | IPv4Address) -> LookupAnswer:
        """Longest-prefix match of ``dst`` in ``node``'s table (or the underlay's)."""
        from cnimodel.render import facts_json

        try:
            addr = IPv4Address(str(dst))
        except (AddressValueError, ValueError):
            raise QuestionError(f"{dst!r} is not an IPv4 address (write it like 10.244.2.5)") from None
        from cnimodel.graph import ForwardingGraph

        res = ForwardingGraph.of(self.cluster).lookup(self._table(node), addr)  # as the graph's table vertex
        hop = res.next_hop
        return LookupAnswer(res.table, str(addr), facts_json.route(res.route) if res.route else None,
                            str(hop) if hop is not None else None, res.dev)

    # --- packets ----------------------------------------------------------------------------------

    def trace(self, src: str, dst: str, port: int | None = 80, proto: str = "tcp", size: int = 64,
              policy: bool = True) -> TraceAnswer:
        """Walk a packet from ``src`` to ``dst`` (pods, workloads, nodes, Services, NODE:PORT, addresses)."""
        from cnimodel.trace import trace

        forward, *_ = trace(self.cluster, src, dst, port=port, proto=proto, size=size, policy=policy)

        def reply() -> TraceAnswer:
            return TraceAnswer(trace(self.cluster, src, dst, port=port, proto=proto, size=size, policy=policy,
                                     reverse=True)[0])

        return TraceAnswer(forward, reply)

    def lb(self, node: str) -> Table:
        """The load balancers of ``node``, one row per Service frontend: kube-proxy's rules, or the network plugin's
        own load balancers where it implements Services (a ``frontend`` kind read from the address: the service
        range's clusterIP, a node's nodePort, else externalIP)."""
        from cnimodel.services import iptables_view, winkernel_view
        from cnimodel.services.decide import proxy_of

        self._table(node)
        rows: list[tuple[Any, ...]] = []
        proxy = proxy_of(self.cluster, node)  # the node's Services role: winkernel, iptables, or the plugin's own
        if proxy == "winkernel":
            for p in winkernel_view(self.cluster, node).service_ports:
                rows += [(node, lb.service, p.service_port.protocol, lb.kind, list(lb.frontend_vips),
                          lb.external_port, [b.ip for b in lb.backends]) for lb in p.load_balancers]
        elif proxy == "iptables":
            from cnimodel.services import catalog

            cat = catalog(self.cluster)
            for p in iptables_view(self.cluster, node, summary=True).service_ports:  # (endpoints only: no rules)
                sp, svc = p.service_port, cat.by_port.get(p.service_port)
                if svc is None:
                    continue
                inside = [e.ip for e in p.cluster_endpoints]
                outside = [e.ip for e in (p.local_endpoints if svc.external_traffic_policy == "Local"
                                          else p.cluster_endpoints)]
                rows.append((node, svc.key, sp.protocol, "clusterIP", [str(ip) for ip in svc.cluster_ips], sp.port,
                             inside))
                if sp.node_port:
                    rows.append((node, svc.key, sp.protocol, "nodePort", [], sp.node_port, outside))
                for kind, ips in (("externalIP", svc.external_ips), ("loadBalancerIP", svc.ingress_ips)):
                    if ips:
                        rows.append((node, svc.key, sp.protocol, kind, [str(ip) for ip in ips], sp.port, outside))
        elif (own := self.cluster.plugin.services()) is not None:
            nodes = {str(n.ip) for n in self.plan.nodes}
            srange = self.plan.service_cidr
            for f in own.frontends(self.cluster, node):
                kind = ("clusterIP" if srange is not None and ip_address(f.vip) in srange else
                        "nodePort" if f.vip in nodes else "externalIP")
                rows.append((node, f.service, f.protocol, kind, [] if kind == "nodePort" else [f.vip], f.port,
                             list(f.backends)))
        return Table(("node", "service", "protocol", "frontend", "vips", "port", "backends"), rows)

    # --- policy -----------------------------------------------------------------------------------

    @cached_property
    def _reach(self) -> Reachability:
        from cnimodel.policy import Reachability

        return Reachability.from_cluster(self.cluster) if self.plan.has_cluster else Reachability.from_plan(self.plan)

    def reach(self, src: str, dst: str, port: str | int | None = None) -> ReachAnswer:
        """What ``src`` may open towards ``dst`` (pods or workloads by name), with the deciding rules."""
        from cnimodel.plan.names import resolve_pods
        from cnimodel.policy.connset import ConnSet, parse_port_spec
        from cnimodel.policy.explain import explain
        from cnimodel.render import policy_txt

        r = self._reach
        ends = [[r.pod(r.u.by_key[p.key]) for p in resolve_pods(self.plan, name) if p.key in r.u.by_key]
                for name in (src, dst)]
        if not ends[0] or not ends[1]:
            raise QuestionError(f"{src if not ends[0] else dst!r} has no pod that runs")
        try:
            spec = parse_port_spec(str(port)) if port is not None else None
        except ValueError as e:
            raise QuestionError(f"port {port!r}: {e}") from None
        restrict = ConnSet.ports(spec[0], spec[1], spec[1]) if spec else None
        conns = list(r.connections(ends[0], ends[1], all_pairs=True, port=spec, keep_self=True))
        rows = [(c.src.label, c.dst.label, policy_txt.conn_text(c), self._routed(c.src, c.dst)) for c in conns]
        first = conns[0]
        text = policy_txt.explanations([explain(r, first, restrict)])
        allowed = {row[2] for row in rows}
        return ReachAnswer(allowed.pop() if len(allowed) == 1 else "; ".join(sorted(allowed)), text,
                           Table(("src", "dst", "allowed", "routed"), rows))

    def _routed(self, src: Any, dst: Any) -> bool | None:
        """Whether the forwarding graph takes ``src``'s packets to ``dst`` (pods with addresses; None otherwise)."""
        if not self.plan.has_cluster or src.kind != "pod" or dst.kind != "pod":
            return None
        from cnimodel.graph import ForwardingGraph
        from cnimodel.graph.materialise import route_to

        pods = self.cluster.allocation.pods
        a, b = pods.get(src.name), pods.get(dst.name)
        if a is None or b is None or src.name in self.cluster.allocation.not_running:
            return False
        g = ForwardingGraph.of(self.cluster)
        return route_to(g, f"pod:{a.pod.key}", g.classify(b.ip)) is not None

    # --- findings and the graph -------------------------------------------------------------------

    def check(self, min_severity: str = "info") -> Table:
        """The findings of every check: code, severity, objects, message, fix, reference."""
        from cnimodel.validate import validate

        report = validate(self.plan, self.cluster if self.plan.has_cluster else None,
                          min_severity=min_severity)  # type: ignore[arg-type]
        rows = [(f.code, f.severity, list(f.objects), f.message, f.fix, f.reference) for f in report.findings]
        return Table(("code", "severity", "objects", "message", "fix", "reference"), rows)

    def graph(self, dst: str | None = None, src: str | None = None) -> nx.Graph:
        """The forwarding graph. With ``dst`` (any destination ``trace`` accepts: a pod, workload, Service,
        ``NODE:PORT``, node or address): a ``networkx.MultiDiGraph`` of the forwarding decisions for that
        destination's class — every vertex a packet to it can be at, an edge per decision carrying its fact, and,
        past a load balancer's DNAT, the backends' classes; ``src`` (a source ``trace`` accepts) keeps only what
        its packets reach (cheap on a plan of thousands of nodes). Without ``dst``: the cluster's picture (an
        undirected graph of the same vertices, joined as they are wired)."""
        from cnimodel.graph import ForwardingGraph, destination_graph
        from cnimodel.graph.wiring import wiring
        from cnimodel.trace.resolve import resolve

        if dst is None:
            return wiring(self.cluster)
        end = resolve(self.cluster, dst)
        start = None if src is None else [self._source_vertex(resolve(self.cluster, src))]
        g = ForwardingGraph.of(self.cluster)
        return destination_graph(g, g.classify(end.ip), frontend=end.kind in ("service", "nodeport"), start=start)

    def _source_vertex(self, end: Any) -> str:
        from cnimodel.graph import vertices as V

        if end.kind == "pod" and end.pod is not None:
            return V.pod(end.pod.pod.key)
        if end.kind == "node" and end.node is not None:
            return V.host(end.node)
        if end.kind == "external":
            return V.INTERNET
        raise QuestionError(f"{end.label} is not a source: a packet starts at a pod, a node or an outside address")
