"""The typed plan: what the user gave, checked and normalised, as immutable values.

Raw plugin settings stay as the user wrote them (``NetworkSpec.config``) because their field names
are the plugin's own; the plugin reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import IPv4Address, IPv4Network
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from cnimodel.plan.errors import Origin, Problem

if TYPE_CHECKING:
    from cnimodel.plan.schedule import Placement
    from cnimodel.plan.workloads import Workload

OS = Literal["linux", "windows"]
EMPTY: MappingProxyType[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class UnderlaySubnet:
    """An L2 segment the nodes sit on (a VNet subnet, a VLAN): its gateway is the underlay router."""

    name: str
    cidr: IPv4Network
    gateway: IPv4Address
    mtu: int = 1500


@dataclass(frozen=True)
class StaticRoute:
    """A route the plan puts in the underlay's table itself (a cloud route table's user-defined route, a router's
    static route): ``prefix`` via ``next_hop``, an address on one of the underlay's subnets."""

    prefix: IPv4Network
    next_hop: IPv4Address
    name: str | None = None


@dataclass(frozen=True)
class Underlay:
    """The network under the nodes. ``routes`` says where pod routes live: on the hosts or in the cloud;
    ``static_routes`` are routes the plan adds to the underlay's table."""

    subnets: tuple[UnderlaySubnet, ...]
    routes: Literal["host", "cloud"] = "host"
    name: str = "underlay"
    static_routes: tuple[StaticRoute, ...] = ()

    def subnet(self, name: str) -> UnderlaySubnet:
        for s in self.subnets:
            if s.name == name:
                return s
        raise KeyError(name)


@dataclass(frozen=True)
class NetworkSpec:
    """The cluster's network plugin and its settings under their real field names.

    ``config`` is the plugin's own config (flannel: net-conf.json); ``cni`` is a CNI network config
    (conf or conflist) when one is given, e.g. the Windows delegate conf with its HNS policies.
    """

    plugin: str
    backend: str | None = None
    config: MappingProxyType[str, Any] = field(default_factory=lambda: EMPTY)
    cni: MappingProxyType[str, Any] | None = None
    subnet_manager: Literal["kube", "etcd"] = "kube"
    origin: Origin = Origin("<plan>")
    # flannel: the net-conf.json flanneld reads on Windows nodes when it is not ``config`` (Windows
    # DaemonSets mount their own ConfigMap); None means Windows nodes read ``config`` too.
    windows_config: MappingProxyType[str, Any] | None = None
    # The CNI config Windows nodes use when it is not ``cni`` (the Windows flannel ConfigMap's delegate conf).
    windows_cni: MappingProxyType[str, Any] | None = None
    # The plugin daemon's data-plane flags as its DaemonSet passes them (flag name without dashes → value:
    # ``{"ip-masq": True, "iface": "eth1"}``); None when no DaemonSet in the plan runs the daemon.
    args: MappingProxyType[str, Any] | None = None
    windows_args: MappingProxyType[str, Any] | None = None
    # Where each setting came from, for people: (setting, place), e.g. ("config", "net-conf.json from
    # ConfigMap kube-flannel/kube-flannel-cfg (kube-flannel.yml document 5)").
    sources: tuple[tuple[str, str], ...] = ()
    # configFile-style fields that name a whole manifest: resolved to a ConfigMap key by cnimodel.discover.
    refs: MappingProxyType[str, ConfigRef] = field(default_factory=lambda: EMPTY)
    discovered: bool = False  # cnimodel.discover has read the manifests' settings into this spec


@dataclass(frozen=True)
class ConfigRef:
    """A config field (``configFile: kube-flannel.yml``) naming a manifest instead of a config file: the
    ConfigMaps in it, and the ``#[namespace/]name/key`` or ``#key`` the user added to pick one."""

    file: str
    fragment: str | None
    configmaps: tuple[KubeObject, ...]
    origin: Origin


