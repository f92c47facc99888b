"""win-overlay: Windows pods on an HNS Overlay (VXLAN) network, as flanneld for Windows (vxlan backend) and
the win-overlay CNI plugin build it (cni-plugins.md §3.10, §5; services-lb.md §2.5).

Per node: the HCN network ``flannel.<VNI>`` (or Backend ``Name``) of type Overlay over the node's lease,
gateway .1, subnet policy VSID = VNI, network policies ProviderAddress, DrMacAddress, NetAdapterName,
HostRoute and one RemoteSubnetRoute per remote lease; kube-proxy's source-VIP endpoint at .2; pod
endpoints with MAC ``<endpointMacPrefix>-<IP bytes>``, gateway .1, ProviderAddress = node IP and
OutBoundNAT as win-overlay applies it. flanneld for Windows refuses VNI < 4096, any port but 4789,
DirectRouting and GBP, and ignores remote leases with VNI < 4096.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Interface, IPv4Network
from typing import Any

from cnimodel.bulk import bulk
from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device, Encap, HnsEndpoint, HnsNetwork, HnsPolicy, NodeFacts, Route, Vtep
from cnimodel.encapsulation import VXLAN
from cnimodel.hns import policy
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.net import host
from cnimodel.plan import NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import Fields, thaw
from cnimodel.plugin import NetworkPlugin, NodeRoles, kube_proxy
from cnimodel.plugins import _hns, _overlay_peers, _windows_cni, flannel_vxlan, win_bridge
from cnimodel.plugins.flannel_vxlan import BackendData, VtepOf

MIN_VNI = _overlay_peers.WINDOWS_MIN_VNI  # flanneld for Windows: defaultVNI, and the least VNI it accepts
PORT = 4789  # the only VXLAN port HNS uses
FLAGS_NON_PERSISTENT = 8  # hcn EnableNonPersistent
HYPERV_OUI = bytes.fromhex("00155d")  # HNS hands out MACs from Hyper-V's pool; the model's DR MACs use it
# RFC 7348 §5 recommends a hash of the inner headers into the dynamic range; what VFP does is unverified.
WINDOWS_SRC_PORTS = (49152, 65535)
SOURCE_VIP_REASON = "kube-proxy source VIP (--source-vip), taken by host-local before the first pod"
REMOTE_SUBNET_BUILD = 17763  # hcn.RemoteSubnetSupported: Windows Server 2019 (+KB4489899) or later


@dataclass(frozen=True)
class OverlaySettings:
    """flanneld for Windows' vxlan ``Backend`` settings as given (None = not given), before its checks."""

    vni: int | None = None
    port: int | None = None
    name: str | None = None
    mac_prefix: str = "0E-2A"
    direct_routing: bool = False
    gbp: bool = False

    @property
    def effective_vni(self) -> int:
        return MIN_VNI if self.vni is None else self.vni

    @property
    def network_name(self) -> str:
        return self.name or f"flannel.{self.effective_vni}"


def read_settings(backend: Fields) -> OverlaySettings:
    """The vxlan ``Backend`` fields flanneld for Windows reads."""
    return OverlaySettings(vni=backend.int("VNI", default=None, lo=0, hi=16777215),
                           port=backend.int("Port", default=None, lo=0, hi=65535),
                           name=backend.str("Name", default=None),
                           mac_prefix=backend.str("MacPrefix", default="0E-2A"),
                           direct_routing=backend.bool("DirectRouting"), gbp=backend.bool("GBP"))


def refusal(s: OverlaySettings, node: NodeSpec) -> str:
    """Why flanneld for Windows would exit on this node ('' when it starts), checks in flanneld's order."""
    port = PORT if s.port is None else s.port
    if s.effective_vni < MIN_VNI:
        return f"VNI {s.effective_vni} must be greater than or equal to {MIN_VNI} on Windows"
    if port != PORT:
        return f"Port {port} is not supported on Windows (omit it to get {PORT})"
    if s.direct_routing:
        return "DirectRouting is not supported on Windows"
    if s.gbp:
        return "GBP is not supported on Windows"
    if len(s.mac_prefix) != 5 or s.mac_prefix[2] != "-":
        return f"MacPrefix {s.mac_prefix!r} is invalid, it must be of the form xx-xx (e.g. 0E-2A)"
    if node.windows_build is not None and node.windows_build < REMOTE_SUBNET_BUILD:
        return (f"Windows build {node.windows_build} has no HNS RemoteSubnet support (Windows Server 2019 with "
                "KB4489899 or later)")
    return ""


