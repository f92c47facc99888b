"""A cloud route table's routes as the clouds' CLIs take them, in bash scripts safe to run again:
``az network route-table route create`` (an ARM PUT: a route of that name is created or replaced),
``aws ec2 create-route`` (or ``replace-route`` when the destination is taken), ``gcloud compute routes create``
(skipped when a route of that name exists: GCE routes cannot be changed, only deleted and made again)."""

from __future__ import annotations

from cnimodel.apply import CloudRoute, CloudTable

ENI_PLACEHOLDER = "eni-REPLACE-ME"


def _head(t: CloudTable, what: str) -> list[str]:
    return ["#!/usr/bin/env bash",
            f"# cnimodel: route table {t.table} of plan {t.plan} — {len(t.routes)} route(s), {what}; the table "
            f"holds {t.limit:,} ({t.limit_source})", "set -euo pipefail"]


def az_line(r: CloudRoute, table: str = '"$ROUTE_TABLE"') -> str:
    return ('az network route-table route create --resource-group "$RESOURCE_GROUP" --route-table-name '
            f"{table} --name {r.name} --address-prefix {r.prefix} --next-hop-type VirtualAppliance "
            f"--next-hop-ip-address {r.next_hop}")


def az(t: CloudTable) -> str:
    lines = _head(t, "each a pod CIDR via its node (next hop type VirtualAppliance)")
    lines += ['RESOURCE_GROUP="${RESOURCE_GROUP:?set RESOURCE_GROUP to the resource group of the route table}"',
              f'ROUTE_TABLE="${{ROUTE_TABLE:-{t.table}}}"',
              "# the nodes forward packets for their pods: their NICs need IP forwarding on "
              "(az network nic update --ip-forwarding true)"]
    lines += [az_line(r) for r in t.routes]
    return "\n".join(lines) + "\n"


def eni_key(r: CloudRoute) -> str:
    return r.node or str(r.next_hop)


def aws_line(r: CloudRoute) -> str:
    args = (f'--route-table-id "$ROUTE_TABLE_ID" --destination-cidr-block {r.prefix} '
            f'--network-interface-id "${{ENI[{eni_key(r)}]}}"')
    return f"aws ec2 create-route {args} >/dev/null 2>&1 || aws ec2 replace-route {args}"


def aws(t: CloudTable) -> str:
    lines = _head(t, "each a pod CIDR via its node's network interface")
    lines += ['ROUTE_TABLE_ID="${ROUTE_TABLE_ID:?set ROUTE_TABLE_ID to the route table id (rtb-...)}"',
              "# Fill in each node's network interface (eni-...), e.g. aws ec2 describe-network-interfaces "
              "--filters Name=addresses.private-ip-address,Values=NODE_IP",
              "declare -A ENI=("]
    hops = {eni_key(r): r.next_hop for r in t.routes}
    lines += [f'  [{key}]="{ENI_PLACEHOLDER}"  # {ip}' for key, ip in hops.items()]
    lines += [")", 'for n in "${!ENI[@]}"; do',
              f'  if [[ ${{ENI[$n]}} == {ENI_PLACEHOLDER} ]]; then echo "fill in ENI[$n]" >&2; exit 1; fi', "done",
              "# the nodes forward packets for their pods: source/destination check off (as cloud-provider-aws "
              "does for the instance)"]
    lines += [f'aws ec2 modify-network-interface-attribute --network-interface-id "${{ENI[{key}]}}" '
              "--no-source-dest-check" for key in hops]
    lines += [aws_line(r) for r in t.routes]
    return "\n".join(lines) + "\n"


def gcloud_line(r: CloudRoute) -> str:
    what = f"pod CIDR of node {r.node}" if r.node else "pod route"
    return (f"gcloud compute routes describe {r.name} >/dev/null 2>&1 || gcloud compute routes create {r.name} "
            f'--network="$NETWORK" --destination-range={r.prefix} --next-hop-address={r.next_hop} '
            f'--priority=1000 --description="cnimodel: {what}"')


def gcloud(t: CloudTable) -> str:
    lines = _head(t, "each a pod CIDR via its node's address")
    lines += ['NETWORK="${NETWORK:?set NETWORK to the VPC network of the nodes}"',
              "# the nodes forward packets for their pods: their instances need --can-ip-forward"]
    lines += [gcloud_line(r) for r in t.routes]
    return "\n".join(lines) + "\n"
