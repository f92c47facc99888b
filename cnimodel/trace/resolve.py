"""What a user's SRC/DST words name: a pod, a node, a Service, a NodePort, an IP (who owns an address is the
forwarding graph's question: ``cnimodel.graph.classes.owner_of``, re-exported here)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Literal

from cnimodel.cluster import Cluster
from cnimodel.graph.classes import Owner, owner_of
from cnimodel.ipam import PodAddress
from cnimodel.plan import NotRunning
from cnimodel.plan.errors import EndpointError
from cnimodel.plan.names import EndpointName, parse_endpoint, resolve_pods

if TYPE_CHECKING:
    from cnimodel.services.model import Service


@dataclass(frozen=True)
class Endpoint:
    kind: Literal["pod", "node", "service", "nodeport", "external"]
    ip: IPv4Address
    label: str
    node: str | None = None
    pod: PodAddress | None = None
    service: Service | None = None
    port: int | None = None
    # A workload named as ``ns/name``: every pod it stands for, the traced one (``pod``) first.
    members: tuple[str, ...] = ()
    # A pod that never runs (``Allocation.not_running``) and why; ``pod`` is None (and ``ip`` 0.0.0.0) when it
    # holds no address.
    down: NotRunning | None = None
    key: str = ""  # the pod's ``ns/name`` (kept when it holds no address)
    note: str = ""  # how an ambiguous name was read (a Pod and a Service of one name)


NO_ADDRESS = IPv4Address(0)  # the flow address of a pod that holds none (the unspecified address)


def services(cluster: Cluster) -> dict[str, Service]:
    """Every Service kube-proxy programs, by ``ns/name``, with the ClusterIP the API server would allocate when
    the plan leaves it out: the service catalog's one allocation, which ``lb``, ``check`` and ``render`` share."""
    from cnimodel.services.catalog import catalog

    return cluster.memo(("trace-services",), lambda: {s.key: s for s in catalog(cluster).services})


def cluster_ip(svc: Service) -> IPv4Address | None:
    """The Service's IPv4 ClusterIP (given or allocated)."""
    return next((ip for ip in svc.cluster_ips if isinstance(ip, IPv4Address)), None)


def _skipped(cluster: Cluster, name: str) -> str | None:
    """Why a Service object of the plan has no ClusterIP to trace to (headless, ExternalName), else None."""
    obj = next((o for o in cluster.plan.objects if o.kind == "Service" and o.key == name), None)
    if obj is None:
        return None
    spec = obj.body.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return f"Service {name} is ExternalName ({spec.get('externalName')}): a DNS alias, no address to trace to"
    return f"Service {name} is headless (clusterIP: None): DNS answers with its pods' addresses; trace to a pod"


def resolve(cluster: Cluster, word: str, port: int | None = None) -> Endpoint:
    """What an endpoint name (``cnimodel.plan.names`` grammar) stands for in a trace: ``ns/pod``,
    ``ns/service``, ``ns/workload``, a node, ``node:nodePort``, or an IPv4 address."""
    plan = cluster.plan
    try:
        e = parse_endpoint(word)
    except EndpointError:
        e = None
    if e is None or e.kind not in ("object", "node", "nodeport", "address"):
        # a pod's or Service's own key the grammar refuses (markup in a name: the plan reads it, Kubernetes would
        # refuse it and `check` says so); `netns verify` and `ovn verify` trace every pod by its key
        if (pod := cluster.allocation.pods.get(word)) is not None:
            return Endpoint("pod", pod.ip, f"{word}[Pod]", pod.pod.node, pod,
                            down=cluster.allocation.not_running.get(word), key=word)
        if (svc := services(cluster).get(word)) is not None:
            return _service(svc, port)
    if e is None:
        e = parse_endpoint(word)  # the grammar's own error
    if e.kind == "object":
        return _named(cluster, e, port)
    if e.kind == "nodeport":
        target = _node_word(cluster, e.name)
        return Endpoint("nodeport", plan.node(target).ip, f"{target}:{e.port}[NodePort]", target, port=e.port)
    if e.kind == "node":
        return Endpoint("node", plan.node(_node_word(cluster, e.name)).ip, f"{e.name}[Node]", e.name)
    if e.kind != "address" or e.ip is None:
        raise EndpointError(f"{word!r}: a trace goes between one pod, Service, node or address, not a "
                            f"{'range' if e.kind == 'range' else 'pattern'}")
    ip = e.ip
    svc = cluster.memo(("trace-vips",), lambda: {ip: s for s in reversed(services(cluster).values())
                                                 for ip in s.cluster_ips}).get(ip)  # the first in name order wins
    if svc is not None:
        return Endpoint("service", ip, f"{svc.key}[Service]", service=svc, port=port)
    owner = owner_of(cluster, ip)
    if owner.kind == "pod" and owner.pod is not None:
        key = owner.pod.pod.key
        return Endpoint("pod", ip, f"{key}[Pod]", owner.node, owner.pod, down=cluster.allocation.not_running.get(key),
                        key=key)
    if owner.kind == "node":
        return Endpoint("node", ip, f"{owner.node}[Node]", owner.node)
    return Endpoint("external", ip, f"{ip}", owner.node)


