"""NetworkPolicy lints in the manner of cyclonus' ``lint`` (policy-semantics.md §2.2–2.6, §5.2, §7;
tools-and-planning.md §3.8.18): default-deny egress that blocks DNS, policies that select nothing, missing
policyTypes, ports without a protocol, duplicate names, and rules an earlier rule already covers.

They read Kubernetes NetworkPolicies (networking.k8s.io) as written, and need no cluster: they run on manifests
alone. Selection and DNS use the policy engine's compiled form (its API defaulting)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from cnimodel.plan import KubeObject
from cnimodel.plan.fields import thaw
from cnimodel.policy.model import Policy, PolicyRule
from cnimodel.validate.context import Context, phrase
from cnimodel.validate.policy import selection
from cnimodel.validate.registry import Hit, check

DNS_PORT = 53
DNS_PORT_NAMES = {"UDP": ("dns",), "TCP": ("dns-tcp", "dns")}  # CoreDNS's container port names


def k8s_policies(ctx: Context) -> list[KubeObject]:
    return [o for o in ctx.plan.objects if o.kind == "NetworkPolicy" and o.api_version.startswith("networking.k8s.io")]


def _obj(o: KubeObject) -> str:
    return f"{o.key}[NetworkPolicy]"


def _allows_dns(rule: PolicyRule, proto: str) -> bool:
    if rule.ports is None:
        return True
    if rule.ports.static.allows(proto, DNS_PORT):
        return True
    return any(name in DNS_PORT_NAMES[proto] and p in (None, proto) for name, p in rule.ports.named)


@check("CNI-POL-010", "warning", "policy", "Default-deny egress blocks DNS (UDP and TCP 53)",
       "policy-semantics.md §5.2 (cyclonus CheckDNSBlockedOnUDP/TCP); tools-and-planning.md §3.8.18",
       needs_cluster=False)
def dns_blocked(ctx: Context) -> Iterator[Hit]:
    targets: dict[tuple[str, str], list[Policy]] = defaultdict(list)
    for p in selection(ctx).policies:
        if p.kind == "NetworkPolicy" and p.egress is not None:
            targets[(p.namespace or "default", str(p.subject.pod))].append(p)
    for (ns, pods), policies in targets.items():
        rules = [r for p in policies for r in p.egress or ()]
        blocked = [proto for proto in ("UDP", "TCP") if not any(_allows_dns(r, proto) for r in rules)]
        if blocked:
            names = [p.key for p in policies]
            yield Hit(f"pods matching {pods} in namespace {ns} have egress isolated by {phrase(names, 3)} and no "
                      f"egress rule allows {' or '.join(f'{b} 53' for b in blocked)} to any destination: DNS lookups "
                      "fail (large answers and retries use TCP)", "add an egress rule to the cluster DNS pods (e.g. "
                      "namespaceSelector kubernetes.io/metadata.name: kube-system, k8s-app: kube-dns) on UDP and "
                      "TCP 53", tuple(f"{k}[NetworkPolicy]" for k in names), (policies[0].origin.at("spec.egress"),))


@check("CNI-POL-011", "warning", "policy", "A policy selects no pod in the plan",
       "policy-semantics.md §5.2, §5.3 (netpol-analyzer and cyclonus report policies that select nothing)",
       needs_cluster=False)
def selects_nothing(ctx: Context) -> Iterator[Hit]:
    if not ctx.plan.pods:
        return
    sel = selection(ctx)
    for p in sel.policies:
        if not sel.classes(p):
            yield Hit(f"{p.title} selects no pod ({p.subject}): it has no effect, or its selector has a typo",
                      "fix spec.podSelector (labels and namespace), or remove the policy",
                      (f"{p.key}[{p.kind.replace(' ', '')}]",), (p.origin.at("spec"),))


def _spec(o: KubeObject) -> dict[str, Any]:
    spec = thaw(o.body.get("spec"))
    return spec if isinstance(spec, dict) else {}


@check("CNI-POL-012", "warning", "policy", "Egress rules without policyTypes also isolate ingress",
       "policy-semantics.md §2.2, §7.1 (kubernetes pkg/apis/networking/v1/defaults.go)", needs_cluster=False)
def egress_without_types(ctx: Context) -> Iterator[Hit]:
    for o in k8s_policies(ctx):
        spec = _spec(o)
        if not spec.get("policyTypes") and spec.get("egress"):
            yield Hit(f"NetworkPolicy {o.key} has egress rules and no policyTypes: the API server sets policyTypes "
                      "[Ingress, Egress], so the selected pods also accept no ingress at all",
                      "write policyTypes: [Egress] for an egress-only policy", (_obj(o),), (o.origin.at("spec"),))


@check("CNI-POL-013", "info", "policy", "A policy leaves policyTypes to defaulting",
       "policy-semantics.md §2.2 (cyclonus CheckSourceMissingPolicyTypes)", needs_cluster=False)
def missing_policy_types(ctx: Context) -> Iterator[Hit]:
    for o in k8s_policies(ctx):
        spec = _spec(o)
        if not spec.get("policyTypes") and not spec.get("egress"):
            yield Hit(f"NetworkPolicy {o.key} has no policyTypes: it defaults to [Ingress]", "write policyTypes "
                      "explicitly so readers and tools agree", (_obj(o),), (o.origin.at("spec"),))


def _rules(spec: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for direction in ("ingress", "egress"):
        for i, r in enumerate(spec.get(direction) or ()):
            if isinstance(r, dict):
                yield direction, i, r


@check("CNI-POL-014", "info", "policy", "A policy port has no protocol",
       "policy-semantics.md §2.6, §7.7 (the protocol defaults to TCP; UDP and SCTP are never implied)",
       needs_cluster=False)
def port_without_protocol(ctx: Context) -> Iterator[Hit]:
    for o in k8s_policies(ctx):
        where = [f"spec.{d}[{i}].ports[{j}]" for d, i, r in _rules(_spec(o))
                 for j, p in enumerate(r.get("ports") or ()) if isinstance(p, dict) and "protocol" not in p]
        if where:
            yield Hit(f"NetworkPolicy {o.key} has {len(where)} port(s) without a protocol ({phrase(where, 3)}): they "
                      "match TCP only", "write protocol: TCP (or UDP/SCTP) on every port", (_obj(o),),
                      (o.origin.at(where[0]),))


def _canon(x: Any) -> str:
    return json.dumps(x, sort_keys=True)


def _peers_cover(a: Any, b: Any) -> bool:
    if not a:
        return True  # from/to missing or empty: every peer
    if not b:
        return False
    have = {_canon(p) for p in a}
    return all(_canon(p) in have for p in b)


def _port_cover(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if a.get("protocol", "TCP") != b.get("protocol", "TCP"):
        return False
    ap, bp = a.get("port"), b.get("port")
    if ap is None:
        return True
    if bp is None:
        return False
    if isinstance(ap, str) or isinstance(bp, str):
        return ap == bp and a.get("endPort") is None
    return ap <= bp and (b.get("endPort") or bp) <= (a.get("endPort") or ap)


def _ports_cover(a: Any, b: Any) -> bool:
    if not a:
        return True  # ports missing or empty: every port and protocol
    if not b:
        return False
    return all(any(isinstance(pa, Mapping) and isinstance(pb, Mapping) and _port_cover(pa, pb) for pa in a)
               for pb in b)


@check("CNI-POL-016", "info", "policy", "A rule is covered by an earlier rule of the same policy",
       "tools-and-planning.md §3.8.18 (Batfish filterLineReachability analogue); policy-semantics.md §2.3",
       needs_cluster=False)
def shadowed_rules(ctx: Context) -> Iterator[Hit]:
    for o in k8s_policies(ctx):
        spec = _spec(o)
        for direction, peer_key in (("ingress", "from"), ("egress", "to")):
            rules = [r for r in spec.get(direction) or () if isinstance(r, dict)]
            for j, rb in enumerate(rules):
                for i in range(j):
                    ra = rules[i]
                    if _peers_cover(ra.get(peer_key), rb.get(peer_key)) and _ports_cover(ra.get("ports"),
                                                                                     rb.get("ports")):
                        yield Hit(f"NetworkPolicy {o.key}: {direction} rule {j + 1} allows nothing that {direction} "
                                  f"rule {i + 1} does not already allow", "remove the redundant rule, or fix the peer "
                                  "or port it was meant to add", (_obj(o),), (o.origin.at(f"spec.{direction}[{j}]"),))
                        break
