"""HNS policy handling shared by the Windows plugin models (win-bridge, win-overlay, flannel on Windows).

Policies are kept in HCN (v2) form — ``Type`` + ``Settings`` — whatever form the CNI config used; the
renderer turns them back into HNS v1 when a node runs the v1 API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from types import MappingProxyType
from typing import Any

from cnimodel.dataplane import HnsPolicy
from cnimodel.hns import from_v1, policy
from cnimodel.plan import Origin, Problems
from cnimodel.plan.fields import freeze


def outbound_nat(exceptions: list[str]) -> HnsPolicy:
    return policy("OutBoundNAT", Exceptions=list(exceptions))



def read_endpoint_policies(entries: Any, api_version: int, origin: Origin, problems: Problems) -> tuple[
        HnsPolicy, ...]:
    """The CNI conf ``policies`` list as the plugin reads it.

    Only entries named ``EndpointPolicy`` (any case) count. With ApiVersion 2 a value not in
    ``{Type, Settings}`` shape is dropped by the plugin without a word; the model keeps that behaviour but
    says so in a warning.
    """
    out: list[HnsPolicy] = []
    if entries is None:
        return ()
    if not isinstance(entries, list | tuple):
        problems.error(origin, "expected a list of {name: EndpointPolicy, value: {...}}",
                       "write each policy as `- {name: EndpointPolicy, value: {Type: …}}`")
        return ()
    for i, entry in enumerate(entries):
        at = origin.at(f"[{i}]")
        value = ci_get(entry, "value") if isinstance(entry, Mapping) else None
        if not isinstance(value, Mapping):
            problems.error(at, "expected {name: EndpointPolicy, value: {Type: ...}}",
                           "give the entry a `value:` mapping holding the policy's Type and settings")
            continue
        if str(ci_get(entry, "name", "")).lower() != "endpointpolicy":
            problems.warn(at.at("name"), f"policy named {ci_get(entry, 'name')!r} is ignored by the plugin",
                          "only entries named EndpointPolicy are applied")
            continue
        ptype = ci_get(value, "Type")
        if not isinstance(ptype, str):
            problems.error(at.at("value.Type"), "is required", "set Type, e.g. OutBoundNAT or ROUTE")
            continue
        if api_version == 2:
            settings = ci_get(value, "Settings")
            if not isinstance(settings, Mapping):
                # hcn.EndpointPolicy is {Type, Settings}: the plugin hands HNS the Type alone, every other
                # field lost; the model leaves the policy out.
                problems.warn(at.at("value"), f"{ptype} policy is not in {{Type, Settings}} form; with "
                              "ApiVersion 2 the plugin passes only its Type, without these fields, and the "
                              "model leaves it out", "write it as {Type: ..., Settings: {...}} or use ApiVersion 1")
                continue
            out.append(HnsPolicy(ptype, freeze(dict(settings))))
        else:
            out.append(from_v1(dict(value)))
    return tuple(out)


def ci_get(data: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """A JSON field as Go's decoder finds it: exact name first, then any case (``ApiVersion``/``apiVersion``)."""
    if key in data:
        return data[key]
    low = key.lower()
    return next((v for k, v in data.items() if isinstance(k, str) and k.lower() == low), default)


def apply_outbound_nat(policies: tuple[HnsPolicy, ...], cidr: str) -> tuple[HnsPolicy, ...]:
    """``ApplyOutboundNatPolicy``: if no OutBoundNAT already lists ``cidr`` verbatim, append a second,
    separate OutBoundNAT holding only it (the plugin never merges lists)."""
    if not cidr:
        return policies
    for p in policies:
        if p.type == "OutBoundNAT" and cidr in tuple(p.settings.get("Exceptions", ())):
            return policies
    return (*policies, outbound_nat([cidr]))