def windows_vtep(plan: Plan, node: NodeSpec, s: OverlaySettings, data: BackendData | None,
                 owner: str = "flannel") -> Vtep:
    """The Windows VTEP: the Overlay network, VNI ≥ 4096, UDP 4789, the DR MAC as the lease's VtepMAC."""
    mtu = plan.underlay.subnet(node.subnet).mtu
    mac = data.mac if data and data.mac else None
    reason = refusal(s, node)
    return Vtep(node.name, "windows", s.network_name, s.effective_vni, PORT if s.port is None else s.port,
                mac or flannel_vxlan.derived_mac(node.name, HYPERV_OUI), node.ip, mtu - flannel_vxlan.OVERHEAD, mtu,
                mac_source="annotation" if mac else "derived", up=not reason, reason=reason, owner=owner,
                src_port_range=WINDOWS_SRC_PORTS)


def hns_mac(mac: str) -> str:
    """A MAC as HNS prints it: upper-case, dash-separated (``00-15-5D-0A-0B-0C``)."""
    return mac.replace(":", "-").upper()


def default_conf(plan: Plan, name: str, mac_prefix: str = "0E-2A") -> dict[str, Any]:
    """The win-overlay conf the microsoft/SDN overlay scripts write: SNAT all but the cluster and service
    ranges, send service traffic through VFP (SDNRoute NeedEncap), ipMasq on, DNS from the plan."""
    if not (len(mac_prefix) == 5 and mac_prefix[2] == "-"):
        mac_prefix = "0E-2A"  # flanneld refuses such a MacPrefix (the node's VTEP says so); no conf error besides
    return {
        "name": name, "type": "win-overlay", "ApiVersion": 2, "ipMasq": True, "endpointMacPrefix": mac_prefix,
        "dns": {"Nameservers": [str(plan.dns_service_ip)], "Search": ["svc.cluster.local"]},
        "policies": [
            {"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "Settings": {
                "Exceptions": [str(plan.cluster_cidr), str(plan.service_cidr)]}}},
            {"name": "EndpointPolicy", "value": {"Type": "SDNRoute", "Settings": {
                "DestinationPrefix": str(plan.service_cidr), "NeedEncap": True}}},
        ],
    }


def overlay_range(pod_cidr: IPv4Network) -> PodRange:
    """host-local over the lease, gateway .1, with .2 held by kube-proxy's source VIP: pods start at .3."""
    return host_local_range(pod_cidr, extra_reserved=((host(pod_cidr, 2), SOURCE_VIP_REASON),))


def source_vip_endpoint(cidr: IPv4Network, network: str) -> HnsEndpoint:
    """kube-proxy's source-VIP endpoint at .2 (its MAC is the host's). kube-proxy creates it as a local
    endpoint (newSourceVIP: isLocal true), and HNS gets a ProviderAddress policy only on remote ones."""
    return HnsEndpoint(f"{network}_sourcevip", network, host(cidr, 2), cidr.prefixlen, None, role="source-vip",
                       owner="kube-proxy")


