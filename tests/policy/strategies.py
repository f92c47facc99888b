"""Hypothesis strategies: small random clusters (namespaces, pods with named ports, nodes, a hostNetwork pod)
and random policy sets of every kind, as raw manifest documents."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMESPACES = ["x", "y", "z"]
APPS = ["web", "db", "api"]
CIDRS = {  # cidr → strict subsets usable in except
    "10.0.0.0/16": ["10.0.1.0/24", "10.0.0.1/32"],
    "10.0.1.0/24": ["10.0.1.2/32"],
    "10.0.0.0/8": ["10.0.0.0/16", "10.0.2.0/24"],
    "0.0.0.0/0": ["10.0.0.0/8", "172.16.0.1/32"],
    "172.16.0.0/16": ["172.16.0.2/32"],
    "192.168.0.0/16": [],
}
PORT_OPTIONS = [("serve", "TCP", 80), ("serve", "TCP", 81), ("serve", "UDP", 80), ("dns", "UDP", 53),
                ("dns", "TCP", 53), ("metrics", "TCP", 9090)]
PROBES: list[tuple[str | int, int | None]] = [("TCP", 80), ("TCP", 81), ("TCP", 79), ("TCP", 85), ("TCP", 90),
                                              ("TCP", 91), ("UDP", 53), ("UDP", 80), ("SCTP", 80), ("TCP", 53),
                                              ("TCP", 9090), (1, None), (47, None)]
EXTERNAL_IPS = ["8.8.8.8", "10.0.9.9", "192.168.3.4", "10.2.0.1"]

labels_st = st.fixed_dictionaries({"app": st.sampled_from(APPS)},
                                  optional={"tier": st.sampled_from(["fe", "be"])})


@st.composite
def cluster(draw: st.DrawFn) -> dict[str, Any]:
    """Namespaces, pods (IPs 10.0.<ns>.<n>), two nodes and maybe a hostNetwork pod, as documents."""
    docs: list[dict[str, Any]] = []
    nss = NAMESPACES[:draw(st.integers(2, 3))]
    for i, ns in enumerate(nss):
        labels = {"ns": ns}
        if draw(st.booleans()):
            labels["team"] = draw(st.sampled_from(["a", "b"]))
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}})
        for j in range(draw(st.integers(1, 3))):
            ports = draw(st.lists(st.sampled_from(PORT_OPTIONS), max_size=3, unique_by=lambda p: (p[0], p[1])))
            names_seen = set()
            cports = []
            for name, proto, num in ports:
                if name in names_seen:  # a pod may declare a port name once
                    continue
                names_seen.add(name)
                cports.append({"containerPort": num, "protocol": proto, "name": name})
            docs.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "abc"[j], "namespace": ns, "labels": draw(labels_st)},
                         "spec": {"nodeName": draw(st.sampled_from(["n1", "n2"])),
                                  "containers": [{"name": "c", "image": "i", "ports": cports}]},
                         "status": {"podIP": f"10.0.{i + 1}.{j + 1}"}})
    for k, name in enumerate(["n1", "n2"]):
        docs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {
            "role": draw(st.sampled_from(["a", "b"]))}}, "status": {"addresses": [
                {"type": "InternalIP", "address": f"172.16.0.{k + 1}"}]}})
    if draw(st.booleans()):
        docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "h", "namespace": nss[0],
                     "labels": {"app": "web"}}, "spec": {"nodeName": "n1", "hostNetwork": True,
                     "containers": [{"name": "c", "image": "i"}]}, "status": {"podIP": "172.16.0.1"}})
    return {"docs": docs, "namespaces": nss}


def k8s_selector() -> st.SearchStrategy[dict[str, Any]]:
    expr = st.one_of(
        st.builds(lambda v: {"key": "app", "operator": "In", "values": v},
                  st.lists(st.sampled_from(APPS), min_size=1, max_size=2, unique=True)),
        st.builds(lambda v: {"key": "app", "operator": "NotIn", "values": [v]}, st.sampled_from(APPS)),
        st.sampled_from([{"key": "tier", "operator": "Exists"}, {"key": "tier", "operator": "DoesNotExist"}]),
    )
    return st.one_of(
        st.just({}),
        st.builds(lambda a: {"matchLabels": {"app": a}}, st.sampled_from(APPS)),
        st.builds(lambda e: {"matchExpressions": [e]}, expr),
    )


ns_selector = st.one_of(st.just({}), st.builds(lambda n: {"matchLabels": {"ns": n}}, st.sampled_from(NAMESPACES)),
                        st.just({"matchLabels": {"team": "a"}}),
                        st.builds(lambda n: {"matchLabels": {"kubernetes.io/metadata.name": n}},
                                  st.sampled_from(NAMESPACES)))


@st.composite
def ip_block(draw: st.DrawFn) -> dict[str, Any]:
    cidr = draw(st.sampled_from(sorted(CIDRS)))
    exc = draw(st.lists(st.sampled_from(CIDRS[cidr]), unique=True)) if CIDRS[cidr] else []
    return {"ipBlock": {"cidr": cidr, **({"except": exc} if exc else {})}}


k8s_peer = st.one_of(
    st.builds(lambda p: {"podSelector": p}, k8s_selector()),
    st.builds(lambda n: {"namespaceSelector": n}, ns_selector),
    st.builds(lambda n, p: {"namespaceSelector": n, "podSelector": p}, ns_selector, k8s_selector()),
    ip_block(),
)


@st.composite
def k8s_port(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["protocol"] = draw(st.sampled_from(["TCP", "UDP", "SCTP"]))
    kind = draw(st.sampled_from(["num", "range", "name", "name", "none"]))
    if kind == "num":
        out["port"] = draw(st.sampled_from([80, 81, 53, 9090]))
    elif kind == "range":
        out["port"] = draw(st.sampled_from([80, 85]))
        out["endPort"] = out["port"] + draw(st.sampled_from([0, 5, 10]))
    elif kind == "name":
        out["port"] = draw(st.sampled_from(["serve", "serve", "dns", "metrics", "nope"]))
    return out


def _maybe_list(inner: st.SearchStrategy[Any], max_size: int = 2) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.just([]), st.lists(inner, min_size=1, max_size=max_size))


@st.composite
def k8s_policy(draw: st.DrawFn, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": draw(k8s_selector())}
    if draw(st.booleans()):
        spec["policyTypes"] = draw(st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
    for direction, key in (("ingress", "from"), ("egress", "to")):
        rules = draw(_maybe_list(st.builds(lambda peers, ports, k=key: {
            **({k: peers} if peers is not None else {}), **({"ports": ports} if ports is not None else {})},
            _maybe_list(k8s_peer), _maybe_list(k8s_port()))))
        if rules is not None:
            spec[direction] = rules
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": draw(st.sampled_from(NAMESPACES[:2]))}, "spec": spec}


calico_expr = st.sampled_from([
    "app == 'web'", "app != 'db'", "app in {'web', 'api'}", "app not in {'web'}", "has(tier)", "!has(tier)",
    "all()", "app == 'web' && tier == 'fe'", "app == 'db' || has(tier)", "!(app == 'api')",
    "projectcalico.org/namespace == 'y'",
])
calico_ns_expr = st.sampled_from(["ns == 'x'", "ns in {'y', 'z'}", "all()", "team == 'a'",
                                  "projectcalico.org/name == 'y'"])


@st.composite
def calico_entity(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, strat in (("selector", calico_expr), ("namespaceSelector", calico_ns_expr), ("notSelector", calico_expr)):
        if draw(st.integers(0, 3)) == 0:
            out[key] = draw(strat)
    if draw(st.integers(0, 3)) == 0:
        out["nets"] = draw(st.lists(st.sampled_from(sorted(CIDRS)), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 4)) == 0:
        out["notNets"] = [draw(st.sampled_from(["10.0.1.0/24", "10.0.0.0/8", "172.16.0.1/32"]))]
    return out


@st.composite
def calico_rule(draw: st.DrawFn) -> dict[str, Any]:
    r: dict[str, Any] = {"action": draw(st.sampled_from(["Allow", "Deny", "Pass", "Log"]))}
    proto = draw(st.sampled_from([None, "TCP", "UDP", "ICMP", 132]))
    if proto is not None:
        r["protocol"] = proto
    if draw(st.integers(0, 5)) == 0:
        r["notProtocol"] = draw(st.sampled_from(["UDP", "TCP"]))
    src, dst = draw(calico_entity()), draw(calico_entity())
    if proto in ("TCP", "UDP", 132) and draw(st.booleans()):
        dst["ports"] = draw(st.lists(st.sampled_from([80, "80:85", "serve", 53, "dns"]), min_size=1, max_size=2))
    if proto in ("TCP", "UDP", 132) and draw(st.integers(0, 4)) == 0:
        dst["notPorts"] = [81]
    if src:
        r["source"] = src
    if dst:
        r["destination"] = dst
    return r


@st.composite
def calico_policy(draw: st.DrawFn, name: str, tiers: list[str]) -> dict[str, Any]:
    is_global = draw(st.booleans())
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        spec["selector"] = draw(calico_expr)
    if is_global and draw(st.integers(0, 2)) == 0:
        spec["namespaceSelector"] = draw(calico_ns_expr)
    order = draw(st.sampled_from([None, 100, 1000, 2000]))
    if order is not None:
        spec["order"] = order
    tier = draw(st.sampled_from(["default", *tiers]))
    if tier != "default":
        spec["tier"] = tier
    for d in ("ingress", "egress"):
        rules = draw(st.one_of(st.none(), st.lists(calico_rule(), max_size=3)))
        if rules is not None:
            spec[d] = rules
    if draw(st.integers(0, 2)) == 0:
        spec["types"] = draw(st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
    meta: dict[str, Any] = {"name": name}
    if not is_global:
        meta["namespace"] = draw(st.sampled_from(NAMESPACES[:2]))
    return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy" if is_global else "NetworkPolicy",
            "metadata": meta, "spec": spec}


@st.composite
def anp_peer(draw: st.DrawFn, egress: bool) -> dict[str, Any]:
    options = ["namespaces", "pods"] + (["networks", "nodes"] if egress else [])
    k = draw(st.sampled_from(options))
    if k == "namespaces":
        return {"namespaces": draw(ns_selector)}
    if k == "pods":
        return {"pods": {"namespaceSelector": draw(ns_selector), "podSelector": draw(k8s_selector())}}
    if k == "networks":
        return {"networks": draw(st.lists(st.sampled_from(sorted(CIDRS)), min_size=1, max_size=2, unique=True))}
    return {"nodes": {"matchLabels": {"role": draw(st.sampled_from(["a", "b"]))}}}


anp_port = st.one_of(
    st.builds(lambda p, n: {"portNumber": {"protocol": p, "port": n}}, st.sampled_from(["TCP", "UDP"]),
              st.sampled_from([80, 53])),
    st.builds(lambda s: {"portRange": {"protocol": "TCP", "start": s, "end": s + 5}}, st.sampled_from([80, 85])),
    st.builds(lambda n: {"namedPort": n}, st.sampled_from(["serve", "dns"])),
)


@st.composite
def admin_policy(draw: st.DrawFn, name: str, baseline: bool) -> dict[str, Any]:
    actions = ["Allow", "Deny"] if baseline else ["Allow", "Deny", "Pass"]
    subject = draw(st.one_of(st.builds(lambda n: {"namespaces": n}, ns_selector),
                             st.builds(lambda n, p: {"pods": {"namespaceSelector": n, "podSelector": p}},
                                       ns_selector, k8s_selector())))
    spec: dict[str, Any] = {"subject": subject}
    if not baseline:
        spec["priority"] = draw(st.sampled_from([5, 10, 20]))
    for d, key in (("ingress", "from"), ("egress", "to")):
        rules = draw(st.lists(st.builds(lambda a, peers, ports, k=key: {
            "action": a, k: peers, **({"ports": ports} if ports is not None else {})},
            st.sampled_from(actions), st.lists(anp_peer(d == "egress"), min_size=1, max_size=2),
            st.one_of(st.none(), st.lists(anp_port, min_size=1, max_size=2))), max_size=2))
        if rules:
            spec[d] = rules
    kind = "BaselineAdminNetworkPolicy" if baseline else "AdminNetworkPolicy"
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": kind,
            "metadata": {"name": "default" if baseline else name}, "spec": spec}


@st.composite
def policy_set(draw: st.DrawFn, kinds: tuple[str, ...] = ("k8s", "calico", "admin")) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    if "k8s" in kinds:
        docs += [draw(k8s_policy(f"np{i}")) for i in range(draw(st.integers(0, 3)))]
    if "calico" in kinds:
        tiers = [f"t{i}" for i in range(draw(st.integers(0, 2)))]
        for t in tiers:
            spec: dict[str, Any] = {"order": draw(st.sampled_from([50, 500, 2_000_000]))}
            if draw(st.booleans()):
                spec["defaultAction"] = "Pass"
            docs.append({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": t}, "spec": spec})
        docs += [draw(calico_policy(f"cp{i}", tiers)) for i in range(draw(st.integers(0, 3)))]
    if "admin" in kinds:
        docs += [draw(admin_policy(f"anp{i}", False)) for i in range(draw(st.integers(0, 2)))]
        if draw(st.booleans()):
            docs.append(draw(admin_policy("default", True)))
    return docs
