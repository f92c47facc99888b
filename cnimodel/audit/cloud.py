"""A cloud route table as people list it (`az network route-table route list -o json`, `aws ec2
describe-route-tables`, `gcloud compute routes list --format=json`) against the plan's cloud routes.

The cloud's own routes (Azure's are not listed; AWS ``local`` and gateway routes; GCE subnet and default
routes) are passed by; each user route is compared by destination: its next hop (AWS names an ENI or an
instance the plan does not know, so only the destination and the state are checked there)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from cnimodel.apply import CloudRoute, CloudTable
from cnimodel.audit.model import Difference, Fix, InputError


@dataclass(frozen=True)
class LiveRoute:
    name: str
    prefix: IPv4Network
    next_hop: str  # an address, or an ENI / instance id (AWS), or an instance name (GCE)
    state: str = ""


def _list(path: str, data: Any, what: str) -> list[dict[str, Any]]:
    seq = data if isinstance(data, list) else [data]
    for i, x in enumerate(seq):
        if not isinstance(x, dict):
            raise InputError(path, "an entry that is not an object", f"capture `{what}` again", f"[{i}]")
    return seq


def _prefix(path: str, value: Any, where: str, what: str) -> IPv4Network | None:
    if value is None or ":" in str(value):
        return None
    try:
        return IPv4Network(str(value))
    except ValueError:
        raise InputError(path, f"{value!r} is not an IPv4 prefix", f"capture `{what}` again", where) from None


def read_az(path: str, data: Any) -> tuple[list[LiveRoute], int]:
    what = "az network route-table route list -o json"
    out, other = [], 0
    for i, r in enumerate(_list(path, data, what)):
        prefix = _prefix(path, r.get("addressPrefix"), f"[{i}].addressPrefix", what)
        if prefix is None:
            other += 1  # a service tag or IPv6 prefix
            continue
        hop = r.get("nextHopIpAddress") or r.get("nextHopType") or ""
        out.append(LiveRoute(str(r.get("name", "")), prefix, str(hop), str(r.get("nextHopType", ""))))
    return out, other


AWS_SYSTEM = ("GatewayId", "NatGatewayId", "TransitGatewayId", "VpcPeeringConnectionId", "EgressOnlyInternetGatewayId",
              "LocalGatewayId", "CarrierGatewayId", "CoreNetworkArn", "VpcEndpointId")


def read_aws(path: str, data: Any, table: str) -> tuple[list[LiveRoute], int, str]:
    what = "aws ec2 describe-route-tables"
    tables = data.get("RouteTables") if isinstance(data, dict) else None
    if not isinstance(tables, list) or not tables:
        raise InputError(path, "no RouteTables in it", f"capture `{what}` again (for the table: --route-table-ids …)")
    named = [t for t in tables if t.get("RouteTableId") == table or any(
        tag.get("Key") == "Name" and tag.get("Value") == table for tag in t.get("Tags") or [])]
    if len(tables) > 1 and not named:
        raise InputError(path, f"{len(tables)} route tables and none is {table} (by id or Name tag)",
                         f"capture one table: `{what} --route-table-ids rtb-…`")
    chosen = (named or tables)[0]
    out, other = [], 0
    for i, r in enumerate(chosen.get("Routes") or []):
        prefix = _prefix(path, r.get("DestinationCidrBlock"), f"RouteTables[{tables.index(chosen)}].Routes[{i}]", what)
        if prefix is None or any(r.get(k) for k in AWS_SYSTEM):
            other += 1
            continue
        hop = r.get("NetworkInterfaceId") or r.get("InstanceId") or ""
        out.append(LiveRoute(str(prefix), prefix, str(hop), str(r.get("State", ""))))
    return out, other, str(chosen.get("RouteTableId", ""))


def read_gcloud(path: str, data: Any) -> tuple[list[LiveRoute], int]:
    what = "gcloud compute routes list --format=json"
    out, other = [], 0
    for i, r in enumerate(_list(path, data, what)):
        prefix = _prefix(path, r.get("destRange"), f"[{i}].destRange", what)
        hop = r.get("nextHopIp") or (str(r["nextHopInstance"]).rsplit("/", 1)[-1] if r.get("nextHopInstance") else None)
        if prefix is None or hop is None:
            other += 1  # subnet, peering and default-internet-gateway routes
            continue
        out.append(LiveRoute(str(r.get("name", "")), prefix, str(hop)))
    return out, other


def belongs(live: list[LiveRoute], table: CloudTable, cluster_cidr: IPv4Network | None, nodes: dict[str, str]) -> bool:
    """Whether a listed table is the plan's: a route for one of the plan's pod CIDRs (or inside its cluster
    CIDR), or a next hop that is one of its nodes."""
    mine = {r.prefix for r in table.routes}
    ips = set(nodes.values())
    return any(r.prefix in mine or (cluster_cidr is not None and r.prefix.subnet_of(cluster_cidr))
               or r.next_hop in ips or r.next_hop in nodes for r in live)


def compare(path: str, table: CloudTable, live: list[LiveRoute], cloud: str, cluster_cidr: IPv4Network | None,
            nodes: dict[str, str]) -> list[Difference]:
    if live and not belongs(live, table, cluster_cidr, nodes):
        shown = ", ".join(f"{r.prefix} → {r.next_hop}" for r in live[:3])
        raise InputError(path, f"none of its {len(live)} routes ({shown} …) is for the plan's pods or points at its "
                         "nodes: it is another cluster's route table", f"list the route table {table.table} of the "
                         "plan's cluster")
    have: dict[IPv4Network, LiveRoute] = {}
    for r in live:
        have.setdefault(r.prefix, r)
    out = []
    for w in table.routes:
        h = have.pop(w.prefix, None)
        shown = f"{w.prefix} → {w.next_hop}" + (f" ({w.node})" if w.node else "")
        if h is None:
            out.append(Difference("missing", "cloud-route", str(w.prefix), shown, "",
                                  (_create(w, cloud, table.table),)))
        elif not _same(w, h, cloud, nodes):
            out.append(Difference("different", "cloud-route", str(w.prefix), shown,
                                  f"{h.prefix} → {h.next_hop}" + (f" ({h.state})" if h.state else ""),
                                  _replace(w, h, cloud, table.table)))
    out += [Difference("extra", "cloud-route", str(p), "", f"{h.prefix} → {h.next_hop}", _delete(table, h, cloud))
            for p, h in have.items()]
    return out


def _same(w: CloudRoute, h: LiveRoute, cloud: str, nodes: dict[str, str]) -> bool:
    if cloud == "aws":  # the plan knows no ENI: a route to this destination that is not blackholed will do
        return h.state.lower() != "blackhole"
    hop = nodes.get(h.next_hop, h.next_hop)  # GCE nextHopInstance names the node's instance
    return hop == str(w.next_hop) and (cloud != "azure" or h.state in ("", "VirtualAppliance"))


def _create(w: CloudRoute, cloud: str, table: str) -> Fix:
    if cloud == "azure":
        return Fix("az-route", (w, table))
    return Fix("aws-route", (w,)) if cloud == "aws" else Fix("gce-route", (w,))


def _replace(w: CloudRoute, h: LiveRoute, cloud: str, table: str) -> tuple[Fix, ...]:
    if cloud == "gce":  # a GCE route cannot be changed: delete it, then create it again
        return Fix("gce-route-del", (h.name,)), Fix("gce-route", (w,))
    return (_create(w, cloud, table),)


def _delete(table: CloudTable, h: LiveRoute, cloud: str) -> tuple[Fix, ...]:
    if cloud == "azure":
        return (Fix("az-route-del", (table.table, h.name)),)
    if cloud == "aws":
        return (Fix("aws-route-del", (h.prefix,)),)
    return (Fix("gce-route-del", (h.name,)),)