def pod_endpoints(cluster: Cluster, node: NodeSpec, conf: _hns.WindowsConf, cidr: IPv4Network) -> list[HnsEndpoint]:
    """One endpoint per pod with win-overlay's policies in the order its HNS (v1) or HCN (v2) path appends
    them to the conf's: v1 ProviderAddress (unless the same one is there), OutBoundNAT for the node's own pod
    subnet when ipMasq, loopback DSR; v2 the DSR OutBoundNAT first (processEndpointArgs runs before the
    other two). win-overlay never applies port mappings: a hostPort gets no PortMapping policy."""
    gateway = host(cidr, 1)
    pa = str(node.ip)
    dsr = conf.loopback_dsr and (node.windows_build is None or node.windows_build >= 17763)  # hcn.DSRSupported

    def node_policies(policies: tuple[HnsPolicy, ...]) -> tuple[HnsPolicy, ...]:
        if not any(p.type == "ProviderAddress" and p.settings.get("ProviderAddress") == pa for p in policies):
            policies += (policy("ProviderAddress", ProviderAddress=pa),)
        return _hns.apply_outbound_nat(policies, str(cidr)) if conf.ip_masq else policies

    base = node_policies(conf.policies)
    out = []
    for a in cluster.allocation.pods_on(node.name):
        pod = a.pod
        if pod.host_network:
            continue
        if not dsr:
            policies = base
        elif conf.api_version == 2:
            policies = node_policies(loopback_dsr(conf.policies, str(a.ip)))
        else:
            policies = loopback_dsr(base, str(a.ip))
        out.append(HnsEndpoint(f"{pod.namespace}.{pod.name}_{conf.name}", conf.name, a.ip, cidr.prefixlen,
                               gateway, _hns.endpoint_mac(conf.endpoint_mac_prefix, a.ip), policies,
                               conf.dns_servers, conf.dns_search, pod=pod.key, owner="win-overlay"))
    return out


def loopback_dsr(policies: tuple[HnsPolicy, ...], ip: str) -> tuple[HnsPolicy, ...]:
    """``ApplyLoopbackDSRPolicy``: append OutBoundNAT ``Destinations: [ip]`` unless an OutBoundNAT already
    lists ``ip`` among its Destinations."""
    if any(p.type == "OutBoundNAT" and ip in tuple(p.settings.get("Destinations", ())) for p in policies):
        return policies
    return (*policies, policy("OutBoundNAT", Destinations=[ip]))


def host_port_note(cluster: Cluster, node: NodeSpec) -> str | None:
    """The node note for pods asking for a hostPort, which win-overlay ignores (None when no pod asks)."""
    asks = [f"{a.pod.key} ({', '.join(f'{p.host_port}/{p.protocol}' for p in a.pod.ports if p.host_port)})"
            for a in cluster.allocation.pods_on(node.name)
            if not a.pod.host_network and any(p.host_port for p in a.pod.ports)]
    if not asks:
        return None
    shown = ", ".join(asks[:5]) + (f" … ({len(asks)} in all)" if len(asks) > 5 else "")
    return (f"hostPort has no effect here: win-overlay applies no port mapping (it never calls "
            f"ApplyPortMappingPolicy; win-bridge does), so nothing forwards the node's port to {shown}")


def overlay_facts(cluster: Cluster, node: NodeSpec, conf: _hns.WindowsConf, vtep_of: VtepOf,
                  peers: bool = True) -> NodeFacts:
    """A Windows node on an Overlay network: management vNIC, the HCN network with its remote subnet
    routes, the source-VIP endpoint, pod endpoints, and one Encap per remote lease it routes.

    ``peers=False``: the same without the Encaps and the notes about peers (``overlay_peer_encap`` answers
    for one destination); the network keeps its RemoteSubnetRoutes."""
    # thousands of acyclic values per node, cached with the cluster: no cyclic GC passes while building them,
    # and frozen after, so later collections do not walk them either
    with bulk(freeze=peers):
        return _windows_cni.finish(_overlay_facts(cluster, node, conf, vtep_of, peers), cluster, node, conf)


