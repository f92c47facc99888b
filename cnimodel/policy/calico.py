"""projectcalico.org/v3 NetworkPolicy, GlobalNetworkPolicy and Tier → the compiled model.

Scoping follows libcalico-go's rule conversion: in a namespaced policy a rule ``selector`` (or a lone
``notSelector``) looks in the policy's namespace unless ``namespaceSelector`` says otherwise; in a global
policy it looks everywhere; ``notSelector`` itself is never scoped. ``types`` defaults the Calico way:
egress rules alone give ``[Egress]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cnimodel.plan import KubeObject, Origin, Problems
from cnimodel.policy.common import calico_net, calico_selector, mapping, port_name_problem, seq
from cnimodel.policy.connset import PROTOCOL_NUMBERS, ConnSet
from cnimodel.policy.model import (
    DEFAULT_TIER,
    DEFAULT_TIER_ORDER,
    Direction,
    EndpointSel,
    NsScope,
    Policy,
    PolicyRule,
    PortMatch,
    RulePeer,
    Tier,
)
from cnimodel.policy.selectors import All, Global, In, Sel, conj, prefixed

ACTIONS = ("Allow", "Deny", "Log", "Pass")
EPHEMERAL = (32768, 60999)  # Linux net.ipv4.ip_local_port_range: where clients' source ports come from
SA_LABEL = "projectcalico.org/serviceaccount"  # apiv3.LabelServiceAccount: the pod's spec.serviceAccountName
SA_PREFIX = "pcsa."  # conversion.ServiceAccountLabelPrefix: a ServiceAccount's labels as its pods inherit them


def protocol(value: Any, origin: Origin, problems: Problems) -> int | None:
    """A Calico protocol (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, or 1-255) as its IP protocol number."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int) and 1 <= value <= 255:
        return value
    if isinstance(value, str):
        for name, number in PROTOCOL_NUMBERS.items():
            if value.lower() == name.lower():
                return number
    problems.error(origin, f"unknown protocol {value!r}", "use TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255")
    return None


def ports(items: list[Any], proto: int | None, origin: Origin, problems: Problems) -> PortMatch | None:
    """Calico ports: ``80``, ``'6040:6050'`` (inclusive) or ``'named-port'``; they need a port protocol."""
    if not items:
        return None
    pname = {6: "TCP", 17: "UDP", 132: "SCTP"}.get(proto or 0)
    if pname is None:
        problems.error(origin, "ports need the rule's protocol to be TCP, UDP or SCTP",
                       "set `protocol: TCP` (or UDP/SCTP) on the rule")
        return None
    static = ConnSet.NONE
    named: list[tuple[str, str | None]] = []
    texts: list[str] = []
    for i, p in enumerate(items):
        o = origin.at(f"[{i}]")
        lo = hi = None
        if isinstance(p, int) and not isinstance(p, bool):
            lo = hi = p
        elif isinstance(p, str) and ":" in p:
            a, _, b = p.partition(":")
            if a.strip().isdigit() and b.strip().isdigit():
                lo, hi = int(a), int(b)
        elif isinstance(p, str) and p.isdigit():
            lo = hi = int(p)
        elif isinstance(p, str):
            if why := port_name_problem(p):
                problems.error(o, why, "use a number, a range 'lo:hi' or a container port name")
                continue
            named.append((p, pname))
            texts.append(f"{pname} {p} (named)")
            continue
        if lo is None or hi is None or not (0 <= lo <= hi <= 65535):
            problems.error(o, f"bad port {p!r}", "use a number, a range 'lo:hi' (lo <= hi <= 65535) or a name")
            continue
        static |= ConnSet.ports(pname, max(lo, 1), hi) if hi >= 1 else ConnSet.NONE
        texts.append(f"{pname} {lo}" if lo == hi else f"{pname} {lo}-{hi}")
    return PortMatch(static, tuple(named), ", ".join(texts))


