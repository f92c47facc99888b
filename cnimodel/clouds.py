"""What the clouds allow in one route table: the figures the route-table check (CNI-ROUTE-002) and the cloud
apply scripts (``cnimodel routes --node <underlay> -o az|aws|gcloud|…``) hold a plan's routes against.

The figures and where they are stated (docs/routes.md has the citations):
- Azure: 400 user-defined routes per route table (Azure subscription and service limits, networking limits);
  the reason kubenet, one route per node, stops near 400 nodes.
- AWS: 50 non-propagated routes per route table by default, adjustable to at most 1,000 (Amazon VPC quotas).
- GCE: a per-network quota on static routes ("Static routes per VPC network", shown in the console; no fixed
  default is stated); 100 is the figure flannel-io/flannel#164 reports, kept as the assumption.
- OpenStack: 256 (flannel-io/flannel#164; unverified).
"""

from __future__ import annotations

from typing import Any

CLOUD_ROUTE_LIMITS = {"azure": 400, "aws": 50, "gce": 100, "openstack": 256}
# The most a quota increase gets (None: the documents name no ceiling).
CLOUD_ROUTE_MAXIMUM: dict[str, int | None] = {"azure": 400, "aws": 1000, "gce": None, "openstack": None}
LIMIT_SOURCES = {
    "azure": "Azure's limit of user-defined routes per route table",
    "aws": "AWS's default quota of routes per route table (adjustable up to 1,000)",
    "gce": "the GCE static-route quota flannel-io/flannel#164 reports (yours: the console's Quotas page)",
    "openstack": "OpenStack's figure in flannel-io/flannel#164 (unverified)",
}


def route_limit(cloud: str, given: int | None, config: dict[str, Any] | None) -> tuple[int, str]:
    """How many routes the cloud's table holds and why: the option, else the plan's
    ``network.config.routeTableLimit``, else the cloud's default."""
    if given:
        return given, "--route-table-limit"
    value = (config or {}).get("routeTableLimit")
    if isinstance(value, int) and not isinstance(value, bool):
        return value, "network.config.routeTableLimit"
    return CLOUD_ROUTE_LIMITS[cloud], LIMIT_SOURCES[cloud]
