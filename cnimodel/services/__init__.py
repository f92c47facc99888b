"""Services → what kube-proxy programs on a node: HNS load balancers (winkernel) and iptables rules.

- ``catalog(cluster)``: every Service port with its endpoints (EndpointSlices, Endpoints, or selectors).
- ``winkernel_view(cluster, node)``: HNS remote endpoints and LoadBalancers of a Windows node.
- ``vfp_rules(view)``: a VFP-style listing of those LBs, with what is modelled marked.
- ``iptables_view(cluster, node)``: the nat/filter rules of a Linux node (kube-proxy iptables mode);
  ``summary=True``: only the chains and endpoints each service port uses, without the rules.
- ``decide(cluster, node, vip, port, proto, src=...)``: the load-balancing decision, for trace.
"""

from cnimodel.services.catalog import Catalog, Frontend, catalog
from cnimodel.services.config import KubeProxyConfig
from cnimodel.services.decide import decide
from cnimodel.services.decision import Backend, LbDecision
from cnimodel.services.hnslb import HnsBackend, HnsLoadBalancer, WinkernelView, WinServicePort
from cnimodel.services.iptables import Rule, endpoint_chain, port_proto_hash, probability
from cnimodel.services.kubeproxy_iptables import IptablesView, LinuxNode, iptables_view
from cnimodel.services.kubeproxy_service import LinuxServicePort
from cnimodel.services.model import Endpoint, Service, ServicePort
from cnimodel.services.vfp import VfpRule, vfp_rules
from cnimodel.services.winkernel import WinNode, winkernel_view

__all__ = [
    "Backend", "Catalog", "Endpoint", "Frontend", "HnsBackend", "HnsLoadBalancer", "IptablesView", "KubeProxyConfig",
    "LbDecision", "LinuxNode", "LinuxServicePort", "Rule", "Service", "ServicePort", "VfpRule", "WinNode",
    "WinServicePort", "WinkernelView", "catalog", "decide", "endpoint_chain", "iptables_view", "port_proto_hash",
    "probability", "vfp_rules", "winkernel_view",
]
