"""Services as kube-proxy sees them: one ``ServicePort`` per (Service, port), read from the Service manifest.

Field names and defaults follow the Kubernetes API (``spec.ports[].targetPort`` defaults to ``port``,
``sessionAffinityConfig.clientIP.timeoutSeconds`` to 10800 …). kube-proxy skips headless and
ExternalName Services; so does this model, and says so.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from types import MappingProxyType
from typing import Any, NamedTuple

from cnimodel.bulk import frozen
from cnimodel.plan import KubeObject, Origin, Problems

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
EMPTY: MappingProxyType[str, Any] = MappingProxyType({})

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROTOCOLS = ("TCP", "UDP", "SCTP")
DEFAULT_AFFINITY_TIMEOUT = 10800  # the API default for sessionAffinityConfig.clientIP.timeoutSeconds
PRESERVE_DIP_ANNOTATION = "preserve-destination"


class Endpoint(NamedTuple):
    """One backend of a service port as kube-proxy holds it (``ip:port`` plus the slice conditions).

    ``ready``/``serving``/``terminating`` follow the EndpointSlice API defaults: a missing ``ready`` or
    ``serving`` counts as true, a missing ``terminating`` as false. ``ip`` is the canonical text form and
    ``key`` is ``ip:port`` (``[ip]:port`` for IPv6): kube-proxy's endpoint string, sort key and hash input.
    Build one with ``endpoint()``. (A tuple, not a dataclass: a 10,000-Service plan holds 100,000 of them.)
    """

    ip: str
    port: int
    node: str | None
    ready: bool
    serving: bool
    terminating: bool
    pod: str | None
    source: str
    key: str

    @property
    def family(self) -> int:
        return 6 if ":" in self.ip else 4

    @property
    def address(self) -> IPAddress:
        return ip_address(self.ip)


def endpoint(ip: str, port: int, node: str | None = None, ready: bool = True, serving: bool = True,
             terminating: bool = False, pod: str | None = None, source: str = "") -> Endpoint:
    """An Endpoint from a canonical address string (see ``canonical_ip``)."""
    key = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    return Endpoint(ip, port, node, ready, serving, terminating, pod, source, key)


def canonical_ip(value: Any) -> str | None:
    """The address as Python's ``ipaddress`` prints it, or None when it is not one (fast: no objects)."""
    text = value.strip() if type(value) is str else str(value).strip()
    try:
        return _ntop(_AF4, _pton(_AF4, text))
    except OSError:
        pass
    try:
        return str(ip_address(_pton(socket.AF_INET6, text)))  # Python's RFC 5952 form, whatever libc prints
    except OSError:
        return None


_AF4, _pton, _ntop = socket.AF_INET, socket.inet_pton, socket.inet_ntop


def ip_int(text: str) -> int:
    """An IPv4 address string as an integer."""
    return int.from_bytes(socket.inet_aton(text), "big")


class ServicePort(NamedTuple):
    """One port of one Service: kube-proxy's unit (``ServicePortName`` = ``ns/name[:portName]`` + protocol).

    ``key`` is ``ns/name:port`` (``ns/name`` for an unnamed port), kube-proxy's ServicePortName string;
    ``service_port()`` fills it in. (A tuple: every view looks its ports up by it, and a tuple hashes in C.)
    """

    namespace: str
    service: str
    name: str
    protocol: str
    port: int
    target_port: int | str
    node_port: int = 0
    key: str = ""


@dataclass(frozen=True)
class Service:
    """A Service with the fields kube-proxy reads, already defaulted and parsed."""

    namespace: str
    name: str
    type: str
    cluster_ips: tuple[IPAddress, ...]
    ports: tuple[ServicePort, ...]
    selector: MappingProxyType[str, str] | None = None
    external_ips: tuple[IPAddress, ...] = ()
    ingress_ips: tuple[IPAddress, ...] = ()
    external_traffic_policy: str = "Cluster"
    internal_traffic_policy: str = "Cluster"
    session_affinity: str = "None"
    affinity_timeout: int = DEFAULT_AFFINITY_TIMEOUT
    source_ranges: tuple[IPNetwork, ...] = ()
    health_check_node_port: int = 0
    annotations: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY)
    allocated: tuple[str, ...] = ()
    origin: Origin = Origin("<plan>")
    publish_not_ready: bool = False  # spec.publishNotReadyAddresses: the slices mark every pod ready

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @cached_property
    def vip(self) -> dict[int, str]:
        """The ClusterIP of each IP family, as text (a dual-stack Service has one per family; read for every
        port on every node's view)."""
        out: dict[int, str] = {}
        for ip in self.cluster_ips:
            out.setdefault(ip.version, str(ip))
        return out

    @property
    def etp_local(self) -> bool:
        """externalTrafficPolicy Local on a Service that takes external traffic (else Local means nothing)."""
        return self.external_traffic_policy == "Local" and (
            self.type in ("NodePort", "LoadBalancer") or bool(self.external_ips))

    @property
    def itp_local(self) -> bool:
        return self.internal_traffic_policy == "Local"

    @property
    def client_ip_affinity(self) -> bool:
        return self.session_affinity == "ClientIP"

    @property
    def preserve_dip(self) -> bool:
        """The winkernel ``preserve-destination: "true"`` annotation (exact key and value)."""
        return self.annotations.get(PRESERVE_DIP_ANNOTATION) == "true"