@dataclass(frozen=True)
class WindowsConf:
    """The settings a Windows CNI plugin (win-bridge / win-overlay) reads from its network config."""

    name: str
    api_version: int = 1
    ip_masq_network: str = ""
    ip_masq: bool = False
    endpoint_mac_prefix: str = "0E-2A"
    dns_servers: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    policies: tuple[HnsPolicy, ...] = ()
    loopback_dsr: bool = False
    ipam: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    generated: bool = False
    # Which binary's code builds the endpoints (win-bridge, win-overlay, sdnbridge, sdnoverlay, wincni) and
    # what the runtime hands it: capabilities.dns → runtimeConfig.dns, capabilities.portMappings → portMappings.
    binary: str = "win-bridge"
    runtime_dns: bool = False
    port_mappings: bool = False
    # windows-container-networking's optionalFlags (sdnbridge / sdnoverlay)
    force_bridge_gateway: bool = False
    local_routed_port_mapping: bool = False
    acl_port_mapping: bool = False
    # HNS assigns pod addresses (the conf names no IPAM plugin: wincni, sdn*); gateway the conf gives them
    hns_ipam: bool = False
    gateway: IPv4Address | None = None
    # conf values left empty for the install script to fill per node: (policy index, what fills it)
    placeholders: tuple[tuple[int, str], ...] = ()
    # why every pod ADD with this conf fails ('' when it does not)
    add_fails: str = ""


def read_windows_conf(conf: Mapping[str, Any], origin: Origin, problems: Problems,
                      default_name: str, binary: str = "win-bridge") -> WindowsConf:
    """Read a win-bridge / win-overlay conf under its real field names (``ApiVersion``, ``ipMasqNetwork``,
    ``endpointMacPrefix``, ``dns``, ``policies``, ``loopbackDSR``, ``ipam``)."""
    api = ci_get(conf, "ApiVersion", 1)
    if api not in (1, 2):
        problems.error(origin.at("ApiVersion"), f"unknown HNS API version {api!r}", "use 1 (HNS) or 2 (HCN)")
        api = 1
    dns = ci_get(conf, "dns") or {}
    servers = _strings(ci_get(dns, "Nameservers", ()) if isinstance(dns, Mapping) else (), origin.at("dns.Nameservers"),
                       problems)
    search = _strings(ci_get(dns, "Search", ()) if isinstance(dns, Mapping) else (), origin.at("dns.Search"), problems)
    prefix = ci_get(conf, "endpointMacPrefix", "0E-2A")
    if not (isinstance(prefix, str) and len(prefix) == 5 and prefix[2] == "-"):
        problems.error(origin.at("endpointMacPrefix"), f"{prefix!r} is not of the form xx-xx",
                       "use two hex bytes joined by '-', e.g. 0E-2A")
        prefix = "0E-2A"
    masq_net = ci_get(conf, "ipMasqNetwork", "")
    return WindowsConf(
        name=str(ci_get(conf, "name", default_name)), api_version=int(api),
        ip_masq_network=masq_net if isinstance(masq_net, str) else "",
        ip_masq=bool(ci_get(conf, "ipMasq", False)), endpoint_mac_prefix=prefix,
        dns_servers=tuple(str(s) for s in servers), dns_search=tuple(str(s) for s in search),
        policies=read_endpoint_policies(ci_get(conf, "policies"), int(api), origin.at("policies"), problems),
        loopback_dsr=bool(ci_get(conf, "loopbackDSR", False)),
        ipam=freeze(_ipam(ci_get(conf, "ipam"), origin.at("ipam"), problems)), binary=binary,
    )


def _strings(value: Any, origin: Origin, problems: Problems) -> tuple[Any, ...]:
    """A list of strings from a conf (the binary's Go struct holds []string), or nothing with an error."""
    if isinstance(value, list | tuple):
        return tuple(value)
    problems.error(origin, f"expected a list of strings, found {type(value).__name__}",
                   "write it as a JSON list, e.g. [\"10.96.0.10\"]")
    return ()


def _ipam(value: Any, origin: Origin, problems: Problems) -> dict[str, Any]:
    if value is None or isinstance(value, Mapping):
        return dict(value or {})
    problems.error(origin, f"expected the IPAM settings (a mapping), found {type(value).__name__}",
                   "write `ipam:` as a JSON object, e.g. {\"type\": \"host-local\"}")
    return {}


def endpoint_mac(prefix: str, ip: IPv4Address) -> str:
    """win-overlay's endpoint MAC: the prefix and the four IP bytes in lower-case hex (0E-2A-0a-f4-02-03)."""
    return prefix + "".join(f"-{b:02x}" for b in ip.packed)
