"""Parse the ``kind: ClusterPlan`` document (apiVersion cnimodel/v1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cnimodel.net import host
from cnimodel.plan.configtext import read_config_text
from cnimodel.plan.errors import Origin, Problems
from cnimodel.plan.fields import Fields, freeze
from cnimodel.plan.installed import Installed
from cnimodel.plan.limits import MAX_CONFIG_BYTES, InputRefused, check_aliases, read_limited
from cnimodel.plan.model import (
    EMPTY,
    ConfigRef,
    KubeObject,
    NetworkSpec,
    NodeSpec,
    PolicySpec,
    StaticRoute,
    Underlay,
    UnderlaySubnet,
)

API_VERSION = "cnimodel/v1"
# Fields naming files the plugin reads (read as JSON configs; the directory loader skips them as plan files).
CONFIG_KEYS = ("configFile", "cniConfigFile", "windowsConfigFile")
CONFIG_FIELDS = {"configFile": "config", "cniConfigFile": "cni", "windowsConfigFile": "windowsConfig"}


@dataclass(frozen=True)
class ClusterSpec:
    """The ClusterPlan document, before Node objects from other documents join it."""

    name: str
    cluster_cidr: IPv4Network | None
    service_cidr: IPv4Network | None
    node_cidr_mask_size: int
    dns_service_ip: IPv4Address | None
    network: NetworkSpec | None
    policy: PolicySpec
    underlay: Underlay
    nodes: tuple[NodeSpec, ...]
    origin: Origin
    kube_proxy: MappingProxyType[str, Any] = field(default_factory=lambda: EMPTY)
    expand: bool = True  # spec.expand: false uses only the pods the plan lists (docs/workloads.md)
    # the spec fields the document gives (``underlay.subnets`` for a subnet), and ``ClusterPlan``
    stated: frozenset[str] = frozenset()


# What a ClusterPlan read beside a cluster's dump may leave out: cnimodel.infer reads it from the dump.
INFERABLE = frozenset({"clusterCIDR", "serviceCIDR", "network", "underlay.subnets"})


def parse_cluster_plan(doc: dict[str, Any], origin: Origin, problems: Problems, partial: bool = False,
                       installed: Installed | None = None) -> ClusterSpec:
    """The ClusterPlan; ``partial`` (the plan holds a cluster's dump) lets it leave INFERABLE fields out;
    ``installed`` names the plugins a plugin name must be one of (None: Cluster.build checks it)."""
    top = Fields(doc, origin, problems)
    meta = top.sub("metadata")
    name = meta.str("name", default="cluster")
    spec = top.sub("spec")
    under = spec.raw("underlay")
    stated = frozenset((*spec.data, "ClusterPlan")) | (
        {"underlay.subnets"} if isinstance(under, dict) and under.get("subnets") else frozenset())
    cluster_cidr = spec.cidr("clusterCIDR", required=False)  # the plugin says whether it needs one
    service_cidr = spec.cidr("serviceCIDR", required=not partial)
    mask = spec.int("nodeCIDRMaskSize", default=24, lo=8, hi=30)
    if service_cidr is not None and service_cidr.num_addresses < 8:
        # kubernetes/kubernetes@36a4ee4533e4aebb597b96e480f91a3e0eaf43d3:pkg/controlplane/services.go:42
        problems.error(spec.origin.at("serviceCIDR"), f"{service_cidr} holds {service_cidr.num_addresses} "
                       "address(es): kube-apiserver refuses a service range of fewer than 8 addresses",
                       "give the range the API server's --service-cluster-ip-range has (a /12 to a /24 is usual)")
        service_cidr = None
    dns_ip = spec.ip("dnsServiceIP", required=False)
    if dns_ip is None and service_cidr is not None and service_cidr.num_addresses > 10:
        dns_ip = host(service_cidr, 10)  # kubeadm's clusterDNS: the 10th address of the service range
    network = (_network(spec.sub("network"), origin, problems, installed) if spec.raw("network") or not partial
               else None)
    policy = _policy(spec.sub("policy"), problems, installed)
    underlay = _underlay(spec.sub("underlay"), problems)
    nodes = tuple(n for i, raw in enumerate(spec.list("nodes"))
                  if (n := parse_node_entry(raw, spec.origin.at(f"nodes[{i}]"), problems)) is not None)
    kube_proxy = spec.raw("kubeProxy")
    if kube_proxy is not None and not isinstance(kube_proxy, dict):
        problems.error(spec.origin.at("kubeProxy"), "expected a mapping of kube-proxy settings",
                       "write e.g. `kubeProxy: {winkernel: {enableDSR: true}}` (see docs/services.md)")
        kube_proxy = None
    return ClusterSpec(name, cluster_cidr, service_cidr, mask, dns_ip, network, policy, underlay, nodes,
                       origin, kube_proxy=freeze(kube_proxy) if kube_proxy else EMPTY,
                       expand=spec.bool("expand", default=True), stated=stated)


def _network(f: Fields, doc_origin: Origin, problems: Problems, installed: Installed | None) -> NetworkSpec | None:
    if not f.data:
        names = f" (plugins: {', '.join(installed.names('network'))})" if installed is not None else ""
        problems.error(f.origin, "is required", f"add `network: {{plugin: flannel, backend: host-gw}}`{names}")
        return None
    plugin = f.str("plugin")
    _check_installed(plugin, "network", f.origin.at("plugin"), problems, installed)
    backend = f.str("backend", default=None)
    manager = f.str("subnetManager", default="kube", choices=("kube", "etcd"))
    given = f.raw("config")
    config: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    if given is not None and not isinstance(given, dict):
        problems.error(f.origin.at("config"), f"expected a mapping of the plugin's own settings, found "
                       f"{type(given).__name__}", "write `config:` as key: value pairs (e.g. `Network: 10.244.0.0/16`)")
    cni = f.raw("cni")
    if cni is not None and not isinstance(cni, dict):
        problems.error(f.origin.at("cni"), f"expected a CNI network config (a mapping), found {type(cni).__name__}",
                       "write `cni:` as the CNI config's JSON object (cniVersion, name, plugins)")
        cni = None
    windows: Any = f.raw("windowsConfig")
    if windows is not None and not isinstance(windows, dict):
        problems.error(f.origin.at("windowsConfig"), "expected a mapping (the Windows nodes' net-conf.json), found "
                       f"{type(windows).__name__}", "write `windowsConfig:` as key: value pairs")
        windows = None
    refs: dict[str, ConfigRef] = {}
    sources: list[tuple[str, str]] = []
    for key in CONFIG_KEYS:
        path = f.str(key, default=None)
        if path is None:
            continue
        loaded = _read_config_file(path, key, doc_origin, f.origin.at(key), problems)
        if isinstance(loaded, ConfigRef):
            refs[CONFIG_FIELDS[key]] = loaded
            continue
        if loaded is None:
            continue
        sources.append((CONFIG_FIELDS[key], f"{key} {path}"))
        if key == "windowsConfigFile":
            windows = {**loaded, **(windows or {})}  # inline windowsConfig fields win
        elif "plugins" in loaded or "type" in loaded:
            cni = loaded  # a CNI conf or conflist
        else:
            config = {**loaded, **config}  # the daemon's own config (net-conf.json); inline fields win
    for name, given in (("config", f.raw("config")), ("cni", f.raw("cni")), ("windowsConfig", windows)):
        if isinstance(given, dict) and given and not any(s == name for s, _ in sources):
            sources.append((name, f"spec.network.{name} ({doc_origin.file})"))
    return NetworkSpec(plugin=plugin or "", backend=backend, config=freeze(config),
                       cni=freeze(cni) if cni is not None else None, subnet_manager=manager,
                       origin=f.origin, windows_config=freeze(windows) if windows is not None else None,
                       sources=tuple(sources), refs=MappingProxyType(refs))


def _read_config_file(path: str, key: str, doc_origin: Origin, origin: Origin,
                      problems: Problems) -> dict | ConfigRef | None:
    """A config file as the plugin reads it (JSON), or the ConfigMaps of a manifest it names (``kube-flannel.yml``,
    ``kube-flannel.yml#net-conf.json``, ``canal.yaml#kube-system/canal-config/net-conf.json``)."""
    base = Path(doc_origin.file).parent if doc_origin.file and not doc_origin.file.startswith("<") else Path()
    path, _, fragment = path.partition("#")
    full = (base / path) if not Path(path).is_absolute() else Path(path)
    try:
        text = read_limited(full, MAX_CONFIG_BYTES, "config file").decode("utf-8")
    except InputRefused as e:
        problems.error(origin, f"{full}: {e.message}", e.fix)
        return None
    except UnicodeDecodeError as e:
        problems.error(origin, f"cannot read {full}: it is not UTF-8 text ({e.reason} at byte {e.start})",
                       "give a path relative to this plan file, or an absolute path, of a UTF-8 file")
        return None
    if doc_origin.file and not doc_origin.file.startswith("<") and full.resolve() == Path(doc_origin.file).resolve():
        problems.error(origin, f"names the plan file itself ({full}), not the plugin's config",
                       "point it at the plugin's config file (net-conf.json, a .conflist) or at the manifest "
                       "whose ConfigMap holds it")
        return None
    if full.suffix in (".yaml", ".yml") or not text.lstrip("\ufeff \t\r\n").startswith("{"):
        before = len(problems.items)
        ref = _manifest_ref(text, full, fragment or None, origin, problems)
        if ref is not None or len(problems.items) > before:
            return ref  # (a manifest without a ConfigMap was reported: it is not JSON either)
    if fragment:
        problems.error(origin, f"#{fragment} picks a ConfigMap key, but {full} is not a manifest",
                       f"name the manifest that holds the ConfigMap, or drop #{fragment}")
        return None
    read = read_config_text(text, Origin(str(full)), problems, f"{full.name} (spec.network.{key})")
    for p in read.placeholders:
        at = Origin(str(full), path=p.path)
        if p.quoted:
            problems.warn(at, f"{p.token} is an install-time placeholder left in the file: the plugin starts with "
                          "it as a literal value", "write the value the installer would write in its place")
        else:
            problems.error(at, f"{p.token} is an install-time placeholder left in the file: until an installer "
                           "fills it the file is not JSON, and the plugin refuses it",
                           "write the value the installer would write in its place (or point this field at the "
                           "manifest whose ConfigMap holds the template)")
    return read.data


def _manifest_ref(text: str, full: Path, fragment: str | None, origin: Origin, problems: Problems) -> ConfigRef | None:
    """The ConfigMaps of a YAML manifest a config field names; None when the text is not a manifest."""
    import yaml

    try:
        if "&" in text and "*" in text:
            check_aliases(text, yaml.SafeLoader)
        docs = list(yaml.safe_load_all(text))
    except (yaml.YAMLError, RecursionError):
        return None  # not YAML the plugin could mean: read as JSON, which says what is wrong
    except InputRefused as e:
        problems.error(origin, f"{full}: {e.message}", e.fix)
        return None
    objects = [d for d in docs if isinstance(d, dict) and "kind" in d]
    if not objects:
        return None
    items = [i for d in objects for i in ((d.get("items") or []) if d.get("kind") == "List" else [d])]
    configmaps = tuple(KubeObject("ConfigMap", str(i.get("apiVersion", "v1")),
                                  str((i.get("metadata") or {}).get("namespace") or "default"),
                                  str((i.get("metadata") or {}).get("name")), freeze(i), Origin(str(full), n))
                       for n, i in enumerate(items) if isinstance(i, dict) and i.get("kind") == "ConfigMap"
                       and isinstance(i.get("metadata"), dict))
    if not configmaps:
        kinds = sorted({str(i.get("kind")) for i in items if isinstance(i, dict)})
        problems.error(origin, f"{full} is a manifest ({', '.join(kinds[:5])}) with no ConfigMap, not a config file",
                       "point at the plugin's config file (net-conf.json, a .conflist), or at the manifest "
                       "that holds its ConfigMap")
        return None
    return ConfigRef(str(full), fragment, configmaps, origin)


def _check_installed(name: str | None, kind: str, origin: Origin, problems: Problems,
                     installed: Installed | None) -> None:
    """An unknown plugin name is reported with the plan's other problems, not after them."""
    if name and installed is not None and not installed.has(name):
        names = installed.names(kind)
        problems.error(origin, f"unknown {kind} plugin {name!r}",
                       f"use one of: {', '.join(names) or '(none installed)'}")


def _policy(f: Fields, problems: Problems, installed: Installed | None) -> PolicySpec:
    if not f.data:
        return PolicySpec(origin=f.origin)
    plugin = f.str("plugin", default=None)
    _check_installed(plugin, "policy", f.origin.at("plugin"), problems, installed)
    config = f.raw("config") or {}
    return PolicySpec(plugin=plugin, config=freeze(config if isinstance(config, dict) else {}),
                      origin=f.origin)


def _underlay(f: Fields, problems: Problems) -> Underlay:
    subnets = []
    names: dict[str, int] = {}
    for i, raw in enumerate(f.list("subnets")):
        s = Fields(raw, f.origin.at(f"subnets[{i}]"), problems)
        cidr = s.cidr("cidr")
        name = s.str("name", default=str(cidr) if cidr else f"subnet{i}")
        gateway = s.ip("gateway", required=False)
        mtu = s.int("mtu", default=1500, lo=576, hi=9216)
        if cidr is None:
            continue
        if cidr.prefixlen == 32:
            problems.error(s.origin.at("cidr"), f"{cidr} holds one address: no room for a gateway and nodes",
                           "give the subnet's real prefix, e.g. the /24 the nodes' addresses are in")
            continue
        if gateway is None:
            gateway = host(cidr, 1)  # clouds and most LANs put the router on .1
        elif gateway not in cidr:
            problems.error(s.origin.at("gateway"), f"gateway {gateway} is outside the subnet {cidr}",
                           f"use an address inside {cidr}, usually {host(cidr, 1)}")
        if name in names:
            problems.error(s.origin.at("name"), f"duplicate subnet name {name!r} (also subnets[{names[name]}])",
                           "give every underlay subnet its own name")
        names[name] = i
        subnets.append(UnderlaySubnet(name, cidr, gateway, mtu))
    routes = f.str("routes", default="host", choices=("host", "cloud"))
    statics = []
    for i, raw in enumerate(f.list("staticRoutes")):
        r = Fields(raw, f.origin.at(f"staticRoutes[{i}]"), problems)
        prefix, hop, name = r.cidr("prefix"), r.ip("nextHop"), r.str("name", default=None)
        if prefix is None or hop is None:
            continue
        if not any(hop in s.cidr for s in subnets):
            problems.error(r.origin.at("nextHop"), f"next hop {hop} is on none of the underlay's subnets",
                           "give an address of a subnet under spec.underlay.subnets (a node's IP, a router's)")
            continue
        statics.append(StaticRoute(prefix, hop, name))
    return Underlay(tuple(subnets), routes or "host", f.str("name", default="underlay"), tuple(statics))


def parse_node_entry(raw: Any, origin: Origin, problems: Problems) -> NodeSpec | None:
    """One entry of ``spec.nodes``."""
    f = Fields(raw, origin, problems)
    name = f.str("name")
    os_ = f.str("os", default="linux", choices=("linux", "windows"))
    ip = f.ip("ip")
    pod_cidr = f.cidr("podCIDR", required=False)
    max_pods = f.int("maxPods", default=None, lo=1, hi=65536)
    build = f.int("windowsBuild", default=None, lo=1)
    if build is not None and os_ == "linux":
        problems.error(origin.at("windowsBuild"), "windowsBuild is set on a Linux node",
                       "remove it, or set `os: windows`")
    taints = tuple(freeze(t) for t in f.list("taints") if isinstance(t, dict))
    if name is None or ip is None:
        return None
    return NodeSpec(name=name, os=os_ or "linux", ip=ip, subnet=f.str("subnet", default=""),
                    pod_cidr=pod_cidr, max_pods=max_pods or 110, max_pods_given=max_pods is not None,
                    windows_build=build,
                    interface=f.str("interface", default=None), labels=f.str_map("labels"),
                    annotations=f.str_map("annotations"), taints=taints, origin=origin)

