"""Windows state people paste, read into plain values: `Get-NetRoute | ConvertTo-Json`, `Get-HnsNetwork`,
`Get-HnsEndpoint`, `Get-HnsPolicyList` / `Get-HnsLoadBalancer` (ConvertTo-Json; HNS v1 or HCN v2 field names)
and `hnsdiag list all` text. Field names are matched without regard to case, as PowerShell does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from cnimodel import hns as schema
from cnimodel.audit.model import InputError
from cnimodel.dataplane import HnsPolicy
from cnimodel.plan.fields import freeze

GUID = re.compile(r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?")
OS_MADE = (IPv4Network("224.0.0.0/4"), IPv4Network("127.0.0.0/8"), IPv4Network("255.255.255.255/32"))
ACTIVE_STORE = (None, 0, "ActiveStore")
IPV4 = (None, 2, "IPv4")


def get(d: dict[str, Any], *names: str) -> Any:
    """The first of ``names`` in ``d``, matched without regard to case."""
    lower = {k.lower(): v for k, v in d.items()}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def items(path: str, data: Any) -> list[dict[str, Any]]:
    """The objects of a ConvertTo-Json array (one object alone is not wrapped in an array)."""
    if isinstance(data, dict) and isinstance(data.get("value"), list) and "Count" in data:
        data = data["value"]
    seq = data if isinstance(data, list) else [data]
    for i, x in enumerate(seq):
        if not isinstance(x, dict):
            raise InputError(path, "an entry that is not an object", "capture it again with ConvertTo-Json", f"[{i}]")
    return seq


@dataclass(frozen=True)
class NetRoute:
    prefix: IPv4Network
    next_hop: IPv4Address
    alias: str

    def os_made(self) -> bool:
        """Routes Windows makes for every address: multicast, loopback, broadcast and on-link host routes."""
        return any(self.prefix.subnet_of(n) for n in OS_MADE) or (
            self.prefix.prefixlen == 32 and self.next_hop == IPv4Address("0.0.0.0"))


def read_netroutes(path: str, data: Any) -> tuple[list[NetRoute], int]:
    out, other = [], 0
    for i, r in enumerate(items(path, data)):
        prefix = get(r, "DestinationPrefix")
        if prefix is None:
            raise InputError(path, "an entry without DestinationPrefix: not Get-NetRoute output",
                             "capture `Get-NetRoute | ConvertTo-Json` again", f"[{i}]")
        if ":" in str(prefix) or get(r, "AddressFamily") not in IPV4 or get(r, "Store") not in ACTIVE_STORE:
            other += 1
            continue
        try:
            out.append(NetRoute(IPv4Network(str(prefix)), IPv4Address(str(get(r, "NextHop") or "0.0.0.0")),
                                str(get(r, "InterfaceAlias") or get(r, "ifIndex", "InterfaceIndex") or "")))
        except ValueError as e:
            raise InputError(path, f"not an IPv4 route: {e}", "capture Get-NetRoute again", f"[{i}]") from None
    return out, other


def policy(p: dict[str, Any]) -> HnsPolicy:
    """An HNS policy in HCN v2 form, from either schema (v1 flat ``{"Type": "ROUTE", …}``, v2 ``{Type, Settings}``)."""
    settings = get(p, "Settings")
    if isinstance(settings, dict):
        return HnsPolicy(str(get(p, "Type")), freeze(settings))
    return schema.from_v1(p)


@dataclass(frozen=True)
class LiveNetwork:
    id: str
    name: str
    type: str
    prefixes: tuple[str, ...]
    gateways: tuple[str, ...]
    policies: tuple[HnsPolicy, ...]


def read_networks(path: str, data: Any) -> list[LiveNetwork]:
    out = []
    for i, n in enumerate(items(path, data)):
        name = get(n, "Name")
        if name is None:
            raise InputError(path, "a network without Name: not Get-HnsNetwork output",
                             "capture `Get-HnsNetwork | ConvertTo-Json -Depth 10` again", f"[{i}]")
        prefixes, gateways = [], []
        for s in get(n, "Subnets") or []:  # HNS v1
            prefixes.append(str(get(s, "AddressPrefix")))
            if get(s, "GatewayAddress"):
                gateways.append(str(get(s, "GatewayAddress")))
        for ipam in get(n, "Ipams") or []:  # HCN v2
            for s in get(ipam, "Subnets") or []:
                prefixes.append(str(get(s, "IpAddressPrefix")))
                gateways += [str(get(r, "NextHop")) for r in get(s, "Routes") or []
                             if get(r, "DestinationPrefix") == "0.0.0.0/0"]
        pols = get(n, "Policies") or []
        if not isinstance(pols, list):
            raise InputError(path, "Policies is not a list: ConvertTo-Json cut it at its default depth",
                             "capture with ConvertTo-Json -Depth 10", f"[{i}].Policies")
        out.append(LiveNetwork(str(get(n, "ID", "Id") or ""), str(name), str(get(n, "Type") or ""), tuple(prefixes),
                               tuple(gateways), tuple(policy(p) for p in pols if isinstance(p, dict))))
    return out


@dataclass(frozen=True)
class LiveEndpoint:
    id: str
    name: str
    network: str  # the network's name (v1) or ID (v2)
    ip: str
    remote: bool
    policies: tuple[HnsPolicy, ...]


def _ipv4(text: str) -> bool:
    try:
        IPv4Address(text)
    except ValueError:
        return False
    return True


def read_endpoints(path: str, data: Any) -> list[LiveEndpoint]:
    out = []
    for i, e in enumerate(items(path, data)):
        ip = get(e, "IPAddress")
        configs = get(e, "IpConfigurations") or []
        if ip is None and configs:
            ip = get(configs[0], "IpAddress")
        if ip is None:
            raise InputError(path, "an endpoint without an address (IPAddress or IpConfigurations): not "
                             "Get-HnsEndpoint output, or cut by ConvertTo-Json's default depth",
                             "capture `Get-HnsEndpoint | ConvertTo-Json -Depth 10` again", f"[{i}]")
        if not isinstance(ip, str) or (":" not in ip and not _ipv4(ip)):
            raise InputError(path, f"an endpoint address that is not an IP address: {ip!r:.40}",
                             "capture `Get-HnsEndpoint | ConvertTo-Json -Depth 10` again", f"[{i}]")
        pols = get(e, "Policies") or []
        if not isinstance(pols, list):
            raise InputError(path, "Policies is not a list: ConvertTo-Json cut it at its default depth",
                             "capture with ConvertTo-Json -Depth 10", f"[{i}].Policies")
        remote = bool(get(e, "IsRemoteEndpoint")) or (int(get(e, "Flags") or 0) & 1 == 1)
        out.append(LiveEndpoint(str(get(e, "ID", "Id") or ""), str(get(e, "Name") or ""),
                                str(get(e, "VirtualNetworkName") or get(e, "HostComputeNetwork", "VirtualNetwork")
                                    or ""), str(ip), remote, tuple(policy(p) for p in pols if isinstance(p, dict))))
    return out


@dataclass(frozen=True)
class LiveLoadBalancer:
    id: str
    vips: frozenset[str]
    protocol: int
    internal_port: int
    external_port: int
    endpoints: tuple[str, ...]  # endpoint IDs, lower case


def _vips(path: str, value: Any, where: str) -> frozenset[str]:
    """A load balancer's frontend addresses: a list of IP addresses (IPv6 ones are kept, and passed by later)."""
    vips = value or []
    if not isinstance(vips, list) or not all(isinstance(v, str) and (":" in v or _ipv4(v)) for v in vips):
        raise InputError(path, f"the VIPs are not a list of IP addresses: {vips!r:.60}",
                         "capture `Get-HnsPolicyList | ConvertTo-Json -Depth 10` again", where)
    return frozenset(vips)


