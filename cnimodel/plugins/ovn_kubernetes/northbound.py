"""The whole Northbound database a cluster implies: topology, load balancers, port groups and ACLs together."""

from __future__ import annotations

from dataclasses import replace

from cnimodel.cluster import Cluster
from cnimodel.plugins.ovn_kubernetes import acls, lbs, names, topology
from cnimodel.plugins.ovn_kubernetes.config import OvnkubeConfig
from cnimodel.plugins.ovn_kubernetes.nbmodel import LogicalRouter, LogicalSwitch, Northbound, SwitchPort
from cnimodel.plugins.ovn_kubernetes.nodes import OvnNode
from cnimodel.policy.analysis import Reachability


def pod_ports(cluster: Cluster, node: OvnNode) -> tuple[SwitchPort, ...]:
    """The logical switch ports of the pods on a node running ovnkube (hostNetwork pods have none)."""
    return tuple(topology.pod_port(a.pod.namespace, a.pod.name, a.ip, node.name)
                 for a in cluster.allocation.pods_on(node.name) if not a.pod.host_network)


def build(cluster: Cluster, config: OvnkubeConfig, nodes: dict[str, OvnNode]) -> Northbound:
    ovn = [n for n in nodes.values() if n.role == "ovn" and n.subnet is not None]
    hybrid = [n for n in nodes.values() if n.role == "hybrid" and n.subnet is not None]
    gateway = bool(config.gateway_mode)
    lb_plan = lbs.build_lbs(cluster, config, ovn)
    switches: list[LogicalSwitch] = [topology.join_switch(ovn, gateway)]
    port_of: dict[str, str] = {}
    for n in ovn:
        ports = pod_ports(cluster, n)
        port_of.update((a.pod.key, names.pod_port(a.pod.namespace, a.pod.name))
                       for a in cluster.allocation.pods_on(n.name) if not a.pod.host_network)
        sw = topology.node_switch(config, n, ports)
        switches.append(replace(sw, load_balancers=tuple(lb_plan.on_switch.get(n.switch, ()))))
    routers: list[LogicalRouter] = [topology.cluster_router(config, ovn, hybrid)]
    if gateway:
        targets = topology.hybrid_cidrs(config, hybrid) if config.hybrid_enabled else []
        for n in ovn:
            switches.append(topology.external_switch(n))
            gr = topology.gateway_router(config, n, targets)
            routers.append(replace(gr, load_balancers=tuple(lb_plan.on_router.get(gr.name, ()))))
    r = Reachability.from_cluster(cluster)
    view = acls.PolicyView(r, port_of, str(config.hairpin_ip)).build()
    cluster_pg = acls.cluster_port_group(tuple(names.management_port(n.name) for n in ovn), str(config.hairpin_ip))
    return Northbound(tuple(switches), tuple(routers), tuple(lb_plan.load_balancers), lb_plan.group_rows(),
                      (cluster_pg, *view.port_groups), tuple(view.address_sets.values()),
                      topology.hybrid_mac_bindings(config, ovn), tuple(lb_plan.notes + view.notes))
