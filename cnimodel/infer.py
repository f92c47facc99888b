"""A plan from a live cluster's dump: what a ClusterPlan would say, read from the cluster's own objects.

A dump (``kubectl get nodes,pods,services,…,configmaps,daemonsets -A -o json``) holds the nodes but no ClusterPlan.
The loader marks such a plan ``from_dump`` (also when a ClusterPlan beside the dump leaves out the plugin or a
range); ``infer`` fills in, field by field, what the ClusterPlan does not state:

- ``network.plugin`` (and ``policy.plugin``): the plugin whose daemon runs in a DaemonSet (each plugin declares
  its daemon: cnimodel.sources.Daemon); its settings are then read from the ConfigMaps as cnimodel.discover
  reads them for a ClusterPlan that names the plugin only;
- ``clusterCIDR``: the plugin's own config (flannel's net-conf.json ``Network``), else kube-proxy's
  ``clusterCIDR`` (a KubeProxyConfiguration in a ConfigMap: kubeadm's ``kube-system/kube-proxy`` ``config.conf``),
  else kubeadm's ``networking.podSubnet`` (``kube-system/kubeadm-config`` ``ClusterConfiguration``), else the
  smallest range covering the nodes' podCIDRs (a guess); left out when the plugin gives pods underlay addresses;
- ``serviceCIDR``: kubeadm's ``networking.serviceSubnet``, else the smallest range covering the Services'
  ClusterIPs (a guess); ``dnsServiceIP``: the ClusterIP of ``kube-system/kube-dns``;
- ``nodeCIDRMaskSize``: the nodes' podCIDR length; ``kubeProxy``: the KubeProxyConfiguration's modelled fields;
- ``underlay.subnets``: the nodes' InternalIPs grouped by /16, each group the smallest range covering its
  addresses (and, where pods take underlay addresses, its pods'), at least a /24, gateway .1 (a guess).

Each value is recorded in ``Plan.inferred`` with where it came from; a guessed one is also a warning.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network, summarize_address_range
from pathlib import Path
from typing import Any

import yaml

from cnimodel.discover import DaemonSetView, configmap_data, daemonsets
from cnimodel.discover import complete as discover
from cnimodel.net import host
from cnimodel.plan import (
    Inferred,
    KubeObject,
    NetworkSpec,
    Origin,
    Plan,
    PlanError,
    PolicySpec,
    Problems,
    Underlay,
    UnderlaySubnet,
    load_plan,
)
from cnimodel.plan.checks import check_plan
from cnimodel.plan.fields import freeze, thaw
from cnimodel.sources import Daemon

ORIGIN = Origin("<inferred ClusterPlan>")
FIX = ("write the value in a ClusterPlan beside the dump (`cnimodel plan infer DUMP -o yaml` writes one to start "
       "from; a ClusterPlan may give only some fields)")
# The KubeProxyConfiguration fields spec.kubeProxy models (cnimodel.services.config).
PROXY_FIELDS = ("mode", "clusterCIDR", "detectLocalMode", "healthzBindAddress", "featureGates")
PROXY_IPTABLES = ("masqueradeAll", "masqueradeBit", "localhostNodePorts", "masqueradeRandomFully")


@dataclass(frozen=True)
class Component:
    """A component's config file found in a ConfigMap key (a KubeProxyConfiguration, kubeadm's
    ClusterConfiguration), and where."""

    data: Mapping[str, Any]
    cm: KubeObject
    key: str

    @property
    def where(self) -> str:
        return f"{self.key} of ConfigMap {self.cm.key} ({self.cm.origin.where()})"


def components(plan: Plan, kind: str) -> list[Component]:
    """Every ConfigMap key holding a YAML or JSON document of ``kind``."""
    out = []
    for cm in plan.objects:
        if cm.kind != "ConfigMap":
            continue
        for key, text in configmap_data(cm).items():
            if not (isinstance(text, str) and kind in text):
                continue
            try:
                docs = list(yaml.safe_load_all(text))
            except yaml.YAMLError:
                continue
            out += [Component(d, cm, str(key)) for d in docs if isinstance(d, dict) and d.get("kind") == kind]
    return out


def running(daemon: Daemon, sets: Iterable[DaemonSetView]) -> list[tuple[DaemonSetView, Mapping[str, Any]]]:
    """The DaemonSet containers that run ``daemon``: its binary anywhere in the command line, or its image."""
    by_binary, by_image = [], []
    for d in sets:
        for c in d.containers:
            words = [str(w).rsplit("/", 1)[-1] for k in ("command", "args") for w in c.get(k) or ()]
            if any(w in daemon.binaries for w in words):
                by_binary.append((d, c))
            elif any(i in str(c.get("image", "")) for i in daemon.images):
                by_image.append((d, c))
    return by_binary + by_image  # the daemon itself before init containers of the same image family


def _seen(hits: list[tuple[DaemonSetView, Mapping[str, Any]]]) -> str:
    d, c = hits[0]
    more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
    return f"{d.label} container {c.get('name')} (image {c.get('image')}){more}"


def _looked_for(daemon: Daemon) -> str:
    return " or ".join([*daemon.binaries, *(f"an image named *{i}*" for i in daemon.images)])


def _recognise(kind: type) -> dict[str, Daemon | None]:
    from cnimodel.plugin import load_plugin, plugins_of

    return {name: getattr(load_plugin(name, kind), "daemon", None) for name in plugins_of(kind)}


def _plugins(plan: Plan, problems: Problems, found: list[Inferred]) -> tuple[NetworkSpec | None, PolicySpec]:
    from cnimodel.plugin import NetworkPlugin, PolicyPlugin

    sets = daemonsets(plan)
    nets = {n: running(d, sets) for n, d in _recognise(NetworkPlugin).items() if d is not None}
    pols = {n: running(d, sets) for n, d in _recognise(PolicyPlugin).items() if d is not None}
    network, policy = plan.network, plan.policy
    if "policy" not in plan.stated:
        hits = [(n, h) for n, h in pols.items() if h]
        if len(hits) == 1:
            name, h = hits[0]
            policy = PolicySpec(plugin=name, origin=ORIGIN.at("spec.policy"))
            found.append(Inferred("spec.policy.plugin", name, f"its daemon runs: {_seen(h)}"))
    if network is not None:
        return network, policy
    hits = [(n, h) for n, h in nets.items() if h]
    if len(hits) == 1:
        name, h = hits[0]
        found.append(Inferred("spec.network.plugin", name, f"its daemon runs: {_seen(h)}"))
        return NetworkSpec(plugin=name, origin=ORIGIN.at("spec.network")), policy
    fix = ("name the plugin in a ClusterPlan given beside the dump; the rest is still read from the dump:\n"
           "      apiVersion: cnimodel/v1\n      kind: ClusterPlan\n      spec:\n        network: {plugin: NAME}\n"
           f"    (network plugins: {', '.join(_recognise(NetworkPlugin))})")
    if hits:
        problems.error(_at(plan, "spec.network.plugin"), "the dump runs the daemons of several network "
                       "plugins: " + "; ".join(f"{n} ({_seen(h)})" for n, h in hits), fix)
        return None, policy
    looked = "; ".join(f"{_looked_for(d)} [{n}]" for n, d in _recognise(NetworkPlugin).items() if d is not None)
    silent = [n for n, d in _recognise(NetworkPlugin).items() if d is None]
    text = (f"the network plugin is not recognisable: no DaemonSet in the inputs runs a network plugin's daemon "
            f"(looked for {looked}; {', '.join(silent)} run no daemon of their own)")
    if policy.plugin and policy.plugin in pols:
        text += f"; the policy plugin {policy.plugin} runs ({_seen(pols[policy.plugin])}), not the network under it"
    problems.error(_at(plan, "spec.network.plugin"), text, fix)
    return None, policy


def _at(plan: Plan, field: str) -> Origin:
    """Where an error about a ClusterPlan field points: the ClusterPlan given, else the inferred one."""
    return plan.origin.at(field) if "ClusterPlan" in plan.stated else ORIGIN.at(field)


def _v4(value: Any) -> IPv4Network | None:
    """The IPv4 range of a (comma-separated, dual-stack) CIDR string; None when there is none."""
    for part in str(value or "").split(","):
        try:
            net = IPv4Network(part.strip(), strict=False)
        except ValueError:
            continue
        return net
    return None


def covering(addresses: Iterable[IPv4Address | IPv4Network]) -> IPv4Network | None:
    """The smallest network holding every address (or network) given."""
    lo = hi = None
    for a in addresses:
        first, last = (a.network_address, a.broadcast_address) if isinstance(a, IPv4Network) else (a, a)
        lo = first if lo is None or first < lo else lo
        hi = last if hi is None or last > hi else hi
    if lo is None or hi is None:
        return None
    net = next(summarize_address_range(lo, lo))
    while hi not in net:
        net = net.supernet()
    return net


class _Choice:
    """Candidates for one field in order of precedence; the first wins, the others that differ are named."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.items: list[tuple[Any, str, bool]] = []

    def add(self, value: Any, source: str, guessed: bool = False) -> None:
        if value is not None:
            self.items.append((value, source, guessed))

    def pick(self, found: list[Inferred], problems: Problems) -> Any:
        if not self.items:
            return None
        value, source, guessed = self.items[0]
        found.append(Inferred(self.field, str(value), source, guessed))
        for other, where, was_guessed in self.items[1:]:
            if other != value and not was_guessed:
                problems.warn(ORIGIN.at(self.field), f"{self.field} {value} is taken from {source}; {where} says "
                              f"{other}", "check which one the cluster runs with; " + FIX)
        return value


