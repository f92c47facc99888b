"""ovn-kubernetes' part of the forwarding graph: OVN's logical datapaths on each chassis, GENEVE between chassis,
the hybrid overlay's VXLAN to Windows nodes.

Vertices (``ovn:<chassis>/…``): a datapath's ingress pipeline entered by a port, ``<datapath>@<inport>`` (a node
switch entered by a pod's port, the management port ``k8s-<node>`` or the hybrid overlay's ``int-<node>``; the
cluster router entered by ``rtos-<node>``; a gateway router by ``rtoj-GR_<node>``), and a datapath's egress
pipeline towards a port, ``<datapath>><outport>`` (a node switch to a pod, to ``k8s-<node>`` or to
``int-<node>``; the cluster router to ``rtos-<node>`` on the chassis that port's gateway chassis names). The join
switch and the external switch are crossed inside an edge (their ``ls_in_l2_lkup`` is among its stages): the port
the join switch picks depends on the router's next hop, not on the destination alone.

OVN runs a packet's logical pipelines on the chassis it enters at until its output port is bound to another
chassis, then tunnels it there (ovn-architecture(7), "Life Cycle of a Packet"). ovn-kubernetes gives each
``rtos-<node>`` a gateway chassis (the node's), so a packet for another node's pods leaves the cluster router's
ingress pipeline for ``cr-rtos-<node>`` (``lr_in_gw_redirect``) and crosses in GENEVE to that node, where the
router's egress pipeline and the node switch run. The GENEVE header's VNI is the datapath's tunnel key and its
option the logical ingress and egress ports' keys — numbers ovn-northd assigns (``ovn-sbctl list
Datapath_Binding``), which the model names rather than predicts.

Policy verdicts come from cnimodel's policy engine (the ACLs are a view of it), at the node that enforces them:
the source pod's egress (from-lport ACLs, ``ls_in_acl_after_lb`` with ovnkube's apply-after-lb) as the packet
enters OVN, the destination pod's ingress (to-lport ACLs, ``ls_out_acl``) as the switch hands it to the pod.
"""

from __future__ import annotations

from functools import cached_property
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from cnimodel.dataplane import Encap, Vtep
from cnimodel.graph import vertices as V
from cnimodel.graph.facts import (
    Balance,
    Decapsulate,
    Decision,
    Drop,
    Edge,
    Encapsulate,
    PodDelivery,
    PodEgress,
    PodRoute,
)
from cnimodel.net import PrefixTable
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.datapaths import PREFIX, OvnStages, egress, ingress, parse, whole
from cnimodel.plugins.ovn_kubernetes.host import GENEVE_DEV, geneve_vtep
from cnimodel.plugins.ovn_kubernetes.logical import Index, Stage, stage

if TYPE_CHECKING:
    from cnimodel.graph.build import ForwardingGraph
    from cnimodel.graph.classes import DestClass
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin

OWNER = "ovn-kubernetes"
LB_PORT = "ls_in_lb"  # the pseudo inport of a switch's pipeline after its load balancer
HAIRPIN_PORT = "ls_in_hairpin"  # … after it, when the backend is the client: back out of the client's port


