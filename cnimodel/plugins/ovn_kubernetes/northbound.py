"""The whole Northbound database a cluster implies: topology, load balancers, port groups and ACLs together."""

from __future__ import annotations

from dataclasses import replace

from cnimodel.cluster import Cluster
from cnimodel.plugins.ovn_kubernetes import acls, admin_acls, lbs, names
from cnimodel.plugins.ovn_kubernetes import topology as topology_
from cnimodel.plugins.ovn_kubernetes.config import OvnkubeConfig
from cnimodel.plugins.ovn_kubernetes.nbmodel import LogicalRouter, LogicalSwitch, Northbound, SwitchPort
from cnimodel.plugins.ovn_kubernetes.nodes import OvnNode
from cnimodel.policy.analysis import Reachability


def pod_ports(cluster: Cluster, node: OvnNode) -> tuple[SwitchPort, ...]:
    """The logical switch ports of the pods on a node running ovnkube (hostNetwork pods have none)."""
    return tuple(topology_.pod_port(a.pod.namespace, a.pod.name, a.ip, node.name)
                 for a in cluster.allocation.pods_on(node.name) if not a.pod.host_network)


def topology(cluster: Cluster, config: OvnkubeConfig, nodes: dict[str, OvnNode]) -> Northbound:
    """The logical topology alone — switches with their ports, routers with their routes, policies and NAT, the
    static MAC bindings — without load balancers and ACLs: what a packet's routing through OVN reads."""
    ovn = [n for n in nodes.values() if n.role == "ovn" and n.subnet is not None]
    hybrid = [n for n in nodes.values() if n.role == "hybrid" and n.subnet is not None]
    gateway = bool(config.gateway_mode)
    switches: list[LogicalSwitch] = [topology_.join_switch(ovn, gateway)]
    for n in ovn:
        switches.append(topology_.node_switch(config, n, pod_ports(cluster, n)))
    routers: list[LogicalRouter] = [topology_.cluster_router(config, ovn, hybrid)]
    if gateway:
        targets = topology_.hybrid_cidrs(config, hybrid) if config.hybrid_enabled else []
        for n in ovn:
            switches.append(topology_.external_switch(n))
            routers.append(topology_.gateway_router(config, n, targets))
    return Northbound(tuple(switches), tuple(routers), static_mac_bindings=topology_.hybrid_mac_bindings(config, ovn))


def build(cluster: Cluster, config: OvnkubeConfig, nodes: dict[str, OvnNode],
          topo: Northbound | None = None) -> Northbound:
    """The whole Northbound: the topology (``topo`` when already built) with the load balancers attached, the load
    balancer groups, the port groups with their ACLs, and the address sets."""
    ovn = [n for n in nodes.values() if n.role == "ovn" and n.subnet is not None]
    topo = topo or topology(cluster, config, nodes)
    lb_plan = lbs.build_lbs(cluster, config, ovn)
    port_of = {a.pod.key: names.pod_port(a.pod.namespace, a.pod.name)
               for n in ovn for a in cluster.allocation.pods_on(n.name) if not a.pod.host_network}
    switches = tuple(replace(s, load_balancers=tuple(lb_plan.on_switch.get(s.name, ())))
                     if s.name in nodes else s for s in topo.switches)
    routers = tuple(replace(r, load_balancers=tuple(lb_plan.on_router.get(r.name, ()))) if r.name.startswith("GR_")
                    else r for r in topo.routers)
    r = Reachability.from_cluster(cluster)
    policy_view = acls.PolicyView(r, port_of, str(config.hairpin_ip))
    view = policy_view.build()
    admin_acls.add_admin_policies(policy_view, config.admin_network_policy)
    cluster_pg = acls.cluster_port_group(tuple(names.management_port(n.name) for n in ovn), str(config.hairpin_ip))
    return Northbound(switches, routers, tuple(lb_plan.load_balancers), lb_plan.group_rows(),
                      (cluster_pg, *view.port_groups), tuple(view.address_sets.values()),
                      topo.static_mac_bindings, tuple(lb_plan.notes + view.notes))