def load_complete(paths: Sequence[str | Path], texts: dict[str, str] | None = None) -> Plan:
    """The plan the front doors use: read with the installed plugins' view (an unknown plugin name reported with
    the plan's other problems, workloads' pods placed by the plugin's pod capacity), then ``complete``."""
    from cnimodel.plugin import installed

    return complete(load_plan(paths, texts, installed=installed()))


def complete(plan: Plan) -> Plan:
    """The plan as every command uses it: a dump's missing ClusterPlan values inferred (``infer``), then the
    plugin settings its manifests carry read in (cnimodel.discover.complete). Idempotent."""
    return discover(infer(plan))


def infer(plan: Plan) -> Plan:
    """The plan with what its dump says in place of the ClusterPlan fields it lacks (see the module doc); the
    plan itself when it is not ``from_dump``. Raises PlanError when the network plugin cannot be recognised or
    a required range is nowhere in the dump."""
    if not plan.from_dump:
        return plan
    problems = Problems()
    found: list[Inferred] = []
    network, policy = _plugins(plan, problems, found)
    problems.raise_if_errors()
    assert network is not None
    proxies = sorted(components(plan, "KubeProxyConfiguration"),
                     key=lambda c: (c.data.get("mode") == "kernelspace", c.cm.key != "kube-system/kube-proxy"))
    proxy = proxies[0] if proxies else None
    kubeadm = next(iter(components(plan, "ClusterConfiguration")), None)
    networking = kubeadm.data.get("networking") if kubeadm else None
    networking = networking if isinstance(networking, Mapping) else {}
    stated = plan.stated
    bare = "ClusterPlan" not in stated  # no ClusterPlan at all: the plan is named after the first input
    name = plan.name
    if bare and plan.sources:  # named after the first input (standard input: "stdin")
        name = "stdin" if plan.sources[0] == "-" else plan.sources[0].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    service = _Choice("spec.serviceCIDR")
    if "serviceCIDR" not in stated:
        service.add(_v4(networking.get("serviceSubnet")), f"networking.serviceSubnet in {kubeadm.where}"
                    if kubeadm else "")
        ips = sorted({a for o in plan.objects if o.kind == "Service" for a in _cluster_ips(o)})
        service.add(covering(ips), f"the smallest range covering the Services' {len(ips)} ClusterIPs (no kubeadm "
                    "ClusterConfiguration in the dump)", guessed=True)
    service_cidr = service.pick(found, problems) if "serviceCIDR" not in stated else plan.service_cidr
    if service_cidr is None:
        problems.error(_at(plan, "spec.serviceCIDR"), "nothing in the dump gives the Service range: no "
                       "kubeadm-config ConfigMap (ClusterConfiguration networking.serviceSubnet) and no Service "
                       "with a ClusterIP", "add serviceCIDR (kube-apiserver --service-cluster-ip-range) to a "
                       "ClusterPlan beside the dump")
        problems.raise_if_errors()
    kube_proxy = plan.kube_proxy
    if "kubeProxy" not in stated and proxy is not None:
        kube_proxy = freeze(_proxy_fields(proxy.data))
        for k, v in kube_proxy.items():
            found.append(Inferred(f"spec.kubeProxy.{k}", v if isinstance(v, str) else json.dumps(thaw(v)), proxy.where))
    draft = replace(plan, network=network, policy=policy, service_cidr=service_cidr, kube_proxy=kube_proxy,
                    from_dump=False, origin=ORIGIN if bare else plan.origin, name=name)
    draft = discover(draft)  # the plugin's settings from the dump's ConfigMaps and DaemonSets
    cluster_cidr = plan.cluster_cidr
    if "clusterCIDR" not in stated and _needs_cluster_cidr(draft):
        cluster_cidr = _cluster_cidr(draft, proxy, kubeadm, networking, found, problems)
    mask = plan.node_cidr_mask_size
    lengths = {n.pod_cidr.prefixlen for n in plan.nodes if n.pod_cidr is not None}
    if "nodeCIDRMaskSize" not in stated and len(lengths) == 1 and cluster_cidr is not None:
        mask = lengths.pop()
        found.append(Inferred("spec.nodeCIDRMaskSize", str(mask), "the length of the nodes' spec.podCIDR"))
    dns = plan.dns_service_ip
    if "dnsServiceIP" not in stated:
        dns = _dns(plan, service_cidr, found)
    underlay = plan.underlay
    if "underlay.subnets" not in stated:
        underlay = _underlay(draft, cluster_cidr is None, found)
    out = replace(draft, cluster_cidr=cluster_cidr, node_cidr_mask_size=mask, dns_service_ip=dns, underlay=underlay,
                  inferred=tuple(found))
    for f in found:
        if f.guessed:
            problems.warn(ORIGIN.at(f.field), f"{f.field} {f.value} is a guess: {f.source}", FIX)
    out = check_plan(out, problems, objects=False)  # the loader checked the rest
    if problems.errors:
        raise PlanError(problems.items + list(out.warnings))
    return replace(out, warnings=out.warnings + tuple(problems.warnings))


