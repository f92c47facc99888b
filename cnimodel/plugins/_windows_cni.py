"""Which Windows CNI binary a network config runs, how it is read, and what the runtime hands it
(docs/windows-cni.md).

The conf the runtime loads is a plain conf, a conflist, or a flannel conf whose ``delegate`` the flannel
meta-plugin hands on (with its own ``name``, ``ipMasq``, ``ipMasqNetwork`` and host-local ``ipam``; type
``win-bridge`` when the delegate names none). Its ``type`` names the binary: win-bridge / win-overlay
(containernetworking/plugins), sdnbridge / sdnoverlay (microsoft/windows-container-networking) or wincni
(microsoft/SDN, the 2018 talk's). A type cnimodel does not model is read as the plugin family's own binary,
with a warning saying so. The runtime passes ``runtimeConfig`` only for the capabilities the conf declares:
``dns`` (kubelet's pod DNS) and ``portMappings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import Any, Literal

from cnimodel.cluster import Cluster
from cnimodel.dataplane import HnsEndpoint, NodeFacts
from cnimodel.ipam import PodRange
from cnimodel.net import host
from cnimodel.plan import NodeSpec, Origin, Plan, Problems
from cnimodel.plugins import _hns, _sdn

Family = Literal["bridge", "overlay"]
FAMILY_BINARY = {"bridge": "win-bridge", "overlay": "win-overlay"}
# The runtime runs <type>.exe from the CNI bin dir (invoke.FindInPath tries ".exe" then the name as written),
# on a case-insensitive file system: "wincni.exe" and "WinCNI" run wincni.exe.
BINARIES = ("win-bridge", "win-overlay", "sdnbridge", "sdnoverlay", "wincni")
SDN = ("sdnbridge", "sdnoverlay")
# The HNS network type each binary requires of the network it finds (win-*) or creates (sdn*, from its type).
NEEDS = {"win-bridge": ("L2Bridge", "L2Tunnel"), "win-overlay": ("Overlay",)}
FIELD = {"exceptions": "Exceptions", "route": "DestinationPrefix", "provider-address": "ProviderAddress"}
CLUSTER_DOMAIN = "cluster.local"  # kubelet --cluster-domain as kubeadm and the node scripts set it


@dataclass(frozen=True)
class Given:
    """The conf a Windows node's binary reads, where the plan holds it, and what the runtime passes it."""

    conf: Mapping[str, Any]
    origin: Origin
    capabilities: Mapping[str, Any]
    flannel: bool = False
    refused: str = ""  # why the flannel meta-plugin refuses the delegate ('' when it does not)
    caps_at: Origin | None = None  # where capabilities are (flannel's own conf for a delegate)


def binary_of(ptype: Any) -> str | None:
    if not isinstance(ptype, str):
        return None
    t = ptype.lower()
    t = t[:-4] if t.endswith(".exe") else t
    return t if t in BINARIES else None


# CNI types and bridge-delegate options only Linux nodes run (iptables- or netlink-based plugins): a conf naming
# them is the Linux nodes' conf (canal's calico conflist chains portmap; kube-flannel's cni-conf.json delegates
# to the bridge plugin), which Windows nodes never load. calico alone says nothing: Calico's Windows CNI is
# type calico too.
LINUX_TYPES = frozenset(("bridge", "ptp", "macvlan", "ipvlan", "host-device", "portmap", "bandwidth", "tuning",
                         "firewall", "sbr", "vrf", "cilium-cni"))
LINUX_DELEGATE_KEYS = frozenset(("hairpinMode", "isDefaultGateway", "isGateway", "forceAddress"))


def linux_only(cni: Mapping[str, Any] | None) -> bool:
    """Whether a CNI config is for Linux nodes only: a plugin of it (or flannel's delegate) is a Linux-only CNI
    type, or flannel's delegate carries the bridge plugin's options."""
    if cni is None:
        return False
    plugins = cni.get("plugins")
    entries = [c for c in (plugins if isinstance(plugins, list | tuple) else [cni]) if isinstance(c, Mapping)]
    delegates = [d for c in entries if c.get("type") == "flannel" and isinstance(d := c.get("delegate"), Mapping)]
    if any(binary_of(c.get("type")) for c in (*entries, *delegates)):
        return False  # it names a Windows binary
    return (any(str(c.get("type")).lower() in LINUX_TYPES for c in (*entries, *delegates))
            or any(k in d for d in delegates for k in LINUX_DELEGATE_KEYS))


