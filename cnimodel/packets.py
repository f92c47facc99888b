"""Real frames from encapsulation facts: the bytes an overlay hop puts on the wire, built with scapy.

A frame is ``Ether / IP / UDP / VXLAN / Ether / IP / TCP`` (or UDP inside), ``Ether / IP / UDP / GENEVE /
Ether / IP / …`` or ``Ether / IP / IP / …`` (IP-in-IP), by the hop's encapsulation kind, every field taken
from an ``Encap`` fact and an ``InnerPacket``; checksums are computed and the frame is re-read from its own
bytes, so what a caller gets is exactly what a capture would show. ``frame_for`` is the helper trace and
pcap export use: the frame node N sends towards peer P for a sample (or given) pod-to-pod flow.

Outer header values follow the Linux kernel's defaults for a device created without TTL, TOS, DF or
checksum options (docs/plugins.md, *Encapsulation kinds*, cites them):
- VXLAN (as flanneld creates it): TTL 64 (``ttl auto``), TOS 0, DF clear, UDP checksum computed
  (``udpcsum``), VXLAN flags 0x08 (VNI valid, no GBP).
- GENEVE: TTL 64, TOS 0, DF clear (``df unset``), UDP checksum zero (``noudpcsum``), version 0, no options,
  protocol type 0x6558 (Ethernet inside).
- IP-in-IP: protocol 4, TTL inherited from the inner packet (``ttl inherit``), DF set (``pmtudisc``), TOS 0.
The UDP source port is a hash of the inner flow scaled into the sender's range (``udp_flow_src_port``); the
kernel's hash is seeded per boot, so the model uses CRC-32 — the port differs from a real host's, its range
and its stability per flow do not. Outer and inner MACs the plan does not know (the NICs' burnt-in
addresses) are stable placeholders derived from names.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Literal

from scapy.contrib.geneve import GENEVE
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Raw

from cnimodel.dataplane import Encap

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

OUTER_ETHER = 14
OUTER_IP = 20
OUTER_UDP = 8
VXLAN_HEADER = 8
VXLAN_OFFSET = OUTER_ETHER + OUTER_IP + OUTER_UDP  # 42: where the VXLAN header starts
INNER_OFFSET = VXLAN_OFFSET + VXLAN_HEADER  # 50: where the inner Ethernet frame starts
OUTER_TTL = 64
VXLAN_FLAGS = 0x08  # the I flag: the VNI field is valid
ETH_P_TEB = 0x6558  # GENEVE protocol type of an Ethernet frame inside (Transparent Ethernet Bridging)
IPPROTO_IPIP = 4


@dataclass(frozen=True)
class InnerPacket:
    """The inner packet: one TCP segment (or UDP datagram) from pod ``src`` to pod ``dst``.

    ``ttl`` is the TTL the sending pod used; the node routes the packet once before it is encapsulated,
    so the inner header carries ``ttl - 1``.
    """

    src: IPv4Address
    dst: IPv4Address
    sport: int = 40000
    dport: int = 80
    proto: Literal["tcp", "udp"] = "tcp"
    payload: bytes = b""
    ttl: int = 64
    ip_id: int = 0
    df: bool = True
    tcp_flags: str = "S"
    seq: int = 0


def placeholder_mac(name: str) -> str:
    """A stable locally administered unicast MAC for something the plan gives no MAC for (``uplink/lin1``)."""
    d = hashlib.sha256(name.encode()).digest()
    return (bytes([(d[0] & 0xFE) | 0x02]) + d[1:6]).hex(":")


def source_port(encap: Encap, flow: InnerPacket) -> int:
    """The outer UDP source port: a hash of the inner flow folded and scaled into ``encap.src_port_range``
    as the kernel's ``udp_flow_src_port`` does (``hash ^= hash << 16``, ``(hash * (max - min)) >> 32 + min``)."""
    key = b"".join((flow.src.packed, flow.dst.packed, flow.sport.to_bytes(2, "big"), flow.dport.to_bytes(2, "big"),
                    b"\x06" if flow.proto == "tcp" else b"\x11"))
    h = zlib.crc32(key)
    h = (h ^ (h << 16)) & 0xFFFFFFFF
    lo, hi = encap.src_port_range
    return ((h * (hi - lo)) >> 32) + lo


def tunnel_header(encap: Encap, sport: int) -> Packet | None:
    """The headers between a hop's outer IP header and the packet it carries: UDP + VXLAN or UDP + GENEVE,
    with the hop's id and port; None for a kind without them (IP-in-IP)."""
    if encap.kind == "vxlan":
        return UDP(sport=sport, dport=encap.dst_port) / VXLAN(flags=VXLAN_FLAGS, vni=encap.vni)
    if encap.kind == "geneve":
        return UDP(sport=sport, dport=encap.dst_port, chksum=0) / GENEVE(vni=encap.vni, proto=ETH_P_TEB)
    return None


