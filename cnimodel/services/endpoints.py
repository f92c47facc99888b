"""Endpoints of each service port, as kube-proxy's EndpointSlice cache holds them.

Where they come from, per Service:
1. EndpointSlices labelled ``kubernetes.io/service-name: <svc>`` when the plan has any for it;
2. else, for a Service without a selector, its v1 Endpoints object (what the EndpointSliceMirroring
   controller would copy into slices: ``addresses`` ready, ``notReadyAddresses`` not ready);
3. else, for a Service with a selector, what the EndpointSlice controller builds from the pods with an
   address matching it: a pod that runs is ready; one that never runs (``Allocation.not_running``: its images
   cannot run on its node, yet its sandbox holds the address) is not ready and not serving, unless the
   Service sets ``publishNotReadyAddresses`` (kubernetes/endpointslice utils.go podToEndpoint); a pod without
   an address is left out (util/controller_utils.go ShouldPodBeInEndpoints).

Then kube-proxy's rules: only the first address of a slice endpoint is used; a slice port without a
name or with no port number is ignored; endpoints are deduplicated by ``ip:port`` (a local one wins)
and sorted by that string — which is the order of the KUBE-SVC probability rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from msgspec import UNSET, to_builtins

from cnimodel.plan import KubeObject, Pod, Problems
from cnimodel.services.model import _AF4, Endpoint, Service, ServicePort, _ntop, _pton, canonical_ip, endpoint

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class PodIndex:
    """Pods with an address by namespace and label, for selector matching without a scan per Service; each
    with its address and whether it runs (a pod that never runs is not ready)."""

    def __init__(self, pods: Iterable[tuple[Pod, str, bool]]) -> None:
        self._by_label: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        self._by_ns: dict[str, list[int]] = defaultdict(list)
        self._pods: list[tuple[Pod, str, bool]] = []
        for pod, ip, runs in pods:
            i = len(self._pods)
            self._pods.append((pod, ip, runs))
            self._by_ns[pod.namespace].append(i)
            for k, v in pod.labels.items():
                self._by_label[(pod.namespace, k, v)].append(i)

    def select(self, namespace: str, selector: Mapping[str, str]) -> list[tuple[Pod, str, bool]]:
        """Pods of ``namespace`` carrying every label of ``selector``, in plan order."""
        if not selector:
            return [self._pods[i] for i in self._by_ns.get(namespace, ())]
        lists = sorted((self._by_label.get((namespace, k, v), []) for k, v in selector.items()), key=len)
        if not lists[0]:
            return []
        hits = set(lists[0])
        for other in lists[1:]:
            hits.intersection_update(other)
            if not hits:
                return []
        return [self._pods[i] for i in sorted(hits)]


def container_port(pod: Pod, sp: ServicePort) -> int | None:
    """The pod port a service port targets: a number as is; a name must match a container port's name
    and protocol (the endpoint controller leaves the pod out of this port otherwise)."""
    if isinstance(sp.target_port, int):
        return sp.target_port
    for cp in pod.ports:
        if cp.name == sp.target_port and cp.protocol == sp.protocol:
            return cp.port
    return None


def from_selector(svc: Service, pods: PodIndex) -> dict[ServicePort, list[Endpoint]]:
    """What the EndpointSlice controller builds for a Service with a selector."""
    assert svc.selector is not None
    out: dict[ServicePort, list[Endpoint]] = {sp: [] for sp in svc.ports}
    for pod, ip, runs in pods.select(svc.namespace, svc.selector):
        for sp in svc.ports:
            port = container_port(pod, sp)
            if port is not None:
                out[sp].append(endpoint(ip, port, pod.node, runs or svc.publish_not_ready, runs, pod=pod.key,
                                        source="selector"))
    return out


def from_slices(svc: Service, slices: list[KubeObject], problems: Problems) -> dict[ServicePort, list[Endpoint]]:
    """Endpoints of each service port from the Service's EndpointSlices (ports matched by name and protocol)."""
    out: dict[ServicePort, list[Endpoint]] = {sp: [] for sp in svc.ports}
    by_name = {(sp.name, sp.protocol): sp for sp in svc.ports}
    for obj in slices:
        address_type, ports, read, raw = _slice_parts(obj)
        if address_type == "FQDN":
            continue  # kube-proxy ignores FQDN slices
        source = f"EndpointSlice {obj.key}"
        warnings: list[tuple[str, str, str]] = []  # said after the endpoints' problems, in the slice's order
        targets: list[tuple[ServicePort, int]] = []
        for j, port in enumerate(ports):
            if port is None:
                continue
            name, number, protocol = port
            if name is None:
                warnings.append((f"ports[{j}].name", "kube-proxy ignores a slice port without a name",
                                 'set `name: ""` for an unnamed service port, else the port\'s name'))
                continue
            if not isinstance(number, int) or not 0 < number < 65536:
                warnings.append((f"ports[{j}].port", "kube-proxy ignores a slice port without a port number",
                                 "set the pod port the Service targets"))
                continue
            sp = by_name.get((str(name), protocol or "TCP"))
            if sp is not None:  # else a port the Service does not have: kube-proxy keeps it under a name nothing uses
                targets.append((sp, number))
        # the endpoints, read once, for the first port; the others copy them with their own port
        first = read(raw, obj, problems, targets[0][1] if targets else 0, source)
        for path, message, fix in warnings:
            problems.warn(obj.origin.at(path), message, fix)
        for i, (sp, number) in enumerate(targets):
            if i == 0:
                out[sp] += first
                continue
            suffix = f":{number}"
            out[sp] += [_new(Endpoint, (e.ip, number, e.node, e.ready, e.serving, e.terminating, e.pod, source,
                                        (f"[{e.ip}]" if ":" in e.ip else e.ip) + suffix)) for e in first]
    return out


