#!/usr/bin/env python3
"""Write a manifest plan for the policy benchmark: N pods in M namespaces with P policies of every kind.

    python tools/gen_policy_plan.py --pods 150000 --namespaces 5000 --policies 2000 -o /tmp/policy-150k.json

The cluster looks like a real multi-tenant one: namespaces labelled team/env; per namespace a handful of
Deployments (app, tier, pod-template-hash labels; named ports http, metrics, grpc, pg) and a StatefulSet
whose pods carry their own unique pod-name label. Policies mix what such clusters hold: per-namespace
default-deny, frontend→backend on a named port, cross-namespace access by team, Prometheus scraping on the
metrics named port, egress lock-down with DNS and an internet ipBlock (except the cluster range), per-team
/24 ipBlocks, Calico NetworkPolicies in the default tier and GlobalNetworkPolicies in a security tier,
AdminNetworkPolicies and a BaselineAdminNetworkPolicy. Pods carry status.podIP (10.64.0.0/10), so no
ClusterPlan is needed: every pod is taken as enforced, as with netpol-analyzer.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from ipaddress import IPv4Address
from typing import Any

APPS = ["frontend", "backend", "api", "worker", "cache", "db", "auth", "search"]
PORTS = {"http": 8080, "metrics": 9090, "grpc": 50051, "pg": 5432}
BASE = int(IPv4Address("10.64.0.0"))


def _pod(ns: str, name: str, labels: dict[str, str], ip: int, ports: list[str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "app:1", "ports": [
                {"containerPort": PORTS[p], "name": p} for p in ports]}]},
            "status": {"podIP": str(IPv4Address(BASE + ip))}}


def workloads(pods: int, namespaces: int, rnd: random.Random) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    per_ns = max(1, pods // namespaces)
    ip = 0
    for i in range(namespaces):
        ns = "monitoring" if i == 0 else "kube-system" if i == 1 else f"ns-{i:04d}"
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {
            "team": f"team-{i % 50}", "env": ("prod", "staging", "dev")[i % 3]}}})
        apps = rnd.sample(APPS, 4)
        count = per_ns if i < namespaces - 1 else pods - ip
        for j in range(count):
            app = apps[j % 4]
            labels = {"app": app, "tier": "web" if app in ("frontend", "api") else "data" if app in
                      ("db", "cache") else "logic", "pod-template-hash": f"{i:04x}{j % 4}"}
            if i == 0 and j == 0:
                labels["app"] = "prometheus"
            if i == 1 and j == 0:
                labels["k8s-app"] = "kube-dns"
            if app == "db":  # a StatefulSet: every pod has its own name label
                labels["statefulset.kubernetes.io/pod-name"] = f"{app}-{j}"
                labels.pop("pod-template-hash")
            ports = ["http", "metrics"] + (["pg"] if app == "db" else ["grpc"] if app == "api" else [])
            docs.append(_pod(ns, f"{app}-{j}", labels, ip, ports))
            ip += 1
    return docs


def _np(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def policies(count: int, namespaces: int, rnd: random.Random) -> list[dict[str, Any]]:
    names = [f"ns-{i:04d}" for i in range(2, namespaces)]
    docs: list[dict[str, Any]] = [
        {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "security"},
         "spec": {"order": 100, "defaultAction": "Pass"}},
        {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
         "metadata": {"name": "default"}, "spec": {"subject": {"namespaces": {"matchLabels": {"env": "prod"}}},
                                                   "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]}},
    ]
    kinds = (["deny"] * 30 + ["fe-be"] * 25 + ["team"] * 15 + ["prom"] * 10 + ["egress"] * 10 + ["cidr"] * 3
             + ["calico"] * 5 + ["gnp"] * 1 + ["anp"] * 1)
    for k in range(count - 1):
        kind = kinds[k % len(kinds)]
        ns = rnd.choice(names)
        name = f"{kind}-{k}"
        if kind == "deny":
            docs.append(_np(ns, name, {"podSelector": {}, "policyTypes": ["Ingress"]}))
        elif kind == "fe-be":
            docs.append(_np(ns, name, {"podSelector": {"matchLabels": {"app": "backend"}}, "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}], "ports": [{"port": "http"}]}]}))
        elif kind == "team":
            docs.append(_np(ns, name, {"podSelector": {"matchLabels": {"tier": "web"}}, "ingress": [{"from": [
                {"namespaceSelector": {"matchLabels": {"team": f"team-{rnd.randrange(50)}"}},
                 "podSelector": {"matchExpressions": [{"key": "app", "operator": "In",
                                                       "values": ["frontend", "api"]}]}}],
                "ports": [{"port": 8080}, {"port": 50051, "endPort": 50060}]}]}))
        elif kind == "prom":
            docs.append(_np(ns, name, {"podSelector": {}, "ingress": [{"from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                 "podSelector": {"matchLabels": {"app": "prometheus"}}}], "ports": [{"port": "metrics"}]}]}))
        elif kind == "egress":
            docs.append(_np(ns, name, {"podSelector": {"matchLabels": {"app": rnd.choice(APPS)}},
                                       "policyTypes": ["Egress"], "egress": [
                {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                         "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                 "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                {"to": [{"podSelector": {}}]},
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 443}]}]}))
        elif kind == "cidr":
            net = f"10.{64 + rnd.randrange(64)}.{rnd.randrange(256)}.0/24"
            docs.append(_np(ns, name, {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [
                {"from": [{"ipBlock": {"cidr": net}}], "ports": [{"port": "pg"}]}]}))
        elif kind == "calico":
            docs.append({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                         "metadata": {"name": name, "namespace": ns},
                         "spec": {"order": rnd.choice([100, 500, 1500]), "selector": "app in {'db', 'cache'}",
                                  "ingress": [{"action": "Deny", "protocol": "TCP",
                                               "source": {"selector": "tier == 'web'"},
                                               "destination": {"ports": ["pg", 6379]}},
                                              {"action": "Allow", "source": {"selector": "tier != 'web'"}}]}})
        elif kind == "gnp":
            team = f"team-{rnd.randrange(50)}"
            docs.append({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
                         "metadata": {"name": f"security.{name}"},
                         "spec": {"tier": "security", "order": rnd.randrange(1000),
                                  "namespaceSelector": f"team == '{team}'",
                                  "selector": "has(statefulset.kubernetes.io/pod-name)",
                                  "ingress": [{"action": "Pass", "source": {"namespaceSelector": f"team == '{team}'"}},
                                              {"action": "Deny"}]}})
        else:
            docs.append({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
                         "metadata": {"name": name}, "spec": {
                             "priority": rnd.randrange(1000),
                             "subject": {"namespaces": {"matchLabels": {"team": f"team-{rnd.randrange(50)}"}}},
                             "ingress": [{"action": "Allow", "from": [{"namespaces": {"matchLabels": {
                                 "kubernetes.io/metadata.name": "monitoring"}}}]}],
                             "egress": [{"action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}]}})
    return docs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=150_000)
    ap.add_argument("--namespaces", type=int, default=5_000)
    ap.add_argument("--policies", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args(argv)
    rnd = random.Random(a.seed)
    doc = {"apiVersion": "v1", "kind": "List",
           "items": workloads(a.pods, a.namespaces, rnd) + policies(a.policies, a.namespaces, rnd)}
    out = sys.stdout if a.output == "-" else open(a.output, "w")  # noqa: SIM115
    json.dump(doc, out)
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
