"""``cnimodel ovn verify``: load a plan's Northbound content into a real OVN control plane and ovn-trace its flows.

It traces pod→pod flows that enter OVN (sources on nodes running ovnkube; destinations anywhere, Windows pods
included), every pair on a small plan and a seeded sample on a large one, and compares ovn-trace's verdict,
output port, datapaths and stages with cnimodel's own walk of the same flow (``compare``), and its delivery
with what cnimodel's policy engine decides for the connection.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cnimodel.plugins.ovn_kubernetes import compare, names, tracing
from cnimodel.plugins.ovn_kubernetes.export import schema_columns, to_transact
from cnimodel.plugins.ovn_kubernetes.harness import ControlPlane
from cnimodel.plugins.ovn_kubernetes.subset import subset
from cnimodel.policy.analysis import Reachability

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin

@dataclass(frozen=True)
class SampleFlow:
    src: str
    dst: str
    protocol: str
    port: int
    datapath: str
    microflow: str
    policy_allows: bool | None  # cnimodel's policy engine (None: not evaluated, a pod and itself)
    backend: str | None = None  # a Service flow: the backend (IP:port) its load balancer is made to pick


@dataclass(frozen=True)
class FlowResult:
    flow: SampleFlow
    trace: tracing.TraceResult
    mine: compare.Walked | None = None  # cnimodel's walk of the same flow
    mismatches: tuple[str, ...] = ()
    tunnel_key: tuple[int, int] | None = None  # GENEVE: the datapath's key (VNI) and the egress port's, as assigned

    @property
    def agrees_with_policy(self) -> bool | None:
        """Whether ovn-trace's delivery agrees with the policy engine's answer (None when it cannot say)."""
        if self.flow.policy_allows is None or self.trace.verdict == "neighbour-resolution":
            return None
        return (self.trace.verdict in ("delivered", "exits")) == self.flow.policy_allows


@dataclass
class VerifyReport:
    results: list[FlowResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    total_pairs: int = 0

    @property
    def disagreements(self) -> list[FlowResult]:
        return [r for r in self.results if r.agrees_with_policy is False]

    @property
    def mismatches(self) -> list[FlowResult]:
        """Flows where ovn-trace and cnimodel's own walk differ."""
        return [r for r in self.results if r.mismatches]


def _first_port(pod: object) -> tuple[str, int]:
    ports = getattr(pod, "ports", ())
    for p in ports:
        if p.protocol in ("TCP", "UDP", "SCTP"):
            return p.protocol.lower(), p.port
    return "tcp", 80