def _overlay_facts(cluster: Cluster, node: NodeSpec, conf: _hns.WindowsConf, vtep_of: VtepOf,
                   peers: bool) -> NodeFacts:
    plan = cluster.plan
    me = vtep_of(node.name)
    assert me is not None
    subnet = plan.underlay.subnet(node.subnet)
    vnic = win_bridge.mgmt_vnic(node)
    devices = (Device(vnic, "vnic", (IPv4Interface(f"{node.ip}/{subnet.cidr.prefixlen}"),), subnet.mtu,
                      owner="hns"),)
    table = (Route(IPv4Network("0.0.0.0/0"), via=subnet.gateway, dev=vnic, kind="default", owner="host"),
             Route(subnet.cidr, dev=vnic, scope="link", kind="connected", owner="host", src=node.ip))
    if not me.up:
        return NodeFacts(node.name, "windows", devices, table, vteps=(me,), hns_api=conf.api_version,
                         notes=(f"flanneld does not start: {me.reason}; there is no Overlay network, so no pod "
                                "can start on this node",))
    cidr = cluster.allocation.nodes[node.name].pod_cidr
    if cidr is None:
        return NodeFacts(node.name, "windows", devices, table, vteps=(me,), hns_api=conf.api_version)
    usable, ignored, down = _overlay_peers.remote_leases(cluster, vtep_of, me.owner)
    remote: list[HnsPolicy] = []
    encaps: list[Encap] = []
    mine, gateway = node.subnet, subnet.gateway
    for peer, pv, peer_cidr, rsr in usable if peers else ():
        if peer.name == node.name:
            continue
        remote.append(rsr)
        # VFP encapsulates with the RemoteSubnetRoute's IsolationId: the remote lease's VNI.
        hop = peer.ip if peer.subnet == mine else gateway
        encaps.append(Encap(me, pv, peer_cidr, hop, pv.vni))
    if not peers:  # the same policies without a loop in Python: every lease's route but the node's own
        remote = _overlay_peers.remote_policies(cluster, usable, me.owner, node.name)
    network = HnsNetwork(me.dev, "Overlay", cidr, host(cidr, 1), node.ip, node.ext_interface,
                         policies=(policy("ProviderAddress", ProviderAddress=str(node.ip)),
                                   policy("DrMacAddress", Address=hns_mac(me.mac)),
                                   policy("NetAdapterName", NetworkAdapterName=node.ext_interface),
                                   policy("HostRoute"), *remote),
                         subnet_policies=(policy("VSID", IsolationId=me.vni),), flags=FLAGS_NON_PERSISTENT,
                         owner=me.owner)
    endpoints = [source_vip_endpoint(cidr, me.dev)]
    if not peers:
        if conf.name == me.dev:
            endpoints += pod_endpoints(cluster, node, conf, cidr)
        return NodeFacts(node.name, "windows", devices, table, hns_networks=(network,),
                         hns_endpoints=tuple(endpoints), hns_api=conf.api_version, vteps=(me,))
    notes = [*flannel_vxlan.mismatch_notes(me, encaps), *flannel_vxlan.down_notes(node.name, down)]
    ignored = [n for n in ignored if n != node.name]
    if ignored:
        notes.append(f"no RemoteSubnetRoute for {flannel_vxlan.names_phrase(ignored)}: their leases carry a VNI below "
                     f"{MIN_VNI}, which flanneld for Windows ignores")
    if conf.name == me.dev:
        endpoints += pod_endpoints(cluster, node, conf, cidr)
        if (ports := host_port_note(cluster, node)) is not None:
            notes.append(ports)
    else:
        notes.append(f"the CNI conf's name {conf.name!r} is not the HNS network {me.dev!r}: win-overlay looks the "
                     "network up by that name, so every pod ADD fails")
    return NodeFacts(node.name, "windows", devices, table, hns_networks=(network,), hns_endpoints=tuple(endpoints),
                     hns_api=conf.api_version, notes=tuple(notes), vteps=(me,), encaps=tuple(encaps))


def add_failure(conf: Callable[[], _hns.WindowsConf], me: Vtep) -> str | None:
    """Why win-overlay fails every pod ADD on a Windows node, or None: it looks the HNS network up by the CNI
    conf's ``name`` and refuses the ADD when there is none (containernetworking/plugins win-overlay_windows.go,
    GetHNSNetworkByName / hcn.GetNetworkByName), so without flanneld's Overlay network, or with a conf named
    otherwise, no pod gets an endpoint. ``conf`` is read only when flanneld runs."""
    if not me.up:
        return f"flanneld does not start ({me.reason}), so there is no HNS Overlay network for win-overlay to find"
    name = conf().name
    if name != me.dev:
        return (f"the CNI conf's name {name!r} is not the HNS network {me.dev!r}: win-overlay looks the "
                "network up by that name and finds none")
    return None


