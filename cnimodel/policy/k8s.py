"""networking.k8s.io/v1 NetworkPolicy → the compiled model (default tier, order 1000, Allow-only rules).

The API server's defaulting is applied here, since manifests often leave it out: ``policyTypes`` is
``[Ingress]`` plus ``Egress`` when the policy has egress rules; a port's protocol is TCP.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

from cnimodel.plan import KubeObject, Origin, Problems
from cnimodel.policy.common import cidr, label_selector, mapping, port_name_problem, port_number, seq
from cnimodel.policy.connset import PORT_PROTOCOLS, ConnSet
from cnimodel.policy.labelselector import k8s_text
from cnimodel.policy.model import (
    DEFAULT_TIER,
    KNP_ORDER,
    Direction,
    EndpointSel,
    NsScope,
    Policy,
    PolicyRule,
    PortMatch,
    RulePeer,
)
from cnimodel.policy.selectors import All


def ns_scope(selector: Any, origin: Origin, problems: Problems) -> NsScope:
    sel = label_selector(selector, origin, problems)
    return NsScope() if isinstance(sel, All) else NsScope(selector=sel)


def compile_peer(data: Any, origin: Origin, namespace: str, problems: Problems) -> RulePeer | None:
    """One ``from``/``to`` item: podSelector and namespaceSelector in one item are ANDed; podSelector alone
    means the policy's own namespace; ipBlock stands alone and matches any address, pod IPs included."""
    d = mapping(data, origin, problems)
    unknown = [k for k in d if k not in ("podSelector", "namespaceSelector", "ipBlock")]
    for k in unknown:
        problems.error(origin.at(k), "unknown peer field", "use podSelector, namespaceSelector or ipBlock")
    has_pod, has_ns, has_ip = "podSelector" in d, "namespaceSelector" in d, "ipBlock" in d
    if has_ip and (has_pod or has_ns):
        problems.error(origin, "may not specify both ipBlock and another peer",
                       "put the ipBlock in its own list item (items are ORed)")
        return None
    if not (has_pod or has_ns or has_ip):
        if not unknown:
            problems.error(origin, "must specify a peer", "give podSelector, namespaceSelector or ipBlock")
        return None
    if has_ip:
        return ip_block(d["ipBlock"], origin.at("ipBlock"), problems)
    pod = label_selector(d.get("podSelector"), origin.at("podSelector"), problems)
    if has_ns:
        scope = ns_scope(d.get("namespaceSelector"), origin.at("namespaceSelector"), problems)
        ns_txt = "all namespaces" if scope.any else f"namespaces {k8s_text(d.get('namespaceSelector'))}"
    else:
        scope = NsScope(name=namespace)
        ns_txt = f"namespace {namespace}"
    pod_txt = f"pods {k8s_text(d.get('podSelector'))}" if has_pod else "all pods"
    return RulePeer(endpoint=EndpointSel(scope, pod, "k8s"), text=f"{pod_txt} in {ns_txt}")


def ip_block(data: Any, origin: Origin, problems: Problems) -> RulePeer | None:
    d = mapping(data, origin, problems)
    net = cidr(d.get("cidr"), origin.at("cidr"), problems, lenient=True)
    excepts: list[IPv4Network] = []
    for i, e in enumerate(seq(d.get("except"), origin.at("except"), problems) or []):
        x = cidr(e, origin.at(f"except[{i}]"), problems, lenient=True)
        if x is None or net is None:
            continue
        if not (x.subnet_of(net) and x != net):
            problems.error(origin.at(f"except[{i}]"), f"{e} must be a strict subset of cidr {d.get('cidr')}",
                           "list only ranges inside the cidr, smaller than it")
            continue
        excepts.append(x)
    if net is None:
        if isinstance(d.get("cidr"), str) and ":" in d["cidr"]:
            return RulePeer(nothing=True, text=f"ipBlock {d['cidr']} (IPv6: matches no IPv4 address)")
        return None
    text = f"ipBlock {d.get('cidr')}" + (f" except {', '.join(str(x) for x in excepts)}" if excepts else "")
    return RulePeer(nets=(net,), not_nets=tuple(excepts), text=text)


