"""sdnbridge / sdnoverlay (microsoft/windows-container-networking) and wincni (microsoft/SDN
``Kubernetes/wincni``, the plugin of the 2018 talk's l2bridge setup): their config as their parsers read it and
the HNS endpoint policies they install (docs/windows-cni.md).

Both parse one shape (wincni is the ancestor): ``name`` (the HNS network they look up), ``ipam`` (``type``,
``subnet``, ``routes[0].GW``), ``dns`` and ``AdditionalArgs`` — ``{Name, Value}`` entries kept when Name
contains "Policy"; those named exactly ``EndpointPolicy`` go onto the endpoint. sdn* hands HCN (v2)
``{Type, Settings}`` objects, always schema 2.0; wincni hands its values to HNS v1 as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from cnimodel.dataplane import HnsPolicy
from cnimodel.hns import from_v1, policy
from cnimodel.plan import Origin, Pod, Problems
from cnimodel.plan.fields import freeze
from cnimodel.plugins._hns import WindowsConf, ci_get

ENDPOINT, NETWORK = "EndpointPolicy", "NetworkPolicy"
# hcn.EndpointPolicyType and the HNS v1 PolicyType names. A Type is matched to them case-insensitively: the
# sig-windows-tools confs write "SDNROUTE" and pods start, so HNS takes the name in any case (an inference).
HCN_TYPES = {t.lower(): t for t in ("PortMapping", "ACL", "QOS", "L2Driver", "OutBoundNAT", "SDNRoute", "L4Proxy",
                                    "L4WFPPROXY", "PortName", "EncapOverhead", "Iov", "ProviderAddress",
                                    "InterfaceConstraint", "TierAcl")}
HNS_V1_TYPES = {t.lower(): t for t in ("NAT", "ACL", "PA", "VLAN", "VSID", "VNET", "L2Driver", "Isolation", "QOS",
                                       "OutBoundNAT", "ELB", "ROUTE", "PROXY")}
# common/core: the conf types MapCniTypeToHcnType accepts (binary names and hcn.NetworkType values, exact case)
SDN_TYPES = {"nat": "NAT", "sdnbridge": "L2Bridge", "sdnoverlay": "Overlay", "NAT": "NAT", "L2Bridge": "L2Bridge",
             "Overlay": "Overlay"}
# network.GetPortEnumValue (numbers are accepted too)
SDN_PROTOCOLS = {"tcp": 6, "udp": 17, "icmpv4": 1, "icmpv6": 58, "igmp": 2}
ACL_PRIORITY = 1000  # cni.go GetEndpointInfo: every port-mapping ACL gets 1000
DSR_BUILD = 17763  # hcn.DSRSupported, as the model assumes elsewhere (Windows Server 2019)
# what the install scripts fill into a value the ConfigMap ships empty, by policy Type and field
PLACEHOLDERS = {("OutBoundNAT", "exceptions"): "exceptions", ("SDNRoute", "destinationprefix"): "route",
                ("ProviderAddress", "provideraddress"): "provider-address"}


def read_additional_args(entries: Any, origin: Origin, problems: Problems, binary: str
                         ) -> tuple[tuple[HnsPolicy, ...], tuple[tuple[int, str], ...]]:
    """``AdditionalArgs`` as cni.go's GetNetworkInfo reads it: the endpoint policies in order, in the model's
    v2 form, and the empty values the install script fills per node."""
    if entries is None:
        return (), ()
    if not isinstance(entries, list | tuple):
        problems.error(origin, "expected a list of {Name: EndpointPolicy, Value: {...}}",
                       "write each policy as `- {Name: EndpointPolicy, Value: {Type: …}}`")
        return (), ()
    out: list[HnsPolicy] = []
    holes: list[tuple[int, str]] = []
    for i, entry in enumerate(entries):
        at = origin.at(f"[{i}]")
        if not isinstance(entry, Mapping):
            problems.error(at, f"expected {{Name, Value}}: {binary} cannot parse its conf and every pod ADD fails",
                           "write the entry as {Name: EndpointPolicy, Value: {Type: …}}")
            continue
        name = ci_get(entry, "name")
        name = name if isinstance(name, str) else ""
        if "Policy" not in name:  # strings.Contains, case-sensitive
            problems.warn(at.at("Name"), f"{name!r} is ignored by {binary}: it keeps only entries whose Name contains "
                          "'Policy' and applies those named EndpointPolicy", "name it EndpointPolicy")
            continue
        if name == NETWORK:
            problems.warn(at.at("Name"), f"NetworkPolicy entries reach only a network {binary} creates itself; the "
                          "model takes the network as created by flanneld or the node scripts, without them",
                          "put HNS network policies on the network where it is created")
            continue
        if name != ENDPOINT:
            problems.warn(at.at("Name"), f"{name!r} is kept by {binary} but never applied: only EndpointPolicy "
                          "(exact case) reaches the endpoint", "name it EndpointPolicy")
            continue
        value = ci_get(entry, "value")
        p = _sdn_policy(value, at.at("Value"), problems, binary) if binary != "wincni" else \
            _wincni_policy(value, at.at("Value"), problems)
        if p is None:
            continue
        hole = placeholder(p)
        if hole:
            holes.append((len(out), hole))
        out.append(p)
    return tuple(out), tuple(holes)


def _sdn_policy(value: Any, at: Origin, problems: Problems, binary: str) -> HnsPolicy | None:
    """One Value as hcn.EndpointPolicy decodes it: ``Type`` and raw ``Settings`` (any key case)."""
    if not isinstance(value, Mapping) or not isinstance(ci_get(value, "Type"), str):
        problems.error(at, f"expected {{Type: ..., Settings: {{...}}}}: {binary} fails to decode it and every pod ADD "
                       "fails", "write e.g. {Type: OutBoundNAT, Settings: {Exceptions: [...]}}")
        return None
    ptype = ci_get(value, "Type")
    settings = ci_get(value, "Settings")
    if not isinstance(settings, Mapping):
        others = sorted(str(k) for k in value if str(k).lower() not in ("type", "settings"))
        problems.warn(at, f"{ptype} has no Settings: {binary} decodes Value as HCN {{Type, Settings}}, so HNS gets the "
                      f"Type alone{' without ' + ', '.join(others) if others else ''}; the model leaves it out",
                      "write it as {Type: ..., Settings: {...}} (the HNS v1 field names belong to win-bridge "
                      "ApiVersion 1 or wincni)")
        return None
    return HnsPolicy(HCN_TYPES.get(ptype.lower(), ptype), freeze(dict(settings)))


def _wincni_policy(value: Any, at: Origin, problems: Problems) -> HnsPolicy | None:
    """One Value handed to HNS v1 as written (``{Type: ROUTE, DestinationPrefix, NeedEncap}``)."""
    if not isinstance(value, Mapping) or not isinstance(ci_get(value, "Type"), str):
        problems.error(at, "expected an HNS v1 policy {Type: ..., ...}", "write e.g. {Type: OutBoundNAT, "
                       "ExceptionList: [...]}")
        return None
    if ci_get(value, "Settings") is not None:
        problems.warn(at, "wincni hands Value to HNS v1, which reads its fields at the top level, not under "
                      "Settings; the model leaves the policy out", "write the v1 form, e.g. {Type: ROUTE, "
                      "DestinationPrefix: ..., NeedEncap: true}")
        return None
    body = {k: v for k, v in value.items() if str(k).lower() != "type"}
    ptype = ci_get(value, "Type")
    return from_v1({"Type": HNS_V1_TYPES.get(ptype.lower(), ptype), **body})


def placeholder(p: HnsPolicy) -> str:
    """What an empty value of ``p`` is left for ('' when none is): exceptions, route or provider-address."""
    for key, value in p.settings.items():
        kind = PLACEHOLDERS.get((p.type, str(key).lower().replace("exceptionlist", "exceptions")))
        if kind and value in ("", ()):
            return kind
    return ""


def fill(conf: WindowsConf, service: IPv4Network | None, cluster: IPv4Network | None, node_subnet: IPv4Network,
         node_ip: IPv4Address, bridge: bool) -> tuple[HnsPolicy, ...]:
    """The policies with the empty values filled as sig-windows-tools' scripts fill them on each node:
    OutBoundNAT exceptions [service CIDR, cluster CIDR] (+ the node subnet on l2bridge), the first empty
    SDNRoute the service CIDR and the next the node's /32, ProviderAddress the node's IP."""
    ps = list(conf.policies)
    routes = 0
    for i, kind in conf.placeholders:
        p = ps[i]
        key = next(k for k in p.settings if PLACEHOLDERS.get(
            (p.type, str(k).lower().replace("exceptionlist", "exceptions"))) == kind)
        if kind == "exceptions":
            value: Any = [str(x) for x in (service, cluster) if x is not None] + ([str(node_subnet)] if bridge else [])
        elif kind == "route":
            value = str(service) if routes == 0 and service is not None else f"{node_ip}/32"
            routes += 1
        else:
            value = str(node_ip)
        ps[i] = HnsPolicy(p.type, freeze({**p.settings, key: value}))
    return tuple(ps)


def read_common(conf: Mapping[str, Any], origin: Origin, problems: Problems, binary: str) -> dict[str, Any]:
    """The fields sdn* and wincni read alike: dns, ipam (type, subnet, routes[0].GW) and AdditionalArgs."""
    dns = ci_get(conf, "dns")
    dns = dns if isinstance(dns, Mapping) else {}
    for key in ("domain", "options"):
        if ci_get(dns, key):
            problems.warn(origin.at(f"dns.{key}"), f"dns.{key} is not modelled (the HNS endpoint's Dns.{key.title()})",
                          "nothing to change; cnimodel shows servers and search only")
    ipam = ci_get(conf, "ipam")
    ipam = ipam if isinstance(ipam, Mapping) else {}
    gw: IPv4Address | None = None
    routes = ci_get(ipam, "routes")
    if isinstance(routes, list | tuple) and routes and isinstance(routes[0], Mapping) and ci_get(routes[0], "GW"):
        try:
            gw = IPv4Address(str(ci_get(routes[0], "GW")))
        except ValueError:
            problems.error(origin.at("ipam.routes[0].GW"), f"{ci_get(routes[0], 'GW')!r} is not an IPv4 address",
                           "write the gateway as an IPv4 address, e.g. 10.244.1.1")
    policies, holes = read_additional_args(ci_get(conf, "AdditionalArgs"), origin.at("AdditionalArgs"), problems,
                                           binary)
    return {"dns_servers": tuple(str(s) for s in ci_get(dns, "Nameservers", ()) or ()),
            "dns_search": tuple(str(s) for s in ci_get(dns, "Search", ()) or ()),
            "policies": policies, "placeholders": holes, "ipam": freeze(dict(ipam)), "gateway": gw,
            "hns_ipam": not ci_get(ipam, "type")}


# Fields of the containernetworking plugins' confs that these parsers do not have (Go drops unknown keys).
NOT_READ = {"policies": "AdditionalArgs", "apiversion": "", "loopbackdsr": "optionalFlags.loopbackDSR",
            "ipmasq": "", "ipmasqnetwork": "", "endpointmacprefix": ""}


def _not_read(conf: Mapping[str, Any], origin: Origin, problems: Problems, binary: str,
              injected: frozenset[str]) -> None:
    for key in conf:
        low = str(key).lower()
        if low in NOT_READ and low not in injected:
            instead = NOT_READ[low]
            problems.warn(origin.at(str(key)), f"{binary} does not read {key!r}" + (f" (it reads {instead})" if instead
                          else "") + "; ignored", f"use {instead}" if instead else f"drop {key!r}")


def read_sdn(conf: Mapping[str, Any], origin: Origin, problems: Problems, default_name: str, binary: str,
             injected: frozenset[str] = frozenset()) -> WindowsConf:
    """sdnbridge / sdnoverlay's NetworkConfig (cni/cni.go): HCN v2, optionalFlags, AdditionalArgs."""
    _not_read(conf, origin, problems, binary, injected)
    common = read_common(conf, origin, problems, binary)
    flags = ci_get(conf, "optionalFlags")
    flags = flags if isinstance(flags, Mapping) else {}
    for key in ("enableDualStack", "gatewayFromAdditionalRoutes"):
        if ci_get(flags, key):
            problems.warn(origin.at(f"optionalFlags.{key}"), f"optionalFlags.{key} is not modelled (cnimodel models "
                          "IPv4 pods)", f"drop {key} or read the result as the IPv4 half")
    ptype = conf.get("type")
    fails = "" if ptype in SDN_TYPES else (
        f"{binary} rejects its conf's type {ptype!r} (\"Unsupported CNI config 'type'\"; it accepts exactly "
        "sdnbridge, sdnoverlay, nat or an HNS network type): every pod ADD fails")
    return WindowsConf(name=str(ci_get(conf, "name", default_name)), api_version=2, binary=binary,
                       loopback_dsr=bool(ci_get(flags, "loopbackDSR", False)),
                       force_bridge_gateway=bool(ci_get(flags, "forceBridgeGateway", False)),
                       local_routed_port_mapping=bool(ci_get(flags, "localRoutedPortMapping", False)),
                       acl_port_mapping=bool(ci_get(flags, "allowAclPortMapping", False)), add_fails=fails, **common)


