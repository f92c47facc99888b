"""What ovn-kubernetes knows about each node: its role, host subnet, ID, join address, chassis and gateway bridge.

The node annotations ovnkube writes are read when the plan carries them (a kubectl dump): node-subnets,
node-id, node-chassis-id, l3-gateway-config's mac-address, the hybrid overlay's node subnet and DR MAC.
Where the plan has none the model derives them: IDs and subnets as the cluster manager allocates them
(subnets.py), a chassis UUID from the node name, the gateway bridge MAC from the node IP (the NIC's MAC is
not in a plan). docs/ovn-kubernetes.md lists each with its source.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from cnimodel.plan import NodeSpec, Plan, Problems
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.config import OvnkubeConfig
from cnimodel.plugins.ovn_kubernetes.subnets import (
    FIRST_NODE_ID,
    HYBRID_NODE_SUBNET,
    NODE_ID,
    SubnetAllocator,
    annotated_subnet,
    generate_ip,
)

CHASSIS_ID = "k8s.ovn.org/node-chassis-id"
L3_GATEWAY_CONFIG = "k8s.ovn.org/l3-gateway-config"
HYBRID_DR_MAC = "k8s.ovn.org/hybrid-overlay-distributed-router-gateway-mac"
HYBRID_DR_IP = "k8s.ovn.org/hybrid-overlay-distributed-router-gateway-ip"


@dataclass(frozen=True)
class OvnNode:
    """One node as ovn-kubernetes sees it. ``role``: ``ovn`` (ovnkube-node runs: node switch, gateway router),
    ``hybrid`` (matched by no-hostsubnet-nodes: a hybrid-overlay node, Windows), or ``none`` (no pod network)."""

    name: str
    role: str
    subnet: IPv4Network | None
    subnet_source: str
    node_id: int
    join_ip: IPv4Address | None
    transit_ip: IPv4Address | None
    chassis: str
    node_ip: IPv4Interface
    next_hop: IPv4Address | None
    bridge: str
    bridge_mac: str
    derived: tuple[str, ...] = ()  # which values the model derived (not in the plan)

    @property
    def switch(self) -> str:
        return self.name


def os_labels(node: NodeSpec) -> dict[str, str]:
    """The node's labels with the ones the kubelet always sets (kubernetes.io/os, beta.kubernetes.io/os)."""
    return {"kubernetes.io/os": node.os, "beta.kubernetes.io/os": node.os, **dict(node.labels)}


def matches_selector(text: str, labels: Mapping[str, str]) -> bool | None:
    """A label selector in its string form (``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)``,
    ``k notin (a,b)``; comma-separated, ANDed), as metav1.ParseToLabelSelector reads ``no-hostsubnet-nodes``.
    None: the text is not a selector this reader knows."""
    if not text.strip():
        return False
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for part in (p.strip() for p in parts):
        words = part.split()
        if len(words) >= 3 and words[1] in ("in", "notin"):
            values = {v.strip() for v in part.split("(", 1)[-1].rstrip(")").split(",")}
            inside = labels.get(words[0]) in values
            if inside != (words[1] == "in"):
                return False
        elif "!=" in part:
            k, v = (s.strip() for s in part.split("!=", 1))
            if labels.get(k) == v:
                return False
        elif "=" in part:
            k, v = (s.strip() for s in part.replace("==", "=").split("=", 1))
            if labels.get(k) != v:
                return False
        elif part.startswith("!"):
            if part[1:].strip() in labels:
                return False
        elif part and all(c.isalnum() or c in "-_./" for c in part):
            if part not in labels:
                return False
        else:
            return None
    return True


def _mac(text: str | None) -> str | None:
    if not text:
        return None
    parts = text.replace("-", ":").lower().split(":")
    return ":".join(parts) if len(parts) == 6 and all(len(p) == 2 for p in parts) else None


def bridge_mac(node: NodeSpec) -> tuple[str, bool]:
    """The gateway bridge's MAC: l3-gateway-config's ``mac-address`` when annotated, else 02:<node IP> (derived)."""
    raw = node.annotations.get(L3_GATEWAY_CONFIG)
    if raw:
        try:
            mac = _mac((json.loads(raw).get("default") or {}).get("mac-address"))
        except (ValueError, AttributeError):
            mac = None
        if mac:
            return mac, False
    return "02:00:" + ":".join(f"{b:02x}" for b in node.ip.packed), True


def node_role(plan: Plan, node: NodeSpec, config: OvnkubeConfig) -> str:
    hybrid_node = matches_selector(config.no_hostsubnet_nodes, os_labels(node)) if config.no_hostsubnet_nodes else False
    if hybrid_node:
        return "hybrid" if config.hybrid_enabled else "none"
    return "none" if node.os == "windows" else "ovn"


