"""flannel: net-conf.json, subnet leases, and the host-gw backend on Linux (cni0) and Windows (win-bridge);
the vxlan backend dispatches per node OS to flannel_vxlan (flannel.<VNI>) and win_overlay (HNS Overlay).
Linux pods sit on flannel's bridge CNI (cni0), or, when the plan's CNI config is canal's (the calico plugin),
on their own cali veths (calico_cni).

With ``--kube-subnet-mgr`` (``subnetManager: kube``, the default and what kube-flannel.yml runs) the
lease is the Node's podCIDR from kube-controller-manager and SubnetLen/Min/Max are ignored. With the
etcd subnet manager flannel picks a lease at random among the first 100 free subnets from SubnetMin;
the model takes the lowest free one so that plans are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import AddressValueError, IPv4Address, IPv4Network
from typing import Any

from cnimodel.cluster import Cluster
from cnimodel.dataplane import VXLAN_OVERHEAD, NodeFacts, Vtep
from cnimodel.encapsulation import NONE, VXLAN
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.ipam.engine import kube_node_cidrs
from cnimodel.plan import NetworkSpec, NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import Fields, thaw
from cnimodel.plugin import NetworkPlugin, NodeRoles, kube_proxy
from cnimodel.plugins import (
    _hns,
    _installers,
    _linux,
    _overlay_peers,
    _windows_cni,
    calico_cni,
    flannel_vxlan,
    win_bridge,
    win_overlay,
)
from cnimodel.sources import ConfigKey, Daemon

BACKENDS = ("host-gw", "vxlan")
# flanneld's flags that change the data plane (flannel-io/flannel@cdf76059:main.go:121-130); it also reads each
# from FLANNELD_<FLAG> when the command line leaves it out (main.go:223, flagutil.SetFlagsFromEnv).
DAEMON = Daemon(binaries=("flanneld", "flanneld.exe"), images=("flannel",), env_prefix="FLANNELD",
                flags=("ip-masq", "kube-subnet-mgr", "iface", "iface-regex", "iface-can-reach", "public-ip"),
                bool_flags=frozenset({"ip-masq", "kube-subnet-mgr"}))
MIN_MTU = 68  # the kernel's smallest IPv4 device MTU


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
    mtu: int | None = None  # Backend.MTU (Linux vxlan: the device MTU + 50); None: the uplink's


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
    # flanneld decodes the whole file in either mode (ParseConfig), but checks the lease rules only for
    # its own (etcd) subnet manager (CheckNetworkConfig); with --kube-subnet-mgr they are never used.
    check = plan.network.subnet_manager == "etcd"
    given_len = f.int("SubnetLen", default=0, lo=0)
    smin = _ip4(f, "SubnetMin", problems)
    smax = _ip4(f, "SubnetMax", problems)
    subnet_len, subnet_min, subnet_max = _lease_rules(f, network, given_len, smin, smax, problems, check)
    return NetConf(network, backend, subnet_len, subnet_min, subnet_max,
                   vni=backend_f.int("VNI", default=None, lo=0, hi=16777215),
                   port=backend_f.int("Port", default=None, lo=0, hi=65535),
                   direct_routing=backend_f.bool("DirectRouting"),
                   mac_prefix=backend_f.str("MacPrefix", default="0E-2A"),
                   name=backend_f.str("Name", default=None), gbp=backend_f.bool("GBP"),
                   mtu=backend_f.int(_key(backend_f, "MTU"), default=None, lo=1, hi=65535))


def _key(f: Fields, name: str) -> str:
    """The key Go's encoding/json would match to ``name`` (case-insensitively; the exact spelling first)."""
    if name in f:
        return name
    return next((k for k in f.data if isinstance(k, str) and k.lower() == name.lower()), name)