@dataclass(frozen=True)
class PolicySpec:
    plugin: str | None = None
    config: MappingProxyType[str, Any] = field(default_factory=lambda: EMPTY)
    origin: Origin = Origin("<plan>")
    sources: tuple[tuple[str, str], ...] = ()  # as NetworkSpec.sources


@dataclass(frozen=True)
class NodeSpec:
    """One node as planned. ``pod_cidr`` is None until allocation when the plan leaves it out."""

    name: str
    os: OS
    ip: IPv4Address
    subnet: str
    pod_cidr: IPv4Network | None = None
    max_pods: int = 110
    max_pods_given: bool = False  # False: kubelet's default 110 applies unless the plugin's own default does
    windows_build: int | None = None
    interface: str | None = None
    labels: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY)
    annotations: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY)
    taints: tuple[MappingProxyType[str, Any], ...] = ()
    origin: Origin = Origin("<plan>")
    paths: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY)  # field → path, for Node objects

    def at(self, name: str) -> Origin:
        """Where one of the node's fields was written: ``podCIDR`` of a ``spec.nodes`` entry is at
        ``spec.nodes[3].podCIDR``, of a Node object at ``spec.podCIDR``."""
        return self.origin.at(self.paths.get(name, name))

    @property
    def ext_interface(self) -> str:
        """The uplink name as the OS shows it: ``eth0`` on Linux, the adapter name on Windows."""
        if self.interface:
            return self.interface
        return "eth0" if self.os == "linux" else "Ethernet"


@dataclass(frozen=True)
class ContainerPort:
    port: int
    protocol: str = "TCP"
    name: str | None = None
    host_port: int | None = None


@dataclass(frozen=True)
class WorkloadRef:
    """The controller that owns a pod (Deployment, StatefulSet …); prints as ``ns/name[Kind]``."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}[{self.kind}]"


@dataclass(frozen=True)
class NotRunning:
    """Why a pod never runs: a stable ``code`` (the workload finding's — ``unschedulable``, ``max-pods``,
    ``pinned-node-mismatch``, ``image-os-mismatch``, ``windows-build-newer``/``-older`` — or ``pod-add-failed``
    when the network plugin fails the pod's CNI ADD), the sentence that says why, and whether the pod's sandbox
    exists: the kubelet creates the sandbox (and the CNI ADD gives it its address) before it pulls and starts
    the containers, so a pod whose images cannot run still holds an address, while an unscheduled, rejected or
    failed-ADD pod holds none. ``cnimodel.ipam.Allocation.not_running`` is the whole answer engines read."""

    code: str
    reason: str
    sandbox: bool = False

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Pod:
    """A pod. ``owner`` is its top-level workload (None for a bare pod); ``placement`` its scheduling
    constraints (nodeSelector, node affinity, tolerations), None when it has none. ``service_account`` is
    ``spec.serviceAccountName`` (the deprecated ``spec.serviceAccount`` when that is empty; ``default``, as
    the ServiceAccount admission sets it, when neither is given); ``runtime_class`` is
    ``spec.runtimeClassName``. ``not_running`` says why the pod never runs when the plan alone tells
    (``NotRunning``); None for a pod that runs as far as the plan knows. A pod that fits no node stays in the
    plan with ``node`` None and ``not_running`` saying why, as the API server keeps it Pending."""

    namespace: str
    name: str
    node: str | None
    ip: IPv4Address | None = None
    host_network: bool = False
    labels: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY)
    ports: tuple[ContainerPort, ...] = ()
    images: tuple[str, ...] = ()
    origin: Origin = Origin("<plan>")
    owner: WorkloadRef | None = None
    placement: Placement | None = None
    service_account: str = "default"
    runtime_class: str | None = None
    not_running: NotRunning | None = None

    @cached_property  # asked millions of times at scale; copies via bulk.frozen(**__dict__) must keep the name
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def workload(self) -> str:
        """``ns/name[Kind]`` of the owning workload, or ``ns/name[Pod]`` for a bare pod."""
        return str(self.owner) if self.owner else f"{self.namespace}/{self.name}[Pod]"


@dataclass(frozen=True)
class KubeObject:
    """A Kubernetes object kept whole for the engines that read it (Services, slices, policies)."""

    kind: str
    api_version: str
    namespace: str | None
    name: str
    body: MappingProxyType[str, Any]
    origin: Origin
    record: ClassVar[Any] = None  # a dump's typed record of the object, where one was read (RecordObject)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


class RecordObject(KubeObject):
    """A kept object a dump gave as a typed record that fits its shape (plan/fastjson.py ``SliceItem``): the
    engines that know the record read ``record``; ``body``, the object whole and frozen as every kept object's,
    is made from the object's bytes the first time something asks for it (plan/kube.py ``kept_record``)."""

    @property  # type: ignore[misc]
    def body(self) -> MappingProxyType[str, Any]:  # type: ignore[override]
        made = self.__dict__.get("_body")
        if made is None:
            made = self.__dict__["_body"] = self.__dict__.pop("_make")()
        return made  # type: ignore[no-any-return]

    @body.setter
    def body(self, value: MappingProxyType[str, Any]) -> None:  # (dataclasses.replace sets every field)
        self.__dict__["_body"] = value

    def __eq__(self, other: object) -> bool:  # the object read either way is the same object
        if not isinstance(other, KubeObject):
            return NotImplemented
        return (self.kind, self.api_version, self.namespace, self.name, self.body, self.origin) == (
            other.kind, other.api_version, other.namespace, other.name, other.body, other.origin)

    __hash__ = KubeObject.__hash__


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY)
    origin: Origin = Origin("<plan>")


