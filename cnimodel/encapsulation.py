"""Encapsulation kinds as data: what a tunnel wraps a pod's packet in, with the numbers every engine needs.

A kind is a value, not behaviour: the walk names its step after it, the frames pick their scapy layers by it,
the kernel realisation picks the device kind by it, the overlay checks read its overhead and whether it has a
UDP port and an id field. Plugins state a node's kind (``NodeRoles.encapsulation``) and put it on the node's
tunnel endpoint (``Vtep.kind``); the core never assumes VXLAN.

``overhead`` counts what a Linux tunnel device's MTU leaves for the inner IP packet: the outer IPv4 header, the
outer UDP and tunnel headers, and the inner Ethernet header when the tunnel carries Ethernet frames — the
kernel's own figure (VXLAN_HEADROOM and GENEVE_IPV4_HLEN are both 50; an IP-in-IP device is its lower device's
MTU less 20). See docs/plugins.md, *Encapsulation kinds*, for the sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KindName = Literal["vxlan", "geneve", "ipip", "none"]


@dataclass(frozen=True)
class EncapKind:
    """One encapsulation kind and its fixed numbers.

    ``udp_port`` is the IANA port (None: not carried in UDP); an endpoint may listen elsewhere (flannel's Linux
    VXLAN uses the kernel's 8472) and says so in ``Vtep.port``. ``id_field`` names the header field that keeps
    overlays apart (``vni``, ``id_bits`` wide) or is None when the kind has none. ``inner`` is what the tunnel
    carries: whole Ethernet frames (so the inner frame has MACs and the receiver's device answers to one) or
    bare IP packets.
    """

    name: KindName
    label: str
    udp_port: int | None
    overhead: int
    id_field: str | None
    id_bits: int
    inner: Literal["ethernet", "ip", "none"]

    @property
    def encapsulates(self) -> bool:
        """Whether a packet is wrapped at all (False only for ``none``)."""
        return self.name != "none"

    @property
    def max_id(self) -> int | None:
        """The largest id the field holds (16,777,215 for a 24-bit VNI), or None without an id field."""
        return (1 << self.id_bits) - 1 if self.id_field else None


# RFC 7348 §5 (VXLAN: UDP 4789, 24-bit VNI, Ethernet inside); RFC 8926 §3.3–3.4 (GENEVE: UDP 6081, 24-bit VNI,
# protocol type 0x6558 for Ethernet inside; options add 4-byte multiples, not counted here); RFC 2003 (IP in
# IP: protocol 4, one outer IPv4 header, no id).
VXLAN = EncapKind("vxlan", "VXLAN", 4789, 50, "vni", 24, "ethernet")
GENEVE = EncapKind("geneve", "GENEVE", 6081, 50, "vni", 24, "ethernet")
IPIP = EncapKind("ipip", "IPIP", None, 20, None, 0, "ip")
NONE = EncapKind("none", "", None, 0, None, 0, "none")

KINDS: dict[str, EncapKind] = {k.name: k for k in (VXLAN, GENEVE, IPIP, NONE)}


def kind(name: str) -> EncapKind:
    """The kind called ``name`` (``vxlan``, ``geneve``, ``ipip``, ``none``); KeyError names the known ones."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown encapsulation kind {name!r} (known: {', '.join(KINDS)})") from None


__all__ = ["GENEVE", "IPIP", "KINDS", "NONE", "VXLAN", "EncapKind", "KindName", "kind"]
