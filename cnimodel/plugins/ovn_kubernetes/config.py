"""The ovnkube configuration: the ``ovnkube.conf`` sections and keys users write, with ovnkube's defaults and checks.

A plan gives it as ``network.config`` shaped like the gcfg file ovnkube reads (``--config-file``): sections
``default``, ``kubernetes``, ``gateway``, ``hybridoverlay``, ``clustermanager``, ``ovnkubernetesfeature``, each a
mapping of ovnkube's own key names (ovn-org/ovn-kubernetes@6c366bb4:go-controller/pkg/config/config.go:212-545,
the ``gcfg`` tags). The same settings arrive two other ways, both read here or in ``settle``: the ovnkube-node
DaemonSet's environment (the dist templates' ``OVN_*`` variables, which dist/images/ovnkube.sh turns into flags,
with ovnkube.sh's own defaults) and OpenShift's ``ovnkube-config`` ConfigMap holding ``ovnkube.conf`` itself.
docs/ovn-kubernetes.md cites each default and check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from cnimodel.plan import Origin, Problems

# config.go:31, :36, :63-74, :115, :143-145, :180, :201 (code defaults when nothing sets a key)
CODE_DEFAULTS: dict[tuple[str, str], str] = {
    ("default", "mtu"): "1400",
    ("default", "encap-type"): "geneve",
    ("default", "encap-port"): "6081",
    ("default", "cluster-subnets"): "10.128.0.0/14/23",
    ("kubernetes", "service-cidrs"): "172.16.1.0/24",
    ("gateway", "mode"): "",  # config.go:1389: no --gateway-mode, no gateway
    ("gateway", "v4-join-subnet"): "100.64.0.0/16",
    ("gateway", "v4-masquerade-subnet"): "169.254.169.0/29",
    ("hybridoverlay", "hybrid-overlay-vxlan-port"): "4789",
    ("clustermanager", "v4-transit-switch-subnet"): "100.88.0.0/16",
}
# dist/images/ovnkube.sh:179-185, :221: what the dist DaemonSets run with when their OVN_* variable is empty
SCRIPT_DEFAULTS: dict[tuple[str, str], str] = {
    ("gateway", "mode"): "shared",
    ("default", "cluster-subnets"): "10.128.0.0/14/23",
    ("kubernetes", "service-cidrs"): "172.30.0.0/16",
    ("default", "mtu"): "1400",
    ("default", "encap-port"): "6081",
}
# The ovnkube-node DaemonSet variables (dist/templates/ovnkube-node.yaml.j2:130-211) as discover reads them
# (prefix OVN_), and the ovnkube.conf key ovnkube.sh passes each to (ovnkube.sh:1114-1151, :1350, :2077-2195).
ENV_KEYS: dict[str, tuple[str, str]] = {
    "net-cidr": ("default", "cluster-subnets"),
    "svc-cidr": ("kubernetes", "service-cidrs"),
    "mtu": ("default", "mtu"),
    "routable-mtu": ("default", "routable-mtu"),
    "gateway-mode": ("gateway", "mode"),
    "encap-port": ("default", "encap-port"),
    "hybrid-overlay-enable": ("hybridoverlay", "enabled"),
    "hybrid-overlay-net-cidr": ("hybridoverlay", "cluster-subnets"),
    "v4-join-subnet": ("gateway", "v4-join-subnet"),
    "v4-masquerade-subnet": ("gateway", "v4-masquerade-subnet"),
    "v4-transit-switch-subnet": ("clustermanager", "v4-transit-switch-subnet"),
    "nohostsubnet-label": ("kubernetes", "no-hostsubnet-nodes"),
    "enable-interconnect": ("ovnkubernetesfeature", "enable-interconnect"),
    "admin-network-policy-enable": ("ovnkubernetesfeature", "enable-admin-network-policy"),
    "disable-snat-multiple-gws": ("gateway", "disable-snat-multiple-gws"),
}
# Keys that change the data plane and are read below.
READ = {
    "default": {"mtu", "routable-mtu", "encap-type", "encap-port", "cluster-subnets", "encap-ip"},
    "kubernetes": {"service-cidrs", "no-hostsubnet-nodes"},
    "gateway": {"mode", "nodeport", "v4-join-subnet", "v4-masquerade-subnet", "disable-snat-multiple-gws",
                "interface", "next-hop"},
    "hybridoverlay": {"enabled", "cluster-subnets", "hybrid-overlay-vxlan-port"},
    "clustermanager": {"v4-transit-switch-subnet"},
    "ovnkubernetesfeature": {"enable-interconnect", "enable-admin-network-policy", "enable-multicast"},
}
# Keys with no effect on the modelled data plane (logging, API access, caches, probes, timers): accepted quietly.
QUIET = {
    "default": {"conntrack-zone", "inactivity-probe", "openflow-probe", "ofctrl-wait-before-clear", "monitor-all",
                "db-txn-timeout", "enable-lflow-cache", "lflow-cache-limit", "lflow-cache-limit-kb", "zone",
                "enable-udp-aggregation", "udn-allowed-default-services"},
    "kubernetes": {"apiserver", "kubeconfig", "cacert", "token", "tokenfile", "ovn-config-namespace",
                   "host-network-namespace", "platform-type", "healthz-bind-address", "bootstrap-kubeconfig",
                   "cert-dir", "cert-duration", "dns-service-namespace", "dns-service-name",
                   "metrics-bind-address", "ovn-metrics-bind-address", "metrics-enable-pprof", "ovn-empty-lb-events"},
    "logging": None, "monitoring": None, "ipfix": None, "cni": None, "metrics": None, "ovnnorth": None,
    "ovnsouth": None, "masterha": None, "clustermgrha": None, "ovnkubenode": None,
    "ovnkubernetesfeature": {"enable-egress-ip", "enable-egress-firewall", "enable-egress-qos",
                             "enable-egress-service", "egressip-reachability-total-timeout",
                             "egressip-node-healthcheck-port", "enable-multi-network", "enable-network-segmentation",
                             "enable-multi-networkpolicy", "enable-stateless-netpol", "enable-persistent-ips",
                             "enable-dns-name-resolver", "enable-svc-template-support", "enable-observability",
                             "enable-multi-external-gateway", "enable-route-advertisements",
                             "enable-config-duration", "enable-scale-metrics"},
}
GENEVE_HEADER_IPV4 = 58  # pkg/types/const.go:181: ovnkube-node wants the encap interface MTU ≥ mtu + 58
VXLAN_PORT = 4789  # config.go:36


@dataclass(frozen=True)
class SubnetEntry:
    """One ``cluster-subnets`` entry: the range and the host prefix each node's subnet gets (CIDRNetworkEntry)."""

    cidr: IPv4Network
    host_len: int

    def __str__(self) -> str:
        return f"{self.cidr}/{self.host_len}"


