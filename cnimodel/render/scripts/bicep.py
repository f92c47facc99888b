"""A cloud route table's routes as Bicep: ``Microsoft.Network/routeTables/routes`` children of the existing
route table (``addressPrefix``, ``nextHopType`` VirtualAppliance, ``nextHopIpAddress``)."""

from __future__ import annotations

from cnimodel.apply import CloudTable
from cnimodel.render.scripts.terraform import label

API = "2023-09-01"


def _q(text: object) -> str:
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(t: CloudTable) -> str:
    lines = [f"// cnimodel: route table {t.table} of plan {t.plan}: {len(t.routes)} route(s); the table holds "
             f"{t.limit:,} ({t.limit_source})", f"param routeTableName string = {_q(t.table)}", "",
             f"resource routeTable 'Microsoft.Network/routeTables@{API}' existing = {{", "  name: routeTableName",
             "}", ""]
    taken: set[str] = set()
    for r in t.routes:
        symbol = label(("route_" + r.name).replace("-", "_"), taken)
        lines += [f"resource {symbol} 'Microsoft.Network/routeTables/routes@{API}' = {{", "  parent: routeTable",
                  f"  name: {_q(r.name)}", "  properties: {", f"    addressPrefix: {_q(r.prefix)}",
                  "    nextHopType: 'VirtualAppliance'", f"    nextHopIpAddress: {_q(r.next_hop)}", "  }", "}", ""]
    return "\n".join(lines)