def _slice_parts(obj: KubeObject) -> tuple[Any, list[tuple[Any, Any, Any] | None], Any, Any]:
    """A slice's addressType, its ports as (name, port, protocol) (None for an entry that is not a mapping), the
    reader of its endpoints and those endpoints: from a dump's typed record (plan/fastjson.py) where the slice
    has one — the same values as its body's — else from its body."""
    rec = obj.record
    if rec is not None:
        ports = [None if p is None else (p.name, p.port, p.protocol) for p in rec.ports or ()]
        return rec.addressType, ports, _record_endpoints, rec.endpoints or ()
    body = obj.body
    ports = [(p.get("name"), p.get("port"), p.get("protocol"))
             if type(p) is MappingProxyType or isinstance(p, Mapping) else None  # (the slow ABC check last)
             for p in body.get("ports") or ()]
    return body.get("addressType", "IPv4"), ports, _slice_endpoints, body.get("endpoints") or ()


def _record_endpoints(raw: Any, obj: KubeObject, problems: Problems, port: int, source: str) -> list[Endpoint]:
    """``_slice_endpoints`` for a typed record's endpoints (plan/fastjson.py ``SliceEndpoint``): the common shape
    (a canonical IPv4 first address) read inline; anything else through the checked reader, as a dict."""
    out: list[Endpoint] = []
    add = out.append
    ns = obj.namespace
    suffix = f":{port}"
    for i, e in enumerate(raw):
        if e is None:
            continue
        addresses = e.addresses
        text = addresses[0] if addresses else None
        try:
            ip = _ntop(_AF4, _pton(_AF4, text))  # type: ignore[arg-type]
        except (TypeError, OSError):
            ip = None
        if ip is None or ip != text:
            p = _slice_endpoint(to_builtins(e), obj, i, problems)  # (the record's fields, as the dict has them)
            if p is not None:
                ip = p[0]
                add(_new(Endpoint, (ip, port, *p[1:], source, (f"[{ip}]" if ":" in ip else ip) + suffix)))
            continue
        cond = e.conditions
        ready = serving = terminating = None
        if cond is not None:
            ready, serving, terminating = cond.ready, cond.serving, cond.terminating
        ref = e.targetRef
        pod = None
        if ref is not None and ref.kind == "Pod" and ref.name:
            pod = f"{ns if ref.namespace is UNSET else ref.namespace}/{ref.name}"
        add(_new(Endpoint, (ip, port, e.nodeName, ready is None or bool(ready), serving is None or bool(serving),
                            bool(terminating), pod, source, ip + suffix)))
    return out


_MAPPINGS = (dict, MappingProxyType)
_new = tuple.__new__