@dataclass(frozen=True)
class OvnkubeConfig:
    """The settings the model reads, with ovnkube's defaults filled in; ``given`` names the keys the user set."""

    cluster_subnets: tuple[SubnetEntry, ...]
    service_cidrs: tuple[IPv4Network, ...]
    mtu: int
    routable_mtu: int
    encap_type: str
    encap_port: int
    gateway_mode: str  # "shared", "local" or "" (disabled)
    nodeport: bool
    join_subnet: IPv4Network
    masquerade_subnet: IPv4Network
    transit_subnet: IPv4Network
    hybrid_enabled: bool
    hybrid_subnets: tuple[SubnetEntry, ...]
    hybrid_vxlan_port: int
    no_hostsubnet_nodes: str
    interconnect: bool
    admin_network_policy: bool
    disable_snat_multiple_gws: bool
    given: frozenset[tuple[str, str]] = frozenset()

    def masquerade_ip(self, n: int) -> IPv4Address:
        """The masquerade subnet's address .n: AllocateV4MasqueradeIPs hands out .1 OVN, .2 host, .3 ETP=local,
        .4 dummy next hop, .5 service hairpin (pkg/config/utils.go:283-305)."""
        return self.masquerade_subnet.network_address + n

    @property
    def hairpin_ip(self) -> IPv4Address:
        return self.masquerade_ip(5)

    @property
    def dummy_next_hop(self) -> IPv4Address:
        return self.masquerade_ip(4)

    @property
    def host_masquerade_ip(self) -> IPv4Address:
        return self.masquerade_ip(2)

    @property
    def join_router_ip(self) -> IPv4Address:
        """The cluster router's join port address: the join subnet's first (reserved) address."""
        return self.join_subnet.network_address + 1


