"""Parse the Kubernetes objects a plan may hold, as users have them (manifests, kubectl dumps)."""

from __future__ import annotations

import socket
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from types import MappingProxyType
from typing import Any

from msgspec import UNSET

from cnimodel.plan.errors import Origin, Problems
from cnimodel.plan.fastjson import PodRecord, RecordSpec, SliceItem, decode_whole
from cnimodel.plan.fields import Fields, freeze, parse_cidr, thaw
from cnimodel.plan.model import ContainerPort, KubeObject, Namespace, NodeSpec, Pod, RecordObject, WorkloadRef
from cnimodel.plan.schedule import PLACEMENT_KEYS, Placement, parse_placement
from cnimodel.plan.shapes import SHAPES, Misfit, check_shape, frozen_fitting

_AF4, _pton = socket.AF_INET, socket.inet_pton

OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")
BUILD_LABEL = "node.kubernetes.io/windows-build"
# Where a Node object holds what a spec.nodes entry names directly (for error paths: NodeSpec.at).
NODE_OBJECT_PATHS = MappingProxyType({
    "name": "metadata.name", "os": "metadata.labels", "windowsBuild": f"metadata.labels[{BUILD_LABEL}]",
    "podCIDR": "spec.podCIDR", "maxPods": "status.allocatable.pods", "subnet": "status.addresses",
    "labels": "metadata.labels", "annotations": "metadata.annotations", "taints": "spec.taints",
})
PROTOCOLS = ("TCP", "UDP", "SCTP")

# Kinds kept whole for the engines that read them (Services, policies, workloads, Calico objects; the
# ServiceAccounts whose labels Calico selectors read; the RuntimeClasses whose scheduling pods take).
KEPT_KINDS = frozenset({
    "Service", "EndpointSlice", "Endpoints", "NetworkPolicy", "GlobalNetworkPolicy", "Tier",
    "IPPool", "IPAMConfiguration", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
    "ConfigMap",  # plugin configs live in them (cnimodel.discover)
    "ServiceAccount", "RuntimeClass",
})


# Kinds without a namespace (the rest default to ``default`` when metadata.namespace is left out).
CLUSTER_SCOPED = frozenset({
    "Node", "Namespace", "GlobalNetworkPolicy", "GlobalNetworkSet", "HostEndpoint", "Tier", "IPPool",
    "IPAMConfiguration", "IPAMBlock", "BlockAffinity", "FelixConfiguration", "BGPConfiguration", "BGPPeer",
    "ClusterInformation", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "RuntimeClass", "ClusterRole",
    "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "StorageClass", "PersistentVolume",
    "CSIDriver", "IngressClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "APIService", "PodSecurityPolicy",
})
DEFAULT_SERVICE_ACCOUNT = "default"  # what the ServiceAccount admission plugin sets when the pod names none


def namespace_of(meta: Fields, problems: Problems) -> str:
    """metadata.namespace of a namespaced object; an empty one is the request's namespace to kubectl and the API
    server (``default`` here), said in a warning."""
    ns = meta.str("namespace", default="default")
    if ns == "":
        problems.warn(meta.origin.at("namespace"), "is empty: kubectl puts the object in the current namespace; "
                      "cnimodel uses default", "write the namespace, or leave the field out")
        return "default"
    return ns if isinstance(ns, str) else "default"


def parse_namespace(doc: dict[str, Any], origin: Origin, problems: Problems) -> Namespace | None:
    meta = Fields(doc, origin, problems).sub("metadata")
    name = meta.str("name")
    return Namespace(name, meta.str_map("labels"), origin) if name else None


_PLACEMENT_KEYS = frozenset(PLACEMENT_KEYS)
_PORTS: dict[tuple[int, str, str | None, int | None], ContainerPort] = {}  # pods share a few: one value each


