"""win-bridge: Windows pods on an HNS L2Bridge network (flannel host-gw on Windows, the 2018 talk's l2bridge).

Addressing per node pod subnet: .0 network, .1 the HNS network gateway, .2 the host's bridge endpoint
(``cbr0_ep``) which is also every pod's gateway, pods from .3. win-bridge installs no routes: other
nodes' pod subnets are reached through NetRoutes (flannel host-gw) or the cloud route table.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device, HnsEndpoint, HnsNetwork, NodeFacts, Route
from cnimodel.encapsulation import NONE
from cnimodel.hns import PROTOCOLS, policy
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.net import host
from cnimodel.plan import NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import parse_ip
from cnimodel.plugin import NetworkPlugin, NodeRoles, kube_proxy
from cnimodel.plugins import _hns, _windows_cni, kubenet

BRIDGE_EP_NOTE = ("host-local starts at .2, which is the bridge endpoint {ep}: the first pod ADD on each "
                  "node fails with HNS 'The object already exists (0x1392)' and the next try gets .3 "
                  "(kubernetes#74766, microsoft/SDN#333)")


def mgmt_vnic(node: NodeSpec) -> str:
    """The management vNIC HNS puts in front of the uplink: ``vEthernet (Ethernet)``."""
    return f"vEthernet ({node.ext_interface})"


def default_conf(plan: Plan, node: NodeSpec, name: str) -> dict[str, Any]:
    """The win-bridge conf the SDN/sig-windows scripts write for a node when the plan gives none:
    SNAT everything but the cluster, service and node ranges; send service and own-node traffic
    through VFP (SDNRoute NeedEncap); DNS from the CNI config."""
    subnet = plan.underlay.subnet(node.subnet).cidr
    exceptions = [str(plan.cluster_cidr), str(plan.service_cidr), str(subnet)]
    return {
        "name": name, "type": "win-bridge", "ApiVersion": 2,
        "ipMasqNetwork": str(plan.cluster_cidr),
        "dns": {"Nameservers": [str(plan.dns_service_ip)], "Search": ["svc.cluster.local"]},
        "policies": [
            {"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "Settings": {"Exceptions": exceptions}}},
            {"name": "EndpointPolicy", "value": {"Type": "SDNRoute", "Settings": {
                "DestinationPrefix": str(plan.service_cidr), "NeedEncap": True}}},
            {"name": "EndpointPolicy", "value": {"Type": "SDNRoute", "Settings": {
                "DestinationPrefix": f"{node.ip}/32", "NeedEncap": True}}},
        ],
    }


def delegate_conf(cni: Mapping[str, Any] | None, plugin_type: str) -> Mapping[str, Any] | None:
    """The ``plugin_type`` conf inside what the plan gave: a plain conf, a conflist entry, or a flannel
    conf's ``delegate``."""
    if cni is None:
        return None
    candidates: list[Mapping[str, Any]] = list(cni.get("plugins", ())) or [cni]
    for c in candidates:
        # The runtime hands a conflist's name to each of its plugins; the flannel meta-plugin hands its own
        # name to the delegate (which names the HNS network win-bridge looks up).
        name = c.get("name") or cni.get("name")
        if c.get("type") == plugin_type:
            return {**c, "name": name} if name else c
        if c.get("type") == "flannel" and isinstance(c.get("delegate"), Mapping):
            return {**c["delegate"], "name": name} if name else c["delegate"]
    return None


def host_endpoint(conf: _hns.WindowsConf) -> str:
    """The host's bridge endpoint on the L2Bridge network: flanneld (and the SDN flannel scripts) name it
    ``<network>_ep``; the 2018 wincni scripts create ``cbr0`` on network ``l2bridge`` (start-kubelet.ps1)."""
    return "cbr0" if conf.binary == "wincni" else f"{conf.name}_ep"