def find(cni: Mapping[str, Any] | None, origin: Origin, problems: Problems) -> Given | None:
    """The Windows binary's conf in ``cni``: a conf, a conflist's first flannel or Windows entry (the others are
    not modelled: warned), or a flannel conf's delegate."""
    if cni is None:
        return None
    plugins = cni.get("plugins")
    entries = ([(c, origin.at(f"plugins[{i}]")) for i, c in enumerate(plugins) if isinstance(c, Mapping)]
               if isinstance(plugins, list | tuple) else [(cni, origin)])
    if not entries:
        return None
    main = next(((c, at) for c, at in entries if c.get("type") == "flannel" or binary_of(c.get("type"))), entries[0])
    for c, at in entries:
        if c is not main[0]:
            problems.warn(at.at("type"), f"chained plugin {c.get('type')!r} is not modelled on Windows nodes; the "
                          f"model runs {main[0].get('type')!r} alone", "nothing to change if it adds no HNS state")
    conf, at = main
    name = conf.get("name") or cni.get("name")  # the runtime hands a conflist's name to each plugin
    caps = conf.get("capabilities")
    caps = caps if isinstance(caps, Mapping) else {}
    if conf.get("type") != "flannel":
        return Given({**conf, "name": name} if name else conf, at, caps)
    delegate = conf.get("delegate")
    delegate = delegate if isinstance(delegate, Mapping) else {}
    refused = [k for k in ("name", "ipam") if k in delegate]
    for k in refused:
        problems.warn(at.at(f"delegate.{k}"), f"the flannel meta-plugin refuses a delegate with {k!r} ('it'll be set "
                      "by flannel'): every pod ADD on the nodes using this conf fails", f"remove delegate.{k}")
    reason = (f"the flannel CNI refuses its delegate's {' and '.join(refused)} field(s): every pod ADD fails"
              if refused else "")
    # flannel_windows.go: the delegate's type defaults to win-bridge; its name is flannel's own
    return Given({"type": "win-bridge", **delegate, **({"name": name} if name else {})}, at.at("delegate"), caps,
                 flannel=True, refused=reason, caps_at=at.at("capabilities"))


def read(given: Given, plan: Plan, problems: Problems, family: Family, default_name: str,
         inject: Mapping[str, Any] | None = None) -> _hns.WindowsConf:
    """The conf as its binary reads it (``inject``: the fields the flannel meta-plugin sets), once per plan."""
    origin = given.origin
    ptype = given.conf.get("type")
    binary = binary_of(ptype)
    if binary is None:
        binary = FAMILY_BINARY[family]
        problems.warn(origin.at("type"), f"CNI plugin type {ptype!r} is not modelled on Windows nodes; the model reads "
                      f"this conf as {binary} (what the plan's network runs on {family} networks)",
                      f"use one of: {', '.join(BINARIES)}")
    raw = {**given.conf, **(inject or {})}
    injected = frozenset(str(k).lower() for k in inject or ())
    if binary in SDN:
        conf = _sdn.read_sdn(raw, origin, problems, default_name, binary, injected)
    elif binary == "wincni":
        conf = _sdn.read_wincni(raw, origin, problems, default_name, injected)
    else:
        conf = _hns.read_windows_conf(raw, origin, problems, default_name, binary)
        # the docker variant of the sig-windows-tools ConfigMaps leaves win-bridge/win-overlay values empty too
        holes = tuple((i, k) for i, p in enumerate(conf.policies) if (k := _sdn.placeholder(p)))
        conf = replace(conf, placeholders=holes)
    fails = [given.refused, conf.add_fails]
    network = "L2Bridge" if family == "bridge" else "Overlay"
    if binary in NEEDS and network not in NEEDS[binary]:
        fails.append(f"{binary} finds network {conf.name!r} of type {network} ('network is of unexpected type'): "
                     "every pod ADD fails")
    return replace(conf, runtime_dns=_capability(given, "dns", binary, problems),
                   port_mappings=_capability(given, "portMappings", binary, problems),
                   add_fails="; ".join(f for f in fails if f))


def _capability(given: Given, name: str, binary: str, problems: Problems) -> bool:
    on = given.capabilities.get(name) is True
    at = given.caps_at or given.origin.at("capabilities")
    if name == "dns" and not on and given.capabilities.get("dnsCapabilities") is True:
        problems.warn(at.at("dnsCapabilities"), "dnsCapabilities is no capability a runtime passes (containerd passes "
                      "the pod's DNS under `dns`): the plugin gets no runtimeConfig.dns", "set capabilities.dns: true")
    if name == "dns" and on and binary == "wincni":
        problems.warn(at.at("dns"), "wincni does not read runtimeConfig.dns (its RuntimeConfig holds port mappings "
                      "only): its pods get the conf's dns", "give dns.Nameservers in the conf")
        return False
    return on


def for_node(conf: _hns.WindowsConf, plan: Plan, node: NodeSpec, family: Family) -> _hns.WindowsConf:
    """The conf as the node holds it: the values the install script fills per node filled in."""
    if not conf.placeholders:
        return conf
    subnet = plan.underlay.subnet(node.subnet).cidr
    return replace(conf, policies=_sdn.fill(conf, plan.service_cidr, plan.cluster_cidr, subnet, node.ip,
                                            family == "bridge"), placeholders=())


