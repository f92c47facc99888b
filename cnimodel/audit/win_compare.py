"""The Windows node's model against pasted state: NetRoutes route by route, HNS networks (type, subnet,
gateway, RemoteSubnetRoute policies), HNS endpoints and their policies policy by policy, kube-proxy's load
balancers (HNS v1 policy lists or HCN v2 load balancers), and hnsdiag's listing."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from cnimodel.audit.model import Difference, Fix, InputError
from cnimodel.audit.win_read import Hnsdiag, LiveEndpoint, LiveLoadBalancer, LiveNetwork, NetRoute
from cnimodel.dataplane import HnsEndpoint, HnsPolicy, NodeFacts

MAC = re.compile(r"[0-9a-f]{2}([-:][0-9a-f]{2}){5}")
KUBE_PROXY_FIX = (Fix("kube-proxy-restart"),)
NAT_NETWORKS = ("nat",)
# Policy types the model states when a plugin sets them: a live one of these the model lacks is extra; others
# (L2Driver on v1 remote endpoints, HNS's own) are not compared.
MODELLED = {"outboundnat", "sdnroute", "provideraddress", "portmapping", "acl", "remotesubnetroute", "l4proxy",
            "encapoverhead"}  # the container runtime's default NAT network: on every Windows container host


def norm(v: Any) -> Any:
    """A setting value as compared: case-insensitive text, MACs with ``:``, numbers as text, lists as sets."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, str):
        low = v.lower()
        return low.replace("-", ":") if MAC.fullmatch(low) else low
    if isinstance(v, Mapping):
        return tuple(sorted((str(k).lower(), norm(x)) for k, x in v.items()))
    if isinstance(v, list | tuple):
        return tuple(sorted((norm(x) for x in v), key=repr))
    return v


def covers(model: HnsPolicy, live: HnsPolicy) -> bool:
    """Whether the live policy holds every setting the model gives (HNS adds defaults of its own)."""
    if model.type.lower() != live.type.lower():
        return False
    have = {k.lower(): v for k, v in live.settings.items()}
    return all(k.lower() in have and norm(have[k.lower()]) == norm(v) for k, v in model.settings.items())


def _key(p: HnsPolicy) -> tuple[str, str]:
    return p.type.lower(), str(p.settings.get("DestinationPrefix", "")).lower()


def _shown(p: HnsPolicy) -> str:
    return f"{p.type} {dict(p.settings)}"


def diff_policies(kind: str, key: str, model: Iterable[HnsPolicy], live: Iterable[HnsPolicy],
                  add: str, remove: str, target: str) -> list[Difference]:
    """Policy by policy, paired by type and destination prefix; ``add``/``remove`` are the fixes' actions on
    ``target`` (a network's name, an endpoint's id)."""
    want: dict[tuple[str, str], list[HnsPolicy]] = {}
    have: dict[tuple[str, str], list[HnsPolicy]] = {}
    for p in model:
        want.setdefault(_key(p), []).append(p)
    for p in live:
        have.setdefault(_key(p), []).append(p)
    out = []
    for k, ps_ in want.items():
        pool = list(have.get(k, []))
        for p in ps_:
            hit = next((x for x in pool if covers(p, x)), None)
            if hit is not None:
                pool.remove(hit)
            elif pool:
                old = pool.pop(0)
                out.append(Difference("different", kind, f"{key} {p.type}", _shown(p), _shown(old),
                                      (Fix(remove, (target, old)), Fix(add, (target, p)))))
            else:
                out.append(Difference("missing", kind, f"{key} {p.type}", _shown(p), "", (Fix(add, (target, p)),)))
        have[k] = pool
    out += [Difference("extra", kind, f"{key} {p.type}", "", _shown(p), (Fix(remove, (target, p)),))
            for k, pool in have.items() for p in pool if k[0] in MODELLED or k[0] in {t for t, _ in want}]
    return out