def l2bridge_range(pod_cidr: IPv4Network, ipam: Mapping[str, Any], network: str, origin: Origin,
                   problems: Problems | None = None, endpoint: str | None = None) -> PodRange:
    """host-local over the node's pod subnet with .1 (HNS gateway) and .2 (bridge endpoint) kept out."""
    ranges = ipam.get("ranges")
    first: Mapping[str, Any] = ranges[0][0] if ranges and ranges[0] else ipam
    p = problems or Problems()
    start = parse_ip(first["rangeStart"], origin.at("ipam.rangeStart"), p) if "rangeStart" in first else None
    ep = host(pod_cidr, 2)
    name = endpoint or f"{network}_ep"
    note = BRIDGE_EP_NOTE.format(ep=name) if start is None or int(start) <= int(ep) else ""
    return host_local_range(pod_cidr, range_start=start,
                            extra_reserved=((ep, f"host bridge endpoint {name} (the pods' gateway)"),),
                            pod_gateway=ep, note=note)


def l2bridge_facts(cluster: Cluster, node: NodeSpec, conf: _hns.WindowsConf, routes: list[Route],
                   owner: str, notes: tuple[str, ...] = ()) -> NodeFacts:
    """A Windows node on an L2Bridge network: the network, ``<name>_ep``, pod endpoints, host routes."""
    plan = cluster.plan
    alloc = cluster.allocation.nodes[node.name]
    cidr = alloc.pod_cidr
    subnet = plan.underlay.subnet(node.subnet)
    vnic = mgmt_vnic(node)
    devices = [Device(vnic, "vnic", (IPv4Interface(f"{node.ip}/{subnet.cidr.prefixlen}"),), subnet.mtu,
                      owner="hns")]
    table = [Route(IPv4Network("0.0.0.0/0"), via=subnet.gateway, dev=vnic, kind="default", owner="host"),
             Route(subnet.cidr, dev=vnic, scope="link", kind="connected", owner="host", src=node.ip)]
    networks: list[HnsNetwork] = []
    endpoints: list[HnsEndpoint] = []
    if cidr is not None:
        gw, ep_ip = host(cidr, 1), host(cidr, 2)
        ep_name = host_endpoint(conf)
        ep_vnic = f"vEthernet ({ep_name})"
        devices.append(Device(ep_vnic, "vnic", (IPv4Interface(f"{ep_ip}/{cidr.prefixlen}"),), subnet.mtu,
                              owner=owner))
        table.append(Route(cidr, dev=ep_vnic, scope="link", kind="connected", owner="host", src=ep_ip))
        # flanneld (hostgw_windows.go) and the SDN scripts create the L2Bridge network with its subnet only:
        # no ProviderAddress policy (that is an Overlay network's).
        networks.append(HnsNetwork(conf.name, "L2Bridge", cidr, gw, node.ip, node.ext_interface, owner=owner))
        # the wincni scripts create cbr0 with -Gateway 0.0.0.0 (start-kubelet.ps1): no gateway
        endpoints.append(HnsEndpoint(ep_name, conf.name, ep_ip, cidr.prefixlen, None if conf.binary == "wincni" else gw,
                                     role="host", owner=owner))
        endpoints += pod_endpoints(cluster, node, conf, cidr, ep_ip)
    table += routes
    facts = NodeFacts(node.name, "windows", tuple(devices), tuple(table), hns_networks=tuple(networks),
                      hns_endpoints=tuple(endpoints), hns_api=conf.api_version, notes=notes)
    return _windows_cni.finish(facts, cluster, node, conf)


def pod_endpoints(cluster: Cluster, node: NodeSpec, conf: _hns.WindowsConf, cidr: IPv4Network,
                  gateway: IPv4Address) -> list[HnsEndpoint]:
    """One endpoint per pod, with the policies in the order win-bridge applies them (§4.3)."""
    out = []
    dsr = node.windows_build is None or node.windows_build >= 17763  # hcn.DSRSupported (assumed from WS2019)
    for a in cluster.allocation.pods_on(node.name):
        pod = a.pod
        if pod.host_network:
            continue
        policies = _hns.apply_outbound_nat(conf.policies, conf.ip_masq_network)
        for port in pod.ports:
            # ApplyPortMappingPolicy skips a protocol outside hcn's enum (SCTP); VIP is the mapping's hostIP,
            # empty for a pod's hostPort, and HCN omits it when empty.
            proto = PROTOCOLS.get(port.protocol.lower())
            if port.host_port and proto is not None:
                policies += (policy("PortMapping", InternalPort=port.port, ExternalPort=port.host_port,
                                    Protocol=proto),)
        if conf.loopback_dsr and dsr:
            policies += (policy("OutBoundNAT", Destinations=[str(a.ip)]),)
        out.append(HnsEndpoint(f"{pod.namespace}.{pod.name}_{conf.name}", conf.name, a.ip, cidr.prefixlen,
                               gateway, policies=policies, dns_servers=conf.dns_servers,
                               dns_search=conf.dns_search, pod=pod.key, owner="win-bridge"))
    return out


