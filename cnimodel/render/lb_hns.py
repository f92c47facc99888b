"""A Windows node's kube-proxy objects as HNS v2 JSON (hcsshim ``hcn`` field names, Go's omitempty rules).

Every hcsshim field is omitempty: zero numbers, empty strings and empty lists are left out, struct values
(``SchemaVersion``, ``Dns``, ``Health``) always appear. ``ObjectType``, ``Role``, ``Service`` and
``Frontend`` are cnimodel's labels for readers of a mixed list, not HNS fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cnimodel.render import hns as facts_hns
from cnimodel.services.hnslb import CreatedEndpoint, HnsLoadBalancer, WinkernelView, hns_id

SCHEMA = {"Major": 2, "Minor": 0}


def network_id(view: WinkernelView) -> str:
    assert view.network is not None
    return hns_id(view.node, f"network {view.network.name}")


# Struct values hcsshim always writes; shared (read-only) by every object of a large answer.
EMPTY_DNS: dict[str, Any] = {}
HEALTH: dict[str, Any] = {"Extra": {}}


def created_endpoint(view: WinkernelView, e: CreatedEndpoint, network: str = "",
                     labels: dict[str, Any] | None = None) -> dict[str, Any]:
    """An endpoint kube-proxy creates (remote: ``Flags: 1``; the source VIP: a local endpoint), in
    ``HostComputeEndpoint`` field order, after cnimodel's ``labels`` if given."""
    body: dict[str, Any] = dict(labels) if labels else {}
    body["ID"] = view.ids[e.name]
    if network:
        body["HostComputeNetwork"] = network
    if e.provider_address:
        body["Policies"] = [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": e.provider_address}}]
    body["IpConfigurations"] = [{"IpAddress": e.ip}]
    body["Dns"] = EMPTY_DNS
    if e.mac:
        body["MacAddress"] = e.mac
    if e.role == "remote":
        body["Flags"] = 1
    body["Health"] = HEALTH
    body["SchemaVersion"] = SCHEMA
    return body


def load_balancer(lb: HnsLoadBalancer, labels: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``HostComputeLoadBalancer`` with its one PortMapping (after cnimodel's ``labels`` if given)."""
    pm: dict[str, Any] = {}
    for key, value in (("Protocol", lb.protocol), ("InternalPort", lb.internal_port),
                       ("ExternalPort", lb.external_port), ("DistributionType", lb.distribution),
                       ("Flags", lb.port_flags)):
        if value:
            pm[key] = value
    body: dict[str, Any] = dict(labels) if labels else {}
    body["ID"] = lb.id
    body["HostComputeEndpoints"] = [b.id for b in lb.backends]
    if lb.source_vip:
        body["SourceVIP"] = lb.source_vip
    if lb.frontend_vips:
        body["FrontendVIPs"] = list(lb.frontend_vips)
    body["PortMappings"] = [pm]
    body["SchemaVersion"] = SCHEMA
    if lb.flags:
        body["Flags"] = lb.flags
    return body


def objects(view: WinkernelView) -> list[dict[str, Any]]:
    """The network (as a reference), the CNI endpoints the LBs use, kube-proxy's endpoints, then every LB
    HNS would hold (an LB HNS refuses is left out)."""
    return list(each_object(view))


def each_object(view: WinkernelView) -> Iterator[dict[str, Any]]:
    """``objects(view)``, one at a time (a large answer is written as they are made)."""
    if view.network is None:
        return
    yield {"ObjectType": "Network", "ID": network_id(view), "Name": view.network.name, "Type": view.network.type}
    for e in view.local_endpoints:
        body = facts_hns.endpoint(e, 2)
        yield {"ObjectType": "Endpoint", "Role": e.role, "ID": view.ids[e.name],
               **{k: v for k, v in body.items() if k != "HostComputeNetwork"}, "HostComputeNetwork": network_id(view)}
    net = network_id(view)
    remote = {"ObjectType": "Endpoint", "Role": "remote"}
    for e in view.created:
        yield created_endpoint(view, e, net, remote if e.role == "remote" else {"ObjectType": "Endpoint",
                                                                                "Role": e.role})
    for sp in view.service_ports:
        for lb in sp.load_balancers:
            if not lb.rejected:
                yield load_balancer(lb, {"ObjectType": "LoadBalancer", "Service": lb.service, "Frontend": lb.kind})