def _sections(data: Any, origin: Origin, problems: Problems) -> dict[str, dict[str, Any]]:
    """The config as {section: {key: value}} with gcfg's case-insensitive names."""
    out: dict[str, dict[str, Any]] = {}
    if data is None:
        return out
    if not isinstance(data, Mapping):
        problems.error(origin, "ovnkube's config must be a mapping of sections (default, kubernetes, gateway, …)",
                       "write it as ovnkube.conf's sections: `default: {cluster-subnets: 10.128.0.0/14/23}`")
        return out
    for name, body in data.items():
        section = str(name).lower()
        if not isinstance(body, Mapping):
            problems.error(origin.at(str(name)), f"section {name!r} must be a mapping of ovnkube.conf keys",
                           f"write `{name}: {{key: value}}`")
            continue
        keys = out.setdefault(section, {})
        for key, value in body.items():
            keys[str(key).lower()] = value
    return out


def parse_gcfg(text: str, origin: Origin, problems: Problems) -> dict[str, dict[str, Any]]:
    """An ovnkube.conf file (gcfg: ``[section]`` headers, ``key=value`` lines, ``#``/``;`` comments, values
    optionally double-quoted) as the sections ``read_config`` takes."""
    out: dict[str, dict[str, Any]] = {}
    section: dict[str, Any] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1].strip().lower(), {})
            continue
        key, eq, value = line.partition("=")
        if section is None or not eq:
            problems.error(origin.at(f"line {number}"), f"ovnkube.conf line {raw.strip()!r} is not "
                           "`key=value` inside a [section]", "put it under a section header such as [default]")
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        section[key.strip().lower()] = value
    return out


def parse_subnet_entries(text: str, origin: Origin, problems: Problems, what: str) -> tuple[SubnetEntry, ...]:
    """``ParseClusterSubnetEntries`` (pkg/config/utils.go:50-125): comma-separated ``CIDR[/hostlen]``, the host
    prefix defaulting to 24, longer than the range's, at most 32. IPv6 entries are reported: not modelled."""
    out: list[SubnetEntry] = []
    for entry in (e.strip() for e in str(text).split(",")):
        parts = entry.split("/")
        if len(parts) not in (2, 3):
            problems.error(origin, f"{what} entry {entry!r} is not properly formatted (ovnkube: CIDR not properly "
                           "formatted)", "write ADDRESS/PREFIX/HOSTPREFIX, e.g. 10.128.0.0/14/23")
            continue
        if ":" in parts[0]:
            problems.warn(origin, f"{what} entry {entry!r} is IPv6, which the model does not cover",
                          "model the IPv4 side only")
            continue
        try:
            cidr = IPv4Network(f"{parts[0]}/{parts[1]}", strict=False)
            host_len = int(parts[2]) if len(parts) == 3 else 24
        except ValueError:
            problems.error(origin, f"{what} entry {entry!r} is not an IPv4 CIDR with a host prefix",
                           "write ADDRESS/PREFIX/HOSTPREFIX, e.g. 10.128.0.0/14/23")
            continue
        if host_len > 32:
            problems.error(origin, f"{what} entry {entry!r}: invalid host subnet, IPv4 subnet must be < 32",
                           "use a host prefix of 32 or less, e.g. /23")
            continue
        if host_len <= cidr.prefixlen:
            problems.error(origin, f"{what} entry {entry!r}: a host subnet length /{host_len} must be longer than "
                           f"the cluster subnet's /{cidr.prefixlen}", f"use a host prefix above {cidr.prefixlen}")
            continue
        out.append(SubnetEntry(cidr, host_len))
    if not out and text:
        problems.error(origin, f"{what}: failed to parse any CIDRs from {text!r}", "give at least one IPv4 entry")
    return tuple(out)