def parse_pod(doc: dict[str, Any], origin: Origin, problems: Problems) -> Pod | None:
    """A v1 Pod. Well-formed pods take a fast path; anything unusual goes through the checked reader,
    which reports each problem with its field path."""
    spec, meta = doc.get("spec"), doc.get("metadata")
    placement = None
    if isinstance(spec, dict) and not _PLACEMENT_KEYS.isdisjoint(spec):  # (most pods: no origin built)
        placement = _placement(spec, origin, problems)
    owner = None
    if isinstance(meta, dict) and "ownerReferences" in meta:
        ns = meta.get("namespace", "default")
        owner = controller_ref(meta, ns if isinstance(ns, str) else "default")
    fast = _pod_fast(doc, origin, placement, owner)
    if fast is not None:
        return fast
    pod = _pod_checked(doc, origin, problems)
    return pod if pod is None or (placement is None and owner is None) else replace(pod, placement=placement,
                                                                                     owner=owner)


_PLACEMENTS: dict[str, Placement] = {}


def _placement(spec: dict[str, Any], origin: Origin, problems: Problems) -> Placement | None:
    """parse_placement, once per distinct nodeSelector/affinity/tolerations: a dump's pods mostly share them
    (every pod carries the not-ready/unreachable tolerations the DefaultTolerationSeconds admission adds)."""
    key = repr([spec.get(k) for k in PLACEMENT_KEYS])
    hit = _PLACEMENTS.get(key)
    if hit is not None:
        return hit
    before = len(problems.items)
    placement = parse_placement(spec, origin.at("spec"), problems)
    if placement is not None and len(problems.items) == before:  # a faulty one is reported each time
        if len(_PLACEMENTS) > 10_000:
            _PLACEMENTS.clear()
        _PLACEMENTS[key] = placement
    return placement


def controller_ref(meta: dict[str, Any], namespace: str) -> WorkloadRef | None:
    """The ownerReference marked ``controller: true`` (the object's managing controller), if any."""
    refs = meta.get("ownerReferences")
    for r in refs if isinstance(refs, list) else ():
        if isinstance(r, dict) and r.get("controller") is True and isinstance(r.get("kind"), str) \
                and isinstance(r.get("name"), str):
            return WorkloadRef(r["kind"], namespace, r["name"])
    return None


def _pod_fast(doc: dict[str, Any], origin: Origin, placement: Placement | None = None,
              owner: WorkloadRef | None = None) -> Pod | None:
    try:
        meta = doc["metadata"]
        spec = doc.get("spec") or {}
        name = meta["name"]
        namespace = meta.get("namespace", "default")
        if namespace == "":
            return None  # the checked reader warns and uses default
        labels = meta.get("labels") or {}
        node = spec.get("nodeName")
        host_network = spec.get("hostNetwork", False)
        # serviceAccountName wins over its deprecated alias serviceAccount (the v1 → internal conversion)
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
        runtime_class = spec.get("runtimeClassName")
        if not (type(name) is str and type(namespace) is str and type(labels) is dict
                and (node is None or type(node) is str) and type(host_network) is bool and type(account) is str
                and (runtime_class is None or type(runtime_class) is str)):
            return None
        if not all(type(k) is str and type(v) is str for k, v in labels.items()):
            return None
        ports: list[ContainerPort] = []
        images: list[str] = []
        for c in spec.get("containers") or ():
            image = c.get("image")
            if type(image) is str:
                images.append(image)
            for p in c.get("ports") or ():
                number = p["containerPort"]
                proto = p.get("protocol", "TCP")
                pname = p.get("name")
                host_port = p.get("hostPort")
                if not (type(number) is int and (pname is None or type(pname) is str)
                        and (host_port is None or type(host_port) is int)):
                    return None
                ports.append(_port(number, proto, pname, host_port))
        ip = None
        status = doc.get("status")
        if status and status.get("podIP") is not None:
            # from the packed address: 10x cheaper than IPv4Address(text) (150,000 pods); inet_pton takes the
            # dotted quad IPv4Address takes (four decimal octets, no leading zeros); anything else is an
            # OSError or TypeError here and the checked reader says what is wrong
            ip = IPv4Address(int.from_bytes(_pton(_AF4, status["podIP"]), "big"))
    except (KeyError, TypeError, AttributeError, ValueError, OSError, _Unusual):
        return None
    return _read_pod(namespace, name, node, ip, host_network, labels, ports, images, origin, owner, placement, account,
                     runtime_class)