def sample_flows(cluster: Cluster, plugin: OvnKubernetesPlugin, limit: int = 500,
                 seed: int = 0) -> tuple[list[SampleFlow], int]:
    """Pod→pod flows entering OVN — every ordered pair when there are at most ``limit``, else a sample drawn with
    ``seed`` — and flows from a pod to node and external addresses (``beyond_pods``), ``limit`` flows at most
    (the pod pairs get nine tenths of a sample). Returns the flows and how many pod pairs there were."""
    nodes = plugin.nodes
    pods = [a for a in cluster.allocation.pods.values()
            if not a.pod.host_network and cluster.allocation.runs(a.pod.key)]
    sources = [a for a in pods if nodes[a.pod.node].role == "ovn"]  # type: ignore[index]
    total = len(sources) * max(0, len(pods) - 1)
    extra = beyond_pods(cluster, plugin, sources, random.Random(seed))
    if total + len(extra) > limit:
        extra = extra[:limit // 10]
        limit -= len(extra)
    if total <= limit:
        pairs = [(s, d) for s in sources for d in pods if s is not d]
    else:
        rng = random.Random(seed)
        seen: set[tuple[str, str]] = set()
        pairs = []
        while len(pairs) < limit:
            s, d = rng.choice(sources), rng.choice(pods)
            if s is not d and (s.pod.key, d.pod.key) not in seen:
                seen.add((s.pod.key, d.pod.key))
                pairs.append((s, d))
    r = Reachability.from_cluster(cluster)
    flows = []
    for s, d in pairs:
        src_node = nodes[s.pod.node]  # type: ignore[index]
        assert src_node.subnet is not None
        same = d.pod.node == s.pod.node
        eth_dst = names.mac_of(d.ip) if same else names.mac_of(names.gateway_ip(src_node.subnet))
        proto, port = _first_port(d.pod)
        a, b = r.resolve(s.pod.key)[0], r.resolve(d.pod.key)[0]
        conn = r.connection(a, b)
        allows = None if conn.conns is None else conn.conns.allows(proto.upper(), port)
        flows.append(SampleFlow(s.pod.key, d.pod.key, proto, port, src_node.switch,
                          tracing.microflow(names.pod_port(s.pod.namespace, s.pod.name), names.mac_of(s.ip), eth_dst,
                                            s.ip, d.ip, proto, port), allows))
    return flows + extra, total


def service_flows(cluster: Cluster, plugin: OvnKubernetesPlugin, seed: int = 0) -> list[SampleFlow]:
    """One flow per cluster-wide load balancer's VIP: from a pod on a node running ovnkube (seeded), to the VIP,
    the load balancer made to pick its first backend (ovn-trace's --lb-dst; cnimodel's --backend)."""
    from cnimodel.plugins.ovn_kubernetes.lbs import vip_address

    nodes = plugin.nodes
    sources = [a for a in cluster.allocation.pods.values() if not a.pod.host_network and a.pod.node
               and nodes[a.pod.node].role == "ovn" and cluster.allocation.runs(a.pod.key)]
    if not sources:
        return []
    rng = random.Random(seed)
    flows = []
    for lb in plugin.northbound(cluster).load_balancers:
        if not lb.name.endswith("_cluster"):
            continue
        owner = dict(lb.external_ids).get("k8s.ovn.org/owner", "")
        for vip, targets in lb.vips:
            backends = sorted(t for t in targets.split(",") if t)
            if not backends:
                continue
            clients = [a for a in sources if f"{a.ip}:" not in targets]  # not a hairpin: ovn-trace does not
            if not clients:  # emulate ct_snat_to_vip's SNAT (ovn-controller's), the ACLs then see the client
                continue
            s = rng.choice(clients)
            n = nodes[s.pod.node]  # type: ignore[index]
            assert n.subnet is not None
            port = vip.rpartition(":")[2]
            flows.append(SampleFlow(s.pod.key, owner, lb.protocol, int(port), n.switch, tracing.microflow(
                names.pod_port(s.pod.namespace, s.pod.name), names.mac_of(s.ip),
                names.mac_of(names.gateway_ip(n.subnet)), s.ip, vip_address(vip), lb.protocol, int(port)),
                None, backends[0]))
    return flows


EXTERNAL = "203.0.113.10"  # TEST-NET-3 (RFC 5737): an address outside every plan


def beyond_pods(cluster: Cluster, plugin: OvnKubernetesPlugin, sources: list,  # type: ignore[type-arg]
                rng: random.Random) -> list[SampleFlow]:
    """For the first pod of each node running ovnkube (the nodes in a seeded order): flows to its own node's IP
    (the 1004 reroute to the management port), to another node's IP and to an external address (both out of its
    gateway router)."""
    nodes = plugin.nodes
    first: dict[str, object] = {}
    for a in sources:
        first.setdefault(a.pod.node, a)
    order = list(first)
    rng.shuffle(order)
    first = {k: first[k] for k in order}
    ips = [n.ip for n in cluster.plan.nodes]
    flows = []
    for node, a in first.items():
        n = nodes[node]
        assert n.subnet is not None
        own = cluster.plan.node(node).ip
        other = next((ip for ip in ips if ip != own), None)
        for dst, port in ((own, 22), (other, 22), (EXTERNAL, 443)):
            if dst is None:
                continue
            pod = a.pod  # type: ignore[attr-defined]
            flows.append(SampleFlow(pod.key, str(dst), "tcp", port, n.switch, tracing.microflow(
                names.pod_port(pod.namespace, pod.name), names.mac_of(a.ip),  # type: ignore[attr-defined]
                names.mac_of(names.gateway_ip(n.subnet)), a.ip, dst, "tcp", port), None))  # type: ignore[attr-defined]
    return flows


def tracers(flows: int) -> int:
    """How many ovn-trace daemons to run: two on a machine with two cores or more once a sample is large
    enough that halving the trace time outweighs a second read of the database."""
    return 2 if flows >= 100 and (os.cpu_count() or 1) >= 2 else 1


def verify(cluster: Cluster, plugin: OvnKubernetesPlugin, limit: int = 500, seed: int = 0,
           probe: Callable[[ControlPlane], None] | None = None) -> VerifyReport:
    """Export, load into a fresh control plane, let northd compile, ovn-trace the sampled flows, stop it all, and
    compare each flow with cnimodel's own trace. ``probe`` is called with the control plane before it stops (a
    benchmark reads the processes' CPU time there)."""
    report = VerifyReport()
    t0 = time.monotonic()
    nb = plugin.northbound(cluster)
    report.timings["model"] = time.monotonic() - t0
    t = time.monotonic()
    flows, report.total_pairs = sample_flows(cluster, plugin, limit, seed)
    report.timings["sample"] = time.monotonic() - t
    # cnimodel's own walks first: they name the datapaths each flow crosses
    t = time.monotonic()
    if len(flows) >= report.total_pairs:  # every pair: Service flows too (each a one-shot ovn-trace, below)
        flows += service_flows(cluster, plugin, seed)
    mine = [compare.walked(compare.walk(cluster, f.src, f.dst, f.protocol, f.port,
                                        f.backend.rpartition(":")[0] if f.backend else None)) for f in flows]
    report.timings["cnimodel trace"] = time.monotonic() - t
    t = time.monotonic()
    if len(flows) < report.total_pairs:  # a sample of a large plan: the part of the database it crosses
        keep = {dp for w in mine for dp in w.datapaths} | {f.datapath for f in flows}
        part = subset(nb, keep)
        report.notes.append(
            f"ovn verify loaded the part of the Northbound the sample crosses ({len(part.switches)} of "
            f"{len(nb.switches)} switches, {len(part.routers)} of {len(nb.routers)} routers: the datapaths cnimodel's "
            "walks name, cnimodel/plugins/ovn_kubernetes/subset.py); a flow ovn-trace would take elsewhere is "
            "dropped there and reported as a mismatch")
        nb = part
    request, notes = to_transact(nb, schema_columns())
    report.notes += notes
    report.timings["export"] = time.monotonic() - t
    with ControlPlane() as cp:
        t = time.monotonic()
        cp.transact(request)
        report.timings["load"] = time.monotonic() - t
        t = time.monotonic()
        cp.sync()
        report.timings["northd"] = time.monotonic() - t
        dp_keys, port_keys = cp.tunnel_keys()
        t = time.monotonic()
        if cp.mirror_static_mac_bindings():
            report.notes.append("the hybrid overlay's Static_MAC_Bindings were copied to MAC_Binding for ovn-trace "
                                "(ovn-controller applies them on a chassis; ovn-trace does not simulate that)")
        cp.tracer(tracers(len(flows)))
        report.timings["ovn-trace start"] = time.monotonic() - t
        t = time.monotonic()
        plain = [f for f in flows if f.backend is None]
        answers = dict(zip((id(f) for f in plain), cp.trace_all([(f.datapath, f.microflow) for f in plain]),
                           strict=True))
        answers.update((id(f), cp.trace_new(f.datapath, f.microflow, f.backend)) for f in flows if f.backend)
        texts = [answers[id(f)] for f in flows]
        report.timings["trace"] = time.monotonic() - t
        if probe is not None:
            probe(cp)
    for f, text, walked in zip(flows, texts, mine, strict=True):
        theirs = tracing.parse(text)
        key = None
        if walked.tunnel is not None and walked.tunnel[0] in dp_keys and walked.tunnel[1] in port_keys:
            key = (dp_keys[walked.tunnel[0]], port_keys[walked.tunnel[1]])
        report.results.append(FlowResult(f, theirs, walked, tuple(compare.mismatches(walked, theirs)), key))
    report.timings["total"] = time.monotonic() - t0
    return report