def _bool(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "t")


def read_config(data: Any, origin: Origin, problems: Problems, script: bool = False,
                service_cidr: IPv4Network | None = None) -> OvnkubeConfig:
    """The config as ovnkube reads it. ``script``: the settings come from the dist DaemonSet, so ovnkube.sh's
    defaults apply to what it leaves out; ``service_cidr``: the plan's (the API server's) service range, used
    when the config gives none (ovnkube's own default would not match the API server's)."""
    sections = _sections(data, origin, problems)
    given = frozenset((s, k) for s, keys in sections.items() for k in keys)
    for s, keys in sections.items():
        known = READ.get(s, set()) | (QUIET.get(s) or set())
        if s not in READ and s not in QUIET:
            problems.warn(origin.at(s), f"ovnkube.conf section [{s}] is not one ovnkube reads",
                          "check the section name (gcfg sections: default, kubernetes, gateway, hybridoverlay, …)")
            continue
        if QUIET.get(s, set()) is None and s not in READ:
            continue
        for k in keys:
            if k not in known:
                problems.warn(origin.at(f"{s}.{k}"), f"[{s}] {k} is not modelled: cnimodel ignores it",
                              "nothing to change if it does not affect pod networking")

    def raw(section: str, key: str) -> tuple[Any, Origin]:
        at = origin.at(f"{section}.{key}")
        if key in sections.get(section, {}):
            return sections[section][key], at
        if script and (section, key) in SCRIPT_DEFAULTS:
            return SCRIPT_DEFAULTS[(section, key)], at
        return CODE_DEFAULTS.get((section, key), ""), at

    def integer(section: str, key: str, lo: int, hi: int) -> int:
        value, at = raw(section, key)
        try:
            n = int(str(value).strip() or 0)
        except ValueError:
            problems.error(at, f"[{section}] {key} {value!r} is not a number", f"give a number from {lo} to {hi}")
            return int(CODE_DEFAULTS.get((section, key), "0") or 0)
        if not lo <= n <= hi:
            problems.error(at, f"[{section}] {key} {n} is out of range", f"give a number from {lo} to {hi}")
        return n

    def cidr(section: str, key: str) -> IPv4Network:
        value, at = raw(section, key)
        try:
            return IPv4Network(str(value).strip(), strict=False)
        except ValueError:
            problems.error(at, f"[{section}] {key} {value!r} is not an IPv4 CIDR", "write it like 100.64.0.0/16")
            return IPv4Network(CODE_DEFAULTS[(section, key)])

    subnets_raw, at = raw("default", "cluster-subnets")
    cluster = parse_subnet_entries(str(subnets_raw), at, problems, "[default] cluster-subnets")
    svc_raw, svc_at = raw("kubernetes", "service-cidrs")
    if ("kubernetes", "service-cidrs") not in given and not script and service_cidr is not None:
        svc_raw = str(service_cidr)  # the API server's range: ovnkube must be told the same (config.go:1146)
    services: list[IPv4Network] = []
    for part in (p.strip() for p in str(svc_raw).split(",") if p.strip()):
        try:
            services.append(IPv4Network(part, strict=False))
        except ValueError:
            if ":" not in part:
                problems.error(svc_at, f"kubernetes service network CIDR {part!r} invalid",
                               "write it like 10.96.0.0/16")
    mode = str(raw("gateway", "mode")[0]).strip()
    if mode not in ("", "shared", "local"):
        problems.error(origin.at("gateway.mode"), f"invalid gateway mode {mode!r}: expect one of shared,local",
                       "use shared (breth0 shared with the host) or local")
        mode = "shared"
    encap_type = str(raw("default", "encap-type")[0]).strip().lower()
    if encap_type != "geneve":
        problems.warn(origin.at("default.encap-type"), f"encap-type {encap_type!r}: the model knows GENEVE only",
                      "use geneve (ovnkube's default)")
    hybrid_on = _bool(raw("hybridoverlay", "enabled")[0])
    hybrid_raw, hybrid_at = raw("hybridoverlay", "cluster-subnets")
    hybrid = parse_subnet_entries(str(hybrid_raw), hybrid_at, problems, "[hybridoverlay] cluster-subnets") \
        if hybrid_on and str(hybrid_raw).strip() else ()
    config = OvnkubeConfig(
        cluster_subnets=cluster, service_cidrs=tuple(services),
        mtu=integer("default", "mtu", 68, 65535), routable_mtu=integer("default", "routable-mtu", 0, 65535),
        encap_type=encap_type, encap_port=integer("default", "encap-port", 1, 65535), gateway_mode=mode,
        nodeport=_bool(raw("gateway", "nodeport")[0]) or script,  # ovnkube.sh passes --nodeport (:1297, :2091)
        join_subnet=cidr("gateway", "v4-join-subnet"), masquerade_subnet=cidr("gateway", "v4-masquerade-subnet"),
        transit_subnet=cidr("clustermanager", "v4-transit-switch-subnet"), hybrid_enabled=hybrid_on,
        hybrid_subnets=hybrid, hybrid_vxlan_port=integer("hybridoverlay", "hybrid-overlay-vxlan-port", 1, 65535),
        no_hostsubnet_nodes=str(raw("kubernetes", "no-hostsubnet-nodes")[0]).strip(),
        interconnect=_bool(raw("ovnkubernetesfeature", "enable-interconnect")[0]),
        admin_network_policy=_bool(raw("ovnkubernetesfeature", "enable-admin-network-policy")[0]),
        disable_snat_multiple_gws=_bool(raw("gateway", "disable-snat-multiple-gws")[0]), given=given)
    check_overlaps(config, origin, problems)
    return config


