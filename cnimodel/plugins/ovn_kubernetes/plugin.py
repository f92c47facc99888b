"""``plugin: ovn-kubernetes``: OVN's logical network for pods, GENEVE between nodes, Windows through the hybrid overlay.

Settings, in the order they win: the plan's ``network.config`` (ovnkube.conf's sections and keys), the
``ovnkube.conf`` key of a ConfigMap in the plan (OpenShift's ``ovnkube-config``), the dist ovnkube-node
DaemonSet's ``OVN_*`` environment (cnimodel.discover reads it through ``daemon``; values from the ``ovn-config``
ConfigMap resolve through its configMapKeyRefs), then ovnkube.sh's defaults when that DaemonSet is in the plan,
else ovnkube's own. The model is the single-zone topology (ovnkube-master/ovnkube-controller writing one
Northbound database); the interconnect's transit switch is reported, not built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Any

from cnimodel.dataplane import NodeFacts, PolicyEnforcement
from cnimodel.encapsulation import GENEVE, VXLAN
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.plan import NetworkSpec, NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import thaw
from cnimodel.plugin import NetworkPlugin, NodeRoles, ServiceRole, kube_proxy
from cnimodel.plugins import win_overlay
from cnimodel.plugins.ovn_kubernetes import host, names, nodes, topology
from cnimodel.plugins.ovn_kubernetes.config import ENV_KEYS, OvnkubeConfig, parse_gcfg, read_config
from cnimodel.plugins.ovn_kubernetes.hybrid import NETWORK, HybridOverlay
from cnimodel.plugins.ovn_kubernetes.nbmodel import Northbound
from cnimodel.sources import Daemon

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.plugin.findings import PluginCheck, PluginFinding
    from cnimodel.plugin.listing import Listing
    from cnimodel.plugins.ovn_kubernetes.forwarding import OvnGraph
    from cnimodel.plugins.ovn_kubernetes.services import OvnServices

CONF_KEY = "ovnkube.conf"
# dist/templates/ovnkube-node.yaml.j2:50 runs `/root/ovnkube.sh ovn-node`; the script reads OVN_* variables.
DAEMON = Daemon(binaries=("ovnkube.sh",), images=("ovn-daemonset", "ovn-kubernetes"), env_prefix="OVN",
                flags=tuple(ENV_KEYS), bool_flags=frozenset({"hybrid-overlay-enable", "enable-interconnect",
                                                            "admin-network-policy-enable",
                                                            "disable-snat-multiple-gws"}))


def _compose(plan: Plan, problems: Problems) -> tuple[dict[str, dict[str, Any]], Origin, bool, list[str]]:
    """The ovnkube.conf sections the plan's sources give, their origin, whether the dist DaemonSet runs ovnkube
    (then ovnkube.sh's defaults apply), and where the settings came from."""
    net = plan.network
    assert net is not None
    origin = net.origin.at("config")
    data: dict[str, dict[str, Any]] = {}
    sources: list[str] = []
    given = thaw(net.config) if net.config else {}
    if given:
        if not isinstance(given, Mapping):
            problems.error(origin, "ovnkube's config must be a mapping of ovnkube.conf sections",
                           "write `config: {default: {cluster-subnets: 10.128.0.0/14/23}, gateway: {mode: shared}}`")
            given = {}
        data = {str(s).lower(): dict(v) if isinstance(v, Mapping) else v for s, v in given.items()}
        sources.append("network.config (ovnkube.conf sections)")
    else:
        for o in plan.objects:
            text = (o.body.get("data") or {}).get(CONF_KEY) if o.kind == "ConfigMap" else None
            if isinstance(text, str):
                origin = o.origin.at(f"data.{CONF_KEY}")
                data = parse_gcfg(text, origin, problems)
                sources.append(f"{CONF_KEY} from ConfigMap {o.key} ({o.origin.where()})")
                break
    args = net.args or {}
    for flag, (section, key) in ENV_KEYS.items():
        value = args.get(flag)
        if value in (None, "") or key in data.get(section, {}):
            continue
        data.setdefault(section, {})[key] = value
        sources.append(f"[{section}] {key} from the ovnkube DaemonSet's OVN_{flag.upper().replace('-', '_')}")
    return data, origin, net.args is not None, sources


class OvnKubernetesPlugin(NetworkPlugin):
    """ovn-kubernetes: one OVN logical switch per node on ovn_cluster_router, gateway routers to the outside,
    Services as OVN load balancers, NetworkPolicy as ACLs; Windows nodes through the hybrid overlay."""

    name = "ovn-kubernetes"
    cluster_cidr = "ask"  # the pod ranges are ovnkube's cluster-subnets (needs_cluster_cidr)
    daemon = DAEMON

    @classmethod
    def stated_cluster_cidr(cls, network: NetworkSpec) -> tuple[str, str] | None:
        section = {str(k).lower(): v for k, v in (network.config or {}).items()}.get("default") or {}
        value = {str(k).lower(): v for k, v in section.items()}.get("cluster-subnets") if isinstance(
            section, Mapping) else None
        if isinstance(value, str) and value.strip():
            first = value.split(",")[0].strip().split("/")
            return ("default.cluster-subnets", "/".join(first[:2]))
        return None

    def __init__(self, plan: Plan, problems: Problems) -> None:
        super().__init__(plan, problems)
        self.problems = problems
        data, origin, script, self.sources = _compose(plan, problems)
        self.config: OvnkubeConfig = read_config(data, origin, problems, script=script,
                                                 service_cidr=plan.service_cidr)
        self.origin = origin
        self._nodes: dict[str, nodes.OvnNode] | None = None
        self._check_plan_ranges(plan, problems)
        self.hybrid: HybridOverlay | None = None

    def _check_plan_ranges(self, plan: Plan, problems: Problems) -> None:
        c = self.config
        if plan.cluster_cidr is not None and c.cluster_subnets and not any(
                plan.cluster_cidr.subnet_of(e.cidr) or e.cidr.subnet_of(plan.cluster_cidr) for e in c.cluster_subnets):
            problems.warn(plan.origin.at("spec.clusterCIDR"), f"clusterCIDR {plan.cluster_cidr} is not ovnkube's "
                          f"cluster-subnets ({', '.join(map(str, c.cluster_subnets))}): ovn-kubernetes hands out node "
                          "subnets from cluster-subnets and ignores the kube-controller-manager range",
                          "make clusterCIDR the cluster-subnets range, or leave it out")
        if plan.service_cidr is not None and c.service_cidrs and plan.service_cidr not in c.service_cidrs:
            problems.warn(self.origin.at("kubernetes.service-cidrs"), f"ovnkube's service-cidrs "
                          f"({', '.join(map(str, c.service_cidrs))}) differ from the plan's serviceCIDR "
                          f"{plan.service_cidr}: ovnkube must be given the API server's --service-cluster-ip-range "
                          "(config.go:1146-1151); the host routes go to its own", "make them equal")
        if not c.gateway_mode:
            problems.warn(self.origin.at("gateway.mode"), "no gateway mode: ovnkube disables its gateway "
                          "(no GR_<node>, no SNAT to the node IP, pods cannot leave the cluster) (config.go:1389-1392)",
                          "set `gateway: {mode: shared}` (what dist/images/ovnkube.sh passes by default) or local")

    def needs_cluster_cidr(self) -> bool:
        return False  # the pod ranges are ovnkube's cluster-subnets

    # --- addressing ---------------------------------------------------------------------------------------

    @property
    def nodes(self) -> dict[str, nodes.OvnNode]:
        if self._nodes is None:
            self._nodes = nodes.allocate_nodes(self.plan, self.config, self.problems)
            self.hybrid = HybridOverlay(self.plan, self.config, self._nodes, self.problems)
        return self._nodes

    def node_cidrs(self, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
        self.problems = problems
        return {name: (n.subnet, n.subnet_source) for name, n in self.nodes.items() if n.subnet is not None}

    def pod_range(self, node: NodeSpec, pod_cidr: IPv4Network | None) -> PodRange | None:
        n = self.nodes[node.name]
        if pod_cidr is None or n.role == "none":
            return None
        if n.role == "hybrid":
            return win_overlay.overlay_range(pod_cidr)
        reserved = [(names.management_ip(pod_cidr), f"management port {names.MGMT_INTERFACE} "
                     f"({names.management_port(node.name)})")]
        if self.config.hybrid_enabled:
            reserved.append((names.hybrid_overlay_ip(pod_cidr),
                             f"hybrid overlay port {names.hybrid_overlay_port(node.name)} (distributed-router IP)"))
        rng = host_local_range(pod_cidr, extra_reserved=tuple(reserved),
                               note="ovnkube's logical-switch IPAM (round-robin from the first free address)")
        return replace(rng, ipam="ovn-kubernetes")

    def pod_add_failure(self, node: NodeSpec) -> str | None:
        n = self.nodes[node.name]
        if n.role != "none":
            return None
        if node.os == "windows" and not self.config.hybrid_enabled:
            return ("ovn-kubernetes runs no CNI on Windows and [hybridoverlay] is not enabled, so nothing gives this "
                    "node's pods a network")
        if node.os == "windows":
            return (f"the node is not matched by no-hostsubnet-nodes ({self.config.no_hostsubnet_nodes or 'unset'}): "
                    "ovnkube waits for an ovnkube-node that never runs on Windows")
        return "the node is matched by no-hostsubnet-nodes but runs Linux: no hybrid overlay node runs here"

    def roles(self, node: NodeSpec) -> NodeRoles:
        """Linux nodes forward through OVN's logical datapaths over GENEVE, and OVN load balancers implement
        Services (no kube-proxy); Windows nodes join through the hybrid overlay: an HNS overlay network with
        VXLAN, and kube-proxy winkernel (docs/ovn-kubernetes.md)."""
        if node.os == "windows":
            return NodeRoles("windows-overlay", VXLAN, kube_proxy(self.plan, node))
        return NodeRoles("ovn-logical", GENEVE, ServiceRole("plugin"))

    def describe(self, node: NodeSpec) -> str:
        n = self.nodes[node.name]
        if n.role == "hybrid":
            return (f"ovn-kubernetes hybrid overlay → win-overlay (HNS Overlay {NETWORK}, VNI "
                    f"{names.HYBRID_OVERLAY_VNI}, UDP {self.config.hybrid_vxlan_port})")
        if n.role == "none":
            return "ovn-kubernetes: no pod network on this node"
        gw = f"{self.config.gateway_mode} gateway {names.gateway_router(node.name)}" if self.config.gateway_mode \
            else "no gateway"
        return (f"ovn-kubernetes: OVN switch {n.switch} on {names.CLUSTER_ROUTER}, {gw}, "
                f"{self.config.encap_type.upper()} UDP {self.config.encap_port}")

    # --- facts --------------------------------------------------------------------------------------------

    def prepare(self, cluster: Cluster) -> None:
        if self.hybrid is not None and any(n.role == "hybrid" for n in self.nodes.values()):
            win_overlay.prepare(cluster, self.hybrid.vtep)

    def node_facts(self, cluster: Cluster, node: NodeSpec) -> NodeFacts:
        n = self.nodes[node.name]
        if n.role == "hybrid" and n.subnet is not None and self.hybrid is not None:
            return self.hybrid.windows_facts(cluster, node)
        if n.role == "ovn":
            hybrid = tuple(c for _, c in topology.hybrid_cidrs(self.config, [
                h for h in self.nodes.values() if h.role == "hybrid" and h.subnet is not None])) \
                if self.config.hybrid_enabled else ()
            return host.linux_facts(cluster, node, n, self.config, hybrid,
                                    self.hybrid.vtep(node.name) if self.hybrid is not None and hybrid else None)
        return host.bare_facts(cluster, node, self.pod_add_failure(node) or "no pod network")

    def policy_enforcement(self, node: NodeSpec) -> PolicyEnforcement:
        n = self.nodes[node.name]
        if n.role == "ovn":
            return PolicyEnforcement(True, by="ovn-kubernetes", mechanism="OVN ACLs on port groups "
                                     "(from-lport in 17. ls_in_acl_after_lb, to-lport in 4. ls_out_acl)")
        return PolicyEnforcement(False, reason="no OVN runs on this node (hybrid overlay): ovn-kubernetes enforces "
                                 "no NetworkPolicy for its pods")

    def graph_contribution(self) -> OvnGraph:
        """OVN's logical datapaths per chassis, GENEVE between chassis (cnimodel.plugins.ovn_kubernetes.forwarding)."""
        from cnimodel.plugins.ovn_kubernetes.forwarding import OvnGraph

        return OvnGraph(self)

    def listings(self, cluster: Cluster, node: str) -> tuple[Listing, ...]:
        """The logical routers' routes, policies and NAT as ovn-nbctl lists them (routelists.py)."""
        from cnimodel.plugins.ovn_kubernetes import routelists

        return routelists.listings(self, cluster, node)

    def checks(self) -> tuple[PluginCheck, ...]:
        """CNI-OVN-001…003 (checks.py, docs/checks.md)."""
        from cnimodel.plugins.ovn_kubernetes.checks import CHECKS

        return CHECKS

    def findings(self, cluster: Cluster, external: tuple[IPv4Network, ...] = ()) -> Iterable[PluginFinding]:
        from cnimodel.plugins.ovn_kubernetes import checks

        return checks.findings(self, cluster, external)

    def services(self) -> OvnServices:
        """Services as OVN load balancers (cnimodel.plugins.ovn_kubernetes.services)."""
        from cnimodel.plugins.ovn_kubernetes.services import OvnServices

        return OvnServices(self)

    def northbound(self, cluster: Cluster) -> Northbound:
        """The Northbound database this cluster implies (built once per cluster)."""
        from cnimodel.plugins.ovn_kubernetes import northbound

        return cluster.memo(("ovn-kubernetes", "northbound"),
                            lambda: northbound.build(cluster, self.config, self.nodes, self.topology(cluster)))

    def topology(self, cluster: Cluster) -> Northbound:
        """The logical topology alone (no load balancers, no ACLs): what routing through OVN reads; built once."""
        from cnimodel.plugins.ovn_kubernetes import northbound

        return cluster.memo(("ovn-kubernetes", "topology"),
                            lambda: northbound.topology(cluster, self.config, self.nodes))