def _named(cluster: Cluster, e: EndpointName, port: int | None) -> Endpoint:
    """``ns/name``: a pod, else a Service, else a workload (its first pod in ordinal order, labelled as
    netpol-analyzer labels workloads, ``ns/web[Deployment]``); ``ns/name[Kind]`` picks the kind."""
    word, name, kind = e.word, e.key, e.object_kind
    stopped = cluster.allocation.not_running
    pod = cluster.allocation.pods.get(name) if kind in (None, "Pod") else None
    svc = services(cluster).get(name) if kind in (None, "Service") else None
    if pod is not None and svc is not None:  # `kubectl run web --expose`: a Pod and a Service of one name
        return _pod_or_service(cluster, name, pod, svc, port, stopped)
    if pod is not None:
        return Endpoint("pod", pod.ip, f"{name}[Pod]", pod.pod.node, pod, down=stopped.get(name), key=name)
    if kind in (None, "Pod") and name in stopped:  # a pod that never runs and holds no address
        return _no_address(cluster, name, f"{name}[Pod]")
    if svc is not None:
        return _service(svc, port)
    if kind in (None, "Service") and (why := _skipped(cluster, name)) is not None:
        raise EndpointError(why)
    if kind == "Service":
        raise EndpointError(f"no Service {name!r} in the plan")
    try:
        pods = cluster.memo(("trace-workload", word), lambda: resolve_pods(cluster.plan, e))
    except EndpointError as err:
        raise EndpointError(f"{word!r}: {err} (a trace names a pod, Service or workload as NAMESPACE/NAME)") from None
    # The first pod that runs, in ordinal order; else the first holding an address; else the first pod.
    addressed = [cluster.allocation.pods[p.key] for p in pods if p.key in cluster.allocation.pods]
    first = next((a for a in addressed if a.pod.key not in stopped), addressed[0] if addressed else None)
    owner = pods[0].owner
    key = first.pod.key if first is not None else pods[0].key
    label = str(owner) if owner is not None and kind != "Pod" else f"{key}[Pod]"
    members = (key, *(p.key for p in pods if p.key != key)) if owner is not None and kind != "Pod" else ()
    if first is None:
        if key not in stopped:
            raise EndpointError(f"{word!r}: none of its pods has an address")
        return replace(_no_address(cluster, key, label), members=members)
    return Endpoint("pod", first.ip, label, first.pod.node, first, members=members, down=stopped.get(key), key=key)


def _service(svc: Service, port: int | None, note: str = "") -> Endpoint:
    ip = cluster_ip(svc)
    if ip is None:
        raise EndpointError(f"Service {svc.key} has no IPv4 ClusterIP ({', '.join(map(str, svc.cluster_ips))})")
    return Endpoint("service", ip, f"{svc.key}[Service]", service=svc, port=port, note=note)


def _pod_or_service(cluster: Cluster, name: str, pod: PodAddress, svc: Service, port: int | None,
                    stopped: dict[str, NotRunning]) -> Endpoint:
    """A name that is both a Pod and a Service: the Service when the port is one only the Service has, else the
    Pod; either way the answer says which was taken and how to name the other."""
    svc_ports = {p.port for p in svc.ports}
    pod_ports = {c.port for c in pod.pod.ports}
    if port is not None and port in svc_ports and port not in pod_ports:
        return _service(svc, port, f"{name} is a Pod and a Service; port {port} is the Service's, so the Service "
                        f"was traced (name the pod as {name}[Pod])")
    note = f"{name} is a Pod and a Service; the Pod was traced (name the Service as {name}[Service])"
    return Endpoint("pod", pod.ip, f"{name}[Pod]", pod.pod.node, pod, down=stopped.get(name), key=name, note=note)


def _no_address(cluster: Cluster, key: str, label: str) -> Endpoint:
    """A pod that never runs and holds no address (Pending, rejected, its CNI ADD failing)."""
    node = next((p.node for p in cluster.plan.pods if p.key == key), None)
    return Endpoint("pod", NO_ADDRESS, label, node, None, down=cluster.allocation.not_running[key], key=key)


def _node_word(cluster: Cluster, name: str) -> str:
    try:
        cluster.plan.node(name)
    except KeyError:
        names = sorted(n.name for n in cluster.plan.nodes)
        shown = ", ".join(names[:6]) + (" …" if len(names) > 6 else "")
        raise EndpointError(f"{name!r} is not a node, pod (ns/name), Service or IPv4 address; nodes: {shown}") from None
    return name


def in_any(ip: IPv4Address, prefixes: tuple[str, ...] | list[str]) -> str | None:
    """The first prefix (as written) that holds ``ip``; unparsable entries never match."""
    for p in prefixes:
        try:
            if ip in IPv4Network(str(p), strict=False):
                return str(p)
        except ValueError:
            continue
    return None


__all__ = ["NO_ADDRESS", "Endpoint", "Owner", "cluster_ip", "in_any", "owner_of", "resolve",
           "services"]