def diff_netroutes(facts: NodeFacts, live: list[NetRoute]) -> list[Difference]:
    want = {r.dst: r for r in facts.routes if r.type == "unicast"}
    have: dict[IPv4Network, list[NetRoute]] = {}
    for r in live:
        if r.prefix not in want and r.os_made():
            continue
        have.setdefault(r.prefix, []).append(r)
    out = []
    for dst, w in want.items():
        hop, alias = w.via or IPv4Address("0.0.0.0"), w.dev or ""
        shown = f"{dst} via {hop} on {alias}"
        found = have.get(dst, [])
        if any(h.next_hop == hop and h.alias == alias for h in found):
            continue
        if not found:
            out.append(Difference("missing", "netroute", str(dst), shown, "", (Fix("netroute", (dst, alias, hop)),)))
        else:
            h = found[0]
            out.append(Difference("different", "netroute", str(dst), shown, f"{h.prefix} via {h.next_hop} on {h.alias}",
                                  (Fix("netroute-del", (h.prefix, h.alias, h.next_hop)),
                                   Fix("netroute", (dst, alias, hop)))))
    out += [Difference("extra", "netroute", str(dst), "", f"{h.prefix} via {h.next_hop} on {h.alias}",
                       (Fix("netroute-del", (h.prefix, h.alias, h.next_hop)),))
            for dst, hs in have.items() if dst not in want for h in hs]
    return out


def diff_networks(path: str, facts: NodeFacts, live: list[LiveNetwork]) -> list[Difference]:
    by_name = {n.name.lower(): n for n in live}
    if live and facts.hns_networks and not any(
            n.name.lower() in by_name or any(str(n.prefix) in x.prefixes for x in live) for n in facts.hns_networks):
        raise InputError(path, f"none of its {len(live)} networks ({', '.join(x.name for x in live[:3])}) is the "
                         f"model's ({', '.join(n.name for n in facts.hns_networks)}) by name or subnet: it is another "
                         "node's or cluster's", "capture Get-HnsNetwork on the plan's node")
    out = []
    for n in facts.hns_networks:
        h = by_name.pop(n.name.lower(), None)
        shown = f"{n.type} {n.prefix} gateway {n.gateway}"
        if h is None:
            out.append(Difference("missing", "hns-network", n.name, shown, "",
                                  (Fix("hns-network", (n, facts.hns_api)),)))
            continue
        got = f"{h.type} {' '.join(h.prefixes)} gateway {' '.join(h.gateways)}"
        if h.type.lower() != n.type.lower() or str(n.prefix) not in h.prefixes or str(n.gateway) not in h.gateways:
            out.append(Difference("different", "hns-network", n.name, shown, got,
                                  (Fix("hns-network-del", (n.name, facts.hns_api)),
                                   Fix("hns-network", (n, facts.hns_api)))))
        runtime = [p for p in n.policies if p.type == "RemoteSubnetRoute"]
        live_rsr = [p for p in h.policies if p.type == "RemoteSubnetRoute"]
        if runtime or live_rsr:
            out += diff_policies("hns-network-policy", n.name, runtime, live_rsr, "hns-network-policy",
                                 "hns-network-policy-del", n.name)
    out += [Difference("extra", "hns-network", h.name, "", f"{h.type} {' '.join(h.prefixes)}",
                       (Fix("hns-network-del", (h.name, None)),))
            for key, h in by_name.items() if key not in NAT_NETWORKS and h.type.lower() not in ("nat", "ics")]
    return out


def _endpoint_fix(e: HnsEndpoint, api: int) -> tuple[Fix, ...]:
    if e.role == "host":
        return (Fix("hns-host-endpoint", (e, api)),)
    if e.role == "pod" and e.pod:
        return (Fix("pod-restart", (e.pod,)),)
    return KUBE_PROXY_FIX


def diff_endpoints(path: str, facts: NodeFacts, live: list[LiveEndpoint]) -> list[Difference]:
    prefixes = [n.prefix for n in facts.hns_networks]
    if live and prefixes and not any(any(IPv4Address(e.ip) in p for p in prefixes) for e in live if ":" not in e.ip):
        raise InputError(path, f"none of its {len(live)} endpoints has an address in the node's HNS networks "
                         f"({', '.join(map(str, prefixes))}): it is another node's or cluster's",
                         "capture Get-HnsEndpoint on the plan's node")
    have: dict[str, LiveEndpoint] = {}
    for e in live:
        have.setdefault(e.ip, e)
    out = []
    for e in facts.hns_endpoints:
        h = have.pop(str(e.ip), None)
        what = f"{e.role} endpoint {e.name}" + (f" of {e.pod}" if e.pod else "")
        if h is None:
            out.append(Difference("missing", "hns-endpoint", str(e.ip), what, "", _endpoint_fix(e, facts.hns_api)))
            continue
        out += diff_policies("endpoint-policy", f"{e.ip} ({h.name or h.id})", e.policies, h.policies,
                             "endpoint-policy", "endpoint-policy-del", h.id)
    out += [Difference("extra", "hns-endpoint", ip, "", f"endpoint {h.name} ({h.id})" + (" remote" if h.remote else ""),
                       (Fix("hns-endpoint-del", (h.id,)),))
            for ip, h in have.items()]
    return out


