"""The model's facts in netlink terms and back: route attributes to add, routes/neighbours/FDB read as facts,
and the kernel's route decision (an RTM_GETROUTE answer, as ``ip route get … fibmatch`` prints it)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.rtnl import rt_proto, rt_scope, rt_type

from cnimodel.dataplane import FdbEntry, Neighbor, Route
from cnimodel.kernel.rtnl import RTA_DST, RTA_GATEWAY, RTA_OIF, Answer

ERRORS = {101: "unreachable", 113: "host unreachable", 22: "invalid"}
MAIN_TABLE = 254
RTNH_F_ONLINK = 4
RTM_F_FIB_MATCH = 0x2000
NUD_PERMANENT = 0x80
NTF_SELF = 0x02
AF_INET = 2
AF_BRIDGE = 7


def proto_number(proto: str | None) -> int:
    """Routes a daemon adds through netlink carry RTPROT_BOOT unless it says otherwise (vishvananda/netlink's
    default, and ``ip route add``'s): ``ip route`` prints no protocol for them, as the model's None."""
    if proto is None:
        return rt_proto["boot"]
    return rt_proto[proto] if proto in rt_proto else int(proto)


def proto_name(number: int) -> str | None:
    """Inverse of ``proto_number``: RTPROT_BOOT reads back as None."""
    if number == rt_proto["boot"]:
        return None
    name = rt_proto.get(number)
    return name if isinstance(name, str) else str(number)


def scope_of(route: Route) -> str:
    """The scope the kernel ends up with: a gateway-less unicast route gets ``scope link`` as ``ip route add``
    gives it, unless the model names another scope than the default."""
    if route.via is None and route.type == "unicast" and route.scope == "universe":
        return "link"
    return route.scope


def add_args(route: Route, oif: int | None) -> dict[str, Any]:
    """pyroute2 ``route("add", **args)`` for one model route (its ``dev`` already resolved to ``oif``)."""
    args: dict[str, Any] = {"dst": str(route.dst), "table": MAIN_TABLE, "proto": proto_number(route.proto),
                            "type": rt_type[route.type]}
    if route.type == "unicast":
        args["scope"] = rt_scope[scope_of(route)]
    if route.via is not None:
        args["gateway"] = str(route.via)
    if oif is not None and route.type == "unicast":
        args["oif"] = oif
    if route.onlink:
        args["flags"] = RTNH_F_ONLINK
    if route.src is not None:
        args["prefsrc"] = str(route.src)
    return args


def link_names(ipr: IPRoute) -> dict[int, str]:
    return {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}


def read_routes(ipr: IPRoute, names: dict[int, str]) -> list[Route]:
    """The IPv4 main table as Route facts (device names as the kernel has them)."""
    out = []
    for msg in ipr.get_routes(family=AF_INET, table=MAIN_TABLE):
        kind = rt_type.get(msg["type"], "unicast")
        if kind not in ("unicast", "blackhole", "unreachable", "prohibit"):
            continue
        dst = msg.get_attr("RTA_DST") or "0.0.0.0"
        gw = msg.get_attr("RTA_GATEWAY")
        oif = msg.get_attr("RTA_OIF")
        src = msg.get_attr("RTA_PREFSRC")
        scope = rt_scope.get(msg["scope"], "universe")
        out.append(Route(IPv4Network(f"{dst}/{msg['dst_len']}"), via=IPv4Address(gw) if gw else None,
                         dev=names.get(oif) if oif else None, onlink=bool(msg["flags"] & RTNH_F_ONLINK),
                         scope=scope if scope in ("universe", "link", "host") else "universe",  # type: ignore[arg-type]
                         kind="pod-route", owner="kernel", src=IPv4Address(src) if src else None,
                         proto=proto_name(msg["proto"]),
                         type="blackhole" if kind != "unicast" else "unicast"))
    return out


def read_neighbors(ipr: IPRoute, names: dict[int, str]) -> list[Neighbor]:
    """Permanent IPv4 neighbours: the entries a daemon installs (not the ones ARP learnt, nor the kernel's
    no-ARP entries for multicast groups)."""
    out = []
    for msg in ipr.get_neighbours(family=AF_INET):
        if not msg["state"] & NUD_PERMANENT:
            continue
        mac = msg.get_attr("NDA_LLADDR")
        dst = msg.get_attr("NDA_DST")
        if mac is None or dst is None:
            continue
        out.append(Neighbor(IPv4Address(dst), mac.lower(), names.get(msg["ifindex"], str(msg["ifindex"])),
                            state="PERMANENT"))
    return out


def read_fdb(ipr: IPRoute, names: dict[int, str], devices: set[str]) -> list[FdbEntry]:
    """FDB entries with a remote ``dst`` on the given (VXLAN) devices."""
    out = []
    for msg in ipr.get_neighbours(family=AF_BRIDGE):
        dev = names.get(msg["ifindex"])
        dst = msg.get_attr("NDA_DST")
        mac = msg.get_attr("NDA_LLADDR")
        if dev not in devices or dst is None or mac is None or mac == "00:00:00:00:00:00":
            continue
        out.append(FdbEntry(mac.lower(), dev, IPv4Address(dst),
                            state="permanent" if msg["state"] & NUD_PERMANENT else "dynamic"))
    return out


@dataclass(frozen=True)
class KernelLookup:
    """What the kernel answers for one destination: the matched route (fibmatch) and where the packet goes.

    ``error`` names the refusal (``unreachable``, ``blackhole`` …) when there is no forwarding route.
    """

    dst: IPv4Address
    route_dst: IPv4Network | None = None
    next_hop: IPv4Address | None = None
    dev: str | None = None
    onlink: bool = False
    error: str | None = None


def decision(answer: Answer, names: dict[int, str]) -> KernelLookup:
    """A batched RTM_GETROUTE answer (rtnl.get_route) as a KernelLookup."""
    dst = IPv4Address(answer.request.what)
    if answer.error:
        return KernelLookup(dst, error=ERRORS.get(answer.error, f"errno {answer.error}"))
    raw = answer.attr(RTA_DST)
    prefix = IPv4Network((IPv4Address(raw) if raw else IPv4Address(0), answer.dst_len))
    kind = rt_type.get(answer.type, "unicast")
    if kind != "unicast":
        return KernelLookup(dst, prefix, error=kind)
    gw, oif = answer.attr(RTA_GATEWAY), answer.attr(RTA_OIF)
    dev = names.get(struct.unpack("=I", oif)[0]) if oif else None
    return KernelLookup(dst, prefix, IPv4Address(gw) if gw else dst, dev, bool(answer.flags & RTNH_F_ONLINK))
