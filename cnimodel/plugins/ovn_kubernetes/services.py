"""ovn-kubernetes' Services: the OVN load balancers of the Northbound model (lbs.py), as ``cnimodel lb`` lists them
and as the trace's load-balancing decision.

Which load balancers act on a node: those attached to its node switch and its gateway router, directly
(per-node ones: NodePorts, host-network endpoints, local traffic policies) or through the load-balancer groups
(``clusterLBGroup`` on both, ``clusterSwitchLBGroup`` on switches, ``clusterRouterLBGroup`` on gateway routers;
pkg/ovn/base_network_controller.go:358-462, pkg/ovn/gateway.go:272-326). A pod's packet meets its node switch's
(``ls_in_lb``, table 12 in OVN 23.03); a packet arriving from outside (or from the host through breth0) meets the
gateway router's (``lr_in_dnat``, table 7), where ``lb_force_snat_ip=router_ip`` SNATs it to the router's join
address (gateway.go:272-326; ovn-nb(5) Logical_Router options:lb_force_snat_ip). OVN picks a backend by a hash
of the flow (equal shares), keeps ``selection_fields`` for ClientIP affinity, answers a VIP without backends with
a reset (``reject=true``), and SNATs a pod reaching itself through a VIP to ``hairpin_snat_ip``
(ovn-nb(5) Load_Balancer options). That hairpin SNAT (ovn-controller's ct_snat_to_vip) comes before the pod's
ingress ACLs, where ovnkube's hairpin ACL allows it on every node switch (addHairpinAllowACL,
pkg/ovn/base_network_controller_policy.go:232-274: to-lport 1001 ``ip4.src == 169.254.169.5`` on clusterPortGroup,
whose management ports put every node switch under it), so the verdict is the policy engine's for a pod reaching
itself; a gateway router's lb_force_snat_ip is seen by the backend's ACLs as its join address.

``lb`` prints them in the shape of ``ovn-nbctl lb-list`` (ovn-org/ovn@ba5710ed:utilities/ovn-nbctl.c:3165-3266,
lb_info_add_smap, lb_info_print, lb_get_max_vip_length; checked against the installed ovn-nbctl in tests/ovn):
UUID, LB (16 characters of the name), PROTO, VIP (as wide as the longest VIP plus 4), IPs; one row per VIP, the
VIPs sorted; the load balancers sorted by their names' first 16 characters. The UUIDs are derived from the names:
OVSDB assigns the real ones.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from cnimodel.plugin.listing import Column, Listing
from cnimodel.plugin.services import PluginFrontend
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.logical import stage
from cnimodel.plugins.ovn_kubernetes.nbmodel import LoadBalancer
from cnimodel.services.decision import Backend, LbDecision

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin
    from cnimodel.services.decision import SourceKind
    from cnimodel.services.model import IPAddress

def lb_list_columns(vip_width: int) -> tuple[Column, ...]:
    """lb-list's columns: the VIP column as wide as the longest VIP listed, plus 4 (lb_info_print)."""
    return (Column("UUID", 40, 36), Column("LB", 20, 16), Column("PROTO", 11, 7), Column("VIP", vip_width + 4,
                                                                                           vip_width), Column("IPs", 0))
UUID_NS = uuid.UUID("6f0a4b52-6f76-4e2d-8b1e-6f766e2d6c62")  # cnimodel's namespace for derived row UUIDs


def row_uuid(name: str) -> str:
    return str(uuid.uuid5(UUID_NS, name))