def read_load_balancers(path: str, data: Any) -> list[LiveLoadBalancer]:
    """HNS v1 policy lists (an ``ELB`` policy and endpoint references) or HCN v2 load balancers."""
    out = []
    for i, lb in enumerate(items(path, data)):
        refs = get(lb, "References")
        if refs is not None:  # v1: {"References": ["/endpoints/<id>"], "Policies": [{"Type": "ELB", …}]}
            elb = next((p for p in get(lb, "Policies") or [] if str(get(p, "Type")).upper() == "ELB"), None)
            if elb is None:
                continue  # a ROUTE policy list, not a load balancer
            out.append(LiveLoadBalancer(str(get(lb, "ID", "Id") or ""),
                                        _vips(path, get(elb, "VIPs"), f"[{i}].Policies.VIPs"),
                                        int(get(elb, "Protocol") or 0), int(get(elb, "InternalPort") or 0),
                                        int(get(elb, "ExternalPort") or 0),
                                        tuple(str(r).rsplit("/", 1)[-1].lower() for r in refs)))
            continue
        mappings = get(lb, "PortMappings")
        if not mappings:
            raise InputError(path, "neither References (HNS v1 policy list) nor PortMappings (HCN v2 load "
                             "balancer)", "capture `Get-HnsPolicyList | ConvertTo-Json -Depth 10` again", f"[{i}]")
        pm = mappings[0]
        out.append(LiveLoadBalancer(str(get(lb, "ID", "Id") or ""),
                                    _vips(path, get(lb, "FrontendVIPs"), f"[{i}].FrontendVIPs"),
                                    int(get(pm, "Protocol") or 0), int(get(pm, "InternalPort") or 0),
                                    int(get(pm, "ExternalPort") or 0),
                                    tuple(str(x).lower() for x in get(lb, "HostComputeEndpoints") or [])))
    return out