def warn_placeholders(conf: _hns.WindowsConf, origin: Origin, problems: Problems) -> None:
    """Once per conf: say which empty values the model fills per node, as the install script does."""
    if conf.placeholders:
        what = ", ".join(f"{conf.policies[i].type} {FIELD[kind]}" for i, kind in conf.placeholders)
        problems.warn(origin.at("AdditionalArgs"), f"empty values, as the sig-windows-tools ConfigMap ships them "
                      f"({what}): the model fills them per node as its start script does (service and cluster "
                      "CIDRs, the node subnet on l2bridge, the node's IP)",
                      "nothing to change if that script writes this conf")


def runtime_dns(plan: Plan, namespace: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """kubelet's DNS for a ClusterFirst pod (GetPodDNS): the cluster DNS, then <ns>.svc, svc and the domain."""
    servers = (str(plan.dns_service_ip),) if plan.dns_service_ip else ()
    return servers, (f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN)


def pod_gateway(conf: _hns.WindowsConf, cidr: IPv4Network) -> IPv4Address | None:
    """The pods' default gateway as sdn* or wincni set it (None: the family's own rule): forceBridgeGateway → .2;
    addresses from HNS (no ipam.type) → the network subnet's gateway, ipam.routes[0].GW or .1; else the IPAM
    plugin's gateway (host-local: the range's ``gateway``, default .1)."""
    if conf.binary not in (*SDN, "wincni"):
        return None
    if conf.binary in SDN and conf.force_bridge_gateway:
        return host(cidr, 2)
    if conf.hns_ipam:
        return conf.gateway or host(cidr, 1)
    ranges = conf.ipam.get("ranges")
    first = ranges[0][0] if isinstance(ranges, list | tuple) and ranges and ranges[0] else conf.ipam
    gw = first.get("gateway") if isinstance(first, Mapping) else None
    try:
        return IPv4Address(str(gw)) if gw else host(cidr, 1)
    except ValueError:
        return host(cidr, 1)


HNS_IPAM_NOTE = ("HNS assigns the pod addresses (the conf names no ipam.type); the model takes the lowest free "
                 "address past the reserved ones")


def pod_range(conf: _hns.WindowsConf, rng: PodRange | None, cidr: IPv4Network | None) -> PodRange | None:
    """The family's pod range with the binary's gateway, and HNS as the allocator when the conf names no IPAM."""
    if rng is None or cidr is None:
        return rng
    gw = pod_gateway(conf, cidr)
    if gw is not None and gw != rng.gateway:
        rng = replace(rng, gateway=gw)
    if conf.hns_ipam and conf.binary in (*SDN, "wincni"):
        rng = replace(rng, ipam="hns", note=HNS_IPAM_NOTE)
    return rng


def finish(facts: NodeFacts, cluster: Cluster, node: NodeSpec, conf: _hns.WindowsConf) -> NodeFacts:
    """A Windows node's facts with its pod endpoints as the binary builds them: the sdn* and wincni policies,
    the runtime's DNS where the conf declares the capability, none where every ADD fails."""
    if conf.binary in ("win-bridge", "win-overlay") and not conf.runtime_dns and not conf.add_fails:
        return facts
    notes = list(facts.notes)
    if conf.add_fails:
        notes.append(conf.add_fails)
        return replace(facts, hns_endpoints=tuple(e for e in facts.hns_endpoints if e.role != "pod"),
                       notes=tuple(notes))
    pods = {a.pod.key: a for a in cluster.allocation.pods_on(node.name)}
    cidr = cluster.allocation.nodes[node.name].pod_cidr
    gateway = pod_gateway(conf, cidr) if cidr is not None else None
    out: list[HnsEndpoint] = []
    for e in facts.hns_endpoints:
        a = pods.get(e.pod or "") if e.role == "pod" else None
        if a is None:
            out.append(e)
            continue
        ep = _endpoint(e, a.pod, conf, cluster.plan, node, notes, gateway)
        if ep is not None:
            out.append(ep)
    return replace(facts, hns_endpoints=tuple(out), notes=tuple(notes))


def _endpoint(e: HnsEndpoint, pod: Any, conf: _hns.WindowsConf, plan: Plan, node: NodeSpec,
              notes: list[str], gateway: IPv4Address | None) -> HnsEndpoint | None:
    servers, search = e.dns_servers, e.dns_search
    policies, mac, owner = e.policies, e.mac, e.owner
    if conf.binary in ("sdnbridge", "sdnoverlay", "wincni"):
        servers, search = _sdn.conf_dns(conf, pod.namespace)
        mac, owner = None, conf.binary  # HNS picks the MAC: these binaries set none
        if conf.binary == "wincni":
            policies = _sdn.wincni_policies(conf, pod)
        else:
            policies, fails = _sdn.sdn_policies(conf, pod, e.ip, node.windows_build)
            if fails:
                notes.append(fails)
                return None
    if conf.runtime_dns:
        rs, rsearch = runtime_dns(plan, pod.namespace)
        servers, search = rs or servers, rsearch or search
    return replace(e, policies=policies, mac=mac, owner=owner, dns_servers=servers, dns_search=search,
                   gateway=gateway or e.gateway)
