"""Services as OVN load balancers, the way ovnkube's services controller builds them (pkg/ovn/controller/services).

Per Service and protocol: one cluster-wide load balancer ``Service_<ns>/<name>_<PROTO>_cluster`` in the
``clusterLBGroup`` (every node switch and gateway router) holding each port's ClusterIPs, external IPs and
load-balancer IPs; per-node load balancers for NodePorts (the node's IP as VIP), for ClusterIPs with host-network
endpoints (endpoints outside cluster-subnets) and for internalTrafficPolicy Local (lb_config.go:134-228,
:593-759). Backends are the port's eligible endpoint addresses (ready ones, else serving and terminating ones;
pkg/util/kube.go:774-834), sorted as strings; an empty backend list keeps the VIP with ``reject=true``. Options
come from buildLB (loadbalancer.go:339-392). Service templates (``enable-svc-template-support``) are not modelled:
NodePorts are per-node load balancers, as ovnkube builds them when templates are off (its default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_address

from cnimodel.cluster import Cluster
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.config import OvnkubeConfig
from cnimodel.plugins.ovn_kubernetes.nbmodel import Kv, LoadBalancer, LoadBalancerGroup, kv
from cnimodel.plugins.ovn_kubernetes.nodes import OvnNode
from cnimodel.services.catalog import catalog
from cnimodel.services.model import Endpoint, Service, ServicePort

PROTOS = ("TCP", "UDP", "SCTP")  # lb_config.go:108-112
MAX_AFFINITY = 10800  # core.MaxClientIPServiceAffinitySeconds: with it, selection_fields instead of a timeout


@dataclass
class LbPlan:
    """The load balancers, the groups, and which per-node load balancers sit on which switch and router."""

    load_balancers: list[LoadBalancer] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    on_switch: dict[str, list[str]] = field(default_factory=dict)
    on_router: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def group_rows(self) -> tuple[LoadBalancerGroup, ...]:
        return tuple(LoadBalancerGroup(g, tuple(lbs)) for g, lbs in self.groups.items())


def eligible(endpoints: tuple[Endpoint, ...], svc: Service, node: str | None = None) -> list[str]:
    """getEligibleEndpointAddresses: ready endpoints (all with publishNotReadyAddresses), else the serving and
    terminating ones; ``node`` keeps that node's only; the addresses deduplicated and sorted as strings."""
    chosen = [e for e in endpoints if node is None or e.node == node]
    ready = [e for e in chosen if svc.publish_not_ready or e.ready]
    use = ready or [e for e in chosen if e.serving and e.terminating]
    return sorted({e.ip for e in use})


def options(svc: Service, skip_snat: bool, config: OvnkubeConfig) -> tuple[Kv, tuple[str, ...]]:
    """buildLB's options and selection fields for the Service (lbOpts, lb_config.go:787-818)."""
    opts = {"reject": "true", "event": "false", "skip_snat": "true" if skip_snat else "false",
            "neighbor_responder": "none", "hairpin_snat_ip": f"{config.hairpin_ip} fd69::5"}
    fields: tuple[str, ...] = ()
    if svc.client_ip_affinity and svc.affinity_timeout > 0:
        if svc.affinity_timeout != MAX_AFFINITY:
            opts["affinity_timeout"] = str(svc.affinity_timeout)
        else:
            fields = ("ip_dst", "ip_src")
    return kv(opts), fields


def _v4(ips: list[str]) -> list[str]:
    return [ip for ip in ips if ":" not in ip]


def _is_host(ip: str, config: OvnkubeConfig) -> bool:
    """IsHostEndpoint (services/utils.go:24-32): an address outside every cluster subnet."""
    addr = ip_address(ip)
    return not any(addr in e.cidr for e in config.cluster_subnets)


def build_lbs(cluster: Cluster, config: OvnkubeConfig, nodes: list[OvnNode]) -> LbPlan:
    """Every Service's load balancers, against the nodes running ovnkube (with a gateway router when one exists)."""
    out = LbPlan(groups={names.CLUSTER_LB_GROUP: [], names.CLUSTER_SWITCH_LB_GROUP: [],
                         names.CLUSTER_ROUTER_LB_GROUP: []})
    cat = catalog(cluster)
    for svc in cat.services:
        if svc.type == "ExternalName" or not svc.cluster_ips:
            continue  # no ClusterIP, no load balancer (headless and ExternalName Services)
        if any(ip.version == 6 for ip in svc.cluster_ips):
            out.notes.append(f"{svc.key}: IPv6 ClusterIPs are not modelled")
        cluster_rules: dict[str, list[tuple[str, str]]] = {}
        per_node: list[tuple[str, ServicePort, list[str], list[str], bool, bool]] = []
        for sp in svc.ports:
            eps = cat.endpoints_of(sp, 4)
            backends = _v4(eligible(eps, svc))
            port = eps[0].port if eps else None
            targets = ",".join(f"{ip}:{port}" for ip in backends) if port else ""
            external = [str(ip) for ip in (*svc.external_ips, *svc.ingress_ips) if ip.version == 4]
            vips = [str(ip) for ip in svc.cluster_ips if ip.version == 4]
            if sp.node_port and config.nodeport:
                per_node.append(("node", sp, backends, [], svc.etp_local, True))
            if svc.etp_local and external:
                per_node.append(("external", sp, backends, external, True, False))
            else:
                vips += external
            if any(_is_host(ip, config) for ip in backends) or svc.itp_local:
                per_node.append(("cluster", sp, backends, vips, False, False))
            else:
                cluster_rules.setdefault(sp.protocol, []).extend((f"{v}:{sp.port}", targets) for v in vips)
        ids = kv({"k8s.ovn.org/kind": "Service", "k8s.ovn.org/owner": svc.key})
        for proto in PROTOS:
            if proto in cluster_rules:
                opts, fields = options(svc, False, config)
                lb = LoadBalancer(names.lb_name(svc.namespace, svc.name, proto, "cluster"), proto.lower(),
                                  tuple(cluster_rules[proto]), opts, fields, ids)
                out.load_balancers.append(lb)
                out.groups[names.CLUSTER_LB_GROUP].append(lb.name)
        if per_node:
            _per_node(cluster, svc, per_node, nodes, config, ids, out)
    return out


