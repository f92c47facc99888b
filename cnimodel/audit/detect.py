"""Reading a pasted file and telling what it is from its content: the JSON shapes and texts of `ip -j route`,
`ip -j neigh`, `bridge -j fdb`, `iptables-save`, `Get-NetRoute | ConvertTo-Json`, `Get-HnsNetwork`,
`Get-HnsEndpoint`, `Get-HnsPolicyList` / `Get-HnsLoadBalancer` (ConvertTo-Json), `hnsdiag list all`,
`az network route-table route list -o json`, `aws ec2 describe-route-tables` and
`gcloud compute routes list --format=json`."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from cnimodel.audit.model import InputError

KINDS = {
    "ip-route": "ip -j route show table all", "ip-neigh": "ip -j neigh", "bridge-fdb": "bridge -j fdb",
    "iptables-save": "iptables-save", "netroute": "Get-NetRoute | ConvertTo-Json",
    "hns-network": "Get-HnsNetwork | ConvertTo-Json -Depth 10",
    "hns-endpoint": "Get-HnsEndpoint | ConvertTo-Json -Depth 10",
    "hns-policylist": "Get-HnsPolicyList (or Get-HnsLoadBalancer) | ConvertTo-Json -Depth 10",
    "hnsdiag": "hnsdiag list all", "az-routes": "az network route-table route list -o json",
    "aws-route-tables": "aws ec2 describe-route-tables", "gcloud-routes": "gcloud compute routes list --format=json",
}
LINUX_KINDS = ("ip-route", "ip-neigh", "bridge-fdb", "iptables-save")
WINDOWS_KINDS = ("netroute", "hns-network", "hns-endpoint", "hns-policylist", "hnsdiag")
CLOUD_KINDS = ("az-routes", "aws-route-tables", "gcloud-routes")


def read_text(path: str) -> str:
    """The file's text: UTF-8, or UTF-16 with its byte-order mark (what Windows PowerShell 5.1's `>` writes)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot be read ({e.strerror})", "give the path of a file you captured") from None
    codec = next((c for bom, c in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                                   (codecs.BOM_UTF16_BE, "utf-16")) if raw.startswith(bom)), None)
    if codec is None and len(raw) >= 2 and raw[1::2].count(0) * 2 > len(raw) // 2 and not raw[0::2].count(0):
        codec = "utf-16-le"  # ASCII text in UTF-16 without a byte-order mark: every other byte a NUL
    try:
        return raw.decode(codec or "utf-8")
    except UnicodeDecodeError as e:
        what = "is not text (neither UTF-8 nor UTF-16 with a byte-order mark)" if codec is None else \
            f"is not whole {codec.upper().removesuffix('-SIG')} text (byte {e.start}: {e.reason})"
        raise InputError(path, what, "capture the command's output as text (… | Out-File -Encoding utf8)") from None


def parse_json(path: str, text: str) -> Any:
    """The JSON in ``text``; lines before it are skipped (collectlogs.ps1 writes a `Select` table first)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith(("[", "{"))), None)
    if start is None:
        raise InputError(path, "holds no JSON", "capture it as JSON (ConvertTo-Json, -j, -o json, --format=json)")
    body = "\n".join(lines[start:])
    try:
        return json.loads(body)
    except json.JSONDecodeError as e:
        cut = e.pos >= len(body.rstrip()) - 1
        raise InputError(path, f"is not valid JSON ({e.msg} at line {e.lineno + start} column {e.colno})"
                         + ("; the file ends early: it looks truncated" if cut else ""),
                         "capture the output again, whole (ConvertTo-Json needs -Depth 10 for HNS objects)") from None


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("value"), list):  # ConvertTo-Json of a wrapped array
        return data["value"]
    return data if isinstance(data, list) else [data]


def json_kind(data: Any) -> str | None:
    if isinstance(data, dict) and "RouteTables" in data:
        return "aws-route-tables"
    items = [x for x in _items(data) if isinstance(x, dict)]
    if not items:
        return None
    keys = set().union(*(x.keys() for x in items[:20]))
    lower = {k.lower() for k in keys}
    if "mac" in keys and ("ifname" in keys or "dev" in keys):
        return "bridge-fdb"
    if "dst" in keys and ("lladdr" in keys or ("state" in keys and "gateway" not in keys and "dev" in keys
                                                and "protocol" not in keys and "scope" not in keys)):
        return "ip-neigh"
    if "dst" in keys:
        return "ip-route"
    if "destinationprefix" in lower and ("nexthop" in lower or "interfacealias" in lower) and "settings" not in lower:
        return "netroute"
    if "addressPrefix" in keys and "nextHopType" in keys:
        return "az-routes"
    if "destRange" in keys:
        return "gcloud-routes"
    if "references" in lower or "frontendvips" in lower or "portmappings" in lower:
        return "hns-policylist"
    if lower & {"ipaddress", "ipconfigurations", "virtualnetwork", "hostcomputenetwork", "isremoteendpoint"}:
        return "hns-endpoint"
    if lower & {"subnets", "ipams", "networkadaptername"} or ("type" in lower and "id" in lower and "name" in lower):
        return "hns-network"
    return None


def text_kind(text: str) -> str | None:
    stripped = [line.strip() for line in text.splitlines() if line.strip()]
    if any(line.startswith("*") for line in stripped) and any(line.startswith(":") for line in stripped[:50]):
        return "iptables-save"
    if "Networks:" in stripped and ("Endpoints:" in stripped or "LoadBalancers:" in stripped):
        return "hnsdiag"
    return None


def load(path: str, kind: str | None = None) -> tuple[str, Any]:
    """``(kind, content)``: the parsed JSON, or the text for iptables-save and hnsdiag."""
    text = read_text(path)
    if not text.strip():
        raise InputError(path, "is empty", "capture the command's output into it")
    if kind in ("iptables-save", "hnsdiag"):
        return kind, text
    if kind is None:
        guessed = text_kind(text)
        if guessed is not None:
            return guessed, text
    data = parse_json(path, text)
    found = json_kind(data)
    if kind is None:
        if found is None:
            raise InputError(path, "is none of the outputs audit reads", "capture one of: " + "; ".join(KINDS.values())
                             + " (or name its kind: --from KIND=FILE)")
        return found, data
    return kind, data
