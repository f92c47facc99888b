"""flannel: net-conf.json, subnet leases, and the host-gw backend on Linux (cni0) and Windows (win-bridge);
the vxlan backend dispatches per node OS to flannel_vxlan (flannel.<VNI>) and win_overlay (HNS Overlay).

With ``--kube-subnet-mgr`` (``subnetManager: kube``, the default and what kube-flannel.yml runs) the
lease is the Node's podCIDR from kube-controller-manager and SubnetLen/Min/Max are ignored. With the
etcd subnet manager flannel picks a lease at random among the first 100 free subnets from SubnetMin;
the model takes the lowest free one so that plans are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from cnimodel.plugins import _hns, _linux, flannel_vxlan, win_bridge, win_overlay

from cnimodel.cluster import Cluster
from cnimodel.dataplane import NodeFacts, Vtep
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.ipam.engine import kube_node_cidrs
from cnimodel.plan import NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import Fields, thaw
from cnimodel.plugin import NetworkPlugin

BACKENDS = ("host-gw", "vxlan")


@dataclass(frozen=True)
class NetConf:
    """flannel's net-conf.json, with flannel's defaults filled in."""

    network: IPv4Network
    backend: str
    subnet_len: int
    subnet_min: IPv4Network
    subnet_max: IPv4Network
    vni: int | None = None
    port: int | None = None
    direct_routing: bool = False
    mac_prefix: str = "0E-2A"
    name: str | None = None
    gbp: bool = False


def read_net_conf(plan: Plan, problems: Problems, config: object = None, at: Origin | None = None) -> NetConf | None:
    """net-conf.json (``config``, default the plan's ``network.config``) with flannel's defaults."""
    assert plan.network is not None
    f = Fields(thaw(plan.network.config if config is None else config), at or plan.network.origin.at("config"),
               problems)
    network = f.cidr("Network", required=False) or plan.cluster_cidr
    if network is None:
        return None
    backend_f = f.sub("Backend")
    btype = backend_f.str("Type", default=None)
    plan_backend = plan.network.backend
    if btype and plan_backend and btype != plan_backend:
        problems.error(backend_f.origin.at("Type"), f"Backend.Type {btype!r} disagrees with network.backend "
                       f"{plan_backend!r}", "set one of them, or make them equal")
    backend = plan_backend or btype
    if backend is None:
        problems.error(plan.network.origin.at("backend"), "no backend: flannel's code default when Backend is "
                       "omitted is udp, which cnimodel does not model", "set `backend: host-gw` or `vxlan`")
        return None
    if backend not in BACKENDS:
        problems.error(plan.network.origin.at("backend"), f"flannel backend {backend!r} is not modelled",
                       f"use one of: {', '.join(BACKENDS)}")
        return None
    subnet_len = _subnet_len(f, network, problems)
    size = 1 << (32 - subnet_len)
    base = int(network.network_address)
    smin = f.cidr("SubnetMin", required=False)
    smax = f.cidr("SubnetMax", required=False)
    # SubnetMin/Max are given as addresses by flannel users (10.244.1.0); accept the /len form too.
    subnet_min = IPv4Network((int(smin.network_address) if smin else base + size, subnet_len))
    subnet_max = IPv4Network((int(smax.network_address) if smax else base + network.num_addresses - size,
                              subnet_len))
    for label, value in (("SubnetMin", subnet_min), ("SubnetMax", subnet_max)):
        if not value.subnet_of(network):
            problems.error(f.origin.at(label), f"{value} is outside Network {network}",
                           "pick a subnet inside Network")
    return NetConf(network, backend, subnet_len, subnet_min, subnet_max,
                   vni=backend_f.int("VNI", default=None, lo=0, hi=16777215),
                   port=backend_f.int("Port", default=None, lo=0, hi=65535),
                   direct_routing=backend_f.bool("DirectRouting"),
                   mac_prefix=backend_f.str("MacPrefix", default="0E-2A"),
                   name=backend_f.str("Name", default=None), gbp=backend_f.bool("GBP"))


def _subnet_len(f: Fields, network: IPv4Network, problems: Problems) -> int:
    given = f.int("SubnetLen", default=None, lo=1, hi=32)
    if given is None:
        if network.prefixlen > 28:
            problems.error(f.origin.at("Network"), f"{network} is too small for flannel (longer than /28)",
                           "use a Network of /28 or shorter")
            return 30
        return 24 if network.prefixlen <= 22 else network.prefixlen + 2
    if given > 30:
        problems.error(f.origin.at("SubnetLen"), "SubnetLen must be less than /31", "use /30 or shorter")
    elif given < network.prefixlen + 2:
        problems.error(f.origin.at("SubnetLen"), f"Network {network} must hold at least four /{given} subnets",
                       f"use SubnetLen /{network.prefixlen + 2} or longer")
    return given


def etcd_leases(plan: Plan, conf: NetConf, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
    """flannel's etcd subnet manager, made deterministic: each node in plan order takes the lowest free
    lease from SubnetMin to SubnetMax (flannel picks at random among the first 100 free)."""
    size = 1 << (32 - conf.subnet_len)
    out: dict[str, tuple[IPv4Network, str]] = {}
    used: set[int] = set()
    for node in plan.nodes:
        if node.pod_cidr is not None:
            out[node.name] = (node.pod_cidr, "plan")
            used.add(int(node.pod_cidr.network_address))
    candidate = int(conf.subnet_min.network_address)
    last = int(conf.subnet_max.network_address)
    for node in plan.nodes:
        if node.pod_cidr is not None:
            continue
        while candidate <= last and candidate in used:
            candidate += size
        if candidate > last:
            problems.error(node.origin, f"failed to acquire subnet for node {node.name!r}: out of subnets "
                           f"({conf.subnet_min}..{conf.subnet_max})",
                           "widen Network, shorten SubnetLen, or move SubnetMin/SubnetMax")
            continue
        used.add(candidate)
        out[node.name] = (IPv4Network((candidate, conf.subnet_len)), "flannel-etcd")
    return out


class FlannelPlugin(NetworkPlugin):
    """``plugin: flannel``: Linux nodes run flanneld with the bridge CNI (cni0); Windows nodes run
    flanneld for Windows with win-bridge (host-gw) or win-overlay (vxlan)."""

    name = "flannel"

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        self.problems = problems
        conf = read_net_conf(plan, problems)
        self.conf = conf
        assert plan.network is not None
        self.origin: Origin = plan.network.origin
        self.win_confs: dict[str, _hns.WindowsConf] = {}
        given = win_bridge.delegate_conf(plan.network.cni, "win-bridge")
        self.given_win = given
        if conf is not None and conf.backend == "host-gw" and any(n.os == "windows" for n in plan.nodes):
            problems.warn(self.origin, win_bridge.BRIDGE_EP_NOTE.format(ep=f"{conf.name or 'cbr0'}_ep"),
                          "nothing to change: the model gives the first pod .3, as the retry does")
        self.vxlan = conf is not None and conf.backend == "vxlan"
        self._vteps: dict[str, Vtep] = {}
        if self.vxlan:
            self._init_vxlan(plan, problems)

    def _init_vxlan(self, plan: Plan, problems: Problems) -> None:
        """Windows nodes read their own net-conf.json when the plan gives ``windowsConfig``."""
        assert self.conf is not None and plan.network is not None
        wconf: NetConf | None = self.conf
        if plan.network.windows_config is not None:
            at = self.origin.at("windowsConfig")
            wconf = read_net_conf(plan, problems, {**thaw(plan.network.config), **thaw(plan.network.windows_config)},
                                  at)
            if wconf is not None and wconf.network != self.conf.network:
                problems.error(at.at("Network"), f"{wconf.network} differs from config.Network {self.conf.network}",
                               "give every node the same flannel Network")
            if wconf is not None and wconf.backend != "vxlan":
                problems.error(at.at("Backend.Type"), f"Windows nodes run {wconf.backend!r}, Linux nodes vxlan: "
                               "flanneld ignores leases of another backend type", "use vxlan on every node")
        w = wconf or self.conf
        self.win_settings = win_overlay.OverlaySettings(w.vni, w.port, w.name, w.mac_prefix, w.direct_routing, w.gbp)
        self.backend_data = flannel_vxlan.read_backend_data(plan, problems)
        self.given_win = win_bridge.delegate_conf(plan.network.cni, "win-overlay")
        for node in plan.nodes:  # every node's VTEP up front: cheap, and the validator asks for all of them
            self.vtep(node.name)

    def vtep(self, name: str) -> Vtep | None:
        """Node ``name``'s VXLAN endpoint (effective VNI, port, MAC, up or refused) without building its facts;
        None on host-gw."""
        if not self.vxlan:
            return None
        v = self._vteps.get(name)
        if v is None:
            assert self.conf is not None
            node = self.plan.node(name)
            data = self.backend_data.get(name)
            if node.os == "windows":
                v = win_overlay.windows_vtep(self.plan, node, self.win_settings, data)
            else:
                v = flannel_vxlan.linux_vtep(self.plan, node, self.conf.vni, self.conf.port,
                                             self.conf.direct_routing, data)
            self._vteps[name] = v
        return v

    def node_cidrs(self, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
        assert self.plan.network is not None and self.conf is not None
        if self.plan.network.subnet_manager == "etcd":
            return etcd_leases(self.plan, self.conf, problems)
        out = kube_node_cidrs(self.plan, problems)
        for name, (cidr, _) in out.items():
            if not cidr.subnet_of(self.conf.network):
                problems.error(self.plan.node(name).origin, f"subnet {str(self.conf.network)!r} specified in "
                               f"the flannel net config doesn't contain {str(cidr)!r} PodCIDR",
                               "make Network contain the cluster CIDR")
        return out

    def win_conf(self, node: NodeSpec) -> _hns.WindowsConf:
        c = self.win_confs.get(node.name)
        if c is None and self.vxlan:
            name = self.win_settings.network_name
            raw = self.given_win or win_overlay.default_conf(self.plan, name, self.win_settings.mac_prefix)
            # The meta-plugin sets the delegate's ipMasq from FLANNEL_IPMASQ (the Windows scripts run flanneld
            # with --ip-masq=1) and replaces ipam with host-local over the lease.
            raw = {**raw, "ipMasq": True, "ipMasqNetwork": str(self.conf.network) if self.conf else "", "ipam": {}}
            origin = self.origin.at("cni") if self.given_win is not None else self.origin
            c = self.win_confs[node.name] = _hns.read_windows_conf(raw, origin, self.problems, name)
        if c is None:
            name = (self.conf.name if self.conf else None) or "cbr0"
            if self.given_win is not None:
                raw, origin = self.given_win, self.origin.at("cni")
            else:
                raw, origin = win_bridge.default_conf(self.plan, node, name), self.origin
            # The flannel meta-plugin hands win-bridge ipMasqNetwork = FLANNEL_NETWORK and overwrites ipam
            # with {"type": "host-local", "subnet": <lease>}.
            raw = {**raw, "ipMasqNetwork": str(self.conf.network) if self.conf else "", "ipam": {}}
            c = self.win_confs[node.name] = _hns.read_windows_conf(raw, origin, self.problems, name)
        return c

    def describe(self, node: NodeSpec) -> str:
        assert self.conf is not None
        v = self.vtep(node.name)
        if v is not None and node.os == "windows":
            return f"flannel vxlan → win-overlay (HNS Overlay {v.dev}, VNI {v.vni}, UDP {v.port})"
        if v is not None:
            return f"flannel vxlan → bridge cni0 + {v.dev} (VNI {v.vni}, UDP {v.port})"
        if node.os == "windows":
            return f"flannel {self.conf.backend} → win-bridge (HNS L2Bridge {self.win_conf(node).name})"
        return f"flannel {self.conf.backend} → bridge cni0 + host-local"

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        if pod_cidr is None:
            return None
        if node.os == "windows" and self.vxlan:
            return win_overlay.overlay_range(pod_cidr)
        if node.os == "windows":
            conf = self.win_conf(node)
            return win_bridge.l2bridge_range(pod_cidr, {}, conf.name, self.origin)
        return host_local_range(pod_cidr)

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        if self.vxlan and node.os == "windows":
            return win_overlay.overlay_facts(cluster, node, self.win_conf(node), self.vtep)
        if self.vxlan:
            assert self.conf is not None
            return flannel_vxlan.linux_facts(cluster, node, self.vtep, self.conf.network)
        if node.os == "windows":
            vnic = win_bridge.mgmt_vnic(node)
            routes, notes = _linux.peer_routes(cluster, node, vnic, "flannel")
            return win_bridge.l2bridge_facts(cluster, node, self.win_conf(node), routes, owner="flannel",
                                             notes=notes)
        _, uplink, table = _linux.uplink(cluster.plan, node)
        devices = [uplink]
        cidr = cluster.allocation.nodes[node.name].pod_cidr
        if cidr is not None:
            bridge, connected = _linux.pod_bridge("cni0", cidr, uplink.mtu, owner="bridge")
            devices.append(bridge)
            table.append(connected)
        routes, notes = _linux.peer_routes(cluster, node, uplink.name, "flannel")
        assert self.conf is not None
        return NodeFacts(node.name, "linux", tuple(devices), tuple(table + routes), notes=notes,
                         nat=_linux.flannel_masq_rules(self.conf.network, cidr))
