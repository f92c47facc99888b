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

from dataclasses import replace
from ipaddress import IPv4Network
from typing import Any

from cnimodel.cluster import Cluster
from cnimodel.dataplane import VXLAN_OVERHEAD, NodeFacts, Vtep
from cnimodel.encapsulation import NONE, VXLAN
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.ipam.engine import kube_node_cidrs
from cnimodel.plan import NetworkSpec, NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import thaw
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
from cnimodel.plugins._flannel_netconf import MIN_MTU, NetConf, etcd_leases, read_net_conf
from cnimodel.sources import ConfigKey, Daemon

# flanneld's flags that change the data plane (flannel-io/flannel@cdf76059:main.go:121-130); it also reads each
# from FLANNELD_<FLAG> when the command line leaves it out (main.go:223, flagutil.SetFlagsFromEnv).
DAEMON = Daemon(binaries=("flanneld", "flanneld.exe"), images=("flannel",), env_prefix="FLANNELD",
                flags=("ip-masq", "kube-subnet-mgr", "iface", "iface-regex", "iface-can-reach", "public-ip"),
                bool_flags=frozenset({"ip-masq", "kube-subnet-mgr"}))


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
        self._win_overlay: _hns.WindowsConf | None = None
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
        elif self.vxlan:  # the scripts' conf names no node: read once, the same for every Windows node
            if self._win_overlay is None:
                raw = {**win_overlay.default_conf(self.plan, name, self.win_settings.mac_prefix), **inject}
                self._win_overlay = _hns.read_windows_conf(raw, self.origin, self.problems, name, "win-overlay")
            c = self._win_overlay
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