def allocate_nodes(plan: Plan, config: OvnkubeConfig, problems: Problems) -> dict[str, OvnNode]:
    """Every node's OvnNode, in plan order: annotated or given subnets first, then the allocator's."""
    if config.no_hostsubnet_nodes and matches_selector(config.no_hostsubnet_nodes, {}) is None:
        problems.warn(plan.network.origin.at("config.kubernetes.no-hostsubnet-nodes") if plan.network else plan.origin,
                      f"no-hostsubnet-nodes {config.no_hostsubnet_nodes!r} is not a selector the model reads",
                      "write it as key=value (kubernetes.io/os=windows)")
    roles = {n.name: node_role(plan, n, config) for n in plan.nodes}
    ovn = SubnetAllocator(config.cluster_subnets)
    hybrid = SubnetAllocator(config.hybrid_subnets)
    given: dict[str, tuple[IPv4Network, str]] = {}
    for node in plan.nodes:
        role = roles[node.name]
        if role == "ovn":
            found = annotated_subnet(node.annotations)
            if isinstance(found, str):
                problems.error(node.at("annotations"), found, 'write it as {"default":["10.244.0.0/24"]}')
                continue
            if found is not None:
                given[node.name] = (found, "annotation k8s.ovn.org/node-subnets")
            elif node.pod_cidr is not None:
                given[node.name] = (node.pod_cidr, "plan")
            if node.name in given and not ovn.mark(given[node.name][0]):
                problems.error(node.at("podCIDR"), f"node {node.name!r}'s subnet {given[node.name][0]} is outside "
                               f"cluster-subnets ({', '.join(map(str, config.cluster_subnets))})",
                               "give the node a subnet inside [default] cluster-subnets, or leave it out")
        elif role == "hybrid":
            text = node.annotations.get(HYBRID_NODE_SUBNET) or (str(node.pod_cidr) if node.pod_cidr else None)
            if text:
                try:
                    net = IPv4Network(text)
                except ValueError:
                    problems.error(node.at("annotations"), f"{HYBRID_NODE_SUBNET} {text!r} is not a subnet",
                                   "write it like 10.132.0.0/24")
                    continue
                given[node.name] = (net, "annotation " + HYBRID_NODE_SUBNET if node.annotations.get(
                    HYBRID_NODE_SUBNET) else "plan")
                hybrid.mark(net)
    out: dict[str, OvnNode] = {}
    node_id = FIRST_NODE_ID
    for node in plan.nodes:
        role = roles[node.name]
        subnet, source = given.get(node.name, (None, "none"))
        if subnet is None and role == "ovn":
            subnet, source = ovn.allocate(), "ovnkube-cluster-manager"
            if subnet is None:
                problems.error(node.origin, f"error allocating network for node {node.name!r}: cluster-subnets "
                               f"({', '.join(map(str, config.cluster_subnets))}) are full "
                               f"({ovn.capacity()} host subnets)",
                               "widen [default] cluster-subnets or use a longer host prefix")
        elif subnet is None and role == "hybrid" and config.hybrid_subnets:
            subnet, source = hybrid.allocate(), "ovnkube-cluster-manager (hybrid overlay)"
            if subnet is None:
                problems.error(node.origin, f"error allocating hybrid overlay HostSubnet for node {node.name!r}: "
                               "[hybridoverlay] cluster-subnets are full", "widen [hybridoverlay] cluster-subnets")
        derived: list[str] = []
        nid_text = node.annotations.get(NODE_ID)
        nid = int(nid_text) if nid_text and nid_text.isdigit() else node_id
        if not (nid_text and nid_text.isdigit()):
            derived.append("node-id")
        node_id = max(node_id, nid) + 1
        chassis = node.annotations.get(CHASSIS_ID) or str(uuid.uuid5(uuid.NAMESPACE_URL, f"chassis/{node.name}"))
        if CHASSIS_ID not in node.annotations:
            derived.append("node-chassis-id")
        mac, mac_derived = bridge_mac(node)
        if mac_derived:
            derived.append("gateway bridge MAC")
        underlay = plan.underlay.subnet(node.subnet)
        out[node.name] = OvnNode(
            node.name, role, subnet, source, nid,
            generate_ip(config.join_subnet, nid) if role == "ovn" else None,
            generate_ip(config.transit_subnet, nid) if role == "ovn" else None,
            chassis, IPv4Interface(f"{node.ip}/{underlay.cidr.prefixlen}"), underlay.gateway,
            names.bridge_of(node.ext_interface), mac, tuple(derived))
    return out
