"""A brute-force reference evaluator, written straight from the spec text (policy-semantics.md §1-§4),
for one packet at a time: (source, destination, protocol, port) → allowed?

It reads the raw manifests, not the engine's compiled model, and shares nothing with the engine except
Calico's selector parser (tested on its own in test_selectors.py). Conventions it shares with the engine
because the specs leave them open: ties in order are broken by kind (ANP, GNP, Calico NP, Kubernetes NP),
then namespace, then name; a pod reaching itself is not evaluated; traffic from a pod's own node is allowed;
hostNetwork pods speak with their node's address.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_network
from typing import Any

from cnimodel.policy.selectors import parse_calico as _parse_calico

parse_calico = functools.lru_cache(maxsize=None)(_parse_calico)

PROTO_NUM = {"TCP": 6, "UDP": 17, "SCTP": 132, "ICMP": 1, "ICMPV6": 58, "UDPLITE": 136}
RANK = {"AdminNetworkPolicy": 0, "GlobalNetworkPolicy": 1, "CalicoNP": 2, "NetworkPolicy": 3,
        "BaselineAdminNetworkPolicy": 4}


@dataclass
class BPeer:
    kind: str                    # pod | host | external
    ns: str | None = None
    name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ip: IPv4Address | None = None
    ports: list[tuple[str | None, str, int]] = field(default_factory=list)  # (name, protocol, number)
    node: str | None = None
    node_labels: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    objects: list[tuple[str, str, str | None, str, dict[str, Any]]]  # (kind, apiVersion, ns, name, body)
    ns_labels: dict[str, dict[str, str]]
    unenforced: set[str] = field(default_factory=set)  # pod keys whose node does not enforce
    tiers: dict[str, tuple[float, str]] = field(default_factory=dict)  # name → (order, default action)
    sorted_policies: list[Any] | None = None


# --- selectors ----------------------------------------------------------------------------------------

def k8s_sel(sel: Any, labels: dict[str, str]) -> bool:
    """metav1.LabelSelector: matchLabels AND every expression; NotIn / DoesNotExist hold for absent keys."""
    if sel is None:
        return True
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def ns_labels(w: World, ns: str, calico: bool) -> dict[str, str]:
    out = dict(w.ns_labels.get(ns, {}))
    out["kubernetes.io/metadata.name"] = ns
    if calico:
        out["projectcalico.org/name"] = ns
    return out


def calico_pod_labels(p: BPeer) -> dict[str, str]:
    return {**p.labels, "projectcalico.org/namespace": p.ns or "", "projectcalico.org/orchestrator": "k8s",
            "projectcalico.org/serviceaccount": "default"}


def in_cidr(ip: IPv4Address | None, cidr: str) -> bool:
    return ip is not None and ip in ip_network(cidr, strict=False)


def named(p: BPeer, name: str, proto: str | None) -> list[tuple[str, int]]:
    if p.kind != "pod":
        return []
    return [(pr, n) for nm, pr, n in p.ports if nm == name and (proto is None or pr == proto)]


# --- Kubernetes NetworkPolicy ------------------------------------------------------------------------

def k8s_types(spec: dict[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return spec["policyTypes"]
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def k8s_peer(peer: dict[str, Any], other: BPeer, policy_ns: str) -> bool:
    if "ipBlock" in peer:
        b = peer["ipBlock"]
        return in_cidr(other.ip, b["cidr"]) and not any(in_cidr(other.ip, x) for x in b.get("except") or [])
    if other.kind != "pod":
        return False
    if "namespaceSelector" in peer:
        if not k8s_sel(peer["namespaceSelector"], ns_labels(W, other.ns, False)):  # type: ignore[arg-type]
            return False
    elif other.ns != policy_ns:
        return False
    return k8s_sel(peer.get("podSelector"), other.labels)


def k8s_ports(ports: list[dict[str, Any]] | None, dst: BPeer, proto: str | int, port: int | None) -> bool:
    if not ports:
        return True
    for p in ports:
        pr = p.get("protocol", "TCP")
        if pr != proto:
            continue
        if "port" not in p:
            return True
        if isinstance(p["port"], str):
            if (pr, port) in named(dst, p["port"], pr):
                return True
        elif p["port"] <= (port or 0) <= p.get("endPort", p["port"]):
            return True
    return False


# --- Calico --------------------------------------------------------------------------------------------

def calico_ports(items: list[Any], proto: str | int, port: int | None, dst: BPeer) -> bool:
    for it in items:
        if isinstance(it, int) and it == port:
            return True
        if isinstance(it, str) and ":" in it:
            lo, hi = map(int, it.split(":"))
            if port is not None and lo <= port <= hi:
                return True
        elif isinstance(it, str) and (proto, port) in named(dst, it, proto if isinstance(proto, str) else None):
            return True
    return False


def calico_entity(e: dict[str, Any] | None, who: BPeer, policy_ns: str | None) -> bool:
    """libcalico-go's conversion: selector scoped to the policy namespace (or namespaceSelector); a lone
    notSelector in a namespaced policy also keeps to its namespace; notSelector itself is unscoped."""
    if not e:
        return True
    if "nets" in e and not any(in_cidr(who.ip, n) for n in e["nets"]):
        return False
    if any(in_cidr(who.ip, n) for n in e.get("notNets") or []):
        return False
    sel, nsel, notsel = e.get("selector"), e.get("namespaceSelector"), e.get("notSelector")
    if sel is not None or nsel or (notsel is not None and policy_ns is not None):
        if who.kind != "pod":
            return False
        if nsel:
            if not parse_calico(nsel).matches(ns_labels(W, who.ns, True)):  # type: ignore[arg-type]
                return False
        elif policy_ns is not None and who.ns != policy_ns:
            return False
        if sel is not None and not parse_calico(sel).matches(calico_pod_labels(who)):
            return False
    return not (notsel is not None and who.kind == "pod" and parse_calico(notsel).matches(calico_pod_labels(who)))


def calico_rule(r: dict[str, Any], src: BPeer, dst: BPeer, proto: str | int, port: int | None,
                policy_ns: str | None) -> bool:
    num = PROTO_NUM[proto] if isinstance(proto, str) else proto
    if "protocol" in r:
        want = r["protocol"]
        if (PROTO_NUM[want.upper()] if isinstance(want, str) else want) != num:
            return False
    if "notProtocol" in r:
        nw = r["notProtocol"]
        if (PROTO_NUM[nw.upper()] if isinstance(nw, str) else nw) == num:
            return False
    if not calico_entity(r.get("source"), src, policy_ns) or not calico_entity(r.get("destination"), dst, policy_ns):
        return False
    d = r.get("destination") or {}
    if d.get("ports") and not calico_ports(d["ports"], proto, port, dst):
        return False
    return not (d.get("notPorts") and calico_ports(d["notPorts"], proto, port, dst))


def calico_types(spec: dict[str, Any]) -> list[str]:
    if spec.get("types"):
        return spec["types"]
    ing, eg = bool(spec.get("ingress")), bool(spec.get("egress"))
    return (["Ingress"] if ing or not eg else []) + (["Egress"] if eg else [])


# --- AdminNetworkPolicy ---------------------------------------------------------------------------------

def anp_pods(sel: dict[str, Any], p: BPeer) -> bool:
    return p.kind == "pod" and k8s_sel(sel.get("namespaceSelector"), ns_labels(W, p.ns, False)) \
        and k8s_sel(sel.get("podSelector"), p.labels)  # type: ignore[arg-type]


def anp_peer(peer: dict[str, Any], p: BPeer) -> bool:
    if "namespaces" in peer:
        return p.kind == "pod" and k8s_sel(peer["namespaces"], ns_labels(W, p.ns, False))  # type: ignore[arg-type]
    if "pods" in peer:
        return anp_pods(peer["pods"], p)
    if "networks" in peer:
        return any(in_cidr(p.ip, n) for n in peer["networks"])
    if "nodes" in peer:
        return p.kind == "host" and k8s_sel(peer["nodes"], p.node_labels)
    return False


def anp_ports(ports: list[dict[str, Any]] | None, dst: BPeer, proto: str | int, port: int | None) -> bool:
    if ports is None:
        return True
    for it in ports:
        if "portNumber" in it:
            pn = it["portNumber"]
            if pn.get("protocol", "TCP") == proto and pn["port"] == port:
                return True
        elif "portRange" in it:
            pr = it["portRange"]
            if pr.get("protocol", "TCP") == proto and port is not None and pr["start"] <= port <= pr["end"]:
                return True
        elif (proto, port) in named(dst, it["namedPort"], None):
            return True
    return False


# --- the walk -------------------------------------------------------------------------------------------

W: World  # the world being evaluated (module-level so helpers stay short)


def _policies(w: World) -> list[tuple[float, str, float, int, str, str, str, dict[str, Any]]]:
    """(tier order, tier name, policy order, kind rank, namespace, name, kind, body) for every policy."""
    tiers = {"default": (1_000_000.0, "Deny")}
    for kind, _api, _ns, name, body in w.objects:
        if kind == "Tier":
            spec = body.get("spec") or {}
            tiers[name] = (math.inf if spec.get("order") is None else float(spec["order"]),
                           spec.get("defaultAction", "Deny"))
    out = []
    for kind, api, ns, name, body in w.objects:
        spec = body.get("spec") or {}
        if kind == "NetworkPolicy" and api.startswith("networking.k8s.io"):
            out.append((tiers["default"][0], "default", 1000.0, RANK[kind], ns, name, kind, body))
        elif kind in ("NetworkPolicy", "GlobalNetworkPolicy"):
            k = "CalicoNP" if kind == "NetworkPolicy" else kind
            t = spec.get("tier", "default")
            order = math.inf if spec.get("order") is None else float(spec["order"])
            out.append((tiers[t][0], t, order, RANK[k], ns or "", name, k, body))
        elif kind == "AdminNetworkPolicy":
            out.append((1000.0, "kube-admin", float(spec["priority"]), RANK[kind], "", name, kind, body))
        elif kind == "BaselineAdminNetworkPolicy":
            out.append((10_000_000.0, "kube-baseline", 1000.0, RANK[kind], "", name, kind, body))
    w.tiers = {**tiers, "kube-admin": (1000.0, "Pass"), "kube-baseline": (10_000_000.0, "Pass")}
    return sorted(out, key=lambda x: (x[0], x[1], x[2], x[3], x[4] or "", x[5]))


def _selects(kind: str, ns: str | None, body: dict[str, Any], e: BPeer) -> bool:
    spec = body.get("spec") or {}
    if e.kind != "pod":
        return False
    if kind == "NetworkPolicy":
        return e.ns == ns and k8s_sel(spec.get("podSelector"), e.labels)
    if kind == "CalicoNP":
        return e.ns == ns and parse_calico(spec.get("selector") or "").matches(calico_pod_labels(e))
    if kind == "GlobalNetworkPolicy":
        nsel = spec.get("namespaceSelector")
        if nsel and not parse_calico(nsel).matches(ns_labels(W, e.ns, True)):  # type: ignore[arg-type]
            return False
        return parse_calico(spec.get("selector") or "").matches(calico_pod_labels(e))
    subj = spec["subject"]
    if "namespaces" in subj:
        return k8s_sel(subj["namespaces"], ns_labels(W, e.ns, False))  # type: ignore[arg-type]
    return anp_pods(subj["pods"], e)


def _applies(kind: str, body: dict[str, Any], direction: str) -> bool:
    spec = body.get("spec") or {}
    d = direction.capitalize()
    if kind == "NetworkPolicy":
        return d in k8s_types(spec)
    if kind in ("CalicoNP", "GlobalNetworkPolicy"):
        return d in calico_types(spec)
    return bool(spec.get(direction))


def _rule_matches(kind: str, ns: str | None, r: dict[str, Any], direction: str, src: BPeer, dst: BPeer,
                  proto: str | int, port: int | None) -> bool:
    remote = src if direction == "ingress" else dst
    if kind == "NetworkPolicy":
        peers = r.get("from" if direction == "ingress" else "to")
        if peers and not any(k8s_peer(p, remote, ns) for p in peers):  # type: ignore[arg-type]
            return False
        return k8s_ports(r.get("ports"), dst, proto, port)
    if kind in ("CalicoNP", "GlobalNetworkPolicy"):
        return calico_rule(r, src, dst, proto, port, ns if kind == "CalicoNP" else None)
    peers = r["from" if direction == "ingress" else "to"]
    return any(anp_peer(p, remote) for p in peers) and anp_ports(r.get("ports"), dst, proto, port)


def direction_allows(w: World, e: BPeer, direction: str, src: BPeer, dst: BPeer, proto: str | int,
                     port: int | None) -> bool:
    """§3.7's pseudocode for endpoint ``e``: tiers in order; first Allow/Deny wins; Pass skips to the next
    tier; a participating tier that decides nothing applies its default action; the profile allows."""
    global W
    W = w
    if e.kind != "pod" or f"{e.ns}/{e.name}" in w.unenforced:
        return True
    if w.sorted_policies is None:
        w.sorted_policies = _policies(w)
    pols = [p for p in w.sorted_policies if _applies(p[6], p[7], direction) and _selects(p[6], p[4], p[7], e)]
    tier_names = []
    for p in pols:
        if p[1] not in tier_names:
            tier_names.append(p[1])
    for t in tier_names:
        verdict = None
        for _, tier, _, _, ns, _, kind, body in pols:
            if tier != t or verdict is not None:
                continue
            rules = (body.get("spec") or {}).get(direction) or []
            for r in rules:
                action = r.get("action", "Allow")
                if action == "Log" or not _rule_matches(kind, ns or None, r, direction, src, dst, proto, port):
                    continue
                verdict = action
                break
        if verdict == "Allow":
            return True
        if verdict == "Deny":
            return False
        if verdict is None and w.tiers[t][1] == "Deny":
            return False
    return True


def allowed(w: World, src: BPeer, dst: BPeer, proto: str | int, port: int | None) -> bool | None:
    """None for a pod and itself; otherwise egress of the source AND ingress of the destination."""
    if src.kind == dst.kind == "pod" and (src.ns, src.name) == (dst.ns, dst.name):
        return None
    if src.kind == "host" and dst.kind == "pod" and src.node is not None and src.node == dst.node:
        return True
    return direction_allows(w, src, "egress", src, dst, proto, port) and \
        direction_allows(w, dst, "ingress", src, dst, proto, port)