def _ip4(f: Fields, name: str, problems: Problems) -> int:
    """SubnetMin/SubnetMax as flannel decodes them (ip.IP4: a plain address; 0 when absent or 0.0.0.0)."""
    value = f.raw(name)
    if value is None:
        return 0
    if isinstance(value, str):
        try:
            return int(IPv4Address(value.strip()))
        except (AddressValueError, ValueError):
            pass
    # flanneld exits at startup on anything but an address ("Invalid IP address format"), a CIDR included.
    addr = value.split("/")[0] if isinstance(value, str) else None
    fix = f"write the address alone: {addr}" if addr and addr != value else "write an IPv4 address like 10.244.1.0"
    problems.error(f.origin.at(name), f"{value!r} is not an IPv4 address: flanneld reads {name} as an address "
                   "and fails to start (\"Invalid IP address format\")", fix)
    return 0


def _lease_rules(f: Fields, network: IPv4Network, given_len: int, smin: int, smax: int, problems: Problems,
                 check: bool) -> tuple[int, IPv4Network, IPv4Network]:
    """SubnetLen, SubnetMin and SubnetMax with flannel's defaults and checks (CheckNetworkConfig, in this
    order). ``check`` false (kube subnet manager): defaults only, since flannel never reads them there."""
    subnet_len = given_len
    if given_len > 0:
        if given_len > 30 or given_len < network.prefixlen + 2:
            if check:
                msg, fix = (("SubnetLen must be less than /31", "use /30 or shorter") if given_len > 30 else
                            (f"Network {network} must hold at least four /{given_len} subnets",
                             f"use SubnetLen /{network.prefixlen + 2} or longer"))
                problems.error(f.origin.at("SubnetLen"), msg, fix)
            subnet_len = 0
    elif network.prefixlen > 28 and check:
        problems.error(f.origin.at("Network"), f"{network} is too small for flannel (longer than /28)",
                       "use a Network of /28 or shorter")
    if subnet_len == 0:
        if network.prefixlen > 28:  # too small for leases (refused above for etcd; unused with the kube manager)
            return network.prefixlen, network, network
        subnet_len = 24 if network.prefixlen <= 22 else network.prefixlen + 2
    size = 1 << (32 - subnet_len)
    base = int(network.network_address)
    mask = (0xFFFFFFFF << (32 - subnet_len)) & 0xFFFFFFFF
    out = []
    for label, value, default in (("SubnetMin", smin, base + size),
                                  ("SubnetMax", smax, base + network.num_addresses - size)):
        if value == 0:
            value = default
        elif check and IPv4Address(value) not in network:
            problems.error(f.origin.at(label), f"{IPv4Address(value)} is not in the range of Network {network}",
                           "pick an address inside Network")
            value = default
        elif value & mask != value:
            if check:
                problems.error(f.origin.at(label), f"{label} {IPv4Address(value)} is not on a SubnetLen boundary "
                               f"(/{subnet_len})", f"use {IPv4Address(value & mask)} or "
                               f"{IPv4Address((value & mask) + size)}, or change SubnetLen")
            value = default
        out.append(IPv4Network((value, subnet_len)))
    return subnet_len, out[0], out[1]


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
                           "widen Network, use a longer SubnetLen (smaller subnets, more of them), or move "
                           "SubnetMin/SubnetMax apart")
            continue
        used.add(candidate)
        out[node.name] = (IPv4Network((candidate, conf.subnet_len)), "flannel-etcd")
    return out


