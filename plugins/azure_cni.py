"""Azure CNI (azure-vnet): pods on VNet addresses (node-subnet mode) or on a private pod CIDR (overlay).

Node-subnet mode: every pod IP is a secondary IP configuration of its node's NIC, taken from the node's VNet
subnet; the pods' gateway is the subnet's .1 and no node or route table holds pod routes — the VNet
delivers. Overlay mode (``networkPluginMode: overlay``): each node gets a /24 of the pod CIDR, there is no
encapsulation, and the Azure networking stack routes each /24 to its node (modelled as underlay routes).

Linux nodes run the plugin in transparent mode: a veth pair per pod, the host side ``azv<hash>`` with MAC
aa:aa:aa:aa:aa:aa, a host route ``<podIP>/32 dev azv…`` and proxy ARP; inside the pod the default route goes
via 169.254.1.1. Windows nodes get an HNS L2Bridge network named after the conf (``azure``) on the VNet
subnet, gateway .1, and endpoint policies from the conf's AdditionalArgs (OutBoundNAT exceptions for the
VNet and the service CIDR, a ROUTE with NeedEncap to the service CIDR).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from ipaddress import IPv4Interface, IPv4Network
from typing import Any

from cnimodel.plugins import _azure_ipam as vnet
from cnimodel.plugins import _hns, _linux, win_bridge

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device, HnsEndpoint, HnsNetwork, NodeFacts, Route
from cnimodel.hns import PROTOCOLS, policy
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.ipam.engine import kube_node_cidrs
from cnimodel.net import host
from cnimodel.plan import NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import Fields, thaw
from cnimodel.plugin import NetworkPlugin

NETWORK_NAME = "azure"
HOST_VETH_MAC = "aa:aa:aa:aa:aa:aa"  # defaultHostVethHwAddr in transparent mode
VIRTUAL_GATEWAY = "169.254.1.1"
AZURE_DNS = "168.63.129.16"
DEFAULT_MAX_PODS = {"node-subnet": 30, "overlay": 250}
AKS_MAX_PODS = (10, 250)
TRANSPARENT_NOTE = (f"transparent mode, inside each pod: the kernel's subnet route is deleted, "
                    f"{VIRTUAL_GATEWAY} dev eth0 scope link, default via {VIRTUAL_GATEWAY} dev eth0, neighbour "
                    f"{VIRTUAL_GATEWAY} lladdr {HOST_VETH_MAC} (the host veth); host veths answer ARP (proxy_arp=1)")
L2BRIDGE_NOTE = ("Azure CNI creates an L2Bridge HNS network; whether the Azure host hair-pins it as L2Tunnel is "
                 "Azure SDN behaviour the model does not see (unverified)")
OVERLAY_NOTE = ("overlay: the Azure networking stack routes each node's /24 to the node (no encapsulation, no "
                "user routes); pods reach VNet addresses through SNAT to the node IP")


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
    ``networkPluginMode`` (absent: node subnet; ``overlay``), ``maxPods``, ``maxSurge``, ``mode``, ``name``."""

    name = "azure-cni"

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        assert plan.network is not None
        self.origin = plan.network.origin
        self.problems = problems
        f = Fields(thaw(plan.network.config), self.origin.at("config"), problems)
        mode = f.str("networkPluginMode", default=None, choices=("overlay",))
        self.overlay = mode == "overlay"
        self.kind = "overlay" if self.overlay else "node-subnet"
        self.default_max_pods = f.int("maxPods", default=DEFAULT_MAX_PODS[self.kind], lo=AKS_MAX_PODS[0],
                                      hi=AKS_MAX_PODS[1]) or DEFAULT_MAX_PODS[self.kind]
        self.max_surge = f.int("maxSurge", default=1, lo=0) or 0
        self.conf: Mapping[str, Any] = win_bridge.delegate_conf(plan.network.cni, "azure-vnet") or {}
        cni_origin = self.origin.at("cni")
        linux_mode = f.str("mode", default="transparent")  # the cni conf's mode is the Windows one (bridge)
        self.net_name = f.str("name", default=None) or str(_hns.ci_get(self.conf, "name", NETWORK_NAME))
        if linux_mode != "transparent" and any(n.os == "linux" for n in plan.nodes):
            problems.error(self.origin.at("config.mode"), f"Linux mode {linux_mode!r} is not modelled",
                           "use `mode: transparent` (what AKS ships in azure-linux.conflist)")
        self._win_raw = (self.conf if _hns.ci_get(self.conf, "AdditionalArgs") is not None
                         else default_windows_conf(plan, self.overlay, self.net_name))
        self._win_origin = cni_origin if self._win_raw is self.conf else self.origin
        self._spans: dict[str, vnet.NodeIps] = {}
        for node in plan.nodes:
            mp = self.max_pods(node)
            if not AKS_MAX_PODS[0] <= mp <= AKS_MAX_PODS[1]:
                problems.error(node.origin.at("maxPods"), f"maxPods {mp} is outside AKS's bounds "
                               f"{AKS_MAX_PODS[0]}–{AKS_MAX_PODS[1]}", "pick a maxPods from 10 to 250")
            if not self.overlay and node.pod_cidr is not None:
                problems.warn(node.origin.at("podCIDR"), f"node {node.name!r} has a podCIDR, which Azure CNI in "
                              "node-subnet mode does not use: pods take VNet addresses",
                              "remove podCIDR, or use `networkPluginMode: overlay`")
            subnet = plan.underlay.subnet(node.subnet).cidr if node.subnet else None
            if subnet is not None and not self.overlay:
                why = dict(vnet.azure_reserved(subnet)).get(node.ip)
                if why:
                    problems.error(node.origin.at("ip"), f"{node.ip} is {why}: Azure never gives it to a NIC",
                                   f"use an address from {host(subnet, 4)} on")
        if self.overlay:
            self._check_overlay(problems)
        else:
            self._check_sizes(problems)

    # --- addressing -------------------------------------------------------------------------------

    def needs_cluster_cidr(self) -> bool:
        return self.overlay  # node-subnet pods take VNet addresses; overlay pods need the private pod CIDR

    def max_pods(self, node: NodeSpec) -> int:
        """The node's own maxPods when the plan gives one, else ``config.maxPods``
        (default 30 in node-subnet mode, 250 in overlay: AKS's defaults)."""
        return node.max_pods if node.max_pods_given else self.default_max_pods

    def max_nodes(self) -> int | None:
        """Node-subnet: how many nodes of 1 + maxPods addresses the subnets holding nodes offer."""
        if self.overlay:
            return None
        used = {n.subnet for n in self.plan.nodes}
        return sum(vnet.usable(s.cidr.prefixlen) // (1 + self.default_max_pods)
                   for s in self.plan.underlay.subnets if s.name in used)

    def _subnet_origin(self, index: int, field: str = "cidr") -> Origin:
        return Origin(self.origin.file, self.origin.document, f"spec.underlay.subnets[{index}].{field}")

    def _check_sizes(self, problems: Problems) -> None:
        """AKS's rule: (nodes + surge) × (1 + maxPods) addresses must fit the subnet's usable ones."""
        for i, s in enumerate(self.plan.underlay.subnets):
            pods = [self.max_pods(n) for n in self.plan.nodes if n.subnet == s.name]
            if not pods:
                continue
            needed = vnet.addresses_needed(pods, self.max_surge, max(pods))
            have = vnet.usable(s.cidr.prefixlen)
            if needed <= have:
                continue
            fit = vnet.smallest_prefix(needed)
            per = f"1 + maxPods {pods[0]}" if len(set(pods)) == 1 else "1 + each node's maxPods"
            hint = (f"use a /{fit} or larger subnet (a /{fit} offers {vnet.usable(fit):,}), lower maxPods, or "
                    "spread the nodes over more subnets") if fit else "split the nodes over several subnets"
            problems.error(self._subnet_origin(i), f"subnet {s.name} ({s.cidr}) offers {have:,} addresses "
                           f"(Azure reserves 5) but Azure CNI needs {needed:,}: ({len(pods)} nodes + "
                           f"{self.max_surge} surge) × ({per})", hint)

    def _check_overlay(self, problems: Problems) -> None:
        if self.plan.cluster_cidr is None:
            problems.error(self.origin.at("config.networkPluginMode"), "overlay needs a pod CIDR",
                           "set spec.clusterCIDR (AKS --pod-cidr, e.g. 10.244.0.0/16)")
            return
        if self.plan.node_cidr_mask_size != 24:
            problems.error(Origin(self.origin.file, self.origin.document, "spec.nodeCIDRMaskSize"),
                           f"Azure CNI overlay gives every node a /24, not a /{self.plan.node_cidr_mask_size}",
                           "set nodeCIDRMaskSize: 24 or leave it out")
        for i, s in enumerate(self.plan.underlay.subnets):
            if s.cidr.overlaps(self.plan.cluster_cidr):
                problems.error(self._subnet_origin(i), f"the pod CIDR {self.plan.cluster_cidr} overlaps VNet "
                               f"subnet {s.name} ({s.cidr})", "pick a pod CIDR outside the VNet")

    def node_cidrs(self, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
        if self.overlay:
            return kube_node_cidrs(self.plan, problems)
        self._spans = self._assign(problems)
        return {}

    def _assign(self, problems: Problems) -> dict[str, vnet.NodeIps]:
        out: dict[str, vnet.NodeIps] = {}
        for s in self.plan.underlay.subnets:
            nodes = [n for n in self.plan.nodes if n.subnet == s.name]
            primaries = {int(n.ip): n.name for n in nodes}
            spans = vnet.assign_secondaries(s.cidr, [(n.name, self.max_pods(n)) for n in nodes], primaries)
            for n in nodes:
                if spans[n.name].count < self.max_pods(n):
                    problems.error(n.origin, f"subnet {s.name} ({s.cidr}) has no {self.max_pods(n)} free "
                                   f"addresses left for node {n.name!r}'s secondary IPs "
                                   f"({spans[n.name].count} found)", "use a larger subnet or lower maxPods")
            out.update(spans)
        return out

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        if self.overlay:
            if pod_cidr is None:
                return None
            return replace(host_local_range(pod_cidr), ipam="azure-cns",
                           note="overlay: pod IPs from the node's /24; the model keeps .0, .1 and the broadcast "
                                "out and hands out the lowest free address (Azure's choice is unordered)")
        span = self._spans.get(node.name)
        if span is None or span.start is None or span.end is None:
            return None
        subnet = self.plan.underlay.subnet(node.subnet).cidr
        reserved = sorted({**dict(vnet.azure_reserved(subnet)), node.ip: "primary IP of this node (host)",
                           **dict(span.skipped)}.items())
        return PodRange(subnet, host(subnet, 1), span.start, span.end, tuple(reserved), "azure-vnet-ipam",
                        vnet.CHOICE_NOTE)

    # --- facts ------------------------------------------------------------------------------------

    def describe(self, node: NodeSpec) -> str:
        where = "overlay /24" if self.overlay else "VNet subnet"
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
        notes = [TRANSPARENT_NOTE] + ([OVERLAY_NOTE] if self.overlay else [])
        return NodeFacts(node.name, "linux", tuple(devices), tuple(table), notes=tuple(notes))

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
        notes = (L2BRIDGE_NOTE,) + ((OVERLAY_NOTE,) if self.overlay else ())
        return NodeFacts(node.name, "windows", devices, table, hns_networks=(network,),
                         hns_endpoints=tuple(endpoints), hns_api=2, notes=notes)

    def underlay_routes(self, cluster: Cluster) -> tuple[Route, ...]:
        """Overlay: each node's /24 → its node IP in the VNet's routing domain; node-subnet: none."""
        if not self.overlay:
            return ()
        return tuple(Route(a.pod_cidr, via=cluster.plan.node(n).ip, kind="pod-route", owner="azure-overlay",
                           name=n) for n, a in cluster.allocation.nodes.items() if a.pod_cidr is not None)


__all__ = ["AzureCniPlugin", "host_veth"]