def _slice_endpoints(raw: Any, obj: KubeObject, problems: Problems, port: int, source: str) -> list[Endpoint]:
    """Every usable endpoint of a slice, as an Endpoint of ``port``. The common shape (a mapping whose first
    address is a canonical IPv4 string) is read inline, 100,000 times on a large plan; anything else, or anything
    that fails, goes through ``_slice_endpoint`` (the checked reader, with its problems) and gives the same
    values. The two repeat the conditions/targetRef reading on purpose: a shared helper is a call per endpoint."""
    out: list[Endpoint] = []
    add = out.append
    ns = obj.namespace
    suffix = f":{port}"
    for i, e in enumerate(raw):
        try:
            if type(e) is not MappingProxyType:
                raise TypeError
            text = e["addresses"][0]
            ip = _ntop(_AF4, _pton(_AF4, text))
            if ip != text:
                raise ValueError  # not written canonically: the checked reader says what it is
            cond = e.get("conditions")
            ready = serving = terminating = None
            if cond:
                ready, serving, terminating = cond.get("ready"), cond.get("serving"), cond.get("terminating")
            ref = e.get("targetRef")
            pod = None
            if ref and ref.get("kind") == "Pod" and ref.get("name"):
                pod = f"{ref.get('namespace', ns)}/{ref['name']}"
            add(_new(Endpoint, (ip, port, e.get("nodeName"), ready is None or bool(ready),
                                serving is None or bool(serving), bool(terminating), pod, source, ip + suffix)))
        except (KeyError, IndexError, TypeError, ValueError, OSError, AttributeError):
            p = _slice_endpoint(e, obj, i, problems)
            if p is not None:
                ip = p[0]
                add(_new(Endpoint, (ip, port, *p[1:], source, (f"[{ip}]" if ":" in ip else ip) + suffix)))
    return out


def _slice_endpoint(e: Any, obj: KubeObject, i: int, problems: Problems) -> tuple | None:
    """(ip, nodeName, ready, serving, terminating, pod) of one slice endpoint, with the API's defaults."""
    if type(e) not in _MAPPINGS and not isinstance(e, Mapping):
        return None
    addresses = e.get("addresses")
    if not addresses:
        return None
    ip = canonical_ip(addresses[0])
    if ip is None:
        problems.error(obj.origin.at(f"endpoints[{i}].addresses[0]"), f"{addresses[0]!r} is not an IP "
                       "address", "write the pod IP, e.g. 10.244.1.5")
        return None
    cond = e.get("conditions")
    ready = serving = terminating = None
    if cond:
        ready, serving, terminating = cond.get("ready"), cond.get("serving"), cond.get("terminating")
    ref = e.get("targetRef")
    pod = None
    if ref and ref.get("kind") == "Pod" and ref.get("name"):
        pod = f"{ref.get('namespace', obj.namespace)}/{ref['name']}"
    return (ip, e.get("nodeName"), ready is None or bool(ready), serving is None or bool(serving),
            bool(terminating), pod)


def from_endpoints(svc: Service, obj: KubeObject) -> dict[ServicePort, list[Endpoint]]:
    """A v1 Endpoints object as the mirroring controller copies it into slices."""
    out: dict[ServicePort, list[Endpoint]] = {sp: [] for sp in svc.ports}
    by_name = {(sp.name, sp.protocol): sp for sp in svc.ports}
    source = f"Endpoints {obj.key}"
    for subset in obj.body.get("subsets") or ():
        addrs = [(a, True) for a in subset.get("addresses") or ()]
        addrs += [(a, False) for a in subset.get("notReadyAddresses") or ()]
        for port in subset.get("ports") or ():
            sp = by_name.get((port.get("name") or "", port.get("protocol") or "TCP"))
            if sp is None or not isinstance(port.get("port"), int):
                continue
            for a, ready in addrs:
                ip = canonical_ip(a.get("ip"))
                if ip is not None:
                    out[sp].append(endpoint(ip, port["port"], a.get("nodeName"), ready, ready, False,
                                            source=source))
    return out


def finish(endpoints: list[Endpoint], family: int) -> tuple[Endpoint, ...]:
    """kube-proxy's cache: one family, deduplicated by ``ip:port`` (a local one wins — not knowable
    before a node is chosen, so the first one kept here), sorted by the ``ip:port`` string."""
    v6 = family == 6
    kept = [ep for ep in endpoints if (":" in ep.ip) is v6]  # Endpoint.family, inlined: 100,000 on a large plan
    seen = dict(zip(map(_KEY, reversed(kept)), reversed(kept), strict=True))  # reversed: the first of equal keys wins
    return tuple(map(seen.__getitem__, sorted(seen)))


_KEY = attrgetter("key")