class FlannelPlugin(NetworkPlugin):
    """``plugin: flannel``: Linux nodes run flanneld with the bridge CNI (cni0) or canal's calico CNI; Windows
    nodes run flanneld for Windows with win-bridge (host-gw) or win-overlay (vxlan)."""

    name = "flannel"
    # kube-flannel.yml's ConfigMap kube-flannel-cfg (flannel-io/flannel@cdf76059:Documentation/kube-flannel.yml:61-99),
    # canal's canal-config (projectcalico/calico@87c15906f2:manifests/canal.yaml:44-95), the sig-windows-tools
    # kube-flannel-windows-cfg (kubernetes-sigs/sig-windows-tools@03f99247:hostprocess/flannel/flanneld/
    # flannel-overlay.yml:1-52).
    config_keys = (
        ConfigKey("net-conf.json", "config"),
        ConfigKey("cni-conf.json", "cni"),
        ConfigKey("cni_network_config", "cni", installer=_installers.calico_install_cni,
                  installed_by="Calico's install-cni"),
        # its empty values are filled per node as the start script fills them (plugins/_sdn.py fill)
        ConfigKey("cni-conf-containerd.json", "cni", os="windows", installed_by="the sig-windows-tools start script"),
    )
    daemon = DAEMON

    @classmethod
    def settle(cls, network: NetworkSpec, problems: Problems) -> NetworkSpec:
        """flanneld without ``--kube-subnet-mgr`` leases subnets from etcd; ``--iface``/``--public-ip`` pick the
        address flanneld announces, which the model takes from each node's InternalIP."""
        args = network.args
        if args is None:
            return network
        for flag in ("iface", "iface-regex", "iface-can-reach", "public-ip"):
            if args.get(flag):
                problems.warn(network.origin, f"flanneld --{flag}={args[flag]} (from the DaemonSet) picks the "
                              "interface and address flanneld uses between nodes; the model takes each node's "
                              "InternalIP (spec.nodes[].ip) and interface (spec.nodes[].interface)",
                              "make the nodes' ip and interface the ones this flag selects")
        manager = "kube" if args.get("kube-subnet-mgr") else "etcd"
        return replace(network, subnet_manager=manager) if manager != network.subnet_manager else network

    @classmethod
    def stated_cluster_cidr(cls, network: NetworkSpec) -> tuple[str, str] | None:
        value = network.config.get("Network")  # flanneld leases node subnets inside it
        return ("Network", value) if isinstance(value, str) else None

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        self.problems = problems
        assert plan.network is not None
        # kube-flannel.yml runs flanneld --ip-masq; a DaemonSet in the plan says for itself.
        self.ip_masq = True if plan.network.args is None else bool(plan.network.args.get("ip-masq"))
        conf = read_net_conf(plan, problems)
        self.conf = conf
        assert plan.network is not None
        self.origin: Origin = plan.network.origin
        self.win_confs: dict[str, _hns.WindowsConf] = {}
        # the Windows nodes' flannel CNI conf and the delegate binary it names (docs/windows-cni.md)
        self.given_win = (_windows_cni.find(self.windows_cni, self.origin.at("cni"), problems)
                          if any(n.os == "windows" for n in plan.nodes) else None)
        self._win_template: _hns.WindowsConf | None = None
        if conf is not None and conf.backend == "host-gw" and any(n.os == "windows" for n in plan.nodes):
            problems.warn(self.origin, win_bridge.BRIDGE_EP_NOTE.format(ep=f"{conf.name or 'cbr0'}_ep"),
                          "nothing to change: the model gives the first pod .3, as the retry does")
        self.vxlan = conf is not None and conf.backend == "vxlan"
        self._vteps: dict[str, Vtep] = {}
        linux = any(n.os == "linux" for n in plan.nodes)
        # Linux nodes: the calico CNI when the plan's CNI config is canal's, else the bridge CNI (cni0).
        self.calico = calico_cni.read_conf(plan, problems) if linux else None
        self.bridge_mtu = _linux.flannel_delegate_mtu(plan.network.cni)
        if conf is not None and conf.mtu is not None:
            self._check_mtu(conf, linux, problems)
        if self.vxlan:
            self._init_vxlan(plan, problems)

    @property
    def windows_cni(self) -> Any:
        """The CNI config of the Windows nodes: their own when the plan has one (a Windows ConfigMap), else ``cni``
        unless that is the Linux nodes' conf (canal's calico conflist, kube-flannel's bridge delegate)."""
        net = self.plan.network
        assert net is not None
        if net.windows_cni is not None:
            return net.windows_cni
        return None if _windows_cni.linux_only(net.cni) else net.cni

    @property
    def masq_network(self) -> IPv4Network | None:
        """flannel's Network when flanneld runs with --ip-masq (its masquerade chain), else None."""
        return self.conf.network if self.conf is not None and self.ip_masq else None

    def _check_mtu(self, conf: NetConf, linux: bool, problems: Problems) -> None:
        """Backend.MTU: read by the Linux vxlan backend only (the flannel.<VNI> MTU is it − 50)."""
        at = self.origin.at("config.Backend.MTU")
        assert conf.mtu is not None
        if conf.backend != "vxlan":
            problems.warn(at, f"flannel's {conf.backend} backend does not read Backend.MTU: FLANNEL_MTU, cni0 and "
                          "the pods keep the uplink's MTU", "leave MTU out (set the uplink's MTU on the underlay "
                          "subnet instead)")
        elif linux and conf.mtu - VXLAN_OVERHEAD < MIN_MTU:
            problems.error(at, f"Backend.MTU {conf.mtu} gives flannel.<VNI> an MTU of {conf.mtu - VXLAN_OVERHEAD}, "
                           f"below the kernel's minimum {MIN_MTU}: flanneld cannot create the device",
                           "leave MTU out (the uplink's MTU) or give at least "
                           f"{MIN_MTU + VXLAN_OVERHEAD}")

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
        if w.mtu is not None and any(n.os == "windows" for n in plan.nodes):
            where = "windowsConfig" if plan.network.windows_config is not None else "config"
            problems.warn(self.origin.at(f"{where}.Backend.MTU"), "flanneld for Windows does not read Backend.MTU "
                          "(its vxlan config has no MTU field): Windows pods keep the uplink MTU − 50",
                          "nothing to change on Windows; make sure Linux and Windows pods agree on the MTU you need")
        self.win_settings = win_overlay.OverlaySettings(w.vni, w.port, w.name, w.mac_prefix, w.direct_routing, w.gbp)
        self.backend_data = flannel_vxlan.read_backend_data(plan, problems)
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
                                             self.conf.direct_routing, data, mtu=self.conf.mtu)
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
        if c is not None:
            return c
        family: _windows_cni.Family = "overlay" if self.vxlan else "bridge"
        masq_net = str(self.conf.network) if self.conf else ""
        # The meta-plugin hands the delegate ipMasqNetwork = FLANNEL_NETWORK, ipMasq = FLANNEL_IPMASQ (the
        # Windows scripts run flanneld with --ip-masq=1; only win-overlay reads it) and overwrites ipam with
        # {"type": "host-local", "subnet": <lease>}.
        inject: dict[str, object] = {"ipMasqNetwork": masq_net, "ipam": {"type": "host-local"}}
        if self.vxlan:
            inject["ipMasq"] = True
        name = self.win_settings.network_name if self.vxlan else (self.conf.name if self.conf else None) or "cbr0"
        if self.given_win is not None:
            if self._win_template is None:  # read once: one conf for every Windows node
                self._win_template = _windows_cni.read(self.given_win, self.plan, self.problems, family, name, inject)
                _windows_cni.warn_placeholders(self._win_template, self.given_win.origin, self.problems)
            c = _windows_cni.for_node(self._win_template, self.plan, node, family)
        elif self.vxlan:
            raw = {**win_overlay.default_conf(self.plan, name, self.win_settings.mac_prefix), **inject}
            c = _hns.read_windows_conf(raw, self.origin, self.problems, name, "win-overlay")
        else:
            raw = {**win_bridge.default_conf(self.plan, node, name), **inject}
            c = _hns.read_windows_conf(raw, self.origin, self.problems, name)
        self.win_confs[node.name] = c
        return c

    def describe(self, node: NodeSpec) -> str:
        assert self.conf is not None
        v = self.vtep(node.name)
        if v is not None and node.os == "windows":
            return f"flannel vxlan → {self.win_conf(node).binary} (HNS Overlay {v.dev}, VNI {v.vni}, UDP {v.port})"
        pods = "calico CNI (cali veths, /32 routes)" if self.calico is not None else "bridge cni0"
        if v is not None:
            return f"flannel vxlan → {pods} + {v.dev} (VNI {v.vni}, UDP {v.port})"
        if node.os == "windows":
            conf = self.win_conf(node)
            return f"flannel {self.conf.backend} → {conf.binary} (HNS L2Bridge {conf.name})"
        return f"flannel {self.conf.backend} → {pods} + host-local"

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        if pod_cidr is None:
            return None
        if node.os == "windows" and self.vxlan:
            rng = win_overlay.overlay_range(pod_cidr)  # the default conf's binary keeps it as it is
            return _windows_cni.pod_range(self.win_conf(node), rng, pod_cidr) if self.given_win else rng
        if node.os == "windows":
            conf = self.win_conf(node)
            rng = win_bridge.l2bridge_range(pod_cidr, {}, conf.name, self.origin,
                                            endpoint=win_bridge.host_endpoint(conf))
            return _windows_cni.pod_range(conf, rng, pod_cidr)
        if self.calico is not None:
            return calico_cni.pod_range(pod_cidr, self.calico.ipam)
        return host_local_range(pod_cidr)

    def pod_add_failure(self, node: NodeSpec) -> str | None:
        v = self.vtep(node.name)
        if v is None:
            return None
        if node.os == "windows":
            return win_overlay.add_failure(lambda: self.win_conf(node), v)
        return flannel_vxlan.add_failure(v)

    def roles(self, node: NodeSpec) -> NodeRoles:
        if node.os == "windows":
            forwarding = "windows-overlay" if self.vxlan else "windows-l2bridge"
        else:
            forwarding = "linux-routed" if self.calico is not None else "linux-bridge"
        return NodeRoles(forwarding, VXLAN if self.vxlan else NONE, kube_proxy(self.plan, node))

    def fast_path(self) -> _overlay_peers.OverlayFastPath | None:
        """vxlan: one node's answer from the peer entries all nodes share; host-gw: None (its peer routes are
        shared objects already, and the trace indexes them cheaply)."""
        if not self.vxlan:
            return None
        return _overlay_peers.OverlayFastPath(
            self.vtep, lambda cluster, node: flannel_vxlan.linux_facts(
                cluster, node, self.vtep, self.masq_network, peers=False, pod_side=self._pod_side(cluster, node),
                notes=self._notes(node)),
            lambda cluster, node: win_overlay.overlay_facts(cluster, node, self.win_conf(node), self.vtep,
                                                            peers=False))

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        if self.vxlan and node.os == "windows":
            return win_overlay.overlay_facts(cluster, node, self.win_conf(node), self.vtep)
        if self.vxlan:
            assert self.conf is not None
            return flannel_vxlan.linux_facts(cluster, node, self.vtep, self.masq_network,
                                             pod_side=self._pod_side(cluster, node), notes=self._notes(node))
        if node.os == "windows":
            vnic = win_bridge.mgmt_vnic(node)
            routes, notes = _linux.peer_routes(cluster, node, vnic, "flannel")
            return win_bridge.l2bridge_facts(cluster, node, self.win_conf(node), routes, owner="flannel",
                                             notes=notes)
        _, uplink, table = _linux.uplink(cluster.plan, node)
        devices = [uplink]
        cidr = cluster.allocation.nodes[node.name].pod_cidr
        if cidr is not None:  # host-gw: FLANNEL_MTU is the uplink's
            more, connected = (self._pod_side(cluster, node) or _linux.cni0)(cidr, uplink.mtu)
            devices += more
            table += connected
        routes, notes = _linux.peer_routes(cluster, node, uplink.name, "flannel")
        assert self.conf is not None
        return NodeFacts(node.name, "linux", tuple(devices), tuple(table + routes), notes=self._notes(node) + notes,
                         nat=_linux.flannel_masq_rules(self.conf.network, cidr) if self.ip_masq else ())

    # --- the Linux pod side: the calico CNI (canal) or the bridge CNI --------------------------------

    def calico_mtu(self, node: NodeSpec) -> int | None:
        """The MTU the calico CNI gives this node's pods (None: the node runs the bridge CNI)."""
        if self.calico is None or node.os != "linux":
            return None
        return calico_cni.pod_mtu(self.calico, node, self.plan.underlay.subnet(node.subnet).mtu)

    def _pod_side(self, cluster: Cluster, node: NodeSpec) -> flannel_vxlan.PodSide | None:
        mtu = self.calico_mtu(node)
        if mtu is not None:
            return lambda _cidr, _flannel_mtu: calico_cni.workloads(cluster, node, mtu)
        if self.bridge_mtu is not None:
            given = self.bridge_mtu
            return lambda cidr, _flannel_mtu: _linux.cni0(cidr, given)
        return None

    def _notes(self, node: NodeSpec) -> tuple[str, ...]:
        mtu = self.calico_mtu(node)
        return (calico_cni.pod_note(self.calico, mtu),) if self.calico is not None and mtu is not None else ()