def _sa_selector(data: Any, origin: Origin, problems: Problems) -> Sel | None:
    """``serviceAccountSelector`` (a policy's: a selector string) or ``serviceAccounts`` (a rule's: ``names``
    and ``selector``) as libcalico-go converts them for felix: the selector reads the ServiceAccount's labels,
    which the WorkloadEndpoint inherits from the account's profile ``ksa.<ns>.<name>`` under the ``pcsa.``
    prefix (with ``pcsa.projectcalico.org/name`` set to the account's name), so its keys get that prefix; the
    names become ``projectcalico.org/serviceaccount in {…}``, the pod's ``spec.serviceAccountName``; both
    given are ANDed. None when nothing is selected by account (an empty selector and no names)."""
    if data is None:
        return None
    if isinstance(data, str):  # serviceAccountSelector on a policy
        if not data.strip():
            return None
        sel = calico_selector(data, origin, problems)
        return None if sel is None else prefixed(sel, SA_PREFIX)
    d = mapping(data, origin, problems)
    parts: list[Sel] = []
    if d.get("selector"):
        sel = calico_selector(d.get("selector"), origin.at("selector"), problems)
        if sel is not None:
            parts.append(prefixed(sel, SA_PREFIX))
    names = seq(d.get("names"), origin.at("names"), problems)
    if names:
        parts.append(In(SA_LABEL, frozenset(str(n) for n in names)))
    return conj(parts) if parts else None


def entity(data: Any, origin: Origin, namespace: str | None, problems: Problems,
           notes: list[str]) -> tuple[tuple[RulePeer, ...] | None, Any, Any]:
    """An EntityRule → (its peer, or None when it matches anything; raw ports; raw notPorts)."""
    d = mapping(data, origin, problems)
    known = ("nets", "notNets", "selector", "notSelector", "namespaceSelector", "ports", "notPorts",
             "serviceAccounts", "services")
    for k in d:
        if k not in known:
            problems.error(origin.at(k), "unknown entity rule field", f"use one of: {', '.join(known)}")
    sel = calico_selector(d["selector"], origin.at("selector"), problems) if "selector" in d else None
    not_sel = calico_selector(d["notSelector"], origin.at("notSelector"), problems) if "notSelector" in d else None
    ns_sel = (calico_selector(d["namespaceSelector"], origin.at("namespaceSelector"), problems)
              if d.get("namespaceSelector") else None)
    sa = _sa_selector(d.get("serviceAccounts"), origin.at("serviceAccounts"), problems)
    if sa is not None:
        sel = conj([sa, sel or All()])
    nothing = False
    texts: list[str] = []
    if "services" in d:
        notes.append("a Service match (services:) is not modelled: that rule matches nothing here")
        nothing = True
    endpoint = not_endpoint = None
    if isinstance(ns_sel, Global):
        nothing = True  # global(): only non-namespaced resources (network sets, host endpoints)
        texts.append("global() resources (none modelled)")
    elif sel is not None or ns_sel is not None or not_sel is not None:
        if ns_sel is not None:
            scope = NsScope() if isinstance(ns_sel, All) else NsScope(selector=ns_sel)
        else:
            scope = NsScope(name=namespace) if namespace is not None else NsScope()
        if sel is not None or ns_sel is not None or (not_sel is not None and namespace is not None):
            endpoint = EndpointSel(scope, sel or All(), "calico")
            texts.append(f"selector {sel or All()} in {scope}")
        if not_sel is not None:
            not_endpoint = EndpointSel(NsScope(), not_sel, "calico")
            texts.append(f"notSelector {not_sel}")
    nets = not_nets = None
    if "nets" in d:
        nets = tuple(n for i, x in enumerate(seq(d["nets"], origin.at("nets"), problems) or [])
                     if (n := calico_net(x, origin.at(f"nets[{i}]"), problems)) is not None)
        texts.append(f"nets {', '.join(map(str, nets)) or '(none)'}")
    if "notNets" in d:
        not_nets = tuple(n for i, x in enumerate(seq(d["notNets"], origin.at("notNets"), problems) or [])
                         if (n := calico_net(x, origin.at(f"notNets[{i}]"), problems)) is not None)
        texts.append(f"notNets {', '.join(map(str, not_nets))}")
    peer: tuple[RulePeer, ...] | None = None
    if nothing or endpoint or not_endpoint or nets is not None or not_nets:
        peer = (RulePeer(endpoint=endpoint, not_endpoint=not_endpoint, nets=nets, not_nets=not_nets or (),
                     nothing=nothing, text=" and ".join(texts) or "nothing"),)
    return peer, d.get("ports"), d.get("notPorts")


