"""The routes a cloud route table must hold for a plan, named as each cloud's controller names them, and held
against the cloud's route-table limit before anything is written (docs/routes.md).

Only user-defined routes are written: a pod CIDR via a node IP (``next_hop_type == "VirtualAppliance"``, the
routes cloud-provider-azure's CreateRoute makes for kubenet). The table's system routes (``VnetLocal``,
``Internet``) and the cloud's own overlay routing (Azure CNI overlay) are the cloud's, not a user's.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from cnimodel.clouds import CLOUD_ROUTE_MAXIMUM, route_limit
from cnimodel.dataplane import RouteTable

GCE_CLUSTER_PREFIX = 26  # truncateClusterName in the GCE cloud provider's gce_routes.go


@dataclass(frozen=True)
class CloudRoute:
    name: str
    prefix: IPv4Network
    next_hop: IPv4Address
    node: str | None


@dataclass(frozen=True)
class CloudTable:
    table: str
    cloud: str
    plan: str
    routes: tuple[CloudRoute, ...]
    limit: int
    limit_source: str
    system_routes: int

    @property
    def nodes(self) -> list[str]:
        """The nodes the routes point at, each once, in route order (for the ENI placeholders)."""
        return list(dict.fromkeys(r.node or str(r.next_hop) for r in self.routes))


class RouteLimitError(ValueError):
    """More routes than the cloud's route table holds: nothing is written."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def cidr_rfc1035(prefix: IPv4Network) -> str:
    """cloud-provider-azure's cidrtoRfc1035: the CIDR without ``.``, ``:`` and ``/``."""
    return str(prefix).replace(":", "").replace(".", "").replace("/", "")


def gce_name(plan: str, node: str, prefix: IPv4Network | None = None) -> str:
    """``<plan (26 characters at most)>-<node>`` as the GCE cloud provider builds route names, made a valid GCE
    resource name (lower case letters, digits and ``-``, 63 at most, starting with a letter)."""
    raw = f"{plan[:GCE_CLUSTER_PREFIX]}-{node}" + (f"-{str(prefix).replace('.', '-').replace('/', '-')}"
                                                   if prefix is not None else "")
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = "r-" + name
    return name[:63].rstrip("-")


def _names(routes: list[tuple[IPv4Network, IPv4Address, str | None]], cloud: str, plan: str) -> list[str]:
    """One name per route: the node's name (Azure; GCE ``plan-node``); a node with several prefixes (calico-ipam
    blocks) gets ``node____<cidr>`` (cloud-provider-azure's dual-stack form) or ``plan-node-<cidr>`` (GCE)."""
    counts = Counter(n for _, _, n in routes)
    out = []
    for prefix, hop, node in routes:
        base = node or str(hop)
        many = counts[node] > 1
        if cloud == "gce":
            out.append(gce_name(plan, base, prefix if many else None))
        else:
            out.append(f"{base}____{cidr_rfc1035(prefix)}" if many else base)
    return out


def cloud_table(table: RouteTable, cloud: str, plan: str, config: dict[str, Any] | None = None,
                limit: int | None = None) -> CloudTable:
    """The user-defined routes of ``table`` for ``cloud`` (azure, aws, gce), checked against its limit."""
    picked = [(r.dst, r.via, r.name) for r in table.routes
              if r.via is not None and r.next_hop_type == "VirtualAppliance"]
    system = sum(1 for r in table.routes if r.next_hop_type != "VirtualAppliance")
    routes = tuple(CloudRoute(name, prefix, hop, node)  # type: ignore[arg-type]
                   for (prefix, hop, node), name in zip(picked, _names(picked, cloud, plan), strict=True))
    most, source = route_limit(cloud, limit, config)
    if len(routes) > most:
        past = ", ".join(r.name for r in routes[most:most + 3]) + (" …" if len(routes) > most + 3 else "")
        ceiling = CLOUD_ROUTE_MAXIMUM.get(cloud)
        raise RouteLimitError(
            f"route table {table.name} needs {len(routes):,} routes (one per node pod CIDR) but holds {most:,} "
            f"({source}): the routes past the limit ({past}) would fail to create and those nodes' pods would "
            "be unreachable",
            "use fewer nodes per route table, or a plugin without per-node routes (an overlay, or pods on VNet "
            "addresses)" + (f"; a raised quota (at most {ceiling:,}) goes in --route-table-limit" if ceiling
                            and ceiling > most else "; a raised quota goes in --route-table-limit"
                            if ceiling is None else ""))
    return CloudTable(table.name, cloud, plan, routes, most, source, system)
