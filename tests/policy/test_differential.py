"""Differential tests: the class engine against the brute-force evaluator, pair by pair and probe by probe,
on random small clusters and policy sets of every kind."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnimodel.plan import load_plan
from cnimodel.policy import Reachability
from cnimodel.policy.compile import compile_policies
from cnimodel.policy.universe import Enforcement, build_universe

from . import bruteforce as bf
from .strategies import EXTERNAL_IPS, PROBES, cluster, policy_set


def world(docs: list[dict[str, Any]]) -> tuple[bf.World, dict[str, bf.BPeer]]:
    """The brute-force view of the same documents: peers by the name the engine gives them."""
    ns_labels = {d["metadata"]["name"]: d["metadata"].get("labels", {}) for d in docs if d["kind"] == "Namespace"}
    nodes = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Node"}
    objects = [(d["kind"], d["apiVersion"], d["metadata"].get("namespace"), d["metadata"]["name"], d)
               for d in docs if d["kind"] not in ("Namespace", "Pod", "Node")]
    peers: dict[str, bf.BPeer] = {}
    for d in docs:
        if d["kind"] != "Pod":
            continue
        m, spec = d["metadata"], d["spec"]
        node = spec.get("nodeName")
        ports = [(c.get("name"), c.get("protocol", "TCP"), c["containerPort"])
                 for ct in spec["containers"] for c in ct.get("ports", [])]
        peers[f"{m['namespace']}/{m['name']}"] = bf.BPeer(
            "host" if spec.get("hostNetwork") else "pod", m["namespace"], m["name"], dict(m.get("labels", {})),
            IPv4Address(d["status"]["podIP"]), ports, node, dict(nodes[node]["metadata"]["labels"]))
    for name, d in nodes.items():
        peers[f"{name}[Node]"] = bf.BPeer("host", None, name, {}, IPv4Address(d["status"]["addresses"][0]["address"]),
                                          [], name, dict(d["metadata"]["labels"]))
    for ip in EXTERNAL_IPS:
        peers[ip] = bf.BPeer("external", ip=IPv4Address(ip))
    return bf.World(objects, ns_labels), peers


def check(docs: list[dict[str, Any]], unenforced: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    text = yaml.safe_dump_all(docs)
    plan = load_plan(["gen.yaml"], texts={"gen.yaml": text})
    if unenforced:  # as if the nodes of these pods enforced no policy
        policies = compile_policies(plan)
        u = build_universe(plan, policies, lambda p: Enforcement(p.key not in unenforced, "test"),
                           {p.key: p.ip for p in plan.pods})
        r = Reachability(plan, policies, u)
    else:
        r = Reachability.from_plan(plan)
    w, peers = world(docs)
    w.unenforced = set(unenforced)
    ends = {name: r.resolve(name)[0] for name in peers}
    for sname, s in peers.items():
        for dname, d in peers.items():
            if s.kind == "external" and d.kind == "external":
                continue
            got = r.connection(ends[sname], ends[dname]).conns
            for proto, port in PROBES:
                want = bf.allowed(w, s, d, proto, port)
                if want is None or (s.kind == d.kind == "host" and s.node == d.node):
                    assert got is None, (sname, dname)
                    continue
                assert got is not None, (sname, dname)
                assert got.allows(proto, port) == want, (sname, dname, proto, port, got.text())


COMMON = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(cluster(), st.data())
def test_kubernetes_networkpolicy_agrees_with_brute_force(c: dict[str, Any], data: st.DataObject) -> None:
    check(c["docs"] + data.draw(policy_set(("k8s",))))


@COMMON
@given(cluster(), st.data())
def test_calico_tiers_agree_with_brute_force(c: dict[str, Any], data: st.DataObject) -> None:
    check(c["docs"] + data.draw(policy_set(("k8s", "calico"))))


@COMMON
@given(cluster(), st.data())
def test_admin_policies_agree_with_brute_force(c: dict[str, Any], data: st.DataObject) -> None:
    check(c["docs"] + data.draw(policy_set(("k8s", "admin"))))


@COMMON
@given(cluster(), st.data())
def test_everything_together_agrees_with_brute_force(c: dict[str, Any], data: st.DataObject) -> None:
    check(c["docs"] + data.draw(policy_set()))


@COMMON
@given(cluster(), st.data())
def test_pods_on_nodes_that_do_not_enforce_agree_with_brute_force(c: dict[str, Any], data: st.DataObject) -> None:
    keys = [f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in c["docs"] if d["kind"] == "Pod"]
    off = data.draw(st.sets(st.sampled_from(keys), min_size=1))
    check(c["docs"] + data.draw(policy_set()), off)


@settings(max_examples=60, deadline=None)
@given(cluster(), st.data())
def test_class_matrix_agrees_with_pair_queries(c: dict[str, Any], data: st.DataObject) -> None:
    """The numpy all-class matrix gives what one pair query gives, for every class pair."""
    docs = c["docs"] + data.draw(policy_set())
    r = Reachability.from_plan(load_plan(["gen.yaml"], texts={"gen.yaml": yaml.safe_dump_all(docs)}))
    f = r.class_matrix()
    n = len(r.u.classes)
    for a in range(n):
        for b in range(n):
            assert r.engine.conns[int(f[a, b])] == r.engine.allowed(a, b)
