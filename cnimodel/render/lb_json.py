"""JSON for ``cnimodel lb -o json`` and for decisions (keys documented in docs/services.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cnimodel.services.catalog import Catalog
from cnimodel.services.decision import LbDecision
from cnimodel.services.hnslb import HnsLoadBalancer, WinkernelView
from cnimodel.services.iptables import Rule, chain_order
from cnimodel.services.kubeproxy_iptables import IptablesView
from cnimodel.services.model import Endpoint, Service
from cnimodel.services.vfp import VfpRule


def endpoint(e: Endpoint) -> dict[str, Any]:
    return {"ip": e.ip, "port": e.port, "node": e.node, "pod": e.pod, "ready": e.ready, "serving": e.serving,
            "terminating": e.terminating, "source": e.source}


def service(svc: Service, cat: Catalog) -> dict[str, Any]:
    return {
        "service": svc.key, "type": svc.type, "clusterIPs": [str(ip) for ip in svc.cluster_ips],
        "externalIPs": [str(ip) for ip in svc.external_ips], "loadBalancerIPs": [str(ip) for ip in svc.ingress_ips],
        "externalTrafficPolicy": svc.external_traffic_policy, "internalTrafficPolicy": svc.internal_traffic_policy,
        "sessionAffinity": svc.session_affinity, "affinityTimeoutSeconds": svc.affinity_timeout,
        "loadBalancerSourceRanges": [str(n) for n in svc.source_ranges],
        "healthCheckNodePort": svc.health_check_node_port, "allocated": list(svc.allocated),
        "ports": [{"servicePort": sp.key, "name": sp.name, "protocol": sp.protocol, "port": sp.port,
                   "targetPort": sp.target_port, "nodePort": sp.node_port,
                   "endpoints": [endpoint(e) for fam in (4, 6) for e in cat.endpoints_of(sp, fam)]}
                  for sp in svc.ports],
    }


def load_balancer(lb: HnsLoadBalancer, made: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """An LB's JSON; ``made`` keeps the backends' dicts by object, for the LBs of one service port (its
    ClusterIP, NodePort and ingress LBs most often share their backends: each dict is made once)."""
    if made is None:
        made = {}
    backends = []
    for b in lb.backends:
        d = made.get(id(b))
        if d is None:
            d = made[id(b)] = {"id": b.id, "ip": b.ip, "local": b.local, "endpoint": b.endpoint, "node": b.node,
                               "pod": b.pod}
        backends.append(d)
    return {"id": lb.id, "frontend": lb.kind, "service": lb.service, "frontendVIPs": list(lb.frontend_vips),
            "protocol": lb.protocol, "internalPort": lb.internal_port, "externalPort": lb.external_port,
            "flags": lb.flags, "portFlags": lb.port_flags, "distributionType": lb.distribution,
            "sourceVIP": lb.source_vip, "rejected": lb.rejected, "backends": backends}


def _load_balancers(lbs: Iterable[HnsLoadBalancer]) -> list[dict[str, Any]]:
    """One service port's LBs, the backends they share written as one dict each."""
    made: dict[int, dict[str, Any]] = {}
    return [load_balancer(lb, made) for lb in lbs]


def vfp_rule(r: VfpRule) -> dict[str, Any]:
    return {"port": r.port, "layer": r.layer, "group": r.group, "rule": r.rule, "priority": r.priority,
            "direction": r.direction, "conditions": r.conditions, "action": r.action, "basis": r.basis,
            "loadBalancer": r.load_balancer, "service": r.service}


Many = Callable[[Iterable[Any]], Any]  # how a node's long lists are given: as lists, or json_stream.Lazy ones


def windows_node(view: WinkernelView, vfp: Iterable[VfpRule], config: dict[str, Any], many: Many = list
                 ) -> dict[str, Any]:
    net = view.network
    return {
        "node": view.node, "os": "windows", "proxy": "winkernel", "kubeProxy": config,
        "network": None if net is None else {"name": net.name, "type": net.type, "sourceVIP": view.source_vip,
                                             "hostMAC": view.host_mac, "dsrSupported": view.dsr_supported},
        "servicePorts": many({"servicePort": p.service_port.key, "protocol": p.service_port.protocol,
                              "port": p.service_port.port, "targetPort": p.target_port, "sourceVIP": p.source_vip,
                              "loadBalancers": _load_balancers(p.load_balancers),
                              "skipped": [{"endpoint": k, "reason": why} for k, why in p.skipped],
                              "notes": list(p.notes)} for p in view.service_ports),
        "endpoints": many({"id": view.ids[e.name], "name": e.name, "ip": e.ip, "mac": e.mac, "role": e.role,
                           "providerAddress": e.provider_address} for e in view.created),
        "vfp": many(vfp_rule(r) for r in vfp),
        "notes": list(view.notes),
    }


def plugin_node(node: str, os: str, note: str, tables: tuple[Any, ...] = ()) -> dict[str, Any]:
    """A node whose network plugin implements Services itself: no kube-proxy rules; the plugin's own load
    balancers (each table's JSON content, merged) when it models them."""
    body: dict[str, Any] = {"node": node, "os": os, "proxy": "plugin", "servicePorts": [], "note": note}
    for t in tables:
        body.update(t.data)
    return body


def linux_node(view: IptablesView, config: dict[str, Any], many: Many = list) -> dict[str, Any]:
    return {
        "node": view.node, "os": "linux", "proxy": "iptables", "kubeProxy": config,
        "largeClusterMode": view.large_cluster,
        "servicePorts": many({"servicePort": p.service_port.key, "protocol": p.service_port.protocol,
                              "port": p.service_port.port, "chains": {"svc": p.svc_chain, "svl": p.svl_chain,
                                                                      "ext": p.ext_chain, "fw": p.fw_chain},
                              "clusterEndpoints": [e.key for e in p.cluster_endpoints],
                              "localEndpoints": [e.key for e in p.local_endpoints], "endpointChains": dict(p.sep),
                              "hasEndpoints": p.has_endpoints, "hasInternalEndpoints": p.has_internal,
                              "hasExternalEndpoints": p.has_external, "notes": list(p.notes)}
                             for p in view.service_ports),
        "tables": {t: _chains(t, chains) for t, chains in view.tables.items()},
        "notes": list(view.notes),
    }


def _chains(table: str, chains: dict[str, list[Rule]]) -> dict[str, list[str]]:
    """Each chain's rules as iptables-save lines, the chains in iptables-save's order. The lines are written in
    the order the view holds the chains (the order their rules were made in): reading a large node's rules in
    name order jumps all over memory."""
    save = Rule.save
    lines = {c: [f"-A {c} {save(r)}" for r in rules] for c, rules in chains.items()}
    return {c: lines[c] for c in chain_order(table, chains)}


def decision(d: LbDecision) -> dict[str, Any]:
    return {
        "node": d.node, "os": d.os, "vip": d.vip, "port": d.port, "protocol": d.protocol, "source": d.source,
        "sourceKind": d.source_kind, "disposition": d.disposition, "reason": d.reason, "service": d.service,
        "frontend": d.frontend, "decidedBy": d.decided_by, "rules": list(d.rules), "affinity": d.affinity,
        "loadBalancer": d.load_balancer.id if d.load_balancer else None,
        "backends": [{"ip": b.ip, "port": b.port, "weight": b.weight, "probability": b.probability, "dnat": b.dnat,
                      "snat": b.snat, "snatReason": b.snat_reason, "via": b.via, "local": b.local, "node": b.node,
                      "pod": b.pod} for b in d.backends],
        "notes": list(d.notes),
    }