def check_overlaps(config: OvnkubeConfig, origin: Origin, problems: Problems) -> None:
    """ovnkube refuses to start when two of its ranges overlap (ConfigSubnets.CheckForOverlaps, pkg/config/
    utils.go:210-222, run by config.go:2429): cluster, service, join, masquerade, hybrid overlay and transit
    switch subnets, compared in the order config.go appends them."""
    named: list[tuple[str, str, IPv4Network]] = [
        *(("service subnet", "kubernetes.service-cidrs", c) for c in config.service_cidrs),
        ("built-in join subnet", "gateway.v4-join-subnet", config.join_subnet),
        ("masquerade subnet", "gateway.v4-masquerade-subnet", config.masquerade_subnet),
        *(("hybrid overlay subnet", "hybridoverlay.cluster-subnets", e.cidr) for e in config.hybrid_subnets),
        ("transit switch subnet", "clustermanager.v4-transit-switch-subnet", config.transit_subnet),
        *(("cluster subnet", "default.cluster-subnets", e.cidr) for e in config.cluster_subnets),
    ]
    for i, (kind, path, net) in enumerate(named):
        for other_kind, other_path, other in named[:i]:
            if net.overlaps(other):
                problems.error(origin.at(path), f"illegal network configuration: {kind} {str(net)!r} overlaps "
                               f"{other_kind} {str(other)!r} (ovnkube refuses to start)",
                               f"move {path} or {other_path} so the two ranges do not overlap")