def service_port(namespace: str, service: str, name: str, protocol: str, port: int, target_port: int | str,
                 node_port: int = 0) -> ServicePort:
    base = f"{namespace}/{service}"
    return ServicePort(namespace, service, name, protocol, port, target_port, node_port,
                       f"{base}:{name}" if name else base)


def _ip(value: Any) -> IPAddress | None:
    """An address object, built from its integer (much faster than parsing the text with ipaddress)."""
    text = str(value).strip()
    try:
        return IPv4Address(int.from_bytes(_pton(_AF4, text), "big"))
    except OSError:
        pass
    try:
        return ip_address(text)
    except ValueError:
        return None


def _net(value: Any) -> IPNetwork | None:
    try:
        return ip_network(str(value).strip(), strict=False)
    except ValueError:
        return None


def _map(value: Any) -> MappingProxyType[str, str]:
    if not value or (type(value) is not MappingProxyType and not isinstance(value, Mapping)):  # the ABC check last:
        return EMPTY  # it is slow
    return MappingProxyType({str(k): "" if v is None else str(v) for k, v in value.items()})


_POLICIES = ("Cluster", "Local")


def parse_service(obj: KubeObject, problems: Problems) -> Service | None:
    """A Service manifest as kube-proxy reads it; None (with a warning) for kinds kube-proxy skips."""
    body = obj.body
    origin = obj.origin
    spec = body.get("spec") or {}
    status = body.get("status") or {}
    meta = body.get("metadata") or {}
    stype = spec.get("type") or "ClusterIP"
    if stype not in SERVICE_TYPES:
        problems.error(origin.at("spec.type"), f"unknown Service type {stype!r}",
                       f"use one of: {', '.join(SERVICE_TYPES)}")
        return None
    if stype == "ExternalName":
        return None  # a DNS CNAME: kube-proxy programs nothing for it
    raw_ips = list(spec.get("clusterIPs") or ())
    if not raw_ips and spec.get("clusterIP"):
        raw_ips = [spec["clusterIP"]]
    if raw_ips and str(raw_ips[0]) == "None":
        return None  # headless: DNS only
    cluster_ips: list[IPAddress] = []
    vip: dict[int, str] = {}  # Service.vip, known here without printing the addresses again
    for i, raw in enumerate(raw_ips):
        ip = _ip(raw)
        if ip is None:
            problems.error(origin.at(f"spec.clusterIPs[{i}]" if "clusterIPs" in spec else "spec.clusterIP"),
                           f"{raw!r} is not an IP address", "write it like 10.96.0.100, or leave it out")
        else:
            cluster_ips.append(ip)
            vip.setdefault(ip.version, _ntop(_AF4, ip.packed) if ip.version == 4 else str(ip))
    if cluster_ips and all(ip.version == 6 for ip in cluster_ips):
        field = "spec.clusterIPs" if "clusterIPs" in spec else "spec.clusterIP"
        problems.warn(origin.at(field), f"Service {obj.key} has only IPv6 cluster IPs "
                      f"({', '.join(map(str, cluster_ips))}); cnimodel models IPv4: no IPv4 frontend is modelled "
                      "for it", "give it an IPv4 clusterIP from spec.serviceCIDR (or ipFamilies: [IPv4]), or leave "
                      "clusterIP out for one to be allocated")
    ports = _ports(obj, spec.get("ports"), stype, origin, problems)
    # (10,000 Services on a large plan, most with none of the optional fields: each is read only when present)
    etp = spec.get("externalTrafficPolicy") or "Cluster"
    itp = spec.get("internalTrafficPolicy") or "Cluster"
    if etp not in _POLICIES or itp not in _POLICIES:
        for fname, value in (("externalTrafficPolicy", etp), ("internalTrafficPolicy", itp)):
            if value not in _POLICIES:
                problems.error(origin.at(f"spec.{fname}"), f"unknown policy {value!r}", "use Cluster or Local")
    affinity = spec.get("sessionAffinity") or "None"
    if affinity not in ("None", "ClientIP"):
        problems.error(origin.at("spec.sessionAffinity"), f"unknown affinity {affinity!r}", "use None or ClientIP")
    timeout = DEFAULT_AFFINITY_TIMEOUT
    if "sessionAffinityConfig" in spec:
        timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get(
            "timeoutSeconds", DEFAULT_AFFINITY_TIMEOUT)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 < timeout <= 86400:
            problems.error(origin.at("spec.sessionAffinityConfig.clientIP.timeoutSeconds"),
                           f"{timeout!r} is not a timeout in seconds", "use 1 to 86400 (default 10800)")
            timeout = DEFAULT_AFFINITY_TIMEOUT
    raw_external = spec.get("externalIPs")
    external_ips = tuple(ip for raw in raw_external if (ip := _ip(raw)) is not None) if raw_external else ()
    ingress = []
    for entry in (status.get("loadBalancer") or {}).get("ingress") or () if status else ():
        # hostname-only entries and ipMode Proxy entries are not programmed by kube-proxy
        if isinstance(entry, Mapping) and entry.get("ip") and entry.get("ipMode", "VIP") == "VIP":
            ip = _ip(entry["ip"])
            if ip is not None:
                ingress.append(ip)
    # kube-proxy trims the ranges and ignores the ones that do not parse
    raw_ranges = spec.get("loadBalancerSourceRanges")
    ranges = tuple(n for raw in raw_ranges if (n := _net(raw)) is not None) if raw_ranges else ()
    selector = spec.get("selector")
    hc = spec.get("healthCheckNodePort") or 0
    return _service(
        vip, namespace=obj.namespace or "default", name=obj.name, type=stype, cluster_ips=tuple(cluster_ips),
        ports=ports, selector=_map(selector) if selector is not None else None, external_ips=external_ips,
        ingress_ips=tuple(ingress), external_traffic_policy=etp, internal_traffic_policy=itp,
        session_affinity=affinity, affinity_timeout=timeout, source_ranges=ranges,
        health_check_node_port=hc if isinstance(hc, int) else 0, annotations=_map(meta.get("annotations")),
        allocated=(), origin=origin, publish_not_ready=spec.get("publishNotReadyAddresses") is True)


