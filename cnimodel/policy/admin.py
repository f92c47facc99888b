"""policy.networking.k8s.io AdminNetworkPolicy and BaselineAdminNetworkPolicy → the compiled model.

ANPs go to the ``kube-admin`` tier (before NetworkPolicies), ordered by priority (lower first); the BANP to
``kube-baseline`` (after them). Both tiers end in Pass: admin rules have no implicit isolation. A peer with
no field we know fails closed: for Allow it matches nothing, for Deny and Pass it denies everything.
"""

from __future__ import annotations

from typing import Any

from cnimodel.plan import KubeObject, Origin, Problems
from cnimodel.policy.common import cidr, label_selector, mapping, port_name_problem, port_number, seq
from cnimodel.policy.connset import PORT_PROTOCOLS, ConnSet
from cnimodel.policy.k8s import ns_scope
from cnimodel.policy.labelselector import k8s_text
from cnimodel.policy.model import (
    ADMIN_TIER,
    BASELINE_TIER,
    KNP_ORDER,
    Action,
    Direction,
    EndpointSel,
    Policy,
    PolicyRule,
    PortMatch,
    RulePeer,
)
from cnimodel.policy.selectors import All


def subject(data: Any, origin: Origin, problems: Problems) -> EndpointSel | None:
    d = mapping(data, origin, problems)
    keys = [k for k in ("namespaces", "pods") if k in d]
    if len(keys) != 1:
        problems.error(origin, "exactly one of namespaces or pods is required",
                       "write subject: {namespaces: {...}} or subject: {pods: {namespaceSelector, podSelector}}")
        return None
    if keys[0] == "namespaces":
        return EndpointSel(ns_scope(d["namespaces"], origin.at("namespaces"), problems), All(), "k8s")
    pods = mapping(d["pods"], origin.at("pods"), problems)
    return EndpointSel(ns_scope(pods.get("namespaceSelector"), origin.at("pods.namespaceSelector"), problems),
                       label_selector(pods.get("podSelector"), origin.at("pods.podSelector"), problems), "k8s")


def peer(data: Any, origin: Origin, direction: Direction, problems: Problems) -> tuple[RulePeer | None, bool]:
    """One peer → (peer, known); an unknown or empty peer comes back (None, False) to fail closed."""
    d = mapping(data, origin, problems)
    kinds = ("namespaces", "pods") + (("nodes", "networks") if direction == "egress" else ())
    present = [k for k in kinds if k in d]
    if len(present) != 1:
        problems.warn(origin, f"a peer needs exactly one of {', '.join(kinds)}; it fails closed "
                      "(Allow matches nothing, Deny and Pass deny everything)")
        return None, False
    k = present[0]
    o = origin.at(k)
    if k == "namespaces":
        scope = ns_scope(d[k], o, problems)
        return RulePeer(endpoint=EndpointSel(scope, All(), "k8s"), text=f"pods in namespaces {k8s_text(d[k])}"), True
    if k == "pods":
        pods = mapping(d[k], o, problems)
        scope = ns_scope(pods.get("namespaceSelector"), o.at("namespaceSelector"), problems)
        sel = label_selector(pods.get("podSelector"), o.at("podSelector"), problems)
        return RulePeer(endpoint=EndpointSel(scope, sel, "k8s"),
                    text=f"pods {k8s_text(pods.get('podSelector'))} in namespaces "
                         f"{k8s_text(pods.get('namespaceSelector'))}"), True
    if k == "nodes":
        return RulePeer(nodes=label_selector(d[k], o, problems), text=f"nodes {k8s_text(d[k])}"), True
    nets = tuple(n for i, x in enumerate(seq(d[k], o, problems) or [])
                 if (n := cidr(x, o.at(f"[{i}]"), problems)) is not None)
    return RulePeer(nets=nets, text=f"networks {', '.join(map(str, nets))}"), True


