"""A Windows node's apply script in PowerShell: HNS networks and the host endpoint through microsoft/SDN's HNS
module (``hns.psm1`` for the HNS v1 API, ``hns.v2.psm1`` for HCN v2: New-HnsNetwork, New-HnsEndpoint,
Attach-HnsHostEndpoint, New-HnsNetworkPolicy, fed with the HNS JSON of ``render.hns``) and NetRoutes with
``New-NetRoute``. Idempotent (each object is looked up first) and ``-WhatIf`` aware (a script-level
``[CmdletBinding(SupportsShouldProcess)]``; every change goes through ShouldProcess)."""

from __future__ import annotations

import json
from typing import Any

from cnimodel import hns as schema
from cnimodel.apply import WindowsScript
from cnimodel.apply.windows import LEFT_TO
from cnimodel.dataplane import HnsEndpoint, HnsNetwork, HnsPolicy, Route
from cnimodel.render import hns

MODULES = {1: r"C:\k\hns.psm1", 2: r"C:\k\hns.v2.psm1"}
# HNS v1 (hns.psm1 has no Get- functions: the REST-style request) and HCN v2 (hns.v2.psm1) lookups.
GET_NETWORKS = {1: "Invoke-HnsRequest -Method GET -Type networks", 2: "Get-HnsNetwork"}
GET_ENDPOINTS = {1: "Invoke-HnsRequest -Method GET -Type endpoints", 2: "Get-HnsEndpoint"}
NETWORK_FIELD = {1: "VirtualNetwork", 2: "HostComputeNetwork"}  # an endpoint's network ID

ROUTE_HELPER = """function Set-CmRoute {
    # A NetRoute, unless one with this prefix, interface and next hop is there already.
    [CmdletBinding(SupportsShouldProcess)]
    param([string] $Prefix, [string] $Alias, [string] $NextHop)
    $found = Get-NetRoute -AddressFamily IPv4 -DestinationPrefix $Prefix -InterfaceAlias $Alias `
        -ErrorAction SilentlyContinue | Where-Object NextHop -eq $NextHop
    if (-not $found -and $PSCmdlet.ShouldProcess("route $Prefix via $NextHop on $Alias", 'New-NetRoute')) {
        New-NetRoute -AddressFamily IPv4 -DestinationPrefix $Prefix -InterfaceAlias $Alias -NextHop $NextHop | Out-Null
    }
}"""


def quote(text: str) -> str:
    """A PowerShell single-quoted string (``'`` doubled)."""
    return "'" + text.replace("'", "''") + "'"