def _read_pod(namespace: str, name: str, node: str | None, ip: IPv4Address | None, host_network: bool,
              labels: dict[str, str], ports: list[ContainerPort], images: list[str], origin: Origin,
              owner: WorkloadRef | None, placement: Placement | None, account: str, runtime_class: str | None) -> Pod:
    """The Pod the fast readers read (bulk.frozen, inline: a plan holds pods by the 100,000), with Pod.key's
    value set now: its cached_property takes a lock on first use."""
    pod = _new(Pod)
    pod.__dict__.update(namespace=namespace, name=name, node=node, ip=ip, host_network=host_network,
                        labels=MappingProxyType(labels), ports=tuple(ports), images=tuple(images), origin=origin,
                        owner=owner, placement=placement, service_account=account,
                        runtime_class=runtime_class or None, not_running=None, key=f"{namespace}/{name}")
    return pod


class _Unusual(Exception):
    """A value the fast readers leave to the checked one (which says what is wrong with it)."""


def _port(number: int, proto: Any, name: str | None, host_port: int | None) -> ContainerPort:
    """The shared ContainerPort for these values; _Unusual (or KeyError) where one is out of range."""
    if not (0 < number < 65536 and proto in PROTOCOLS and (host_port is None or 0 < host_port < 65536)):
        raise _Unusual
    key = (number, proto, name, host_port)
    port = _PORTS.get(key)
    if port is None:
        if len(_PORTS) > 10_000:
            _PORTS.clear()
        port = _PORTS[key] = ContainerPort(number, proto, name, host_port)
    return port


def pod_from_record(rec: PodRecord, origin: Origin, problems: Problems) -> Pod | None:
    """A pod from a kubectl dump's typed record (plan/fastjson.py: msgspec has checked the field types); None
    when a value needs the checked reader (``parse_pod`` of ``fastjson.as_dict(rec)`` then reads it)."""
    meta, spec, status = rec.metadata, rec.spec or _NO_SPEC, rec.status
    if meta is None:
        return None
    namespace = meta.namespace
    if namespace is None:
        namespace = "default"
    elif namespace == "":
        return None  # the checked reader warns and uses default
    ports: list[ContainerPort] = []
    images: list[str] = []
    try:
        for c in spec.containers or ():
            if type(c.image) is str:
                images.append(c.image)
            for p in c.ports or ():
                key = (p.containerPort, "TCP" if p.protocol is None else p.protocol, p.name, p.hostPort)
                ports.append(_PORTS.get(key) or _port(*key))  # (the shared ones hold checked values only)
        ip = None
        if status is not None and status.podIP is not None:
            ip = IPv4Address(int.from_bytes(_pton(_AF4, status.podIP), "big"))  # (as in _pod_fast)
    except (_Unusual, OSError):
        return None
    placement = owner = None  # (after the checks above: a placement's problems are reported once)
    if spec.nodeSelector is not None or spec.affinity is not None or spec.tolerations is not None:
        given = {"nodeSelector": spec.nodeSelector, "affinity": spec.affinity, "tolerations": spec.tolerations}
        placement = _placement({k: v for k, v in given.items() if v is not None}, origin, problems)
    if meta.ownerReferences is not None:
        owner = controller_ref({"ownerReferences": meta.ownerReferences}, namespace)
    return _read_pod(namespace, meta.name, spec.nodeName, ip, spec.hostNetwork, meta.labels or {}, ports, images,
                     origin, owner, placement,
                     spec.serviceAccountName or spec.serviceAccount or DEFAULT_SERVICE_ACCOUNT, spec.runtimeClassName)


_NO_SPEC = RecordSpec()
_new = object.__new__


