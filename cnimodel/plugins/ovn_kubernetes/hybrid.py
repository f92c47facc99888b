"""Windows nodes in an ovn-kubernetes cluster: the hybrid overlay.

A node matched by ``no-hostsubnet-nodes`` runs no OVN. With ``[hybridoverlay] enabled`` its subnet comes from
``[hybridoverlay] cluster-subnets`` (annotation ``k8s.ovn.org/hybrid-overlay-node-subnet``) and
hybrid-overlay-node.exe builds an HNS Overlay network ``OVNKubernetesHybridOverlayNetwork`` over it: gateway .1,
VSID 4097, the configured VXLAN port, and one RemoteSubnetRoute per other node (its subnet, its node IP, its
distributed-router MAC, isolation ID 4097) (hybrid-overlay/pkg/controller/ho_node_windows.go:24, :164-216,
:264-344; types.go:16-27). Each Linux node answers on its br-ext ``ext-vxlan`` port (remote_ip=flow, key=flow,
dst_port = the VXLAN port; ovn_node_linux.go:30-32, :576-582) behind the OVN port ``int-<node>`` whose MAC is the
node's DR MAC. Pods get win-overlay endpoints from the CNI conf WMCO writes (windows-machine-config-operator
pkg/nodeconfig/payload/payload.go:149-213); kube-proxy (winkernel) runs on these nodes with a source VIP.

The Windows side reuses cnimodel's win-overlay model (plugins/win_overlay.py) with the hybrid overlay's VTEPs.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from ipaddress import IPv4Network

from cnimodel.cluster import Cluster
from cnimodel.dataplane import NodeFacts, Vtep
from cnimodel.plan import NodeSpec, Plan, Problems
from cnimodel.plugins import _hns, win_overlay
from cnimodel.plugins.flannel_vxlan import OVERHEAD, derived_mac
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.config import OvnkubeConfig
from cnimodel.plugins.ovn_kubernetes.nodes import HYBRID_DR_MAC, OvnNode

NETWORK = "OVNKubernetesHybridOverlayNetwork"  # ho_node_windows.go:24
OWNER = "hybrid-overlay"


def cni_conf(network: str, service_cidrs: tuple[IPv4Network, ...]) -> dict[str, object]:
    """WMCO's win-overlay conf for the hybrid overlay (payload.go:149-199): host-local over the HNS network's
    subnet (filled per node), OutBoundNAT except the service network, SDNRoute the service network through VFP,
    the node's ProviderAddress (added per endpoint by win-overlay itself)."""
    svc = str(service_cidrs[0]) if service_cidrs else ""
    return {"cniVersion": "0.2.0", "name": network, "type": "win-overlay", "apiVersion": 2,
            "capabilities": {"portMappings": True, "dns": True}, "ipam": {"type": "host-local"},
            "policies": [
                {"name": "EndpointPolicy", "value": {"type": "OutBoundNAT", "settings": {
                    "exceptionList": [svc], "destinationPrefix": "", "needEncap": False}}},
                {"name": "EndpointPolicy", "value": {"type": "SDNRoute", "settings": {
                    "exceptionList": [], "destinationPrefix": svc, "needEncap": True}}}]}


class HybridOverlay:
    """The hybrid overlay's VXLAN endpoints and the Windows nodes' facts."""

    def __init__(self, plan: Plan, config: OvnkubeConfig, nodes: dict[str, OvnNode], problems: Problems) -> None:
        self.plan = plan
        self.config = config
        self.nodes = nodes
        self.problems = problems
        self._vteps: dict[str, Vtep | None] = {}

    @cached_property
    def conf(self) -> _hns.WindowsConf:
        assert self.plan.network is not None
        conf = _hns.read_windows_conf(cni_conf(NETWORK, self.config.service_cidrs),
                                      self.plan.network.origin.at("config"), self.problems, NETWORK, "win-overlay")
        return replace(conf, runtime_dns=True, port_mappings=True)  # the conf's capabilities (payload.go:155-158)

    def vtep(self, name: str) -> Vtep | None:
        """Node ``name``'s hybrid-overlay VXLAN endpoint: br-ext on a Linux node (its DR MAC the int-<node> port's,
        IPAddrToHWAddr of .3), the HNS Overlay network on a Windows node (its DR MAC HNS's: the annotation when
        the plan has it, else derived)."""
        if name in self._vteps:
            return self._vteps[name]
        n = self.nodes.get(name)
        node = self.plan.node(name)
        v: Vtep | None = None
        if n is not None and n.subnet is not None and n.role in ("ovn", "hybrid"):
            mtu = self.plan.underlay.subnet(node.subnet).mtu
            annotated = node.annotations.get(HYBRID_DR_MAC)
            if n.role == "ovn":
                mac = annotated or names.mac_of(names.hybrid_overlay_ip(n.subnet))
                v = Vtep(name, "linux", "ext-vxlan", names.HYBRID_OVERLAY_VNI, self.config.hybrid_vxlan_port,
                         mac.lower(), node.ip, self.config.mtu, mtu,
                         mac_source="annotation" if annotated else "derived", owner=OWNER)
            else:
                mac = (annotated or derived_mac(name, win_overlay.HYPERV_OUI)).replace("-", ":").lower()
                v = Vtep(name, "windows", NETWORK, names.HYBRID_OVERLAY_VNI, self.config.hybrid_vxlan_port, mac,
                         node.ip, mtu - OVERHEAD, mtu, mac_source="annotation" if annotated else "derived", owner=OWNER,
                         src_port_range=win_overlay.WINDOWS_SRC_PORTS)
        self._vteps[name] = v
        return v

    def windows_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        facts = win_overlay.overlay_facts(cluster, node, self.conf, self.vtep)
        notes = (f"hybrid overlay: hybrid-overlay-node.exe, HNS Overlay {NETWORK} (VSID {names.HYBRID_OVERLAY_VNI}, "
                 f"UDP {self.config.hybrid_vxlan_port}); no OVN on this node, so ovn-kubernetes enforces no "
                 "NetworkPolicy for its pods and kube-proxy (winkernel) implements Services",)
        return replace(facts, notes=notes + facts.notes)