class OvnGraph:
    """The GraphContribution of ovn-kubernetes (cnimodel.graph.contrib)."""

    def __init__(self, plugin: OvnKubernetesPlugin) -> None:
        self.plugin = plugin
        self._index: Index | None = None
        self._pods: dict[str, str] | None = None  # switch port → pod key
        self._chassis: dict[str, str] | None = None

    # ------------------------------------------------------------------ lookups
    def index(self, g: ForwardingGraph) -> Index:
        if self._index is None:
            self._index = Index(self.plugin.topology(g.cluster))
            self._pods = {names.pod_port(a.pod.namespace, a.pod.name): a.pod.key
                          for a in g.cluster.allocation.pods.values() if not a.pod.host_network}
            self._chassis = {n.chassis: n.name for n in self.plugin.nodes.values()}
        return self._index

    def ovn_node(self, name: str | None) -> bool:
        n = self.plugin.nodes.get(name) if name else None
        return n is not None and n.role == "ovn" and n.subnet is not None

    def vtep(self, node: str) -> Vtep:
        return geneve_vtep(self.plugin.plan, self.plugin.plan.node(node), self.plugin.config)

    def outer_next_hop(self, src: str, dst: str) -> IPv4Address:
        plan = self.plugin.plan
        a, b = plan.node(src), plan.node(dst)
        return b.ip if a.subnet == b.subnet else plan.underlay.subnet(a.subnet).gateway

    # ------------------------------------------------------------------ the contribution
    def attrs(self, vertex: str) -> dict[str, Any] | None:
        if not vertex.startswith(PREFIX + ":"):
            return None
        chassis, dp, mark, port = parse(vertex)
        kind = "logical-router" if dp in self.plugin_routers else "logical-switch"
        if not mark:
            return {"kind": kind, "node": chassis, "label": f"{dp} ({kind.replace('-', ' ')})", "datapath": dp}
        what = "ingress from" if mark == "@" else "egress to"
        return {"kind": kind, "node": chassis, "label": f"{dp} ({what} {port})", "datapath": dp, "port": port}

    def drawn(self, g: ForwardingGraph, node: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """For the picture (cnimodel.graph.wiring): a chassis' GENEVE port, and its hybrid overlay VXLAN port,
        between its table and its NIC."""
        if not self.ovn_node(node):
            return []
        links = ((V.table(node), "routes"), (V.nic(node), "underlay"))
        out = [(V.tunnel(node, GENEVE_DEV), links)]
        hybrid = self.plugin.hybrid is not None and self.plugin.config.hybrid_enabled
        if hybrid:
            out.append((V.tunnel(node, "ext-vxlan"), links))
        n = self.plugin.nodes.get(node)
        if n is not None and n.subnet is not None:
            # the node switch: its management port is the host's ovn-k8s-mp0, its traffic to other chassis leaves
            # through the GENEVE port, to Windows nodes through br-ext's VXLAN port (int-<node>)
            sw = ((V.dev(node, names.MGMT_INTERFACE), "port"), (V.tunnel(node, GENEVE_DEV), "tunnel"),
                  *(((V.tunnel(node, "ext-vxlan"), "tunnel"),) if hybrid else ()))
            out.append((whole(node, n.switch), sw))
        return out

    def drawn_pods(self, g: ForwardingGraph, node: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
        """For the picture: a node's pods hang on its logical switch (each by its logical switch port), and every
        port of that switch in a trace is drawn as the switch."""
        n = self.plugin.nodes.get(node)
        if not self.ovn_node(node) or n is None or n.subnet is None:
            return {}, {}
        sw = whole(node, n.switch)
        pods = [a for a in g.cluster.allocation.pods_on(node) if not a.pod.host_network]
        ports = [names.pod_port(a.pod.namespace, a.pod.name) for a in pods]
        ports += [names.management_port(node), names.switch_to_router(n.switch), names.hybrid_overlay_port(node),
                  LB_PORT, HAIRPIN_PORT]
        aliases = {v: sw for p in ports for v in (ingress(node, n.switch, p), egress(node, n.switch, p))}
        return {a.pod.key: (sw, "port") for a in pods}, aliases

    def lb_exit(self, node: str, backend: Any = None) -> str:
        """After the load balancer (the switch's ls_in_lb, or the gateway router's lr_in_dnat): the node switch's
        pipeline goes on with the backend as destination — or, when the backend is the client itself, its hairpin
        stages send the packet back out of the port it came in by (ls_in_nat_hairpin SNATs it to hairpin_snat_ip,
        ls_in_hairpin sets outport = inport)."""
        n = self.plugin.nodes.get(node)
        hairpin = backend is not None and str(getattr(backend, "snat_reason", "")).startswith("hairpin")
        return ingress(node, n.switch if n is not None else node, HAIRPIN_PORT if hairpin else LB_PORT)

    @cached_property
    def plugin_routers(self) -> set[str]:
        return {names.CLUSTER_ROUTER} | {names.gateway_router(n) for n in self.plugin.nodes}

    def decide(self, g: ForwardingGraph, vertex: str, cls: DestClass, frontend: bool) -> Decision | None:
        prefix, rest = V.split(vertex)
        if prefix == PREFIX:
            chassis, dp, mark, port = parse(vertex)
            if mark == "@":
                return self.at_ingress(g, vertex, chassis, dp, port, cls, frontend)
            return self.at_egress(g, vertex, chassis, dp, port, cls)
        if prefix == "pod":
            pa = g.cluster.allocation.pods.get(rest)
            if pa is None or pa.pod.host_network or not self.ovn_node(pa.pod.node):
                return None
            return self.from_pod(g, vertex, pa, cls)
        if prefix == "tunnel":
            node, _, dev = rest.rpartition("/")
            if dev == GENEVE_DEV and self.ovn_node(node):
                return self.at_tunnel(g, vertex, node, cls)
            if dev == "ext-vxlan" and self.ovn_node(node):  # the hybrid overlay's VXLAN from a Windows node
                return Decision((Edge(vertex, ingress(node, node, names.hybrid_overlay_port(node)), "decap",
                                      Decapsulate(node), cls.key),))
            return None
        if prefix == "table" and self.ovn_node(rest):
            return self.at_table(g, vertex, rest, cls)
        if prefix == "nic" and not frontend and cls.kind == "pod" and cls.owner.node == rest and self.ovn_node(rest):
            return self.from_outside(vertex, rest, cls)
        return None

    # ------------------------------------------------------------------ decisions
    def from_pod(self, g: ForwardingGraph, vertex: str, pa: Any, cls: DestClass) -> Decision:
        """A pod's eth0: its default route to the router port's .1, into its logical switch port."""
        node = pa.pod.node
        n = self.plugin.nodes[node]
        assert n.subnet is not None
        fact = PodRoute(names.gateway_ip(n.subnet), self.plugin.config.mtu,
                        PodEgress(pa.pod.key, node, False, g.enforcement(node)))
        port = names.pod_port(pa.pod.namespace, pa.pod.name)
        return Decision((Edge(vertex, ingress(node, n.switch, port), "route", fact, cls.key),))

    def at_table(self, g: ForwardingGraph, vertex: str, node: str, cls: DestClass) -> Decision | None:
        """The host's routes out of ovn-k8s-mp0 enter OVN by the management port ``k8s-<node>``."""
        r = g.lookup(node, cls.rep).route
        if r is None or r.dev != names.MGMT_INTERFACE:
            return None
        from cnimodel.trace.steps import route_text

        port = names.management_port(node)
        fact = OvnStages((), extra=(("routed", "FORWARDED", (("route", route_text(r)), ("owner", r.owner))),
                                    ("transmitted", "TRANSMITTED", (("interface", names.MGMT_INTERFACE),
                                                                    ("to", f"OVN port {port}")))))
        return Decision((Edge(vertex, ingress(node, self.plugin.nodes[node].switch, port), "route", fact,
                              cls.key),))

    def from_outside(self, vertex: str, node: str, cls: DestClass) -> Decision | None:
        """A packet for one of the node's pods arriving on its NIC (a reply to a connection its gateway router
        SNATed): breth0 hands it to OVN's localnet port, the external switch to GR_<node>, which un-SNATs it
        (lr_in_unsnat) and routes it to the cluster."""
        if not self.plugin.config.gateway_mode:
            return None
        gr, ext = names.gateway_router(node), names.external_switch(node)
        n = self.plugin.nodes[node]
        fact = OvnStages((Stage("routed", "ls_in_l2_lkup", ext, (("outport", f"etor-{gr}"),)),),
                         before=(("received", "RECEIVED", (("interface", n.bridge),
                                                            ("localnet", f"{n.bridge}_{node}"))),))
        return Decision((Edge(vertex, ingress(node, gr, f"rtoe-{gr}"), "ovn-switch", fact, cls.key),))

    def at_ingress(self, g: ForwardingGraph, vertex: str, chassis: str, dp: str, inport: str, cls: DestClass,
                   frontend: bool) -> Decision:
        ix = self.index(g)
        if dp in ix.routers:
            return self.at_router(g, vertex, chassis, dp, inport, cls)
        edges: list[Edge] = []
        if frontend:
            fronts = g.frontends(chassis, cls)
            if fronts:
                edges.append(Edge(vertex, V.lb(chassis), "lb", Balance(chassis, fronts), cls.key))
        dst = cls.rep
        port = ix.port_of(dp, dst)
        if inport == HAIRPIN_PORT and port is not None:
            fact = OvnStages((Stage("routed", "ls_in_hairpin", dp, (("outport", port), ("note", "outport = inport"))),))
            edges.append(Edge(vertex, egress(chassis, dp, port), "ovn-switch", fact, cls.key))
            return Decision(tuple(edges))
        # after ls_in_lb the frame still carries the router port's MAC the pod sent it to: ls_in_l2_lkup hands it
        # to the router even when the backend is on this switch
        if port is not None and port != inport and inport != LB_PORT:
            fact = OvnStages((Stage("routed", "ls_in_l2_lkup", dp, (("ethDst", ix.mac_for_port(port)),
                                                                     ("outport", port))),))
            edges.append(Edge(vertex, egress(chassis, dp, port), "ovn-switch", fact, cls.key))
            return Decision(tuple(edges))
        rp = ix.peer.get(names.router_to_switch(dp)) and names.router_to_switch(dp)
        stor = ix.peer.get(rp) if rp else None
        if rp is None or stor is None:
            return Decision(tuple(edges), Drop("NO_ROUTE", "NO_ROUTE", f"switch {dp} has no port for {{dst}}",
                                               (("datapath", dp), ("stage", stage("ls_in_l2_lkup")))))
        router = ix.lrp[rp][0]
        fact = OvnStages((Stage("routed", "ls_in_l2_lkup", dp, (("ethDst", ix.lrp[rp][1].mac), ("outport", stor))),
                          Stage("transmitted", "ls_out_apply_port_sec", dp, (("output", stor), ("type", "patch")))))
        edges.append(Edge(vertex, ingress(chassis, router, rp), "ovn-switch", fact, cls.key))
        return Decision(tuple(edges))

    @cached_property
    def _sources(self) -> dict[str, IPv4Address]:
        out: dict[str, IPv4Address] = {}
        for n in self.plugin.nodes.values():
            if n.subnet is not None and n.role == "ovn":
                out[names.router_to_switch(n.switch)] = out[f"rtoj-{names.gateway_router(n.name)}"] = \
                    names.management_ip(n.subnet)
        return out

    def source_of(self, inport: str) -> IPv4Address | None:
        """The source address a router's source routes see for packets entering by ``inport``: a node switch's
        pods (or its management port) for ``rtos-<node>``, and for a gateway router's join port the pods of its
        node, whose traffic the cluster router sent there."""
        return self._sources.get(inport)

    def at_router(self, g: ForwardingGraph, vertex: str, chassis: str, router: str, inport: str,
                  cls: DestClass) -> Decision:
        ix = self.index(g)
        choice = ix.route(router, inport, self.source_of(inport), cls.rep)
        stages = list(choice.stages)
        if choice.outport is None or choice.nexthop is None:
            return Decision(drop=Drop("NO_ROUTE", "NO_ROUTE", choice.reason, (
                ("datapath", router), ("stage", stage(stages[-1].name) if stages else stage("lr_in_ip_routing")))))
        rp = ix.lrp[choice.outport][1]
        target = chassis
        if rp.gateway_chassis:
            assert self._chassis is not None
            target = self._chassis.get(rp.gateway_chassis[0].chassis_name, chassis)
            stages.append(Stage("routed", "lr_in_gw_redirect", router, (
                ("outport", f"cr-{choice.outport}"), ("chassis", target))))
        if target != chassis:
            fact = OvnStages(tuple(stages), extra=(("transmitted", "TO_CHASSIS", (
                ("chassis", target), ("datapath", router), ("egressPort", f"cr-{choice.outport}"),
                ("tunnelKey", f"VNI = {router}'s datapath key, option 0x0102/0x80 = the ingress and egress ports' "
                              "keys (ovn-northd assigns them; `ovn verify` reads them)"))),))
            return Decision((Edge(vertex, V.tunnel(chassis, GENEVE_DEV), "ovn-router", fact, cls.key),))
        if choice.snat is not None:
            stages.append(Stage("transformed", "lr_out_snat", router, (("nat", choice.snat[1]),)))
        stages.append(Stage("transmitted", "lr_out_delivery", router, (("output", choice.outport),)))
        return self.onward(g, vertex, chassis, choice.outport, choice.nexthop, cls, stages, choice.snat)

    def onward(self, g: ForwardingGraph, vertex: str, chassis: str, outport: str, nh: IPv4Address,
               cls: DestClass, stages: list[Stage], snat: tuple[IPv4Address, str] | None = None) -> Decision:
        """After a router's ``outport``: the switch patched to it hands the packet to the next router (join), to
        the physical network (an external switch's localnet port), or to one of its ports."""
        ix = self.index(g)
        lsp = ix.peer.get(outport)
        if lsp is None:
            return Decision(drop=Drop("NO_ROUTE", "NO_ROUTE", f"{outport} is patched to no switch",
                                      (("port", outport),)))
        switch = ix.lsp[lsp][0]
        ports = ix.switches[switch].ports
        localnet = next((p for p in ports if p.type == "localnet"), None)
        if localnet is not None:
            stages.append(Stage("transmitted", "ls_in_l2_lkup", switch, (("outport", localnet.name),
                                                                         ("type", "localnet"))))
            n = self.plugin.nodes[chassis]
            fact = OvnStages(tuple(stages), snat, extra=(("transmitted", "TRANSMITTED", (
                ("interface", n.bridge), ("localnet", localnet.name), ("nextHop", nh))),))
            return Decision((Edge(vertex, V.router(self.plugin.plan.underlay.name), "ovn-router", fact, cls.key),))
        rp2 = ix.peer_router_port(switch, nh)
        if rp2 is not None:  # join: to the router whose port holds the next hop
            router2 = ix.lrp[rp2][0]
            stages.append(Stage("routed", "ls_in_l2_lkup", switch, (("outport", ix.peer[rp2]),)))
            owner = router2[3:] if router2.startswith("GR_") and router2[3:] in self.plugin.nodes else chassis
            return Decision((Edge(vertex, ingress(owner, router2, rp2), "ovn-router", OvnStages(tuple(stages), snat),
                                  cls.key),))
        port = ix.port_of(switch, nh)
        if port is None:
            return Decision(drop=Drop("NO_ROUTE", "NO_ROUTE", f"no port of {switch} holds the next hop {nh}",
                                      (("datapath", switch), ("stage", stage("ls_in_l2_lkup")))))
        stages.append(Stage("routed", "ls_in_l2_lkup", switch, (("ethDst", ix.mac_for_port(port)),
                                                                ("outport", port))))
        return Decision((Edge(vertex, egress(chassis, switch, port), "ovn-router", OvnStages(tuple(stages), snat),
                              cls.key),))

    def at_tunnel(self, g: ForwardingGraph, vertex: str, node: str, cls: DestClass) -> Decision:
        """A chassis' GENEVE port: sends what the cluster router redirected to another chassis; what arrives
        continues in the router's egress pipeline for the port bound here."""
        ix = self.index(g)
        router = ix.routers[names.CLUSTER_ROUTER]
        outport = ix._port_for(router, cls.rep)
        rp = ix.lrp[outport][1] if outport else None
        if rp is None or not rp.gateway_chassis:
            return Decision(drop=Drop("NO_ROUTE", "NO_ROUTE", "no chassis holds {dst}", (("at", vertex),)))
        assert self._chassis is not None
        target = self._chassis.get(rp.gateway_chassis[0].chassis_name)
        if target == node or target is None:
            return Decision((Edge(vertex, egress(node, names.CLUSTER_ROUTER, rp.name), "decap", Decapsulate(node),
                                  cls.key),))
        n = self.plugin.nodes[target]
        assert n.subnet is not None
        e = Encap(self.vtep(node), self.vtep(target), n.subnet, self.outer_next_hop(node, target), None)
        return Decision((Edge(vertex, V.tunnel(target, GENEVE_DEV), "encap", Encapsulate(e), cls.key),))

    def at_egress(self, g: ForwardingGraph, vertex: str, chassis: str, dp: str, outport: str,
                  cls: DestClass) -> Decision:
        ix = self.index(g)
        if dp in ix.routers:  # the cluster router's egress on the chassis its gateway port is bound to
            stages = [Stage("transmitted", "lr_out_delivery", dp, (("output", outport),))]
            return self.onward(g, vertex, chassis, outport, cls.rep, cls, stages)
        assert self._pods is not None
        pod_key = self._pods.get(outport)
        if pod_key is not None:
            pa = g.cluster.allocation.pods[pod_key]
            fact = PodDelivery(pa, f"OVN port {outport} ({stage('ls_out_apply_port_sec')})", False,
                               g.enforcement(chassis))
            return Decision((Edge(vertex, V.pod(pod_key), "deliver", fact, cls.key),))
        if outport == names.management_port(chassis):
            fact = OvnStages((Stage("transmitted", "ls_out_apply_port_sec", dp, (("output", outport),)),),
                             extra=(("received", "RECEIVED", (("interface", names.MGMT_INTERFACE),)),))
            return Decision((Edge(vertex, V.host(chassis), "ovn-switch", fact, cls.key),))
        if outport == names.hybrid_overlay_port(chassis) and self.plugin.hybrid is not None:
            win = self.windows_node(cls.rep)
            local, remote = self.plugin.hybrid.vtep(chassis), self.plugin.hybrid.vtep(win) if win else None
            if local is None or remote is None or win is None:
                return Decision(drop=Drop("NO_ROUTE", "NO_ROUTE", "no hybrid overlay node holds {dst}",
                                          (("port", outport),)))
            sub = self.plugin.nodes[win].subnet
            assert sub is not None
            e = Encap(local, remote, sub, self.outer_next_hop(chassis, win), names.HYBRID_OVERLAY_VNI)
            return Decision((Edge(vertex, V.tunnel(win, remote.dev), "encap", Encapsulate(e), cls.key),))
        return Decision(drop=Drop("NO_ROUTE", "NO_ROUTE", f"nothing behind {outport} holds {{dst}}",
                                  (("port", outport),)))

    @cached_property
    def _hybrid(self) -> PrefixTable[str]:
        return PrefixTable((n.subnet, n.name) for n in self.plugin.nodes.values()
                           if n.role == "hybrid" and n.subnet is not None)

    def windows_node(self, ip: IPv4Address) -> str | None:
        hit = self._hybrid.lookup(ip)
        return hit[1] if hit is not None else None


__all__ = ["GENEVE_DEV", "OvnGraph"]