def wrap(encap: Encap, inner: Packet, src_mac: str, dst_mac: str, sport: int, ttl: int = OUTER_TTL,
         **outer_ip: object) -> Packet:
    """``inner`` (an Ethernet frame) inside the hop's outer headers, re-read from its bytes. A kind that carries
    bare IP (IP-in-IP) drops the inner Ethernet header, and its outer header inherits the inner TTL and DF."""
    header = tunnel_header(encap, sport)
    if header is None:
        ip = inner[IP]
        frame = (Ether(src=src_mac, dst=dst_mac)
                 / IP(src=str(encap.outer_src), dst=str(encap.outer_dst), proto=IPPROTO_IPIP, ttl=ip.ttl,
                      flags="DF", **outer_ip)  # type: ignore[arg-type]
                 / ip)
    else:
        frame = (Ether(src=src_mac, dst=dst_mac)
                 / IP(src=str(encap.outer_src), dst=str(encap.outer_dst), ttl=ttl, **outer_ip)  # type: ignore[arg-type]
                 / header / inner)
    return _redissect(Ether(bytes(frame)), encap.kind)


def _redissect(out: Packet, kind: str) -> Packet:
    """Read a UDP port scapy does not bind to the tunnel kind (flannel allows any Port on Linux) as that kind."""
    layer = {"vxlan": VXLAN, "geneve": GENEVE}.get(kind)
    if layer is not None and not out.haslayer(layer):
        udp = out[UDP]
        payload = bytes(udp.payload)
        udp.remove_payload()
        udp.add_payload(layer(payload))
    return out


def frame(encap: Encap, flow: InnerPacket, outer_src_mac: str | None = None, outer_dst_mac: str | None = None,
          sport: int | None = None) -> Packet:
    """The frame ``encap.node`` sends for ``flow``, in the hop's encapsulation kind: every header from the
    fact, checksums computed, re-dissected from its bytes. Outer MACs default to placeholders of the node's
    uplink and of the L2 next hop."""
    src_mac = outer_src_mac or placeholder_mac(f"uplink/{encap.node}")
    if outer_dst_mac is None:
        hop = encap.peer if encap.outer_next_hop == encap.outer_dst else f"gateway/{encap.outer_next_hop}"
        outer_dst_mac = placeholder_mac(f"uplink/{hop}")
    l4: Packet = (TCP(sport=flow.sport, dport=flow.dport, flags=flow.tcp_flags, seq=flow.seq, window=64240)
                  if flow.proto == "tcp" else UDP(sport=flow.sport, dport=flow.dport))
    inner = (Ether(src=encap.inner_src_mac, dst=encap.inner_dst_mac)
             / IP(src=str(flow.src), dst=str(flow.dst), ttl=flow.ttl - 1, id=flow.ip_id,
                  flags="DF" if flow.df else 0)
             / l4)
    if flow.payload:
        inner = inner / Raw(flow.payload)
    return wrap(encap, inner, src_mac, outer_dst_mac, source_port(encap, flow) if sport is None else sport,
                id=0, **({} if encap.kind == "ipip" else {"flags": 0}))


def sample_flow(cluster: Cluster, encap: Encap) -> InnerPacket:
    """A TCP SYN from the first pod address of the sending node to the first of the peer (planned pods
    first, else the first address each node's IPAM would hand out)."""
    def first(node: str) -> IPv4Address:
        pods = cluster.allocation.pods_on(node)
        for a in pods:
            if not a.pod.host_network:
                return a.ip
        rng = cluster.allocation.nodes[node].range
        if rng is not None:
            ip = next(rng.addresses(), None)
            if ip is not None:
                return ip
        return encap.dst.network_address + 2
    return InnerPacket(first(encap.node), first(encap.peer))


def hop(cluster: Cluster, node: str, peer: str) -> Encap | None:
    """The encapsulation fact of ``node``'s overlay hop to ``peer`` (None when it reaches ``peer`` otherwise)."""
    return next((e for e in cluster.facts(node).encaps if e.peer == peer), None)


def frame_for(cluster: Cluster, node: str, peer: str, flow: InnerPacket | None = None) -> Packet | None:
    """The scapy frame ``node`` puts on the wire towards ``peer``'s pods for ``flow`` (default: a sample
    pod-to-pod SYN), or None when that hop is not encapsulated. For trace and pcap export."""
    e = hop(cluster, node, peer)
    if e is None:
        return None
    uplink = next((d for d in cluster.facts(node).devices if d.underlay_dev is None and d.kind in ("ether", "vnic")
                   and d.mac), None)
    return frame(e, flow or sample_flow(cluster, e), outer_src_mac=uplink.mac if uplink else None)