@dataclass(frozen=True)
class Hnsdiag:
    networks: tuple[tuple[str, str], ...]  # (name, id)
    endpoints: tuple[tuple[str, str, str], ...]  # (name, id, network name)
    load_balancers: tuple[tuple[str, frozenset[str], int], ...]  # (id, VIPs, number of DIPs)


def read_hnsdiag(path: str, text: str) -> Hnsdiag:
    """`hnsdiag list all`: sections Networks (Name ID), Endpoints (Name ID Virtual Network Name), Namespaces and
    LoadBalancers (ID | Virtual IPs | Direct IP IDs)."""
    section = None
    nets: list[tuple[str, str]] = []
    eps: list[tuple[str, str, str]] = []
    lbs: list[tuple[str, frozenset[str], int]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("PS "):
            continue
        if line.endswith(":") and " " not in line:
            section = line[:-1]
            continue
        if line.startswith(("Name ", "ID ")):
            continue  # a column header
        tokens = line.split()
        if section == "Networks":
            nets.append((" ".join(tokens[:-1]), tokens[-1].strip("{}")))
        elif section == "Endpoints":
            at = next((j for j, t in enumerate(tokens) if GUID.fullmatch(t)), None)
            if at is None:
                raise InputError(path, f"an endpoint line without an ID: {line!r}", "capture `hnsdiag list all` "
                                 "again", f"line {n}")
            eps.append((" ".join(tokens[:at]), tokens[at].lower(), " ".join(tokens[at + 1:])))
        elif section == "LoadBalancers":
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3:
                raise InputError(path, f"a load balancer line that is not ID | VIPs | DIP IDs: {line!r}",
                                 "capture `hnsdiag list all` again", f"line {n}")
            lbs.append((parts[0], frozenset(parts[1].split()), len(parts[2].split())))
    return Hnsdiag(tuple(nets), tuple(eps), tuple(lbs))