def compile_rule(data: Any, origin: Origin, direction: Direction, index: int, namespace: str | None,
                 problems: Problems, notes: list[str]) -> PolicyRule | None:
    d = mapping(data, origin, problems)
    action = d.get("action")
    if action not in ACTIONS:
        problems.error(origin.at("action"), f"unknown action {action!r}" if action is not None else "is required",
                       "use Allow, Deny, Log or Pass")
        return None
    protos = ConnSet.ALL
    proto_num = None
    texts: list[str] = []
    if d.get("protocol") is not None:
        proto_num = protocol(d["protocol"], origin.at("protocol"), problems)
        protos = ConnSet.protocol(proto_num) if proto_num is not None else ConnSet.NONE
        texts.append(f"protocol {d['protocol']}")
    if d.get("notProtocol") is not None:
        n = protocol(d["notProtocol"], origin.at("notProtocol"), problems)
        if n is not None:
            protos = protos - ConnSet.protocol(n)
        texts.append(f"notProtocol {d['notProtocol']}")
    never = ""
    if d.get("ipVersion") not in (None, 4, 6):
        problems.error(origin.at("ipVersion"), f"unknown ipVersion {d.get('ipVersion')!r}", "use 4 or 6")
    elif d.get("ipVersion") == 6:
        never = "ipVersion 6 never matches IPv4 traffic"
    for k in ("icmp", "notICMP"):
        if d.get(k) is not None:
            if proto_num not in (1, 58):
                problems.error(origin.at(k), f"{k} needs protocol ICMP or ICMPv6", "set protocol: ICMP")
            notes.append(f"{k} type/code matching is not modelled: the rule is taken to match all of its protocol")
    if d.get("http") is not None:
        if action != "Allow":
            problems.error(origin.at("http"), "http matches are only valid on Allow rules", "use action: Allow")
        notes.append("http (layer 7) matches are not modelled: the rule is taken to match every request")
    src, sports, snot = entity(d.get("source"), origin.at("source"), namespace, problems, notes)
    dst, dports, dnot = entity(d.get("destination"), origin.at("destination"), namespace, problems, notes)
    pm = ports(list(seq(dports, origin.at("destination.ports"), problems) or []), proto_num,
               origin.at("destination.ports"), problems)
    npm = ports(list(seq(dnot, origin.at("destination.notPorts"), problems) or []), proto_num,
                origin.at("destination.notPorts"), problems)
    sp = ports(list(seq(sports, origin.at("source.ports"), problems) or []), proto_num,
               origin.at("source.ports"), problems)
    snp = ports(list(seq(snot, origin.at("source.notPorts"), problems) or []), proto_num,
                origin.at("source.notPorts"), problems)
    if sp is not None or snp is not None:
        # Clients send from ephemeral ports; a source-port criterion matches a new connection only if it
        # leaves some of that range.
        name = {6: "TCP", 17: "UDP", 132: "SCTP"}.get(proto_num or 0, "TCP")
        eph = ConnSet.ports(name, *EPHEMERAL)
        left = (eph & sp.static if sp is not None else eph) - (snp.static if snp is not None else ConnSet.NONE)
        if not left:
            never = never or f"its source ports leave none of the ephemeral range {EPHEMERAL[0]}-{EPHEMERAL[1]}"
        else:
            notes.append("source ports are matched against the ephemeral range "
                         f"{EPHEMERAL[0]}-{EPHEMERAL[1]}: a partial overlap is taken as a match")
    for side, peers in (("source", src), ("destination", dst)):
        if peers:
            texts.append(f"{side} {peers[0].text}")
    if pm is not None:
        texts.append(f"to ports {pm.text}")
    if npm is not None:
        texts.append(f"not to ports {npm.text}")
    meta = mapping(d.get("metadata"), origin.at("metadata"), problems)
    name = str((meta.get("annotations") or {}).get("name", "")) if isinstance(meta.get("annotations"), Mapping) \
        else ""
    return PolicyRule(action, index, direction, src=src, dst=dst, ports=pm, not_ports=npm, protocols=protos,
                never=never, name=name, text=", ".join(texts) or "all traffic", origin=origin)


