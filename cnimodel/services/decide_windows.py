"""The HNS view of one new connection: which LoadBalancer object matches, and what VFP does with it."""

from __future__ import annotations

from typing import Any

from cnimodel.services.decision import Backend, LbDecision, SourceKind
from cnimodel.services.hnslb import LB_DSR, PM_PRESERVE_DIP, HnsLoadBalancer, WinServicePort
from cnimodel.services.model import IPAddress, Service, ServicePort
from cnimodel.services.winkernel import WinNode


def _match(lb: HnsLoadBalancer, frontend: str, vip: str, port: int) -> bool:
    if lb.kind != frontend or lb.external_port != port:
        return False
    return frontend == "nodePort" or vip in lb.frontend_vips


def decide_windows(node: WinNode, svc: Service, sp: ServicePort, frontend: str, base: dict[str, Any],
                   kind: SourceKind, src: IPAddress | None, notes: list[str]) -> LbDecision:
    cache: dict[ServicePort, WinServicePort] = node.__dict__.setdefault("_ports", {})
    p = cache.get(sp)
    if p is None:
        p = cache[sp] = node.service_port(svc, sp)
    out = dict(base, source_kind=kind, service=sp.key, frontend=frontend)
    port = base["port"]
    lb = next((lb for lb in p.load_balancers if _match(lb, frontend, base["vip"], port)), None)
    if frontend == "nodePort" and kind == "host":
        notes.append("local NodePort access from the node itself is listed as not supported on Windows "
                     "(LocalRoutedVIP is set, but treat it as unreliable)")
    if lb is None:
        why = "; ".join(p.notes) or f"winkernel created no {frontend} load balancer for {sp.key} on this node"
        if node.network is None:
            why = "; ".join(node.notes)
        return LbDecision(**out, disposition="NOT_LOAD_BALANCED", reason=why,  # type: ignore[arg-type]
                        decided_by="no HNS LoadBalancer", notes=tuple(notes))
    if lb.rejected:
        return LbDecision(**out, disposition="NOT_LOAD_BALANCED", reason=lb.rejected,  # type: ignore[arg-type]
                        decided_by=f"HNS LoadBalancer {lb.id} ({lb.kind}) rejected", load_balancer=lb,
                        notes=tuple(notes))
    dsr = bool(lb.flags & LB_DSR)
    preserve = bool(lb.port_flags & PM_PRESERVE_DIP)
    n = len(lb.backends)
    backends = []
    for b in lb.backends:
        if dsr:
            snat, why = None, "DSR: no SNAT, the backend sees the client address and replies directly"
        elif b.local:
            snat, why = None, "non-DSR, local backend: no SNAT [I]"
        elif lb.source_vip:
            snat, why = lb.source_vip, "non-DSR, remote backend: SNAT to the LB's SourceVIP"
        else:
            snat, why = str(node.spec.ip), ("non-DSR, remote backend on l2bridge: SNAT to a node address HNS "
                                            "picks (SourceVIP is empty) [U]")
        dnat = f"{base['vip']}:{port} (PreserveDIP: destination kept)" if preserve else f"{b.ip}:{lb.internal_port}"
        backends.append(Backend(b.ip, lb.internal_port, 1.0 / n, dnat, snat, why, b.id, b.local, b.node, b.pod))
    notes.append("HNS/VFP spreads connections by an opaque hash [U]: equal weights are modelled")
    affinity = ("ClientIP: DistributionType 2 (same client IP, same backend; timeoutSeconds not honoured)"
                if lb.distribution == 2 else None)
    return LbDecision(**out, disposition="LOAD_BALANCED", reason=f"{n} backend(s) in HNS LoadBalancer {lb.id}",  # type: ignore[arg-type]
                    backends=tuple(backends), decided_by=f"HNS LoadBalancer {lb.id} ({lb.kind})",
                    rules=(f"LoadBalancer {lb.id}: FrontendVIPs {list(lb.frontend_vips)} ExternalPort "
                           f"{lb.external_port} InternalPort {lb.internal_port} Protocol {lb.protocol} Flags "
                           f"{lb.flags} PortMapping.Flags {lb.port_flags}",), affinity=affinity, load_balancer=lb,
                    notes=tuple(notes))