def literal(value: Any) -> str:
    """A PowerShell literal of a JSON value: hashtables ``@{}``, arrays ``@()``, ``$true``/``$false``."""
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "@{" + "; ".join(f"{k}={literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "@(" + ", ".join(literal(v) for v in value) + ")"
    return quote(str(value))


def here(text: str) -> list[str]:
    """A single-quoted here-string (no expansion): ``@'`` … ``'@``."""
    return ["@'", text, "'@"]


def _network(s: WindowsScript, n: HnsNetwork) -> list[str]:
    api = s.hns_api
    body = json.dumps(hns.network(n, api), indent=2)
    lines = [f"# --- HNS network {n.name} ({n.type} {n.prefix}, gateway {n.gateway})",
             f"$net = {GET_NETWORKS[api]} | Where-Object Name -eq {quote(n.name)}",
             "if (-not $net) {", "    $json = " + "\n".join(here(body)),
             f"    if ($PSCmdlet.ShouldProcess({quote(f'HNS network {n.name}')}, 'New-HnsNetwork')) {{",
             "        New-HnsNetwork -JsonString $json | Out-Null",
             f"        $net = {GET_NETWORKS[api]} | Where-Object Name -eq {quote(n.name)}", "    }", "}"]
    runtime = s.runtime_policies(n)
    if runtime:
        lines += [f"# {len(runtime)} {runtime[0].type} policies (added one by one to a network that exists)",
                  "$have = if ($net) { @($net.Policies | Where-Object Type -eq 'RemoteSubnetRoute' |",
                  "    ForEach-Object { if ($_.Settings) { $_.Settings.DestinationPrefix }",
                  "                     else { $_.DestinationPrefix } }) } else { @() }"]
        lines += [_policy(n, p) for p in runtime]
    return lines


def _policy(n: HnsNetwork, p: HnsPolicy) -> str:
    prefix = str(p.settings.get("DestinationPrefix", ""))
    return (f"if ($have -notcontains {quote(prefix)} -and $PSCmdlet.ShouldProcess("
            f"{quote(f'{p.type} {prefix} on HNS network {n.name}')}, 'New-HnsNetworkPolicy')) "
            f"{{ New-HnsNetworkPolicy -NetworkId $net.ID -Policies @({literal(schema.to_v2(p))}) | Out-Null }}")


def _endpoint(s: WindowsScript, e: HnsEndpoint) -> list[str]:
    api = s.hns_api
    body = json.dumps(hns.endpoint(e, api), indent=2)
    field = NETWORK_FIELD[api]
    create = ("New-HnsEndpoint -JsonString (ConvertTo-Json $body -Depth 10)" if api == 1 else
              "New-HnsEndpoint -NetworkId $net.ID -JsonString (ConvertTo-Json $body -Depth 10)")
    return [f"# --- host endpoint {e.name} ({e.ip}) on {e.network}, attached to the host compartment",
            f"$net = {GET_NETWORKS[api]} | Where-Object Name -eq {quote(e.network)}",
            f"$ep = if ($net) {{ {GET_ENDPOINTS[api]} | Where-Object {{ $_.Name -eq {quote(e.name)} -and "
            f"$_.{field} -eq $net.ID }} }}",
            "if (-not $ep) {", "    $json = " + "\n".join(here(body)),
            f"    if ($PSCmdlet.ShouldProcess({quote(f'HNS endpoint {e.name} on network {e.network}')}, "
            "'New-HnsEndpoint; Attach-HnsHostEndpoint')) {",
            "        $body = ConvertFrom-Json $json",
            f"        $body | Add-Member -NotePropertyName {field} -NotePropertyValue \"$($net.ID)\" -Force",
            f"        $ep = {create}",
            "        Attach-HnsHostEndpoint -EndpointID $ep.ID -CompartmentID 1 | Out-Null", "    }", "}"]


def route_call(r: Route) -> str:
    """``Set-CmRoute '10.244.1.0/24' 'vEthernet (Ethernet)' '10.240.0.10'`` (on-link: next hop 0.0.0.0)."""
    return f"Set-CmRoute {quote(str(r.dst))} {quote(r.dev or '')} {quote(str(r.via or '0.0.0.0'))}"


def render(s: WindowsScript) -> str:
    api = s.hns_api
    lines = [f"# cnimodel: node {s.node} of plan {s.plan} (HNS v{api} API) — HNS networks, the host endpoint, "
             "NetRoutes", "# Run as Administrator: first with -WhatIf to see what it would change, then without.",
             "[CmdletBinding(SupportsShouldProcess)]", "param(",
             f"    # microsoft/SDN Kubernetes/windows/{'hns.psm1' if api == 1 else 'hns.v2.psm1'}",
             f"    [string] $HnsModule = {quote(MODULES[api])}", ")", "$ErrorActionPreference = 'Stop'",
             "Import-Module $HnsModule -DisableNameChecking", ""]
    for n in s.networks:
        lines += [*_network(s, n), ""]
    for e in s.host_endpoints:
        lines += [*_endpoint(s, e), ""]
    for role, count in s.left:
        lines.append(f"# {count} {role} endpoint(s) left to {LEFT_TO.get(role, role)}: not created here")
    if s.routes:
        lines += ["", f"# --- {len(s.routes)} NetRoute(s)", ROUTE_HELPER]
        lines += [route_call(r) for r in s.routes]
    return "\n".join(lines) + "\n"


# --- single lines: the fixes `cnimodel audit --from` prints ------------------------------------------------

def new_route_line(prefix: object, alias: str, next_hop: object) -> str:
    return (f"New-NetRoute -AddressFamily IPv4 -DestinationPrefix {prefix} -InterfaceAlias {quote(alias)} "
            f"-NextHop {next_hop}")


def remove_route_line(prefix: object, alias: str, next_hop: object) -> str:
    return (f"Remove-NetRoute -AddressFamily IPv4 -DestinationPrefix {prefix} -InterfaceAlias {quote(alias)} "
            f"-NextHop {next_hop} -Confirm:$false")


def network_id(name: str, api: int = 2) -> str:
    return f"({GET_NETWORKS[api]} | Where-Object Name -eq {quote(name)}).ID"


def new_network_line(n: HnsNetwork, api: int) -> str:
    return f"New-HnsNetwork -JsonString {quote(json.dumps(hns.network(n, api), separators=(',', ':')))}"


def network_policy_line(network: str, p: HnsPolicy, verb: str = "New") -> str:
    """``New-HnsNetworkPolicy`` (or ``Remove-``) of one policy on the named network (hns.v2.psm1)."""
    return f"{verb}-HnsNetworkPolicy -NetworkId {network_id(network)} -Policies @({literal(schema.to_v2(p))})"


def endpoint_policy_line(endpoint_id: str, p: HnsPolicy, verb: str = "Add") -> str:
    """``Add-HnsEndpointPolicy`` (or ``Remove-``) of one policy on an endpoint (hns.v2.psm1)."""
    return f"{verb}-HnsEndpointPolicy -Endpoints @({quote(endpoint_id)}) -Policies @({literal(schema.to_v2(p))})"


def new_host_endpoint_line(e: HnsEndpoint, api: int) -> str:
    body = json.dumps(hns.endpoint(e, api), separators=(",", ":"))
    field = NETWORK_FIELD[api]
    on = "" if api == 1 else f"-NetworkId $b.{field} "
    return (f"$b = ConvertFrom-Json {quote(body)}; $b | Add-Member {field} \"$({network_id(e.network, api)})\" -Force; "
            f"$ep = New-HnsEndpoint {on}-JsonString (ConvertTo-Json $b -Depth 10); "
            "Attach-HnsHostEndpoint -EndpointID $ep.ID -CompartmentID 1")