@dataclass(frozen=True)
class Inferred:
    """A plan value cnimodel.infer read from a cluster's dump: the ClusterPlan field, the value as written there,
    and where it came from; ``guessed`` when nothing in the dump states it (a range covering what was seen)."""

    field: str
    value: str
    source: str
    guessed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "source": self.source, "guessed": self.guessed}


@dataclass(frozen=True)
class Plan:
    """A whole cluster plan. ``has_cluster`` is False for manifests without a ClusterPlan document."""

    name: str
    cluster_cidr: IPv4Network | None
    service_cidr: IPv4Network | None
    node_cidr_mask_size: int
    dns_service_ip: IPv4Address | None
    network: NetworkSpec | None
    policy: PolicySpec
    underlay: Underlay
    nodes: tuple[NodeSpec, ...]
    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    objects: tuple[KubeObject, ...] = ()
    workloads: tuple[Workload, ...] = ()
    warnings: tuple[Problem, ...] = ()
    sources: tuple[str, ...] = ()
    origin: Origin = Origin("<plan>")
    kube_proxy: MappingProxyType[str, Any] = field(default_factory=lambda: EMPTY)
    """``spec.kubeProxy`` as written (read-only); cnimodel.services reads and checks it."""
    # The plan holds Node objects (a kubectl dump) and no ClusterPlan, or one that leaves cluster-wide values
    # out: cnimodel.infer completes it (``stated``: the ClusterPlan spec fields given) and records each value
    # it read or guessed in ``inferred``.
    from_dump: bool = False
    stated: frozenset[str] = frozenset()
    inferred: tuple[Inferred, ...] = ()
    _node_index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_cluster(self) -> bool:
        return self.network is not None

    def node(self, name: str) -> NodeSpec:
        """The node called ``name`` (KeyError when there is none)."""
        if not self._node_index:
            self._node_index.update({n.name: i for i, n in enumerate(self.nodes)})
        return self.nodes[self._node_index[name]]

    def objects_of(self, kind: str) -> tuple[KubeObject, ...]:
        return tuple(o for o in self.objects if o.kind == kind)