class WinOverlayPlugin(NetworkPlugin):
    """``plugin: win-overlay``: Windows nodes run win-overlay on an HNS Overlay network whose remote subnet
    routes are programmed as flanneld for Windows does; Linux nodes are VXLAN peers on ``flannel.<VNI>``.

    The CNI conf comes from ``network.cni`` (or ``network.config`` when that is a CNI conf); overlay
    settings from ``network.config.Backend`` (flannel names: VNI, Port, Name, MacPrefix), with the Windows
    defaults VNI 4096 / UDP 4789 for every node, Linux included.
    """

    name = "win-overlay"

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        assert plan.network is not None
        net = plan.network
        config = thaw(net.config) if net.config else {}
        self.given = _windows_cni.find(net.cni, net.origin.at("cni"), problems)
        if self.given is None and config and "Backend" not in config and "Network" not in config:
            self.given, config = _windows_cni.find(config, net.origin.at("config"), problems), {}
        self.origin: Origin = self.given.origin if self.given is not None else net.origin.at("cni")
        self._template: _hns.WindowsConf | None = None
        self.problems = problems
        self.settings = read_settings(Fields(config, net.origin.at("config"), problems).sub("Backend"))
        self.backend_data = flannel_vxlan.read_backend_data(plan, problems)
        self._vteps: dict[str, Vtep] = {}
        self._confs: dict[str, _hns.WindowsConf] = {}
        for node in plan.nodes:
            self.vtep(node.name)  # up front: cheap, and the validator asks for all of them
            if node.os == "windows":
                self.conf(node)

    def conf(self, node: NodeSpec) -> _hns.WindowsConf:
        c = self._confs.get(node.name)
        if c is None:
            name = self.settings.network_name
            if self.given is None:
                raw = default_conf(self.plan, name, self.settings.mac_prefix)
                c = _hns.read_windows_conf(raw, self.origin, self.problems, name, "win-overlay")
            else:
                if self._template is None:  # read once: one conf for every node
                    self._template = _windows_cni.read(self.given, self.plan, self.problems, "overlay", name)
                    _windows_cni.warn_placeholders(self._template, self.given.origin, self.problems)
                c = _windows_cni.for_node(self._template, self.plan, node, "overlay")
            self._confs[node.name] = c
        return c

    def vtep(self, name: str) -> Vtep | None:
        """The node's VTEP (effective VNI, port, MAC; whether it is up) without building its facts."""
        v = self._vteps.get(name)
        if v is None:
            node = self.plan.node(name)
            data = self.backend_data.get(name)
            if node.os == "windows":
                v = windows_vtep(self.plan, node, self.settings, data)
            else:
                v = flannel_vxlan.linux_vtep(self.plan, node, self.settings.effective_vni,
                                             PORT if self.settings.port is None else self.settings.port, False, data)
            self._vteps[name] = v
        return v

    def describe(self, node: NodeSpec) -> str:
        v = self.vtep(node.name)
        assert v is not None
        if node.os == "windows":
            return f"{self.conf(node).binary} (HNS Overlay {v.dev}, VNI {v.vni}, UDP {v.port})"
        return f"VXLAN peer: bridge cni0 + {v.dev} (VNI {v.vni}, UDP {v.port})"

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        if pod_cidr is None:
            return None
        if node.os == "windows":
            return _windows_cni.pod_range(self.conf(node), overlay_range(pod_cidr), pod_cidr)
        return host_local_range(pod_cidr)

    def pod_add_failure(self, node: NodeSpec) -> str | None:
        v = self.vtep(node.name)
        assert v is not None
        if node.os == "windows":
            return add_failure(lambda: self.conf(node), v)
        return flannel_vxlan.add_failure(v)

    def roles(self, node: NodeSpec) -> NodeRoles:
        forwarding = "windows-overlay" if node.os == "windows" else "linux-bridge"
        return NodeRoles(forwarding, VXLAN, kube_proxy(self.plan, node))

    def fast_path(self) -> _overlay_peers.OverlayFastPath:
        return _overlay_peers.OverlayFastPath(
            self.vtep, lambda cluster, node: flannel_vxlan.linux_facts(cluster, node, self.vtep, peers=False),
            lambda cluster, node: overlay_facts(cluster, node, self.conf(node), self.vtep, peers=False))

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        if node.os == "windows":
            return overlay_facts(cluster, node, self.conf(node), self.vtep)
        return flannel_vxlan.linux_facts(cluster, node, self.vtep)  # no flanneld --ip-masq assumed here


__all__ = ["OverlaySettings", "WinOverlayPlugin"]