class OvnServices:
    """The PluginServices capability of ovn-kubernetes (cnimodel.plugin.services)."""

    def __init__(self, plugin: OvnKubernetesPlugin) -> None:
        self.plugin = plugin

    def on(self, cluster: Cluster, node: str) -> dict[str, list[tuple[LoadBalancer, str]]]:
        """The load balancers on the node's switch and on its gateway router, each with how it is attached."""
        def build() -> dict[str, list[tuple[LoadBalancer, str]]]:
            nb = self.plugin.northbound(cluster)
            lbs = {lb.name: lb for lb in nb.load_balancers}
            groups = {g.name: g.load_balancers for g in nb.load_balancer_groups}
            out: dict[str, list[tuple[LoadBalancer, str]]] = {}
            n = self.plugin.nodes.get(node)
            dps = [nb.switch(n.switch), nb.router(names.gateway_router(node))] if n is not None else []
            for dp in dps:
                if dp is None:
                    continue
                rows = [(lbs[x], "direct") for x in dp.load_balancers if x in lbs]
                rows += [(lbs[x], g) for g in dp.load_balancer_groups for x in groups.get(g, ()) if x in lbs]
                out[dp.name] = rows
            return out

        return cluster.memo(("ovn-kubernetes", "lbs-on", node), build)

    def decide(self, cluster: Cluster, node: str, base: dict[str, Any], service: str, frontend: str,
               source_kind: SourceKind, source: IPAddress | None) -> LbDecision:
        n = self.plugin.nodes.get(node)
        on = self.on(cluster, node)
        source_kind = self.source_kind(cluster, source, source_kind)
        switch = n.switch if n is not None else node
        gr = names.gateway_router(node)
        dp, where = (switch, stage("ls_in_lb")) if source_kind == "pod" else (gr, stage("lr_in_dnat"))
        key = f"{base['vip']}:{base['port']}"
        hit = next(((lb, how) for lb, how in on.get(dp, []) if lb.protocol == base["protocol"].lower()
                    and key in dict(lb.vips)), None)
        common = {**base, "source_kind": source_kind, "service": service, "frontend": frontend}
        if hit is None:
            return LbDecision(**common, disposition="NOT_LOAD_BALANCED", reason=(  # type: ignore[arg-type]
                f"no OVN load balancer on {dp} has {key}/{base['protocol']}: the packet is routed to the address as "
                "it is"))
        lb, how = hit
        by = f"OVN load balancer {lb.name} ({where} on {dp}" + ("" if how == "direct" else f", through {how}") + ")"
        opts = dict(lb.options)
        targets = [t for t in dict(lb.vips)[key].split(",") if t]
        affinity = None
        if lb.selection_fields:
            affinity = f"selection_fields={','.join(lb.selection_fields)}: a client's connections hash to one backend"
        elif "affinity_timeout" in opts:
            affinity = f"affinity_timeout={opts['affinity_timeout']} s"
        if not targets:
            return LbDecision(**common, disposition="REJECTED", decided_by=by,  # type: ignore[arg-type]
                            reason=f"{lb.name} has no backends for {key}: reject=true, OVN answers with a TCP reset "
                            "or ICMP port unreachable", rules=(f"{key} → (none)",))
        pods = {str(a.ip): a for a in cluster.allocation.pods.values() if a.ip is not None}
        join = n.join_ip if n is not None else None
        backends = []
        for t in targets:
            ip, _, port = t.rpartition(":")
            a = pods.get(ip)
            snat, why = None, "OVN keeps the client address"
            hairpin = source is not None and str(source) == ip
            if hairpin:
                hairpin = opts.get("hairpin_snat_ip", "").split()
                snat, why = (hairpin[0] if hairpin else None), "hairpin_snat_ip: the pod reaches itself"
            elif dp == gr and opts.get("skip_snat") != "true" and join is not None:
                snat, why = str(join), "lb_force_snat_ip=router_ip on the gateway router"
            backends.append(Backend(ip, int(port), 1 / len(targets), t, snat, why, f"{where} on {dp}",
                                    a is not None and a.pod.node == node, a.pod.node if a else None,
                                    a.pod.key if a else None, f"1/{len(targets)} (dp_hash)",
                                    snat_before_policy=snat is not None and not hairpin))
        return LbDecision(**common, disposition="LOAD_BALANCED", decided_by=by,  # type: ignore[arg-type]
                        reason=f"{lb.name}: ct_lb_mark to one of {len(targets)} backend(s)",
                        backends=tuple(backends), rules=(f"{key} → {','.join(targets)}",), affinity=affinity)

    def source_kind(self, cluster: Cluster, source: IPAddress | None, given: SourceKind) -> SourceKind:
        """A pod's packet (an address of a cluster or hybrid overlay subnet) meets its node switch's load
        balancers; a node's own or an outside one the gateway router's."""
        if source is None or source.version != 4:
            return given
        c = self.plugin.config
        if any(source in e.cidr for e in (*c.cluster_subnets, *c.hybrid_subnets)):
            return "pod"
        if any(source == n.ip for n in cluster.plan.nodes):
            return "host"
        return "external"

    def frontends(self, cluster: Cluster, node: str) -> list[PluginFrontend]:
        """Each IPv4 VIP of the node's load balancers (switch and gateway router, each load balancer once)."""
        seen = {lb.name: lb for rows in self.on(cluster, node).values() for lb, _ in rows}
        out: list[PluginFrontend] = []
        for lb in sorted(seen.values(), key=lambda x: x.name):
            owner = dict(lb.external_ids).get("k8s.ovn.org/owner", lb.name)
            for vip, ips in sorted(lb.vips):
                ip, _, port = vip.rpartition(":")
                if ip.startswith("["):  # an IPv6 VIP: cnimodel models IPv4
                    continue
                out.append(PluginFrontend(owner, lb.protocol.upper(), ip, int(port),
                                          tuple(t.rpartition(":")[0] for t in ips.split(",") if t)))
        return out

    def tables(self, cluster: Cluster, node: str, services: list[str] | None) -> tuple[Listing, ...]:
        on = self.on(cluster, node)
        if not on:
            return (Listing(f"{node}: no OVN logical network (no node switch, no gateway router)",
                            lb_list_columns(0), ()),)
        seen: dict[str, tuple[LoadBalancer, list[str]]] = {}
        for dp, rows in on.items():
            for lb, how in rows:
                if services is not None and dict(lb.external_ids).get("k8s.ovn.org/owner") not in services:
                    continue
                seen.setdefault(lb.name, (lb, []))[1].append(dp if how == "direct" else f"{dp} (via {how})")
        rows: list[tuple[str, ...]] = []
        data = []
        listed = sorted(seen.values(), key=lambda x: x[0].name[:16])  # smap_sort of "%-20.16s" names
        width = max((len(v) for lb, _ in listed for v, _ in lb.vips), default=0)
        for lb, where in listed:
            for i, (vip, ips) in enumerate(sorted(lb.vips)):
                rows.append((row_uuid(lb.name), lb.name, lb.protocol, vip, ips) if i == 0 else
                            ("", "", lb.protocol, vip, ips))
            data.append({"uuid": row_uuid(lb.name), "name": lb.name, "protocol": lb.protocol,
                         "vips": {v: [t for t in ips.split(",") if t] for v, ips in lb.vips},
                         "options": dict(lb.options), "selectionFields": list(lb.selection_fields),
                         "externalIds": dict(lb.external_ids), "on": where})
        attach = Listing("where they apply (datapath, and the load-balancer group when not attached directly)",
                         (Column("LB", 44), Column("ON", 0)),
                         tuple((lb.name, ", ".join(w)) for lb, w in seen.values()))
        options = Listing("options (ovn-nbctl list Load_Balancer)", (Column("LB", 44), Column("OPTIONS", 0)),
                          tuple((lb.name, " ".join(f"{k}={v!r}" if " " in v else f"{k}={v}" for k, v in lb.options)
                                 + (f" selection_fields={','.join(lb.selection_fields)}" if lb.selection_fields
                                    else "")) for lb, _ in seen.values()))
        listing = Listing(f"{node}: OVN load balancers on {' and '.join(on)} (ovn-nbctl lb-list; no kube-proxy on "
                          "this node)", lb_list_columns(width), tuple(rows),
                          ("UUIDs are derived from the names; OVSDB assigns the real ones",),
                          {"loadBalancers": data})
        return (listing, attach, options)


__all__ = ["OvnServices", "lb_list_columns", "row_uuid"]
