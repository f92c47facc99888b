"""The cluster's Services, each port's endpoints, and an index of frontends — built once per cluster.

Addresses the API server would allocate and the plan leaves out (a ClusterIP, a nodePort, a
healthCheckNodePort) are allocated here deterministically, and each Service says which ones were
(``Service.allocated``): the real allocator picks at random, so a plan that cares should set them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import IPv4Address, IPv4Network
from itertools import chain
from typing import TYPE_CHECKING, NamedTuple

from cnimodel.bulk import bulk, replaced
from cnimodel.plan import KubeObject, Problem, Problems
from cnimodel.services import endpoints as eps
from cnimodel.services.config import KubeProxyConfig, read_config
from cnimodel.services.model import Endpoint, IPAddress, Service, ServicePort, parse_service

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

NODE_PORT_RANGE = (30000, 32767)  # kube-apiserver --service-node-port-range default


class Frontend(NamedTuple):
    """A destination kube-proxy captures: a ClusterIP, external IP or load-balancer IP with its port."""

    kind: str  # clusterIP | externalIP | loadBalancerIP
    ip: IPAddress
    port: int
    protocol: str
    service_port: ServicePort


@dataclass
class Catalog:
    """Everything about Services that does not depend on the node asking."""

    services: list[Service]
    endpoints: dict[tuple[ServicePort, int], tuple[Endpoint, ...]]
    config: KubeProxyConfig
    warnings: list[Problem] = field(default_factory=list)
    frontends: dict[tuple[IPAddress, int, str], Frontend] = field(default_factory=dict)
    node_ports: dict[tuple[int, str], ServicePort] = field(default_factory=dict)
    by_port: dict[ServicePort, Service] = field(default_factory=dict)
    chain_names: dict = field(default_factory=dict)  # iptables chain hashes, shared by every node
    health_checks: dict[tuple[IPAddress, int], ServicePort] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for svc in self.services:
            for sp in svc.ports:
                self.by_port[sp] = svc
                for kind, ips in (("clusterIP", svc.cluster_ips), ("externalIP", svc.external_ips),
                                  ("loadBalancerIP", svc.ingress_ips)):
                    for ip in ips:
                        self.frontends.setdefault((ip, sp.port, sp.protocol), Frontend(kind, ip, sp.port,
                                                                                      sp.protocol, sp))
                if sp.node_port:
                    self.node_ports.setdefault((sp.node_port, sp.protocol), sp)
            if svc.health_check_node_port:  # Windows' health-check LB: ingress IP + healthCheckNodePort
                for ip in svc.ingress_ips:
                    self.health_checks.setdefault((ip, svc.health_check_node_port), svc.ports[0])

    def service(self, key: str) -> Service | None:
        return next((s for s in self.services if s.key == key), None)

    def endpoints_of(self, sp: ServicePort, family: int = 4) -> tuple[Endpoint, ...]:
        return self.endpoints.get((sp, family), ())

    @cached_property  # read by every node's kube-proxy view; a sum over every Service each time cost a trace
    def total_endpoints(self) -> int:
        """The count kube-proxy compares with 1,000 to switch to large-cluster mode (IPv4 proxier)."""
        return sum(len(v) for (_, fam), v in self.endpoints.items() if fam == 4)


def catalog(cluster: Cluster) -> Catalog:
    """The cluster's service catalog (built on first use, then cached); raises PlanError on bad input."""
    def build() -> Catalog:
        with bulk(freeze=True):  # kept as long as the cluster
            return build_catalog(cluster)

    return cluster.memo(("services-catalog",), build)


def build_catalog(cluster: Cluster) -> Catalog:
    """Parse every Service, allocate what the API server would, resolve every port's endpoints."""
    plan = cluster.plan
    problems = Problems()
    config = read_config(plan, problems)
    services = [s for o in plan.objects if o.kind == "Service" if (s := parse_service(o, problems)) is not None]
    services = _allocate(services, plan.service_cidr, problems)
    slices: dict[tuple[str, str], list[KubeObject]] = defaultdict(list)
    legacy: dict[str, KubeObject] = {}
    for o in plan.objects:
        if o.kind == "EndpointSlice":
            if (rec := o.record) is not None:  # a dump's slice, read from its typed record (plan/fastjson.py)
                labels = rec.metadata.labels or {}
            else:
                labels = (o.body.get("metadata") or {}).get("labels") or {}
            name = labels.get(eps.SERVICE_NAME_LABEL)
            if not name:
                problems.warn(o.origin.at("metadata.labels"), f"kube-proxy ignores an EndpointSlice without the "
                              f"{eps.SERVICE_NAME_LABEL} label", f"add `{eps.SERVICE_NAME_LABEL}: <service name>`")
                continue
            slices[(o.namespace or "default", str(name))].append(o)
        elif o.kind == "Endpoints":
            legacy[o.key] = o
    pods = None
    resolved: dict[tuple[ServicePort, int], tuple[Endpoint, ...]] = {}
    for svc in services:
        given = slices.get((svc.namespace, svc.name))
        if given:
            raw = eps.from_slices(svc, given, problems)
        elif svc.selector is None:
            raw = eps.from_endpoints(svc, legacy[svc.key]) if svc.key in legacy else {sp: [] for sp in svc.ports}
        else:
            if pods is None:
                stopped = cluster.allocation.not_running
                pods = eps.PodIndex((a.pod, str(a.ip), a.pod.key not in stopped)
                                    for a in cluster.allocation.pods.values())
            raw = eps.from_selector(svc, pods)
        for sp, found in raw.items():
            for fam in svc.vip:  # the families of its ClusterIPs
                resolved[(sp, fam)] = eps.finish(found, fam)
    problems.raise_if_errors()
    return Catalog(services, resolved, config, problems.warnings)  # in name order, as _allocate gives them


