"""A Linux node's static configuration as systemd-networkd files: a ``.network`` per link (``[Network]``
Address/Gateway, ``[Route]``, ``[Neighbor]``, ``[BridgeFDB]``) and a ``.netdev`` per device networkd creates
(``[NetDev]`` Kind/MTUBytes, ``[VXLAN]`` VNI/Local/DestinationPort). Section and key names: systemd.network(5),
systemd.netdev(5)."""

from __future__ import annotations

from cnimodel.apply import LinuxScript, NetworkdLink
from cnimodel.dataplane import Route

STREAM_HEADER = "#### file: "  # one stream: each file starts with this line and its name


def _route(r: Route) -> list[str]:
    out = ["", "[Route]", f"Destination={r.dst}"]
    if r.type == "blackhole":
        out.append("Type=blackhole")
    if r.via is not None:
        out.append(f"Gateway={r.via}")
    if r.onlink:
        out.append("GatewayOnLink=yes")
    if r.scope != "universe" and r.via is None:
        out.append(f"Scope={r.scope}")
    return out


def _network(s: LinuxScript, link: NetworkdLink, scope: str) -> str:
    d = link.device
    what = "static configuration" if scope == "static" else "data plane"
    lines = [f"# cnimodel: node {s.node} of plan {s.plan} ({what})",
             "[Match]", f"Name={d.name}", "", "[Network]"]
    lines += [f"Address={a}" for a in link.addresses]
    if link.gateway is not None:
        lines.append(f"Gateway={link.gateway}")
    lines += [f"VXLAN={v}" for v in link.vxlans]
    if link.netdev and d.kind == "bridge":
        lines.append("ConfigureWithoutCarrier=yes")  # its address and routes before any pod port joins
    for r in link.routes:
        lines += _route(r)
    for n in link.neighbors:
        lines += ["", "[Neighbor]", f"Address={n.ip}", f"LinkLayerAddress={n.mac}"]
    for e in link.fdb:
        lines += ["", "[BridgeFDB]", f"MACAddress={e.mac}", f"Destination={e.dst}"]
    return "\n".join(lines) + "\n"


def _netdev(s: LinuxScript, link: NetworkdLink) -> str:
    d = link.device
    lines = [f"# cnimodel: node {s.node} of plan {s.plan}", "[NetDev]", f"Name={d.name}", f"Kind={d.kind}",
             f"MTUBytes={d.mtu}"]
    if d.mac:
        lines.append(f"MACAddress={d.mac}")
    if d.kind == "vxlan":
        lines += ["", "[VXLAN]", f"VNI={d.vni}"]
        if d.local is not None:
            lines.append(f"Local={d.local}")
        lines += [f"DestinationPort={d.port or 8472}", "MacLearning=no"]
    return "\n".join(lines) + "\n"


def files(s: LinuxScript, links: list[NetworkdLink], scope: str = "static") -> list[tuple[str, str]]:
    """``(file name, text)`` of every file, ``.netdev`` files first."""
    out = [(f"10-cnimodel-{link.device.name}.netdev", _netdev(s, link)) for link in links if link.netdev]
    out += [(f"10-cnimodel-{link.device.name}.network", _network(s, link, scope)) for link in links]
    return out


def stream(named: list[tuple[str, str]]) -> str:
    """Every file in one text, each after a ``#### file: NAME`` line."""
    return "".join(f"{STREAM_HEADER}{name}\n{text}" for name, text in named)
