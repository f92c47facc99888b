"""Services → what kube-proxy programs on a node: HNS load balancers (winkernel) and iptables rules.

- ``catalog(cluster)``: every Service port with its endpoints (EndpointSlices, Endpoints, or selectors).
- ``winkernel_view(cluster, node)``: HNS remote endpoints and LoadBalancers of a Windows node.
- ``vfp_rules(view)``: a VFP-style listing of those LBs, with what is modelled marked.
- ``iptables_view(cluster, node)``: the nat/filter rules of a Linux node (kube-proxy iptables mode).
- ``decide(cluster, node, vip, port, proto)``: the load-balancing decision for trace.
"""

from cnimodel.services.catalog import Catalog, Frontend, catalog
from cnimodel.services.config import KubeProxyConfig
from cnimodel.services.model import Endpoint, Service, ServicePort
from cnimodel.services.winkernel import WinNode, winkernel_view

__all__ = [
    "Catalog", "Endpoint", "Frontend", "KubeProxyConfig", "Service", "ServicePort", "WinNode", "catalog",
    "winkernel_view",
]