def _pod_checked(doc: dict[str, Any], origin: Origin, problems: Problems) -> Pod | None:
    f = Fields(doc, origin, problems)
    meta = f.sub("metadata")
    name = meta.str("name")
    namespace = namespace_of(meta, problems)
    spec = f.sub("spec")
    ports: list[ContainerPort] = []
    images: list[str] = []
    for ci, c in enumerate(spec.list("containers")):
        cf = Fields(c, None, problems, spec, f"containers[{ci}]")
        if isinstance(img := cf.raw("image"), str):
            images.append(img)
        for pi, p in enumerate(cf.list("ports")):
            pf = Fields(p, None, problems, cf, f"ports[{pi}]")
            number = pf.int("containerPort", lo=1, hi=65535)
            proto = pf.str("protocol", default="TCP", choices=PROTOCOLS)
            host_port = pf.int("hostPort", default=None, lo=1, hi=65535)
            if number is not None:
                ports.append(ContainerPort(number, proto or "TCP", pf.str("name", default=None), host_port))
    status = f.sub("status")
    ip = status.ip("podIP", required=False)
    account = spec.str("serviceAccountName", default=None) or spec.str("serviceAccount", default=None)
    runtime_class = spec.str("runtimeClassName", default=None)
    if name is None:
        return None
    return Pod(namespace=namespace, name=name, node=spec.str("nodeName", default=None), ip=ip,
               host_network=spec.bool("hostNetwork"), labels=meta.str_map("labels"), ports=tuple(ports),
               images=tuple(images), origin=origin, service_account=account or DEFAULT_SERVICE_ACCOUNT,
               runtime_class=runtime_class or None)


def parse_node_object(doc: dict[str, Any], origin: Origin, problems: Problems) -> NodeSpec | None:
    """A v1 Node (from ``kubectl get nodes -o yaml``) as a planned node.

    The OS is the ``kubernetes.io/os`` label, else ``status.nodeInfo.operatingSystem`` (both set by the kubelet);
    the Windows build the ``node.kubernetes.io/windows-build`` label (``10.0.20348``), else the third part of
    ``status.nodeInfo.kernelVersion``, which a Windows kubelet reports as major.minor.build.UBR
    (``10.0.20348.2227``); maxPods ``status.allocatable.pods``, else ``status.capacity.pods``; the pod range
    ``spec.podCIDR``, or the IPv4 one of ``spec.podCIDRs`` on a dual-stack node."""
    f = Fields(doc, origin, problems)
    meta = f.sub("metadata")
    name = meta.str("name")
    labels = meta.str_map("labels")
    status = f.sub("status")
    info = status.sub("nodeInfo")
    paths = dict(NODE_OBJECT_PATHS)
    os_ = next((labels[k] for k in OS_LABELS if k in labels), None)
    if os_ is None and isinstance(info.raw("operatingSystem"), str):
        os_, paths["os"] = info.raw("operatingSystem"), "status.nodeInfo.operatingSystem"
    os_ = os_ or "linux"
    if os_ not in ("linux", "windows"):
        problems.error(origin.at(paths["os"]), f"unknown OS {os_!r}", "set kubernetes.io/os to linux or windows")
        os_ = "linux"
    spec = f.sub("spec")
    pod_cidr = _node_pod_cidr(spec, paths, problems)
    ip = None
    ip_path = "status.addresses"
    for i, a in enumerate(status.list("addresses")):
        af = Fields(a, status.origin.at(f"addresses[{i}]"), problems)
        if af.raw("type") == "InternalIP" and ":" not in str(af.raw("address", "")):
            ip = af.ip("address")
            ip_path = f"status.addresses[{i}].address"
            break
    if ip is None:
        problems.error(status.origin.at("addresses"), "the node has no IPv4 InternalIP address",
                       "add `- {type: InternalIP, address: a.b.c.d}` under status.addresses")
    build = None
    if BUILD_LABEL in labels:
        # The label holds major.minor.build (10.0.20348); the build number is the last part.
        last = labels[BUILD_LABEL].split(".")[-1]
        if last.isdigit():
            build = int(last)
        else:
            problems.error(meta.origin.at(f"labels[{BUILD_LABEL}]"), f"unreadable build {labels[BUILD_LABEL]!r}",
                           "write it as 10.0.<build>, e.g. 10.0.20348")
    elif os_ == "windows" and isinstance(kernel := info.raw("kernelVersion"), str):
        parts = kernel.split(".")
        if len(parts) >= 3 and parts[2].isdigit():
            build, paths["windowsBuild"] = int(parts[2]), "status.nodeInfo.kernelVersion"
    max_pods = None
    for block in ("allocatable", "capacity"):
        max_pods = status.sub(block).int("pods", default=None, lo=1)
        if max_pods is not None:
            paths["maxPods"] = f"status.{block}.pods"
            break
    taints = tuple(freeze(t) for t in spec.list("taints") if isinstance(t, dict))
    if name is None or ip is None:
        return None
    paths["ip"] = ip_path
    return NodeSpec(name=name, os=os_, ip=ip, subnet="", pod_cidr=pod_cidr, max_pods=max_pods or 110,
                    max_pods_given=max_pods is not None,
                    windows_build=build, labels=labels, annotations=meta.str_map("annotations"),
                    taints=taints, origin=origin, paths=MappingProxyType(paths))