def read_wincni(conf: Mapping[str, Any], origin: Origin, problems: Problems, default_name: str,
                injected: frozenset[str] = frozenset()) -> WindowsConf:
    """wincni's NetworkConfig (Kubernetes/wincni/cni/cni.go): HNS v1, no optionalFlags, no runtime DNS."""
    _not_read(conf, origin, problems, "wincni", injected)
    common = read_common(conf, origin, problems, "wincni")
    name = str(ci_get(conf, "name", default_name))
    if name.lower() not in ("l2bridge", "l2tunnel", "overlay", "transparent", "nat"):
        problems.warn(origin.at("name"), f"wincni creates a missing network with Type = name ({name!r} is no HNS "
                      "network type); the model takes the L2Bridge network as created by the node scripts",
                      "name it l2bridge, as Kubernetes/windows/start.ps1 does ('WinCni needs the networkType and "
                      "network name to be the same')")
    return WindowsConf(name=name, api_version=1, binary="wincni", **common)


def sdn_policies(conf: WindowsConf, pod: Pod, ip: IPv4Address, build: int | None) -> tuple[tuple[HnsPolicy, ...], str]:
    """sdn*'s endpoint policies in the order core.Add builds them: one PortMapping (and an ACL with
    allowAclPortMapping) per runtime port mapping, the AdditionalArgs, then loopback DSR; or why the ADD fails."""
    out: list[HnsPolicy] = []
    for port in pod.ports if conf.port_mappings else ():
        if not port.host_port:
            continue  # the runtime passes mappings with a hostPort only
        proto = SDN_PROTOCOLS.get(port.protocol.lower())
        if proto is None:
            return (), (f"{pod.key}: hostPort {port.host_port}/{port.protocol} is refused by {conf.binary} ('invalid "
                        "protocol supplied to port mapping policy'): its ADD fails")
        settings: dict[str, Any] = {"Protocol": proto, "InternalPort": port.port, "ExternalPort": port.host_port}
        if conf.local_routed_port_mapping:
            settings["Flags"] = 1  # hcn.NatFlagsLocalRoutedVip
        out.append(HnsPolicy("PortMapping", freeze(settings)))
        if conf.acl_port_mapping:
            out.append(policy("ACL", Protocols=str(proto), Action="Allow", Direction="In", LocalPorts=str(port.port),
                              Priority=ACL_PRIORITY))
    out += conf.policies
    if conf.loopback_dsr:
        if build is not None and build < DSR_BUILD:
            return (), (f"optionalFlags.loopbackDSR on build {build}: hcn.DSRSupported fails and {conf.binary} "
                        "refuses every pod ADD")
        out.append(policy("OutBoundNAT", Destinations=[str(ip)]))
    return tuple(out), ""


def wincni_policies(conf: WindowsConf, pod: Pod) -> tuple[HnsPolicy, ...]:
    """wincni's endpoint policies: one v1 NAT per runtime port mapping (protocol as the runtime writes it), then
    the AdditionalArgs."""
    out = [HnsPolicy("PortMapping", freeze({"Protocol": port.protocol.lower(), "InternalPort": port.port,
                                            "ExternalPort": port.host_port}))
           for port in (pod.ports if conf.port_mappings else ()) if port.host_port]
    return (*out, *conf.policies)


def conf_dns(conf: WindowsConf, namespace: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The DNS the binary puts on the endpoint from its own conf: sdn* prefixes the first search domain with the
    pod's namespace; wincni's DNSSuffix is ``<namespace>.`` and the search list joined by commas."""
    if conf.binary == "wincni":
        return conf.dns_servers, tuple(f"{namespace}.{','.join(conf.dns_search)}".split(","))
    search = conf.dns_search
    if search:
        search = (f"{namespace}.{search[0]}", *search[1:])
    return conf.dns_servers, search