def diff_load_balancers(path: str, model: list[Any], live: list[LiveLoadBalancer], service_cidr: IPv4Network | None,
                        endpoint_ips: dict[str, str]) -> list[Difference]:
    """kube-proxy's load balancers by (frontend VIPs, protocol, ports); their backends by address when the
    endpoints were given too."""
    vips = {v for lb in live for v in lb.vips}
    if vips and service_cidr is not None and not any(IPv4Address(v) in service_cidr for v in vips if ":" not in v):
        raise InputError(path, f"none of its load balancers' VIPs ({', '.join(sorted(vips)[:3])} …) is in the plan's "
                         f"service range {service_cidr}: it is another cluster's", "capture it on the plan's node")
    have: dict[tuple[object, ...], list[LiveLoadBalancer]] = {}
    for lb in live:
        have.setdefault((lb.vips, lb.protocol, lb.internal_port, lb.external_port), []).append(lb)
    out = []
    for lb in model:
        key = (frozenset(lb.frontend_vips), lb.protocol, lb.internal_port, lb.external_port)
        front = ",".join(lb.frontend_vips) or "(node ports)"
        shown = f"{lb.service} {lb.kind} {front} {lb.protocol}/{lb.external_port}"
        found = have.get(key, [])
        if not found:
            out.append(Difference("missing", "hns-loadbalancer", shown, f"{len(lb.backends)} backend(s)", "",
                                  KUBE_PROXY_FIX))
            continue
        h = found.pop(0)
        want = sorted(b.ip for b in lb.backends)
        got = sorted(endpoint_ips.get(i, i) for i in h.endpoints)
        if (want != got) if endpoint_ips else (len(want) != len(got)):
            out.append(Difference("different", "hns-loadbalancer", shown, " ".join(want), " ".join(got),
                                  KUBE_PROXY_FIX))
    out += [Difference("extra", "hns-loadbalancer", f"{','.join(sorted(h.vips)) or '(node ports)'} "
                       f"{h.protocol}/{h.external_port}", "", h.id, KUBE_PROXY_FIX)
            for hs in have.values() for h in hs]
    return out


def diff_hnsdiag(facts: NodeFacts, live: Hnsdiag, model_lbs: list[Any] | None) -> list[Difference]:
    out = []
    names = {n.lower() for n, _ in live.networks}
    for n in facts.hns_networks:
        if n.name.lower() not in names:
            out.append(Difference("missing", "hns-network", n.name, f"{n.type} {n.prefix}", "",
                                  (Fix("hns-network", (n, facts.hns_api)),)))
    model_names = {n.name.lower() for n in facts.hns_networks}
    out += [Difference("extra", "hns-network", n, "", i, (Fix("hns-network-del", (n, None)),))
            for n, i in live.networks
            if n.lower() not in model_names and n.lower() not in NAT_NETWORKS]
    want = Counter(e.network.lower() for e in facts.hns_endpoints)
    got = Counter(net.lower() for _, _, net in live.endpoints)
    for net in sorted(model_names):
        if want[net] != got[net]:
            out.append(Difference("different", "hns-endpoints", net, f"{want[net]} endpoint(s)",
                                  f"{got[net]} endpoint(s)",
                                  (Fix("kube-proxy-restart", (" (remote endpoints); pods: the CNI",)),)))
    if model_lbs is not None:
        m = Counter(frozenset(lb.frontend_vips) for lb in model_lbs)
        g = Counter(vips for _, vips, _ in live.load_balancers)
        for vips in sorted(set(m) | set(g), key=sorted):
            if m[vips] != g[vips]:
                status = "missing" if not g[vips] else "extra" if not m[vips] else "different"
                out.append(Difference(status, "hns-loadbalancers", ",".join(sorted(vips)) or "(node ports)",
                                      f"{m[vips]} load balancer(s)", f"{g[vips]} load balancer(s)", KUBE_PROXY_FIX))
    return out
