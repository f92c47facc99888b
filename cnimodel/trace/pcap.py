"""The frames of a trace, one per wire segment, written as a pcap file Wireshark reads.

Each segment carries the packet as it is there: on the pod's veth before any NAT, on the underlay after
SNAT, wrapped in the hop's encapsulation (VXLAN, GENEVE or IP-in-IP, built from the Encap fact by
``cnimodel.packets``) between tunnel endpoints. MACs the plan does
not know are stable placeholders derived from the segment's name.
"""

from __future__ import annotations

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.layers.sctp import SCTP
from scapy.packet import Packet
from scapy.utils import wrpcap

from cnimodel import packets
from cnimodel.cluster import Cluster
from cnimodel.trace.model import Trace, Wire


def frame(wire: Wire, proto: str, reply: bool = False) -> Packet:
    """The scapy frame of one wire segment (checksums valid: re-read from its own bytes). TCP carries a SYN
    forward and a SYN-ACK in the reply."""
    flags = "SA" if reply else "S"
    if wire.encap is not None and proto in ("tcp", "udp"):
        flow = packets.InnerPacket(wire.src, wire.dst, wire.sport or 0, wire.dport or 0,
                                   proto, tcp_flags=flags)  # type: ignore[arg-type]
        return packets.frame(wire.encap, flow)
    if proto == "tcp":
        l4: Packet = TCP(sport=wire.sport or 0, dport=wire.dport or 0, flags=flags)
    elif proto == "udp":
        l4 = UDP(sport=wire.sport or 0, dport=wire.dport or 0)
    elif proto == "sctp":
        l4 = SCTP(sport=wire.sport or 0, dport=wire.dport or 0)
    else:
        l4 = ICMP(type=0 if reply else 8)
    macs = packets.placeholder_mac(f"{wire.segment}/src"), packets.placeholder_mac(f"{wire.segment}/dst")
    inner = Ether(src=macs[0], dst=macs[1]) / IP(src=str(wire.src), dst=str(wire.dst), ttl=64) / l4
    if wire.encap is not None:  # ICMP or SCTP inside the tunnel: wrap the inner frame here
        e = wire.encap
        return packets.wrap(e, inner, packets.placeholder_mac(f"uplink/{e.node}"),
                            packets.placeholder_mac(f"uplink/{e.peer}"), e.src_port_range[0])
    return Ether(bytes(inner))


def frames(traces: list[Trace]) -> list[Packet]:
    out: list[Packet] = []
    t0 = 1_700_000_000.0
    for t in traces:
        for w in t.wires:
            f = frame(w, t.flow.proto, reply=t.direction == "reverse")
            f.time = t0 + len(out) * 0.001
            out.append(f)
    return out


def write_pcap(cluster: Cluster, traces: list[Trace], path: str) -> int:
    """Write every segment's frame to ``path``; returns how many frames were written."""
    fs = frames(traces)
    wrpcap(path, fs)
    return len(fs)