class WinBridgePlugin(NetworkPlugin):
    """``plugin: win-bridge``: Windows nodes on L2Bridge, Linux nodes kubenet-style on cbr0; pod routes
    on the hosts (``underlay.routes: host``) or in the cloud route table (``cloud``, the 2018 talk)."""

    name = "win-bridge"

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        assert plan.network is not None
        net = plan.network
        # the CNI conf: network.cni, else network.config (for win-bridge its own config is the CNI conf)
        self.given = (_windows_cni.find(net.cni, net.origin.at("cni"), problems) if net.cni is not None else
                      _windows_cni.find(net.config, net.origin.at("config"), problems) if net.config else None)
        self.confs: dict[str, _hns.WindowsConf] = {}
        self.problems = problems
        self.template: _hns.WindowsConf | None = None
        self._subnet_warned = False
        if self.given is not None:
            self.template = _windows_cni.read(self.given, plan, problems, "bridge", "cbr0")
            _windows_cni.warn_placeholders(self.template, self.given.origin, problems)
        for node in plan.nodes:
            if node.os == "windows":
                self.conf(node)
        kubenet.check_route_table(plan, problems)

    @property
    def origin(self) -> Origin:
        assert self.plan.network is not None
        return self.given.origin if self.given is not None else self.plan.network.origin

    def conf(self, node: NodeSpec) -> _hns.WindowsConf:
        c = self.confs.get(node.name)
        if c is None:
            if self.template is not None:
                c = _windows_cni.for_node(self.template, self.plan, node, "bridge")
            else:
                c = _hns.read_windows_conf(default_conf(self.plan, node, "cbr0"), self.origin, self.problems, "cbr0")
            self.confs[node.name] = c
        return c

    def roles(self, node: NodeSpec) -> NodeRoles:
        return NodeRoles("windows-l2bridge" if node.os == "windows" else "linux-bridge", NONE,
                         kube_proxy(self.plan, node))

    def describe(self, node: NodeSpec) -> str:
        if node.os == "windows":
            conf = self.conf(node)
            return f"{conf.binary} (HNS L2Bridge {conf.name})"
        return "kubenet-style bridge cbr0 + host-local"

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        if pod_cidr is None:
            return None
        if node.os == "windows":
            conf = self.conf(node)
            rng = l2bridge_range(pod_cidr, conf.ipam, conf.name, self.origin, endpoint=host_endpoint(conf))
            self._check_subnet(conf, node, pod_cidr)
            return _windows_cni.pod_range(conf, rng, pod_cidr)
        return host_local_range(pod_cidr)

    def _check_subnet(self, conf: _hns.WindowsConf, node: NodeSpec, pod_cidr: IPv4Network) -> None:
        """A conf written for one node (ipam.subnet, as wincni's start-kubelet.ps1 writes it) read for another."""
        subnet = _hns.ci_get(conf.ipam, "subnet") if conf.binary in ("wincni", *_windows_cni.SDN) else None
        if subnet and str(subnet) != str(pod_cidr) and not self._subnet_warned:
            self._subnet_warned = True  # one conf for every node: say it once
            self.problems.warn(self.origin.at("ipam.subnet"), f"ipam.subnet {subnet} is not {node.name}'s pod CIDR "
                               f"{pod_cidr}: the node scripts write each node's own; the model uses {pod_cidr} on "
                               f"{node.name}", "nothing to change if each node's conf names its own pod CIDR")

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        routes = kubenet.static_routes(cluster, node, mgmt_vnic(node) if node.os == "windows" else None)
        if node.os == "linux":
            return kubenet.linux_facts(cluster, node, routes)
        return l2bridge_facts(cluster, node, self.conf(node), routes, owner="win-bridge")

    def underlay_routes(self, cluster: Cluster) -> tuple[Route, ...]:
        return kubenet.cloud_routes(cluster)


__all__ = ["WinBridgePlugin"]