def _node_pod_cidr(spec: Fields, paths: dict[str, str], problems: Problems) -> IPv4Network | None:
    """``spec.podCIDR``; on a dual-stack node whose podCIDR is the IPv6 range, the IPv4 entry of ``podCIDRs``
    (the node's other ranges are IPv6, which cnimodel does not model)."""
    first = spec.raw("podCIDR")
    if isinstance(first, str) and ":" in first:
        for i, c in enumerate(spec.list("podCIDRs")):
            if isinstance(c, str) and ":" not in c:
                paths["podCIDR"] = f"spec.podCIDRs[{i}]"
                return parse_cidr(c, spec.origin.at(f"podCIDRs[{i}]"), problems)
    return spec.cidr("podCIDR", required=False)


def parse_kept(doc: dict[str, Any], origin: Origin, problems: Problems) -> KubeObject | None:
    f = Fields(doc, origin, problems)
    meta = f.sub("metadata")
    name = meta.str("name")
    if name is None:
        return None
    kind = str(doc.get("kind"))
    metadata = doc.get("metadata")
    if type(metadata) is dict and "managedFields" in metadata:  # the API server's record of who wrote which
        doc = {**doc, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}  # field: unread
    shape = SHAPES.get(kind)
    try:
        body = frozen_fitting(doc, shape)
    except Misfit:
        check_shape(thaw(doc), shape, origin, problems)  # (the walk froze part of it in place)
        return None  # a field of the wrong type (reported with its path): the engines never see the object
    namespace = None if kind in CLUSTER_SCOPED else namespace_of(meta, problems)
    return KubeObject(kind, str(doc.get("apiVersion", "")), namespace, name, body, origin)


def kept_record(item: SliceItem, origin: Origin) -> KubeObject:
    """A kept object from its typed record (which fits the kind's shape: nothing to report): ``parse_kept``'s
    object, its body made when first read."""
    rec = item.record
    meta = rec.metadata
    obj = object.__new__(RecordObject)
    obj.__dict__.update(kind=rec.__struct_config__.tag, origin=origin, record=rec,
                        api_version="" if rec.apiVersion is UNSET else str(rec.apiVersion),
                        namespace=meta.namespace or "default", name=meta.name,
                        _make=lambda: _kept_body(item.raw, origin))
    return obj


def _kept_body(raw: Any, origin: Origin) -> MappingProxyType[str, Any]:
    problems = Problems()
    obj = parse_kept(decode_whole(raw), origin, problems)
    assert obj is not None and not problems.items, "a record that fits its shape reads whole without a problem"
    return obj.body
