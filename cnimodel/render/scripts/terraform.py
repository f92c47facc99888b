"""A cloud route table's routes as Terraform (HCL): ``azurerm_route``, ``aws_route``, ``google_compute_route``,
with variables for what the plan does not know (resource group, route table id, network, each node's ENI)."""

from __future__ import annotations

import json
import re

from cnimodel.apply import CloudRoute, CloudTable
from cnimodel.render.scripts.cloud_cli import eni_key


def label(name: str, taken: set[str]) -> str:
    """A resource name Terraform takes (a letter or ``_`` first; letters, digits, ``_`` and ``-``), unique."""
    base = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if not base or not (base[0].isalpha() or base[0] == "_"):
        base = "r_" + base
    out, i = base, 2
    while out in taken:
        out, i = f"{base}_{i}", i + 1
    taken.add(out)
    return out


def _s(value: object) -> str:
    return json.dumps(str(value))


def _block(kind: str, name: str, attrs: list[tuple[str, str]]) -> list[str]:
    width = max(len(k) for k, _ in attrs)
    return [f'resource "{kind}" "{name}" {{', *[f"  {k.ljust(width)} = {v}" for k, v in attrs], "}", ""]


def _variable(name: str, kind: str, description: str) -> list[str]:
    return [f'variable "{name}" {{', f"  type        = {kind}", f"  description = {_s(description)}", "}", ""]


def _head(t: CloudTable) -> list[str]:
    return [f"# cnimodel: route table {t.table} of plan {t.plan}: {len(t.routes)} route(s); the table holds "
            f"{t.limit:,} ({t.limit_source})", ""]


def azure(t: CloudTable) -> str:
    lines = _head(t) + _variable("resource_group_name", "string", f"The resource group of route table {t.table}")
    taken: set[str] = set()
    for r in t.routes:
        lines += _block("azurerm_route", label(r.name, taken), [
            ("name", _s(r.name)), ("resource_group_name", "var.resource_group_name"),
            ("route_table_name", _s(t.table)), ("address_prefix", _s(r.prefix)),
            ("next_hop_type", _s("VirtualAppliance")), ("next_hop_in_ip_address", _s(r.next_hop))])
    return "\n".join(lines)


def aws(t: CloudTable) -> str:
    lines = _head(t) + _variable("route_table_id", "string", f"The id of route table {t.table} (rtb-...)")
    lines += _variable("node_eni", "map(string)", "Each node's network interface (eni-...), by node name")
    taken: set[str] = set()
    for r in t.routes:
        lines += _block("aws_route", label(r.name, taken), [
            ("route_table_id", "var.route_table_id"), ("destination_cidr_block", _s(r.prefix)),
            ("network_interface_id", f"var.node_eni[{_s(eni_key(r))}]")])
    return "\n".join(lines)


def _gcp(r: CloudRoute) -> list[tuple[str, str]]:
    what = f"pod CIDR of node {r.node}" if r.node else "pod route"
    return [("name", _s(r.name)), ("network", "var.network"), ("dest_range", _s(r.prefix)),
            ("next_hop_ip", _s(r.next_hop)), ("priority", "1000"), ("description", _s(f"cnimodel: {what}"))]


def gcp(t: CloudTable) -> str:
    lines = _head(t) + _variable("network", "string", "The VPC network of the nodes")
    taken: set[str] = set()
    for r in t.routes:
        lines += _block("google_compute_route", label(r.name, taken), _gcp(r))
    return "\n".join(lines)