def _allocate(services: list[Service], service_cidr: IPv4Network | None, problems: Problems) -> list[Service]:
    """Fill in ClusterIPs, nodePorts and healthCheckNodePorts the plan leaves out, as the API server
    would (deterministically: the lowest free value of the dynamic band, Services in name order)."""
    used_ips = {ip for s in services for ip in s.cluster_ips}
    used_ports = {p.node_port for s in services for p in s.ports} | {s.health_check_node_port for s in services}
    next_ip = _ip_allocator(service_cidr, used_ips)
    next_port = _port_allocator(used_ports)
    out = []
    for svc in sorted(services, key=lambda s: s.key):
        allocated: list[str] = []
        if not svc.cluster_ips:
            ip = next(next_ip, None)
            if ip is None:
                problems.error(svc.origin.at("spec.clusterIP"), "no ClusterIP given and none left to allocate "
                               f"in the service CIDR {service_cidr}", "set spec.clusterIP, or spec.serviceCIDR")
                continue
            svc = _with(svc, cluster_ips=(ip,))
            allocated.append(f"clusterIP {ip}")
        if svc.type in ("NodePort", "LoadBalancer"):
            ports = []
            for sp in svc.ports:
                if not sp.node_port:
                    port = next(next_port, None)
                    if port is None:
                        problems.error(svc.origin.at("spec.ports"), "no nodePort left to allocate in "
                                       f"{NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}", "set nodePort, or use fewer "
                                       "NodePort/LoadBalancer Services")
                        break
                    sp = ServicePort(sp.namespace, sp.service, sp.name, sp.protocol, sp.port, sp.target_port,
                                     port, sp.key)
                    allocated.append(f"nodePort {sp.node_port} ({sp.key})")
                ports.append(sp)
            svc = _with(svc, ports=tuple(ports))
        if svc.type == "LoadBalancer" and svc.external_traffic_policy == "Local" and not svc.health_check_node_port:
            svc = _with(svc, health_check_node_port=next(next_port, 0))
            allocated.append(f"healthCheckNodePort {svc.health_check_node_port}")
        if allocated:
            svc = _with(svc, allocated=tuple(allocated))
        out.append(svc)
    return out


def _with(svc: Service, **changes: object) -> Service:
    """``dataclasses.replace`` without its per-call field introspection (thousands of Services get a
    nodePort here); Service is a plain frozen dataclass, so a copy of its ``__dict__`` is the same value."""
    new = replaced(svc, **changes)
    new.__dict__.pop("vip", None)  # the cached_property's value for the old fields
    return new


def _ip_allocator(cidr: IPv4Network | None, used: set[IPAddress]) -> Iterator[IPv4Address]:
    """ClusterIPs as the API server's allocator hands them out (ipallocator.Range, KEP-3070).

    The usable addresses are the range without its network and broadcast addresses, indexed from the
    network address + 1. The lowest min(max(16, size/16), 256) of them — none when the range holds 16
    addresses or fewer (a /28) — are the static band kept for fixed IPs. Dynamic allocation takes the upper
    band first and falls back to the static band when the upper one is full. The API server picks at random
    within a band; the model takes the lowest free address, so plans are reproducible.
    """
    if cidr is None:
        return iter(())
    size = cidr.num_addresses
    usable = max(0, size - 2)
    static = 0 if size <= 16 else min(max(16, size // 16), 256)
    first = int(cidr.network_address) + 1
    order = chain(range(static, usable), range(static))
    return (ip for i in order if (ip := IPv4Address(first + i)) not in used)


def _port_allocator(used: set[int]):  # type: ignore[no-untyped-def]
    lo, hi = NODE_PORT_RANGE
    static = min(max(16, (hi - lo + 1) // 32), 128)
    return (p for p in [*range(lo + static, hi + 1), *range(lo, lo + static)] if p not in used)

