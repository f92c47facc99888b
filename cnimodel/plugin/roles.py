"""What a plugin states per node: who forwards pod traffic and how, what the packets are wrapped in between
nodes, and who implements Services. The core asks these; it never assumes a bridge, VXLAN or kube-proxy.

Addressing is its own small protocol (``cnimodel.plugin.ipam.Addressing``) and policy enforcement its own
answer (``NetworkPlugin.policy_enforcement``): both existed before the roles and keep their shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cnimodel.encapsulation import NONE, EncapKind
from cnimodel.plan import NodeSpec, Plan

# Forwarding models, by the name a node's roles use. The set is open (a plugin may name its own, e.g. "ovn");
# these are the ones the built-in plugins state.
FORWARDING: dict[str, str] = {
    "linux-bridge": "pods on a Linux bridge (cni0, cbr0, azure0); the host routes between the bridge and its uplink",
    "linux-routed": "each pod on its own veth with a /32 host route (the calico CNI, Azure CNI's transparent mode)",
    "windows-l2bridge": "HNS L2Bridge: pods on the vSwitch, their frames sent with the host's MAC (win-bridge, "
                        "sdnbridge, wincni, Azure CNI)",
    "windows-l2tunnel": "HNS L2Tunnel: every pod frame goes through the host's vSwitch to the fabric (Azure CNI)",
    "windows-overlay": "HNS Overlay: VFP encapsulates traffic to remote pod subnets (win-overlay, sdnoverlay)",
}

KubeProxyMode = Literal["iptables", "ipvs", "nftables", "winkernel"]


@dataclass(frozen=True)
class ServiceRole:
    """Who implements Services on a node: kube-proxy in one of its modes, or the network plugin itself (its
    own load balancers, no kube-proxy: ovn-kubernetes, Cilium's kube-proxy replacement)."""

    by: Literal["kube-proxy", "plugin"]
    mode: KubeProxyMode | None = None

    def __str__(self) -> str:
        return f"kube-proxy {self.mode}" if self.by == "kube-proxy" else "the network plugin"


@dataclass(frozen=True)
class NodeRoles:
    """One node's roles as its network plugin states them (``NetworkPlugin.roles``).

    ``forwarding`` names the forwarding model (a key of ``FORWARDING`` or the plugin's own name);
    ``encapsulation`` the kind packets to other nodes' pods are wrapped in (``NONE`` when they are routed as
    they are), whose numbers the node's tunnel endpoint carries; ``services`` who implements Services.
    """

    forwarding: str
    encapsulation: EncapKind = NONE
    services: ServiceRole = ServiceRole("kube-proxy", "iptables")


def kube_proxy(plan: Plan, node: NodeSpec) -> ServiceRole:
    """kube-proxy as the plan runs it on ``node``: winkernel on Windows, else the mode of ``spec.kubeProxy``
    (default iptables; cnimodel.services reports a mode it does not model)."""
    if node.os == "windows":
        return ServiceRole("kube-proxy", "winkernel")
    mode = plan.kube_proxy.get("mode") if plan.kube_proxy else None
    return ServiceRole("kube-proxy", mode if mode in ("ipvs", "nftables") else "iptables")  # type: ignore[arg-type]


__all__ = ["FORWARDING", "KubeProxyMode", "NodeRoles", "ServiceRole", "kube_proxy"]