def compile_calico_policy(obj: KubeObject, problems: Problems) -> Policy | None:
    """A Calico NetworkPolicy (namespaced) or GlobalNetworkPolicy."""
    o = obj.origin
    spec = mapping(obj.body.get("spec"), o.at("spec"), problems)
    is_global = obj.kind == "GlobalNetworkPolicy"
    namespace = None if is_global else (obj.namespace or "default")
    notes: list[str] = []
    order = spec.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int | float)):
        problems.error(o.at("spec.order"), f"expected a number, found {order!r}", "write order: 100")
        order = None
    tier = spec.get("tier") or DEFAULT_TIER
    if not isinstance(tier, str):
        problems.error(o.at("spec.tier"), f"expected a tier name, found {tier!r}",
                       "write `tier:` as the name of a Tier (a string), or leave it out for the default tier")
        tier = DEFAULT_TIER
    sel = calico_selector(spec.get("selector"), o.at("spec.selector"), problems) or All()
    sa = _sa_selector(spec.get("serviceAccountSelector"), o.at("spec.serviceAccountSelector"), problems)
    if sa is not None:
        sel = conj([sel, sa])
    if is_global:
        ns_sel = calico_selector(spec.get("namespaceSelector"), o.at("spec.namespaceSelector"), problems) \
            if spec.get("namespaceSelector") else None
        scope = NsScope(selector=ns_sel) if ns_sel is not None and not isinstance(ns_sel, All) else NsScope()
    else:
        scope = NsScope(name=namespace)
    subject = EndpointSel(scope, sel, "calico")
    ing_raw = seq(spec.get("ingress"), o.at("spec.ingress"), problems) or []
    eg_raw = seq(spec.get("egress"), o.at("spec.egress"), problems) or []
    types_raw = seq(spec.get("types"), o.at("spec.types"), problems)
    if types_raw:
        types = []
        for i, t in enumerate(types_raw):
            if t in ("Ingress", "Egress"):
                types.append(t)
            else:
                problems.error(o.at(f"spec.types[{i}]"), f"unknown type {t!r}", "use Ingress or Egress")
    else:
        types = (["Ingress"] if ing_raw or not eg_raw else []) + (["Egress"] if eg_raw else [])
        notes.append(f"types defaulted to [{', '.join(types)}] (Calico: from the rules present)")
    if is_global and (spec.get("doNotTrack") or spec.get("preDNAT")):
        problems.warn(o.at("spec"), "doNotTrack/preDNAT policies apply to host endpoints only; skipped for pods")
        return None
    ingress = egress = None
    if "Ingress" in types:
        ingress = tuple(r for i, x in enumerate(ing_raw)
                        if (r := compile_rule(x, o.at(f"spec.ingress[{i}]"), "ingress", i, namespace, problems,
                                              notes)) is not None)
    if "Egress" in types:
        egress = tuple(r for i, x in enumerate(eg_raw)
                       if (r := compile_rule(x, o.at(f"spec.egress[{i}]"), "egress", i, namespace, problems,
                                             notes)) is not None)
    kind = "GlobalNetworkPolicy" if is_global else "Calico NetworkPolicy"
    return Policy(kind, obj.name, namespace, tier, None if order is None else float(order), subject, ingress,
                  egress, tuple(dict.fromkeys(notes)), o)


def compile_tier(obj: KubeObject, problems: Problems) -> Tier | None:
    o = obj.origin
    spec = mapping(obj.body.get("spec"), o.at("spec"), problems)
    order = spec.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int | float)):
        problems.error(o.at("spec.order"), f"expected a number, found {order!r}", "write order: 100")
        return None
    action = spec.get("defaultAction") or "Deny"
    if action not in ("Deny", "Pass"):
        problems.error(o.at("spec.defaultAction"), f"unknown defaultAction {action!r}", "use Deny or Pass")
        return None
    if obj.name == DEFAULT_TIER:
        if (order is not None and float(order) != DEFAULT_TIER_ORDER) or action != "Deny":
            problems.error(o.at("spec"), "the default tier has order 1000000 and defaultAction Deny",
                           "leave the default tier's spec out")
        return Tier(DEFAULT_TIER, DEFAULT_TIER_ORDER, "Deny", origin=o)
    return Tier(obj.name, None if order is None else float(order), action, origin=o)
