"""The HNS policy schema: HCN (v2) ``{Type, Settings}`` and HNS v1 flat forms, and the mapping between them.

This is Windows platform knowledge (hcsshim ``hcn`` and ``internal/hns``), not any plugin's.
"""

from __future__ import annotations

from typing import Any

from cnimodel.dataplane import HnsPolicy
from cnimodel.plan.fields import freeze, thaw

# v1 policy Type → (v2 Type, {v1 field: v2 field}); fields not listed keep their name.
V1_TO_V2: dict[str, tuple[str, dict[str, str]]] = {
    "OutBoundNAT": ("OutBoundNAT", {"ExceptionList": "Exceptions"}),
    "ROUTE": ("SDNRoute", {}),
    "PA": ("ProviderAddress", {"PA": "ProviderAddress"}),
    "NAT": ("PortMapping", {}),
    "VSID": ("VSID", {"VSID": "IsolationId"}),
    "ACL": ("ACL", {"Protocol": "Protocols"}),  # v1 Protocol is a number, v2 Protocols a string ("256")
}
V2_TO_V1 = {v2: (v1, {b: a for a, b in fields.items()}) for v1, (v2, fields) in V1_TO_V2.items()}
# hcn protocolEnums for PortMapping
PROTOCOLS = {"icmpv4": 1, "igmp": 2, "tcp": 6, "udp": 17, "icmpv6": 58}


def policy(type_: str, **settings: Any) -> HnsPolicy:
    """``policy("SDNRoute", DestinationPrefix="10.96.0.0/12", NeedEncap=True)``."""
    return HnsPolicy(type_, freeze(settings))


def from_v1(value: dict[str, Any]) -> HnsPolicy:
    """A v1 policy (``{"Type": "ROUTE", ...}``) in v2 form."""
    ptype = str(next((v for k, v in value.items() if k.lower() == "type"), ""))
    v2_type, fields = V1_TO_V2.get(ptype, (ptype, {}))
    settings = {fields.get(k, k): v for k, v in value.items() if k.lower() != "type"}
    if v2_type == "ACL" and isinstance(settings.get("Protocols"), int):
        settings["Protocols"] = str(settings["Protocols"])
    return HnsPolicy(v2_type, freeze(settings))


def to_v1(p: HnsPolicy) -> dict[str, Any]:
    """The HNS v1 JSON of a policy (``{"Type": "ROUTE", "DestinationPrefix": …, "NeedEncap": true}``)."""
    v1_type, fields = V2_TO_V1.get(p.type, (p.type, {}))
    body: dict[str, Any] = {"Type": v1_type}
    for k, v in p.settings.items():
        body[fields.get(k, k)] = thaw(v)
    if p.type == "ACL" and isinstance(body.get("Protocol"), str) and body["Protocol"].isdigit():
        body["Protocol"] = int(body["Protocol"])
    if p.type == "PortMapping" and isinstance(body.get("Protocol"), int):
        names = {v: k.upper() for k, v in PROTOCOLS.items()}
        body["Protocol"] = names.get(body["Protocol"], body["Protocol"])
    return body


def to_v2(p: HnsPolicy) -> dict[str, Any]:
    return {"Type": p.type, "Settings": thaw(p.settings)}
