"""Azure CNI (azure-vnet) in its three modes, chosen from its conf (plugins/_azure_mode.py).

Node-subnet mode (azure-vnet-ipam): every pod IP is a secondary IP configuration of its node's NIC, taken from
the node's VNet subnet; the pods' gateway is the subnet's .1 and no node or route table holds pod routes — the
VNet delivers. Overlay (azure-cns, ipam.mode overlay): each node gets a /24 of the pod CIDR, there is no
encapsulation, and the Azure networking stack routes each /24 to its node (modelled as underlay routes).
Pod-subnet mode (azure-cns, SWIFT): pods take VNet addresses of a separate pod subnet, which CNS gets for the
node in batches; the node keeps its node-subnet address, Linux nodes route the pod subnet via their subnet's
gateway, and the VNet delivers each pod address to its node.

Linux nodes run the plugin in transparent mode: a veth pair per pod, the host side ``azv<hash>`` with MAC
aa:aa:aa:aa:aa:aa, a host route ``<podIP>/32 dev azv…`` and proxy ARP; inside the pod the default route goes
via 169.254.1.1. Windows nodes get an HNS L2Bridge network named after the conf (``azure``) over the pods'
subnet, gateway .1, and endpoint policies from the conf's AdditionalArgs (OutBoundNAT exceptions for the
VNet and the service CIDR, a ROUTE with NeedEncap to the service CIDR).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device, HnsEndpoint, HnsNetwork, HnsPolicy, NatRule, NodeFacts, Route
from cnimodel.encapsulation import NONE
from cnimodel.hns import PROTOCOLS, policy
from cnimodel.ipam import PodRange
from cnimodel.ipam.engine import kube_node_cidrs
from cnimodel.net import host
from cnimodel.plan import NetworkSpec, NodeSpec, Plan, Problems, UnderlaySubnet
from cnimodel.plan.fields import Fields, freeze, thaw
from cnimodel.plugin import NetworkPlugin, NodeRoles, kube_proxy
from cnimodel.plugins import _azure_ipam as vnet
from cnimodel.plugins import _azure_mode, _hns, _linux, win_bridge
from cnimodel.plugins import _azure_plan as rules
from cnimodel.sources import ConfigKey, Daemon

NETWORK_NAME = "azure"
HOST_VETH_MAC = "aa:aa:aa:aa:aa:aa"  # defaultHostVethHwAddr in transparent mode
VIRTUAL_GATEWAY = "169.254.1.1"
AZURE_DNS = "168.63.129.16"
AZURE_IMDS = "169.254.169.254"
WIN_DNS_NAT_BUILD = 18362  # ValidWinVerForDnsNat: Windows 1903 or newer (cni/network/network_windows.go:378)
# AKS's maxPods defaults (tools-and-planning.md §3.1): Overlay 250, Pod Subnet 110, legacy node subnet 30.
DEFAULT_MAX_PODS = {"node-subnet": 30, "overlay": 250, "pod-subnet": 110}
AKS_MAX_PODS = (10, 250)
TRANSPARENT_NOTE = (f"transparent mode, inside each pod: the kernel's subnet route is deleted, "
                    f"{VIRTUAL_GATEWAY} dev eth0 scope link, default via {VIRTUAL_GATEWAY} dev eth0, neighbour "
                    f"{VIRTUAL_GATEWAY} lladdr {HOST_VETH_MAC} (the host veth); host veths answer ARP (proxy_arp=1)")
L2BRIDGE_NOTE = ("Azure CNI creates an L2Bridge HNS network; whether the Azure host hair-pins it as L2Tunnel is "
                 "Azure SDN behaviour the model does not see (unverified)")
OVERLAY_NOTE = ("overlay: the Azure networking stack routes each node's /24 to the node (no encapsulation, no "
                "user routes); pods reach VNet addresses through SNAT to the node IP")
OVERLAY_MASK_NOTE = ("overlay: the prefix length CNS gives each pod is the NodeNetworkConfig's subnetAddressSpace, "
                     "which DNC-RC sets (not in the plugin's code); the model uses the node's /24")
SWIFT_NOTE = ("pod subnet: the VNet delivers every pod address to its node's NIC (no route tables); the node "
              "reaches the pod subnet via its own subnet's gateway")
# azure-cns writes the node's conflist for the scenario its config names (CNIConflistScenario), each with its own
# ipam mode (Azure/azure-container-networking@cbd7560: cns/service/main.go:124-129,615-636,
# cns/cniconflist/generator_linux.go:27-110): the overlay scenarios are this plugin's overlay mode, swift its
# pod-subnet mode; the Cilium ones replace azure-vnet with Cilium's data plane.
CNS_OVERLAY = ("v4overlay", "dualStackOverlay", "overlay")
CNS_CILIUM = ("cilium", "azurecni-chained-cilium")
SWIFT_NAT_NOTE = ("SWIFT chain: only UDP/TCP 53 to Azure DNS and TCP 80 to IMDS are rewritten, and only to "
                  "non-local destinations (the model's rules match any port)")


def host_veth(namespace: str, pod: str) -> str:
    """The host-side veth of a pod in transparent mode: ``azv`` + the first 11 hex digits of
    sha1("<namespace>.<pod>")."""
    return "azv" + hashlib.sha1(f"{namespace}.{pod}".encode()).hexdigest()[:11]


def default_windows_conf(plan: Plan, overlay: bool, name: str) -> dict[str, Any]:
    """The Windows conf AKS ships (azure-windows.conflist), filled from the plan: no SNAT to the VNet (or, in
    overlay, to the pod CIDR) and the service CIDR; service traffic through VFP; cluster DNS then Azure DNS."""
    near = [str(plan.cluster_cidr)] if overlay else [str(s.cidr) for s in plan.underlay.subnets]
    svc = str(plan.service_cidr) if plan.service_cidr else None
    args: list[dict[str, Any]] = [{"Name": "EndpointPolicy", "Value": {
        "Type": "OutBoundNAT", "ExceptionList": near + ([svc] if svc else [])}}]
    if svc:
        args.append({"Name": "EndpointPolicy", "Value": {"Type": "ROUTE", "DestinationPrefix": svc,
                                                           "NeedEncap": True}})
    dns = [str(plan.dns_service_ip)] if plan.dns_service_ip else []
    return {"name": name, "type": "azure-vnet", "mode": "bridge",
            "dns": {"Nameservers": [*dns, AZURE_DNS], "Search": ["svc.cluster.local"]},
            "AdditionalArgs": args}


class AzureCniPlugin(NetworkPlugin):
    """``plugin: azure-cni``; settings under ``network.config`` (docs/azure-kubenet-calico.md):
    ``networkPluginMode`` (absent: node subnet; ``overlay``), ``podSubnet``, ``maxPods``, ``maxSurge``, ``mode``,
    ``name``. An azure-vnet conf in ``network.cni`` decides the mode (plugins/_azure_mode.py)."""

    name = "azure-cni"
    cluster_cidr = "ask"  # only the overlay mode gives pods the cluster CIDR (needs_cluster_cidr)
    # AKS runs azure-cns as the DaemonSet kube-system/azure-cns (container cns-container, image
    # …/containernetworking/azure-cns, no command) with its config in ConfigMap kube-system/cns-config, key
    # cns_config.json (Azure/azure-container-networking@cbd7560: test/integration/manifests/cns/daemonset-linux.yaml:
    # 1-46, test/integration/manifests/cnsconfig/azurecnioverlaylinuxconfigmap.yaml:1-36). Its
    # CNIConflistScenario decides the mode (settle). Node-subnet clusters without CNS run no daemon of the plugin's.
    daemon = Daemon(binaries=("azure-cns",), images=("azure-cns",))
    config_keys = (ConfigKey("cns_config.json", "config", os="linux", installed_by="azure-cns"),)

    @classmethod
    def settle(cls, network: NetworkSpec, problems: Problems) -> NetworkSpec:
        """A config read from azure-cns's cns_config.json: its CNIConflistScenario as the plan's
        ``networkPluginMode`` (the config's own mode fields win)."""
        conf = network.config
        scenario = conf.get("CNIConflistScenario")
        if not isinstance(scenario, str) or "networkPluginMode" in conf or "podSubnet" in conf:
            return network
        at = network.origin.at("config.CNIConflistScenario")
        if scenario in CNS_OVERLAY:
            return replace(network, config=freeze({**thaw(conf), "networkPluginMode": "overlay"}),
                           sources=(*network.sources, ("config", f"networkPluginMode overlay from azure-cns's "
                                                                 f"CNIConflistScenario {scenario}")))
        if scenario == "swift":
            problems.warn(at, "azure-cns runs the swift scenario: Azure CNI's pod-subnet mode, whose pod subnet "
                          "the dump does not name", "set spec.network.config.podSubnet to the name of the pods' "
                          "underlay subnet (and list that subnet under spec.underlay.subnets)")
        elif scenario in CNS_CILIUM:
            problems.warn(at, f"azure-cns runs the {scenario} scenario: Azure CNI powered by Cilium, whose data "
                          "plane (Cilium's eBPF) is not modelled; the model builds azure-vnet's",
                          "read the answers as Azure CNI's without Cilium")
        return network

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        assert plan.network is not None
        self.origin = plan.network.origin
        self.problems = problems
        f = Fields(thaw(plan.network.config), self.origin.at("config"), problems)
        plan_mode = f.str("networkPluginMode", default=None, choices=("overlay",))
        pod_subnet = f.str("podSubnet", default=None)
        self.conf: Mapping[str, Any] = win_bridge.delegate_conf(plan.network.cni, "azure-vnet") or {}
        cni_origin = self.origin.at(_azure_mode.conf_path(plan.network.cni))
        chosen = _azure_mode.decide(self.conf or None, cni_origin, plan_mode, pod_subnet, self.origin.at("config"),
                                    problems)
        self.mode, self.v4swift = chosen.mode, chosen.v4swift
        self.overlay = self.mode == "overlay"
        self.default_max_pods = f.int("maxPods", default=DEFAULT_MAX_PODS[self.mode], lo=AKS_MAX_PODS[0],
                                      hi=AKS_MAX_PODS[1]) or DEFAULT_MAX_PODS[self.mode]
        self.max_surge = f.int("maxSurge", default=1, lo=0) or 0
        linux_mode = f.str("mode", default="transparent")  # the cni conf's mode is the Windows one (bridge)
        self.net_name = f.str("name", default=None) or str(_hns.ci_get(self.conf, "name", NETWORK_NAME))
        if linux_mode != "transparent" and any(n.os == "linux" for n in plan.nodes):
            problems.error(self.origin.at("config.mode"), f"Linux mode {linux_mode!r} is not modelled",
                           "use `mode: transparent` (what AKS ships in azure-linux.conflist)")
        self._win_raw = (self.conf if _hns.ci_get(self.conf, "AdditionalArgs") is not None
                         else default_windows_conf(plan, self.overlay, self.net_name))
        self._win_origin = cni_origin if self._win_raw is self.conf else self.origin
        self.pod_subnet: UnderlaySubnet | None = None
        self._spans: dict[str, vnet.NodeIps] = {}
        if self.mode == "pod-subnet":
            self.pod_subnet = rules.find_pod_subnet(plan, pod_subnet, chosen.source, problems)
        if self.mode != "overlay" and plan.cluster_cidr is not None:
            where = ("secondary IPs of each node's VNet subnet" if self.mode == "node-subnet" else
                     f"addresses of the pod subnet {pod_subnet or '(unnamed)'}")
            problems.error(rules.spec_origin(plan, "spec.clusterCIDR"), f"Azure CNI in {self.mode} mode (from "
                           f"{chosen.source}) gives pods VNet addresses ({where}): no pod takes an address from "
                           f"{plan.cluster_cidr}", "remove spec.clusterCIDR: pods take VNet addresses; for pods "
                           "on a private range run Azure CNI Overlay (ipam {type: azure-cns, mode: overlay}; AKS "
                           "--network-plugin-mode overlay --pod-cidr)")
        for node in plan.nodes:
            mp = self.max_pods(node)
            if not AKS_MAX_PODS[0] <= mp <= AKS_MAX_PODS[1]:
                problems.error(node.origin.at("maxPods"), f"maxPods {mp} is outside AKS's bounds "
                               f"{AKS_MAX_PODS[0]}–{AKS_MAX_PODS[1]}", "pick a maxPods from 10 to 250")
            if not self.overlay and node.pod_cidr is not None:
                problems.warn(node.origin.at("podCIDR"), f"node {node.name!r} has a podCIDR, which Azure CNI in "
                              f"{self.mode} mode does not use: pods take VNet addresses",
                              "remove podCIDR, or use `networkPluginMode: overlay`")
            subnet = plan.underlay.subnet(node.subnet).cidr if node.subnet else None
            if subnet is not None and not self.overlay:
                why = dict(vnet.azure_reserved(subnet)).get(node.ip)
                if why:
                    problems.error(node.origin.at("ip"), f"{node.ip} is {why}: Azure never gives it to a NIC",
                                   f"use an address from {host(subnet, 4)} on")
        if self.overlay:
            rules.check_overlay(plan, problems)
        elif self.mode == "node-subnet":
            rules.check_node_subnet_sizes(plan, self.max_pods, self.max_surge, problems)
        else:
            rules.check_pod_mode_node_subnets(plan, self.max_surge, problems)

    # --- addressing -------------------------------------------------------------------------------

    def needs_cluster_cidr(self) -> bool:
        return self.overlay  # node-subnet and pod-subnet pods take VNet addresses; overlay pods the pod CIDR

    def max_pods(self, node: NodeSpec) -> int:
        """The node's own maxPods when the plan gives one, else ``config.maxPods`` (default: AKS's 30 in
        node-subnet mode, 250 in overlay, 110 in pod-subnet mode)."""
        return node.max_pods if node.max_pods_given else self.default_max_pods

    def max_nodes(self) -> int | None:
        """Node-subnet: how many nodes of 1 + maxPods the subnets holding nodes offer; pod-subnet: nodes of one
        address each, and no more than the pod subnet holds a first pool (1 + 16) for."""
        if self.overlay:
            return None
        used = {n.subnet for n in self.plan.nodes}
        per = 1 + self.default_max_pods if self.mode == "node-subnet" else 1
        fit = sum(vnet.usable(s.cidr.prefixlen) // per for s in self.plan.underlay.subnets if s.name in used)
        if self.pod_subnet is not None:
            fit = min(fit, vnet.usable(self.pod_subnet.cidr.prefixlen) // (1 + vnet.swift_pool(0, 250)))
        return fit

    def node_cidrs(self, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
        if self.overlay:
            return kube_node_cidrs(self.plan, problems)
        if self.pod_subnet is not None:
            self._spans = rules.assign_pod_subnet(self.plan, self.pod_subnet, self.max_pods, problems)
        elif self.mode == "node-subnet":
            self._spans = rules.assign_node_subnet(self.plan, self.max_pods, problems)
        return {}

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        if self.overlay:
            return vnet.overlay_range(pod_cidr, node.os) if pod_cidr is not None else None
        span = self._spans.get(node.name)
        if span is None or span.start is None or span.end is None:
            return None
        if self.pod_subnet is not None:
            subnet = self.pod_subnet.cidr
            nc = (span.start, f"primary IP of node {node.name}'s network container (CNS; SNAT address)")
            return PodRange(subnet, host(subnet, 1), span.start + 1, span.end,
                            tuple(sorted({**dict(vnet.azure_reserved(subnet)), nc[0]: nc[1]}.items())), "azure-cns",
                            vnet.SWIFT_NOTE, dynamic=True)
        subnet = self.plan.underlay.subnet(node.subnet).cidr
        reserved = sorted({**dict(vnet.azure_reserved(subnet)), node.ip: "primary IP of this node (host)",
                           **dict(span.skipped)}.items())
        return PodRange(subnet, host(subnet, 1), span.start, span.end, tuple(reserved), "azure-vnet-ipam",
                        vnet.CHOICE_NOTE)

    # --- facts ------------------------------------------------------------------------------------

    def roles(self, node: NodeSpec) -> NodeRoles:
        # pods take VNet (or overlay) addresses the Azure fabric routes: nothing is encapsulated on the node
        return NodeRoles("windows-l2bridge" if node.os == "windows" else "linux-routed", NONE,
                         kube_proxy(self.plan, node))

    def describe(self, node: NodeSpec) -> str:
        where = {"overlay": "overlay /24", "node-subnet": "VNet subnet",
                 "pod-subnet": f"pod subnet {self.pod_subnet.name if self.pod_subnet else ''}".rstrip()}[self.mode]
        if node.os == "windows":
            return f"azure-cni ({where}; HNS L2Bridge {self.net_name})"
        return f"azure-cni ({where}; transparent: pod /32 routes to azv veths)"

    @cached_property
    def windows_conf(self) -> _hns.WindowsConf:
        raw = {**self._win_raw, "policies": _hns.ci_get(self._win_raw, "AdditionalArgs") or []}
        return _hns.read_windows_conf(raw, self._win_origin, self.problems, self.net_name)

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        if node.os == "windows":
            return self._windows_facts(cluster, node)
        _, uplink, table = _linux.uplink(cluster.plan, node)
        devices = [uplink]
        for a in cluster.allocation.pods_on(node.name):
            if a.pod.host_network:
                continue
            veth = host_veth(a.pod.namespace, a.pod.name)
            devices.append(Device(veth, "veth", mtu=uplink.mtu, mac=HOST_VETH_MAC, owner="azure-vnet"))
            table.append(Route(IPv4Network(f"{a.ip}/32"), dev=veth, kind="host", owner="azure-vnet"))
        notes = [TRANSPARENT_NOTE] + ([OVERLAY_NOTE, OVERLAY_MASK_NOTE] if self.overlay else [])
        nat: tuple[NatRule, ...] = ()
        if self.pod_subnet is not None:
            table.insert(2, self._pod_subnet_route(cluster, node, uplink.name))
            nat = self._swift_nat(cluster, node)
            notes += [SWIFT_NOTE] + ([SWIFT_NAT_NOTE] if nat else [])
        return NodeFacts(node.name, "linux", tuple(devices), tuple(table), notes=tuple(notes), nat=nat)

    def _pod_subnet_route(self, cluster: Cluster, node: NodeSpec, dev: str) -> Route:
        """``<pod subnet> via <node subnet gateway>`` (SWIFT's setHostOptions, cni/network/invoker_cns.go:297-303,
        added on the transparent network's interface by network/network_linux.go:137-142)."""
        assert self.pod_subnet is not None
        gw = cluster.plan.underlay.subnet(node.subnet).gateway
        return Route(self.pod_subnet.cidr, via=gw, dev=dev, kind="pod-route", owner="azure-vnet")

    def _nc_primary(self, cluster: Cluster, node: NodeSpec) -> IPv4Address | None:
        rng = cluster.allocation.nodes[node.name].range
        return rng.start - 1 if rng is not None and self.pod_subnet is not None else None

    def _swift_nat(self, cluster: Cluster, node: NodeSpec) -> tuple[NatRule, ...]:
        """The SWIFT chain (POSTROUTING jumps to it): pods' DNS to Azure DNS leaves from the NC's primary IP,
        IMDS traffic from the node IP (invoker_cns.go:305-335)."""
        nc = self._nc_primary(cluster, node)
        if nc is None or self.pod_subnet is None:
            return ()
        pods = self.pod_subnet.cidr
        return (NatRule("SWIFT", "SNAT", src=pods, dst=IPv4Network(f"{AZURE_DNS}/32"), to=nc, owner="azure-vnet"),
                NatRule("SWIFT", "SNAT", src=pods, dst=IPv4Network(f"{AZURE_IMDS}/32"), to=node.ip,
                        owner="azure-vnet"))

    def _windows_nat(self, cluster: Cluster, node: NodeSpec) -> tuple[HnsPolicy, ...]:
        """executionMode v4swift outside overlay: two more OutBoundNAT endpoint policies, Azure DNS from the NC's
        primary IP and IMDS (getNATInfo, cni/network/network_windows.go:388-402), on Windows 1903 or newer
        (network_windows.go:378; network/policy/policy_windows.go:551-562)."""
        nc = self._nc_primary(cluster, node)
        if nc is None or not self.v4swift or (node.windows_build or WIN_DNS_NAT_BUILD) < WIN_DNS_NAT_BUILD:
            return ()
        return (policy("OutBoundNAT", VirtualIP=str(nc), Destinations=[AZURE_DNS]),
                policy("OutBoundNAT", Destinations=[AZURE_IMDS]))

    def _windows_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        conf = self.windows_conf
        subnet = cluster.plan.underlay.subnet(node.subnet)
        vnic = win_bridge.mgmt_vnic(node)
        devices = (Device(vnic, "vnic", (IPv4Interface(f"{node.ip}/{subnet.cidr.prefixlen}"),), subnet.mtu,
                          owner="hns"),)
        table = (Route(IPv4Network("0.0.0.0/0"), via=subnet.gateway, dev=vnic, kind="default", owner="host"),
                 Route(subnet.cidr, dev=vnic, scope="link", kind="connected", owner="host", src=node.ip))
        rng = cluster.allocation.nodes[node.name].range
        if rng is None:
            return NodeFacts(node.name, "windows", devices, table, hns_api=2)
        prefix = rng.subnet
        network = HnsNetwork(self.net_name, "L2Bridge", prefix, host(prefix, 1), node.ip, node.ext_interface,
                             flags=8, owner="azure-vnet")  # EnableNonPersistent
        endpoints = []
        for a in cluster.allocation.pods_on(node.name):
            if a.pod.host_network:
                continue
            policies = conf.policies
            proto = 0  # getPoliciesFromRuntimeCfg sets it for TCP and UDP only; others keep the previous one's
            for port in a.pod.ports:
                if port.host_port:
                    proto = PROTOCOLS[port.protocol.lower()] if port.protocol in ("TCP", "UDP") else proto
                    # Flags 1 = hcn NatFlagsLocalRoutedVip on every IPv4 mapping; no hostIP, so no VIP (omitempty)
                    policies += (policy("PortMapping", **({"Protocol": proto} if proto else {}),
                                        InternalPort=port.port, ExternalPort=port.host_port, Flags=1),)
            endpoints.append(HnsEndpoint(f"{a.pod.namespace}.{a.pod.name}-eth0", self.net_name, a.ip,
                                         prefix.prefixlen, host(prefix, 1), policies=policies,
                                         dns_servers=conf.dns_servers, dns_search=conf.dns_search,
                                         pod=a.pod.key, owner="azure-vnet"))
        nat = self._windows_nat(cluster, node)
        if nat:  # after the conf's policies and the port mappings, as azure-vnet orders them
            endpoints = [replace(e, policies=e.policies + nat) for e in endpoints]
        notes = (L2BRIDGE_NOTE,) + ((OVERLAY_NOTE, OVERLAY_MASK_NOTE) if self.overlay else
                                    (SWIFT_NOTE,) if self.pod_subnet is not None else ())
        return NodeFacts(node.name, "windows", devices, table, hns_networks=(network,),
                         hns_endpoints=tuple(endpoints), hns_api=2, notes=notes)

    def underlay_routes(self, cluster: Cluster) -> tuple[Route, ...]:
        """Overlay: each node's /24 → its node IP in the VNet's routing domain; node-subnet and pod-subnet: none
        (the VNet delivers each pod address to the NIC holding it)."""
        if not self.overlay:
            return ()
        return tuple(Route(a.pod_cidr, via=cluster.plan.node(n).ip, kind="pod-route", owner="azure-overlay",
                           name=n) for n, a in cluster.allocation.nodes.items() if a.pod_cidr is not None)


__all__ = ["AzureCniPlugin", "host_veth"]