def compile_ports(items: list[Any], origin: Origin, problems: Problems) -> PortMatch | None:
    """``ports`` of a rule (ORed); None when empty or missing: every port of every protocol."""
    if not items:
        return None
    static = ConnSet.NONE
    named: list[tuple[str, str]] = []
    texts: list[str] = []
    for i, p in enumerate(items):
        o = origin.at(f"[{i}]")
        d = mapping(p, o, problems)
        proto = d.get("protocol") or "TCP"
        if proto not in PORT_PROTOCOLS:
            problems.error(o.at("protocol"), f"unknown protocol {proto!r}", "use TCP, UDP or SCTP")
            continue
        port, end = d.get("port"), d.get("endPort")
        if port is None:
            if end is not None:
                problems.error(o.at("endPort"), "may not be specified when port is not specified",
                               "give a numeric port as the start of the range")
                continue
            static |= ConnSet.ports(proto)
            texts.append(f"{proto} (all ports)")
        elif isinstance(port, str) and not port.isdigit():
            if why := port_name_problem(port):
                problems.error(o.at("port"), why, "use the name of a container port, or a number")
                continue
            if end is not None:
                problems.error(o.at("endPort"), "may not be specified when port is a named port",
                               "use a numeric port with endPort, or drop endPort")
                continue
            named.append((port, proto))
            texts.append(f"{proto} {port} (named)")
        else:
            if isinstance(port, str):  # a quoted number: Kubernetes takes a string as a port name
                problems.error(o.at("port"), f"{port!r} is a string; a string is a port name",
                               f"write the number unquoted: port: {port}")
                continue
            n = port_number(port, o.at("port"), problems)
            if n is None:
                continue
            hi = n
            if end is not None:
                e = port_number(end, o.at("endPort"), problems)
                if e is None:
                    continue
                if e < n:
                    problems.error(o.at("endPort"), f"endPort {e} is less than port {n}", "make endPort >= port")
                    continue
                hi = e
            static |= ConnSet.ports(proto, n, hi)
            texts.append(f"{proto} {n}" if hi == n else f"{proto} {n}-{hi}")
    return PortMatch(static, tuple(named), ", ".join(texts))


def compile_rule(data: Any, origin: Origin, direction: Direction, index: int, namespace: str,
                 problems: Problems) -> PolicyRule:
    d = mapping(data, origin, problems)
    peer_key = "from" if direction == "ingress" else "to"
    for k in d:
        if k not in (peer_key, "ports"):
            problems.error(origin.at(k), f"unknown {direction} rule field", f"use {peer_key} and ports")
    peers_raw = seq(d.get(peer_key), origin.at(peer_key), problems)
    peers: tuple[RulePeer, ...] | None = None
    if peers_raw:  # empty or missing: every source/destination, external addresses included
        compiled = [compile_peer(p, origin.at(f"{peer_key}[{i}]"), namespace, problems)
                    for i, p in enumerate(peers_raw)]
        peers = tuple(p for p in compiled if p is not None)
    ports = compile_ports(seq(d.get("ports"), origin.at("ports"), problems) or [], origin.at("ports"), problems)
    peer_txt = "any peer" if peers is None else " OR ".join(p.text for p in peers)
    port_txt = "all ports and protocols" if ports is None else ports.text
    text = f"{peer_key} {peer_txt}; {port_txt}"
    if direction == "ingress":
        return PolicyRule("Allow", index, direction, src=peers, ports=ports, text=text, origin=origin)
    return PolicyRule("Allow", index, direction, dst=peers, ports=ports, text=text, origin=origin)


def compile_network_policy(obj: KubeObject, problems: Problems) -> Policy | None:
    """One Kubernetes NetworkPolicy, defaulted and validated (problems name the field path)."""
    o = obj.origin
    spec = mapping(obj.body.get("spec"), o.at("spec"), problems)
    ns = obj.namespace or "default"
    subject_sel = label_selector(spec.get("podSelector"), o.at("spec.podSelector"), problems)
    subject = EndpointSel(NsScope(name=ns), subject_sel, "k8s")
    ingress_raw = seq(spec.get("ingress"), o.at("spec.ingress"), problems)
    egress_raw = seq(spec.get("egress"), o.at("spec.egress"), problems)
    types_raw = seq(spec.get("policyTypes"), o.at("spec.policyTypes"), problems)
    notes: list[str] = []
    if types_raw:
        types = []
        for i, t in enumerate(types_raw):
            if t not in ("Ingress", "Egress"):
                problems.error(o.at(f"spec.policyTypes[{i}]"), f"unknown policy type {t!r}", "use Ingress or Egress")
            else:
                types.append(t)
    else:
        types = ["Ingress"] + (["Egress"] if egress_raw else [])
        why = "because it has egress rules" if egress_raw else "because it has no egress rules"
        notes.append(f"policyTypes defaulted to [{', '.join(types)}] {why}")
    ingress = egress = None
    if "Ingress" in types:
        ingress = tuple(compile_rule(r, o.at(f"spec.ingress[{i}]"), "ingress", i, ns, problems)
                        for i, r in enumerate(ingress_raw or []))
    elif ingress_raw:
        notes.append("its ingress rules are ignored: Ingress is not in policyTypes")
    if "Egress" in types:
        egress = tuple(compile_rule(r, o.at(f"spec.egress[{i}]"), "egress", i, ns, problems)
                       for i, r in enumerate(egress_raw or []))
    elif egress_raw:
        notes.append("its egress rules are ignored: Egress is not in policyTypes")
    return Policy("NetworkPolicy", obj.name, ns, DEFAULT_TIER, KNP_ORDER, subject, ingress, egress,
                  tuple(notes), o)