def _per_node(cluster: Cluster, svc: Service, configs: list[tuple[str, ServicePort, list[str], list[str], bool, bool]],
              nodes: list[OvnNode], config: OvnkubeConfig, ids: tuple[tuple[str, str], ...], out: LbPlan) -> None:
    """buildPerNodeLBs: per node and protocol, switch and router rules (the node's own host-network endpoints
    become the host masquerade IP on the router), coalesced when equal, then merged across nodes."""
    cat = catalog(cluster)
    cluster_ips = {str(ip) for ip in svc.cluster_ips}
    built: list[tuple[str, str, tuple[tuple[str, str], ...], bool, list[str], list[str]]] = []
    for n in nodes:
        if n.subnet is None:
            continue
        gr = names.gateway_router(n.name) if config.gateway_mode else ""
        for proto in PROTOS:
            switch_rules: list[tuple[str, str]] = []
            router_rules: list[tuple[str, str]] = []
            no_snat: list[tuple[str, str]] = []
            for kind, sp, backends, vips, etp_local, is_node_port in configs:
                if sp.protocol != proto:
                    continue
                eps = cat.endpoints_of(sp, 4)
                port = eps[0].port if eps else 0
                local = _v4(eligible(eps, svc, n.name))
                switch_ips = local if (etp_local or (svc.itp_local and kind == "cluster")) else backends
                router_ips = local if etp_local else backends
                host = str(n.node_ip.ip)
                router_ips = [str(config.host_masquerade_ip) if ip == host else ip for ip in router_ips]
                inport = sp.node_port if is_node_port else sp.port
                for vip in ([str(n.node_ip.ip)] if is_node_port else vips):
                    if etp_local and is_node_port:
                        switch_rules.append((f"{config.masquerade_ip(3)}:{inport}", _join(switch_ips, port)))
                    itp = svc.itp_local and kind == "cluster" and vip in cluster_ips  # ITP: ClusterIPs only
                    switch_rules.append((f"{vip}:{inport}", _join(switch_ips if itp else backends, port)))
                    rule = (f"{vip}:{inport}", _join(router_ips, port))
                    (no_snat if etp_local and router_ips else router_rules).append(rule)
            scope_base = (svc.namespace, svc.name, proto)
            if switch_rules and switch_rules == router_rules and gr:
                built.append((names.lb_name(*scope_base, f"node_router+switch_{n.name}"), proto, tuple(router_rules),
                              False, [n.switch], [gr]))
                continue
            if router_rules and gr:
                built.append((names.lb_name(*scope_base, f"node_router_{n.name}"), proto, tuple(router_rules), False,
                              [], [gr]))
            if no_snat and gr:
                built.append((names.lb_name(*scope_base, f"node_local_router_{n.name}"), proto, tuple(no_snat), True,
                              [], [gr]))
            if switch_rules:
                built.append((names.lb_name(*scope_base, f"node_switch_{n.name}"), proto, tuple(switch_rules), False,
                              [n.switch], []))
    merged: list[list] = []  # mergeLBs (lb_config.go:833-877): equal protocol, options and rules share one LB
    for name, proto, rules, skip, switches, routers in built:
        for m in merged:
            if m[1] == proto and m[2] == rules and m[3] == skip:
                m[4] += switches
                m[5] += routers
                if not m[0].endswith("_merged"):
                    m[0] += "_merged"
                break
        else:
            merged.append([name, proto, rules, skip, list(switches), list(routers)])
    for name, proto, rules, skip, switches, routers in merged:
        opts, fields = options(svc, skip, config)
        out.load_balancers.append(LoadBalancer(name, proto.lower(), rules, opts, fields, ids))
        for s in switches:
            out.on_switch.setdefault(s, []).append(name)
        for r in routers:
            out.on_router.setdefault(r, []).append(name)


def _join(ips: list[str], port: int) -> str:
    return ",".join(f"{ip}:{port}" for ip in ips) if port else ""


def vip_address(key: str) -> IPv4Address:
    return IPv4Address(key.rsplit(":", 1)[0])
