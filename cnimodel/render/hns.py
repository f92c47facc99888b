"""HNS objects as JSON: HCN v2 (hcsshim ``hcn`` field names) or HNS v1 (``HNSNetwork``/``HNSEndpoint``).

hcsshim marks every field omitempty, so empty values are left out here too.
"""

from __future__ import annotations

from typing import Any

from cnimodel import hns as schema
from cnimodel.dataplane import HnsEndpoint, HnsNetwork, HnsPolicy, NodeFacts

SCHEMA = {"Major": 2, "Minor": 0}


def _policies(ps: tuple[HnsPolicy, ...], api: int) -> list[dict[str, Any]]:
    return [schema.to_v2(p) if api == 2 else schema.to_v1(p) for p in ps]


def network(n: HnsNetwork, api: int = 2) -> dict[str, Any]:
    if api == 1:
        body: dict[str, Any] = {"Name": n.name, "Type": n.type, "NetworkAdapterName": n.adapter,
                                "Subnets": [{"AddressPrefix": str(n.prefix), "GatewayAddress": str(n.gateway)}],
                                "ManagementIP": str(n.management_ip)}
        if n.subnet_policies:
            body["Subnets"][0]["Policies"] = _policies(n.subnet_policies, 1)
        if n.policies:
            body["Policies"] = _policies(n.policies, 1)
        return body
    subnet: dict[str, Any] = {"IpAddressPrefix": str(n.prefix),
                              "Routes": [{"NextHop": str(n.gateway), "DestinationPrefix": "0.0.0.0/0"}]}
    if n.subnet_policies:
        subnet["Policies"] = _policies(n.subnet_policies, 2)
    body = {"Name": n.name, "Type": n.type}
    if n.flags:
        body["Flags"] = n.flags
    body["Ipams"] = [{"Type": "Static", "Subnets": [subnet]}]
    if n.policies:
        body["Policies"] = _policies(n.policies, 2)
    body.update({"MacPool": {}, "Dns": {}, "SchemaVersion": SCHEMA})
    return body


def endpoint(e: HnsEndpoint, api: int = 2) -> dict[str, Any]:
    if api == 1:
        body: dict[str, Any] = {"Name": e.name, "VirtualNetworkName": e.network, "IPAddress": str(e.ip),
                                "PrefixLength": e.prefix_len}
        if e.mac:
            body["MacAddress"] = e.mac
        if e.gateway:
            body["GatewayAddress"] = str(e.gateway)
        if e.dns_servers:
            body["DNSServerList"] = ",".join(e.dns_servers)
        if e.dns_search:
            body["DNSSuffix"] = ",".join(e.dns_search)
        if e.role == "remote":
            body["IsRemoteEndpoint"] = True
        if e.policies:
            body["Policies"] = _policies(e.policies, 1)
        return body
    body = {"Name": e.name, "HostComputeNetwork": e.network}
    if e.role == "remote":
        body["Flags"] = 1
    # kube-proxy's createEndpoint (source VIP) sets only the address.
    body["IpConfigurations"] = [{"IpAddress": str(e.ip)} if e.role == "source-vip"
                                else {"IpAddress": str(e.ip), "PrefixLength": e.prefix_len}]
    if e.mac:
        body["MacAddress"] = e.mac
    dns: dict[str, Any] = {}
    if e.dns_search:
        dns["Search"] = list(e.dns_search)
    if e.dns_servers:
        dns["ServerList"] = list(e.dns_servers)
    body["Dns"] = dns
    if e.gateway and e.role != "remote":
        body["Routes"] = [{"NextHop": str(e.gateway), "DestinationPrefix": "0.0.0.0/0"}]
    if e.policies:
        body["Policies"] = _policies(e.policies, 2)
    body["SchemaVersion"] = SCHEMA
    return body


def objects(f: NodeFacts, api: int = 2) -> list[dict[str, Any]]:
    """A node's HNS networks then endpoints, each tagged with ``ObjectType`` for readers of mixed lists."""
    out = [{"ObjectType": "Network", **network(n, api)} for n in f.hns_networks]
    out += [{"ObjectType": "Endpoint", "Role": e.role, **endpoint(e, api)} for e in f.hns_endpoints]
    return out
