"""What an apply script puts on a Windows node, decided from the node's facts (docs/routes.md).

- HNS networks (with their policies), created when missing; on an existing HNS v2 network the per-peer
  ``RemoteSubnetRoute`` policies flannel adds at run time are added when missing;
- the host's endpoint on the network (``cbr0_ep``, the talk's ``cbr0``): created and attached to the host
  compartment, as the node's setup scripts do;
- NetRoutes that are neither the OS's own (the connected route of an address) nor the node's own
  configuration (its default route): flannel host-gw's pod routes, an operator's static routes;
- left to their owners and only counted: the pods' endpoints (the CNI, per pod), remote endpoints and the
  source VIP endpoint (kube-proxy).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cnimodel.apply.linux import NODE_OWNERS
from cnimodel.dataplane import HnsEndpoint, HnsNetwork, HnsPolicy, NodeFacts, Route

RUNTIME_NETWORK_POLICIES = ("RemoteSubnetRoute",)  # added to a live network one by one (flannel's per-peer routes)
LEFT_TO = {"pod": "the CNI (one endpoint per pod)", "remote": "kube-proxy (remote endpoints)",
           "source-vip": "kube-proxy (its source VIP endpoint)"}


@dataclass(frozen=True)
class WindowsScript:
    node: str
    plan: str
    hns_api: int
    networks: tuple[HnsNetwork, ...]
    host_endpoints: tuple[HnsEndpoint, ...]
    routes: tuple[Route, ...]
    left: tuple[tuple[str, int], ...]  # (endpoint role, count) left to their owners

    def runtime_policies(self, network: HnsNetwork) -> tuple[HnsPolicy, ...]:
        """The network's policies an existing network gets one by one (HNS v2 only)."""
        if self.hns_api != 2:
            return ()
        return tuple(p for p in network.policies if p.type in RUNTIME_NETWORK_POLICIES)


def windows_script(facts: NodeFacts, plan: str) -> WindowsScript:
    connected = {(r.dst, r.dev) for r in facts.routes if r.kind == "connected"}
    routes = tuple(r for r in facts.routes if (r.dst, r.dev) not in connected and r.owner not in NODE_OWNERS
                   and r.type == "unicast")
    hosts = tuple(e for e in facts.hns_endpoints if e.role == "host")
    left = Counter(e.role for e in facts.hns_endpoints if e.role != "host")
    return WindowsScript(facts.node, plan, facts.hns_api, facts.hns_networks, hosts, routes,
                         tuple(sorted(left.items())))