_SERVICE_FIELDS = frozenset(f.name for f in fields(Service))


def _service(vip: dict[int, str], **values: Any) -> Service:
    """A Service from every one of its fields (10,000 on a large plan: ``bulk.frozen``); ``vip`` is the value
    of the cached property ``Service.vip``, stored where it keeps it."""
    assert values.keys() == _SERVICE_FIELDS
    new = frozen(Service, **values)
    new.__dict__["vip"] = vip
    return new


def _ports(obj: KubeObject, raw: Any, stype: str, origin: Origin, problems: Problems) -> tuple[ServicePort, ...]:
    """The ports of a Service; ``origin`` is the Service's (field paths are built only for a problem)."""
    if not raw or not isinstance(raw, (list, tuple)):
        problems.error(origin.at("spec.ports"), "a Service needs at least one port", "add `ports: [{port: 80}]`")
        return ()
    out: list[ServicePort] = []
    for i, p in enumerate(raw):
        def at(field: str = "", i: int = i) -> Origin:
            return origin.at(f"spec.ports[{i}]").at(field)

        if type(p) is not MappingProxyType and not isinstance(p, Mapping):
            problems.error(at(), "expected {port: N, ...}", "write it as a mapping: `- {port: 80, protocol: TCP}`")
            continue
        port = p.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            problems.error(at("port"), f"{port!r} is not a port number", "use 1 to 65535")
            continue
        proto = p.get("protocol") or "TCP"
        if proto not in PROTOCOLS:
            problems.error(at("protocol"), f"unknown protocol {proto!r}", "use TCP, UDP or SCTP")
            continue
        name = p.get("name") or ""
        if not name and len(raw) > 1:
            problems.error(at("name"), "is required when a Service has more than one port",
                           "name every port, e.g. `name: http`")
        target = p.get("targetPort", port)
        if isinstance(target, str) and target.isdigit():
            target = int(target)
        node_port = p.get("nodePort") or 0
        if node_port and stype == "ClusterIP":
            problems.error(at("nodePort"), "a ClusterIP Service cannot have a nodePort",
                           "set `type: NodePort` or remove nodePort")
            node_port = 0
        out.append(service_port(obj.namespace or "default", obj.name, str(name), proto, port, target,
                                node_port if isinstance(node_port, int) else 0))
    return tuple(out)
