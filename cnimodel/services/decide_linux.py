"""The iptables walk of one new connection: KUBE-SERVICES → KUBE-EXT/FW → KUBE-SVC/SVL → KUBE-SEP."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import Any

from cnimodel.services.decision import Backend, LbDecision, SourceKind
from cnimodel.services.iptables import KUBE_EXTERNAL_SERVICES, KUBE_NODEPORTS, KUBE_SERVICES, Rule
from cnimodel.services.kubeproxy_iptables import LinuxNode
from cnimodel.services.kubeproxy_service import LinuxServicePort
from cnimodel.services.model import Endpoint, IPAddress, Service, ServicePort


def _line(r: Rule) -> str:
    return f"-A {r.chain} {r.save()}"


def _find(p: LinuxServicePort, chain: str, pred: Any = None) -> Rule | None:
    return next((r for r in p.rules if r.chain == chain and (pred is None or pred(r))), None)


def masquerade_source(node: LinuxNode, dst: str) -> str:
    """The address MASQUERADE picks: the primary address of the interface the route to ``dst`` leaves by."""
    cluster = node.cluster
    if ":" not in dst:
        hit = cluster.lookup(node.node, IPv4Address(dst))
        if hit.route is not None:
            if hit.route.src is not None:
                return str(hit.route.src)
            dev = cluster.local_facts(node.node).device(hit.route.dev) if hit.route.dev else None
            if dev is not None and dev.addresses:
                return str(dev.addresses[0].ip)
    return str(node.spec.ip)


def decide_linux(node: LinuxNode, svc: Service, sp: ServicePort, frontend: str, base: dict[str, Any],
                 kind: SourceKind, src: IPAddress | None, notes: list[str]) -> LbDecision:
    cache: dict[ServicePort, LinuxServicePort] = node.__dict__.setdefault("_ports", {})
    p = cache.get(sp)
    if p is None:
        p = cache[sp] = node.service_port(svc, sp)
    out = dict(base, source_kind=kind, service=sp.key, frontend=frontend)
    dst = base["vip"]
    if frontend == "clusterIP":
        capture = _find(p, KUBE_SERVICES, lambda r: r.dst == dst and r.dport == sp.port)
        if not p.has_internal:
            why = "has no endpoints" if not p.has_endpoints else "has internalTrafficPolicy Local and no endpoint here"
            disp = "REJECTED" if not p.has_endpoints else "DROPPED"
            return LbDecision(**out, disposition=disp, reason=f"{sp.key} {why}",  # type: ignore[arg-type]
                            decided_by=f"filter {KUBE_SERVICES}", rules=(_line(capture),) if capture else (),
                            notes=tuple(notes))
        chain = p.svl_chain if svc.itp_local else p.svc_chain
        eps = p.local_endpoints if svc.itp_local else p.cluster_endpoints
        rules = [_line(capture)] if capture else []
        masq_rule = _find(p, chain or "", lambda r: r.target == "KUBE-MARK-MASQ")
        masq = _internal_masq(node, kind, src, masq_rule)
        if masq_rule is not None:
            rules.append(_line(masq_rule))
        return _balanced(node, p, svc, chain or "", eps, out, rules, masq, notes)
    # external frontends: NodePort, external IP, load-balancer IP
    if frontend == "nodePort":
        capture = _find(p, KUBE_NODEPORTS, lambda r: r.dport == sp.node_port and r.table == "nat")
    else:
        capture = _find(p, KUBE_SERVICES, lambda r: r.dst == dst and r.dport == sp.port and r.table == "nat")
    if not p.has_endpoints:
        rej = next((r for r in p.rules if r.table == "filter" and r.target == "REJECT"), None)
        return LbDecision(**out, disposition="REJECTED", reason=f"{sp.key} has no endpoints",  # type: ignore[arg-type]
                        decided_by="filter REJECT", rules=(_line(rej),) if rej else (), notes=tuple(notes))
    rules = [_line(capture)] if capture else []
    if frontend == "loadBalancerIP" and p.fw_chain:
        ranges = [r for r in p.rules if r.chain == p.fw_chain and r.src]
        if src is None:
            notes.append(f"{p.fw_chain} admits only {', '.join(r.src or '' for r in ranges)}; others are dropped by "
                         "KUBE-PROXY-FIREWALL")
        elif not any(src in ip_network(r.src or "", strict=False) for r in ranges):
            drop = _find(p, "KUBE-PROXY-FIREWALL")
            rules += [_line(drop)] if drop else []
            return LbDecision(**out, disposition="DROPPED", reason=f"{src} is outside loadBalancerSourceRanges",  # type: ignore[arg-type]
                            decided_by="filter KUBE-PROXY-FIREWALL", rules=tuple(rules), notes=tuple(notes))
    if not svc.etp_local:
        masq_rule = _find(p, p.ext_chain or "", lambda r: r.target == "KUBE-MARK-MASQ")
        rules += [_line(masq_rule)] if masq_rule else []
        return _balanced(node, p, svc, p.svc_chain or "", p.cluster_endpoints, out, rules,
                         (True, "externalTrafficPolicy Cluster: KUBE-EXT marks every packet for masquerade"), notes)
    if kind == "pod" and node.detector is not None:
        short = _find(p, p.ext_chain or "", lambda r: r.src == node.detector)
        rules += [_line(short)] if short else []
        return _balanced(node, p, svc, p.svc_chain or "", p.cluster_endpoints, out, rules,
                         (False, "pod traffic to an external destination short-circuits to the cluster endpoints"),
                         notes)
    if kind == "host":
        rules += [_line(r) for r in p.rules if r.chain == p.ext_chain and r.early]
        return _balanced(node, p, svc, p.svc_chain or "", p.cluster_endpoints, out, rules,
                         (True, "traffic from the node itself is masqueraded and routed to the cluster endpoints"),
                         notes)
    if not p.has_external:
        drop = next((r for r in p.rules if r.chain == KUBE_EXTERNAL_SERVICES and r.target == "DROP"), None)
        return LbDecision(**out, disposition="DROPPED", reason=f"{sp.key} has externalTrafficPolicy Local and no "  # type: ignore[arg-type]
                        "local endpoint on this node", decided_by=f"filter {KUBE_EXTERNAL_SERVICES}",
                        rules=tuple(rules + ([_line(drop)] if drop else [])), notes=tuple(notes))
    return _balanced(node, p, svc, p.svl_chain or "", p.local_endpoints, out, rules,
                     (False, "externalTrafficPolicy Local: the client address is kept"), notes)


def _internal_masq(node: LinuxNode, kind: SourceKind, src: IPAddress | None, rule: Rule | None) -> tuple[bool, str]:
    if rule is None:
        return False, "no masquerade rule (no cluster CIDR known to kube-proxy)"
    if rule.src is None:
        return True, "masqueradeAll: every packet to the ClusterIP is marked"
    cidr = rule.src.lstrip("!")
    if src is None:
        return (kind != "pod"), f"masqueraded only when the source is outside {cidr}"
    inside = src in ip_network(cidr, strict=False)
    return (not inside), (f"source {src} is inside {cidr}: no masquerade" if inside else
                          f"source {src} is outside {cidr}: marked for masquerade")


def _balanced(node: LinuxNode, p: LinuxServicePort, svc: Service, chain: str, eps: tuple[Endpoint, ...],
              out: dict[str, Any], rules: list[str], masq: tuple[bool, str], notes: list[str]) -> LbDecision:
    n = len(eps)
    by_target = {r.target: r for r in p.rules if r.chain == chain and r.recent is None}
    backends = []
    src = out.get("source")
    for e in eps:
        sep = p.sep[e.key]
        hairpin = src is not None and src == e.ip
        snat = masquerade_source(node, e.ip) if (masq[0] or hairpin) else None
        reason = "hairpin: the backend is the client, KUBE-SEP marks it for masquerade" if hairpin else masq[1]
        jump = by_target.get(sep)
        backends.append(Backend(e.ip, e.port, 1.0 / n, e.key, snat, reason, sep, e.node == node.node, e.node,
                                e.pod, jump.prob if jump else None))
        if jump is not None:
            rules.append(_line(jump))
    affinity = (f"ClientIP: a client returning within {svc.affinity_timeout}s goes to the backend it had "
                "(-m recent)") if svc.client_ip_affinity else None
    return LbDecision(**out, disposition="LOAD_BALANCED", reason=f"{n} endpoint(s) via {chain}",  # type: ignore[arg-type]
                    backends=tuple(backends), decided_by=f"nat {chain}", rules=tuple(rules), affinity=affinity,
                    notes=tuple(notes))
