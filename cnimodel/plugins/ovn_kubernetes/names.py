"""How ovn-kubernetes names and addresses its Northbound objects (pkg/types/const.go, pkg/util, libovsdb/ops).

Every name here is ovnkube's: node switches are named after their nodes, the cluster router ``ovn_cluster_router``,
gateway routers ``GR_<node>``; port groups and address sets are ``a`` + the decimal FNV-1a 64 hash of an
owner key (HashForOVN, pkg/util/util.go:281-290; the key built by DbObjectIDs.getUniqueID,
pkg/libovsdb/ops/db_object_ids.go:260-270). Citations for each constant are in docs/ovn-kubernetes.md.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

CONTROLLER = "default-network-controller"  # pkg/ovn/default_network_controller.go:49
CLUSTER_ROUTER = "ovn_cluster_router"      # const.go:40
JOIN_SWITCH = "join"                       # const.go:41
TRANSIT_SWITCH = "transit_switch"          # const.go:70
MGMT_INTERFACE = "ovn-k8s-mp0"             # const.go:12-21
CLUSTER_LB_GROUP = "clusterLBGroup"        # const.go:191-193
CLUSTER_SWITCH_LB_GROUP = "clusterSwitchLBGroup"
CLUSTER_ROUTER_LB_GROUP = "clusterRouterLBGroup"
PHYSNET = "physnet"                        # const.go:25
DEFAULT_ALLOW_PRIORITY = 1001              # const.go:83-85
DEFAULT_DENY_PRIORITY = 1000
DEFAULT_ACL_TIER = 2                       # const.go:99
NODE_SUBNET_POLICY_PRIORITY = 1004         # const.go:109
HYBRID_OVERLAY_SUBNET_PRIORITY = 1002      # const.go:112
HYBRID_OVERLAY_VNI = 4097                  # hybrid-overlay/pkg/types/types.go:26


def hash_for_ovn(text: str) -> str:
    """HashForOVN: ``a`` + FNV-1a 64 of the text, in decimal."""
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"a{h}"


def mac_of(ip: IPv4Address) -> str:
    """IPAddrToHWAddr (pkg/util/net.go:101-111): 0a:58 followed by the IPv4 address's four bytes."""
    return "0a:58:" + ":".join(f"{b:02x}" for b in ip.packed)


def gateway_ip(subnet: IPv4Network) -> IPv4Address:
    """GetNodeGatewayIfAddr: the subnet's .1, the cluster router's port (net.go:38-47)."""
    return subnet.network_address + 1


def management_ip(subnet: IPv4Network) -> IPv4Address:
    """GetNodeManagementIfAddr: .2, the management port ovn-k8s-mp0 (net.go:49-57)."""
    return subnet.network_address + 2


def hybrid_overlay_ip(subnet: IPv4Network) -> IPv4Address:
    """GetNodeHybridOverlayIfAddr: .3, the hybrid overlay's distributed-router address (net.go:59-67)."""
    return subnet.network_address + 3


def switch_to_router(switch: str) -> str:
    return f"stor-{switch}"


def router_to_switch(switch: str) -> str:
    return f"rtos-{switch}"


def gateway_router(node: str) -> str:
    return f"GR_{node}"


def external_switch(node: str) -> str:
    return f"ext_{node}"


def management_port(node: str) -> str:
    """The management port's logical switch port (GetK8sMgmtIntfName, pkg/util/util.go:116-118)."""
    return f"k8s-{node}"


def hybrid_overlay_port(node: str) -> str:
    """GetHybridOverlayPortName: the ``int-`` prefix (const.go:9)."""
    return f"int-{node}"


def pod_port(namespace: str, name: str) -> str:
    """GetLogicalPortName (pkg/util/util.go:418-442): ``<namespace>_<pod>``."""
    return f"{namespace}_{name}"


def bridge_of(interface: str) -> str:
    """GetBridgeName (pkg/util/nicstobridge.go:22-24): the OVS bridge that takes over a NIC."""
    return f"br{interface}"


def primary_id(owner_type: str, *values: str) -> str:
    """DbObjectIDs' primary ID: controller, owner type and the type's key values, joined by ``:``."""
    return ":".join((CONTROLLER, owner_type, *values))


def cluster_port_group(base: str = "clusterPortGroup") -> str:
    """getClusterPortGroupName (base_network_controller.go:790-801), owner type Cluster."""
    return hash_for_ovn(primary_id("Cluster", base))


def policy_port_group(namespace: str, name: str) -> str:
    """getNetworkPolicyPGName (base_network_controller_policy.go:903-912): owner NetworkPolicy, ``ns:name``."""
    return hash_for_ovn(primary_id("NetworkPolicy", f"{namespace}:{name}"))


def default_deny_port_group(namespace: str, direction: str) -> str:
    """defaultDenyPortGroupName (base_network_controller_policy.go:364-376): owner NetpolNamespace, the
    namespace and ``Ingress``/``Egress``."""
    return hash_for_ovn(primary_id("NetpolNamespace", namespace, direction))


def pod_selector_address_set(key: str) -> str:
    """A peer pod-selector address set (pod_selector_address_set.go:632-637; address_set.go:258-266, :376):
    owner PodSelector, the selector key and the IP family ``v4``."""
    return hash_for_ovn(primary_id("PodSelector", key, "v4"))


def namespace_address_set(namespace: str) -> str:
    """A namespace's address set (base_network_controller_namespace.go:64-69): owner Namespace, ``v4``."""
    return hash_for_ovn(primary_id("Namespace", namespace, "v4"))


def lb_name(namespace: str, service: str, protocol: str, scope: str) -> str:
    """makeLBName (services/lb_config.go:236-240): ``Service_<ns>/<name>_<PROTO>_<scope>``."""
    return f"Service_{namespace}/{service}_{protocol}_{scope}"