def _cluster_ips(svc: KubeObject) -> list[IPv4Address]:
    spec = svc.body.get("spec") or {}
    out = []
    for ip in (spec.get("clusterIP"), *(spec.get("clusterIPs") or ())):
        try:
            out.append(IPv4Address(str(ip)))
        except ValueError:  # None, "None" (headless), IPv6
            continue
    return out


def _proxy_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The KubeProxyConfiguration fields spec.kubeProxy models, without empty values (kubeadm writes ``mode: ""``,
    which kube-proxy reads as its default, iptables on Linux)."""
    out = {k: data[k] for k in PROXY_FIELDS if data.get(k) not in (None, "", {})}
    ipt = data.get("iptables") if isinstance(data.get("iptables"), Mapping) else {}
    ipt = {k: ipt[k] for k in PROXY_IPTABLES if ipt.get(k) is not None}
    return out | ({"iptables": ipt} if ipt else {})


def _needs_cluster_cidr(plan: Plan) -> bool:
    from cnimodel.plugin import NetworkPlugin, load_plugin

    assert plan.network is not None
    try:
        return bool(load_plugin(plan.network.plugin, NetworkPlugin)(plan, Problems()).needs_cluster_cidr())
    except Exception:  # a plan its plugin cannot read yet: Cluster.build says why; assume a pod range
        return True


def _cluster_cidr(plan: Plan, proxy: Component | None, kubeadm: Component | None, networking: Mapping[str, Any],
                  found: list[Inferred], problems: Problems) -> IPv4Network | None:
    from cnimodel.plugin import NetworkPlugin, load_plugin

    assert plan.network is not None
    choice = _Choice("spec.clusterCIDR")
    stated = load_plugin(plan.network.plugin, NetworkPlugin).stated_cluster_cidr(plan.network)
    if stated is not None:
        what, value = stated
        config = dict(plan.network.sources).get("config", "the network config")
        choice.add(_v4(value), f"{what} of {config}")
    if proxy is not None:
        choice.add(_v4(proxy.data.get("clusterCIDR")), f"clusterCIDR in {proxy.where}")
    if kubeadm is not None:
        choice.add(_v4(networking.get("podSubnet")), f"networking.podSubnet in {kubeadm.where}")
    cidrs = [n.pod_cidr for n in plan.nodes if n.pod_cidr is not None]
    choice.add(covering(cidrs), f"the smallest range covering the {len(cidrs)} nodes' spec.podCIDR", guessed=True)
    return choice.pick(found, problems)


def _dns(plan: Plan, service_cidr: IPv4Network, found: list[Inferred]) -> IPv4Address | None:
    for o in plan.objects:
        if o.kind == "Service" and o.key == "kube-system/kube-dns":
            ips = [ip for ip in _cluster_ips(o) if ip in service_cidr]
            if ips:
                found.append(Inferred("spec.dnsServiceIP", str(ips[0]), f"the ClusterIP of Service kube-system/"
                                      f"kube-dns ({o.origin.where()})"))
                return ips[0]
    if service_cidr.num_addresses <= 10:  # (a range guessed from one ClusterIP: no 10th address to take)
        return None
    dns = host(service_cidr, 10)
    found.append(Inferred("spec.dnsServiceIP", str(dns), "the 10th address of the Service range (kubeadm's "
                          "default); the dump has no Service kube-system/kube-dns", guessed=True))
    return dns


def _underlay(plan: Plan, pods_in_underlay: bool, found: list[Inferred]) -> Underlay:
    """The nodes' subnets: their InternalIPs grouped by /16, each group's covering range at least a /24."""
    groups: dict[IPv4Network, list[IPv4Address]] = {}
    for n in plan.nodes:
        groups.setdefault(IPv4Network((n.ip, 16), strict=False), []).append(n.ip)
    if pods_in_underlay:  # pods on underlay addresses (Azure CNI): their subnet must hold them too
        for p in plan.pods:
            if p.ip is not None and not p.host_network:
                key = IPv4Network((p.ip, 16), strict=False)
                if key in groups:
                    groups[key].append(p.ip)
    node_ips = {n.ip for n in plan.nodes}
    subnets = []
    for addresses in groups.values():
        net = covering(addresses)
        assert net is not None
        if net.prefixlen > 24:
            net = net.supernet(new_prefix=24)
        gateway = host(net, 1)
        if gateway in node_ips:  # a node holds .1: the router is elsewhere; take the last address
            gateway = net.broadcast_address - 1
        subnets.append(UnderlaySubnet(str(net), net, gateway))
        what = "nodes' InternalIPs" + (" and pod IPs" if pods_in_underlay else "")
        found.append(Inferred("spec.underlay.subnets", f"{net} (gateway {gateway})",
                              f"the smallest range (at least a /24) covering {len(addresses)} {what} in "
                              f"{IPv4Network((net.network_address, 16), strict=False)}; the gateway is assumed "
                              "at its first address", guessed=True))
    return Underlay(tuple(subnets), plan.underlay.routes, plan.underlay.name, plan.underlay.static_routes)