def ports(items: list[Any] | None, origin: Origin, problems: Problems) -> PortMatch | None:
    """``portNumber`` / ``portRange`` / ``namedPort`` items (ORed); None when absent: every port."""
    if items is None:
        return None
    static = ConnSet.NONE
    named: list[tuple[str, str | None]] = []
    texts: list[str] = []
    for i, p in enumerate(items):
        o = origin.at(f"[{i}]")
        d = mapping(p, o, problems)
        present = [k for k in ("portNumber", "portRange", "namedPort") if k in d]
        if len(present) != 1:
            problems.error(o, "exactly one of portNumber, portRange or namedPort is required",
                           "write {portNumber: {protocol: TCP, port: 80}}")
            continue
        k = present[0]
        if k == "namedPort":
            name = d[k]
            if not isinstance(name, str) or (why := port_name_problem(name)):
                problems.error(o.at(k), why if isinstance(name, str) else "expected a port name",
                               "use a container port name")
                continue
            named.append((name, None))
            texts.append(f"{name} (named)")
            continue
        pd = mapping(d[k], o.at(k), problems)
        proto = pd.get("protocol") or "TCP"
        if proto not in PORT_PROTOCOLS:
            problems.error(o.at(f"{k}.protocol"), f"unknown protocol {proto!r}", "use TCP, UDP or SCTP")
            continue
        if k == "portNumber":
            n = port_number(pd.get("port"), o.at(f"{k}.port"), problems)
            if n is not None:
                static |= ConnSet.ports(proto, n, n)
                texts.append(f"{proto} {n}")
        else:
            lo = port_number(pd.get("start"), o.at(f"{k}.start"), problems)
            hi = port_number(pd.get("end"), o.at(f"{k}.end"), problems)
            if lo is None or hi is None:
                continue
            if hi < lo:
                problems.error(o.at(f"{k}.end"), f"end {hi} is less than start {lo}", "make end >= start")
                continue
            static |= ConnSet.ports(proto, lo, hi)
            texts.append(f"{proto} {lo}-{hi}")
    return PortMatch(static, tuple(named), ", ".join(texts))


def rule(data: Any, origin: Origin, direction: Direction, index: int, actions: tuple[str, ...],
         problems: Problems) -> PolicyRule | None:
    d = mapping(data, origin, problems)
    action = d.get("action")
    if action not in actions:
        problems.error(origin.at("action"), f"unknown action {action!r}" if action is not None else "is required",
                       f"use {', '.join(actions)}")
        return None
    key = "from" if direction == "ingress" else "to"
    raw = seq(d.get(key), origin.at(key), problems)
    if not raw:
        problems.error(origin.at(key), "needs at least one peer", f"list the {key} peers")
        return None
    compiled = [peer(x, origin.at(f"{key}[{i}]"), direction, problems) for i, x in enumerate(raw)]
    peers = [p for p, ok in compiled if ok and p is not None]
    act: Action = action
    note = ""
    if any(not ok for _, ok in compiled) and action != "Allow":
        act, peers, note = "Deny", [RulePeer(text="any peer (an unknown peer fails closed)")], " (fails closed)"
    pm = ports(seq(d.get("ports"), origin.at("ports"), problems), origin.at("ports"), problems)
    text = f"{key} {' OR '.join(p.text for p in peers) or 'nothing'}; " \
           f"{'all ports and protocols' if pm is None else pm.text}{note}"
    side = {"src": tuple(peers)} if direction == "ingress" else {"dst": tuple(peers)}
    return PolicyRule(act, index, direction, ports=pm, name=str(d.get("name") or ""), text=text, origin=origin, **side)


def compile_admin_policy(obj: KubeObject, problems: Problems) -> Policy | None:
    """An AdminNetworkPolicy or the BaselineAdminNetworkPolicy (which must be named ``default``)."""
    o = obj.origin
    spec = mapping(obj.body.get("spec"), o.at("spec"), problems)
    baseline = obj.kind == "BaselineAdminNetworkPolicy"
    if baseline and obj.name != "default":
        problems.error(o.at("metadata.name"), f"a BaselineAdminNetworkPolicy must be named 'default', not "
                       f"{obj.name!r}", "rename it to default (there is one per cluster)")
        return None
    order: float = KNP_ORDER
    if not baseline:
        prio = spec.get("priority")
        if isinstance(prio, bool) or not isinstance(prio, int) or not 0 <= prio <= 1000:
            problems.error(o.at("spec.priority"), f"expected an integer from 0 to 1000, found {prio!r}",
                           "set priority: 10 (lower values take precedence)")
            return None
        order = float(prio)
    subj = subject(spec.get("subject"), o.at("spec.subject"), problems)
    actions = ("Allow", "Deny") if baseline else ("Allow", "Deny", "Pass")
    out: dict[str, tuple[PolicyRule, ...] | None] = {}
    for direction in ("ingress", "egress"):
        raw = seq(spec.get(direction), o.at(f"spec.{direction}"), problems)
        # No rules in a direction: the policy does not affect it (and its tier ends in Pass anyway).
        out[direction] = tuple(r for i, x in enumerate(raw or [])
                               if (r := rule(x, o.at(f"spec.{direction}[{i}]"), direction, i, actions, problems))
                               is not None) if raw else None
    if subj is None:
        return None
    kind = "BaselineAdminNetworkPolicy" if baseline else "AdminNetworkPolicy"
    return Policy(kind, obj.name, None, BASELINE_TIER if baseline else ADMIN_TIER, order, subj,
                  out["ingress"], out["egress"], (), o)
