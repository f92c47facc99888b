"""VXLAN frames built from encapsulation facts, checked byte by byte against headers assembled here with
``struct`` and an RFC 1071 checksum (not with scapy), and against RFC 7348's layout: outer Ethernet 14,
IPv4 20, UDP 8, VXLAN 8 (flags 0x08, 24-bit VNI), then the inner Ethernet frame at byte 50.
"""

from __future__ import annotations

import struct
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from scapy.layers.vxlan import VXLAN

from cnimodel import packets
from cnimodel.cluster import Cluster
from cnimodel.dataplane import Encap, Vtep
from cnimodel.plan import load_plan

A, N = IPv4Address, IPv4Network
TOPOLOGIES = Path(__file__).parent.parent / "topologies"


def csum(data: bytes) -> int:
    """RFC 1071 one's-complement sum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(m: str) -> bytes:
    return bytes(int(x, 16) for x in m.split(":"))


def encap(vni: int = 4096, port: int = 4789) -> Encap:
    lin1 = Vtep("lin1", "linux", "flannel.4096", vni, port, "5a:00:00:00:00:0a", A("10.240.0.10"), 1450, 1500)
    win1 = Vtep("win1", "windows", "flannel.4096", vni, port, "00:15:5d:00:00:14", A("10.240.0.20"), 1450, 1500)
    return Encap(lin1, win1, N("10.244.2.0/24"), A("10.240.0.20"), vni)


FLOW = packets.InnerPacket(A("10.244.1.2"), A("10.244.2.3"), sport=40000, dport=80, payload=b"hello")


def test_layers_and_offsets() -> None:
    p = packets.frame(encap(), FLOW, outer_src_mac="02:00:00:00:00:01", outer_dst_mac="02:00:00:00:00:02",
                            sport=50000)
    assert [layer.__name__ for layer in p.layers()] == ["Ether", "IP", "UDP", "VXLAN", "Ether", "IP", "TCP", "Raw"]
    raw = bytes(p)
    assert packets.VXLAN_OFFSET == 14 + 20 + 8 == 42 and packets.INNER_OFFSET == 50
    # VXLAN header: flags 0x08, 24 reserved bits, 24-bit VNI, 8 reserved bits
    assert raw[42:50] == bytes([0x08, 0, 0, 0]) + (4096).to_bytes(3, "big") + b"\0"
    # inner Ethernet right after it: dst = remote VTEP MAC, src = own VTEP MAC, IPv4
    assert raw[50:64] == mac("00:15:5d:00:00:14") + mac("5a:00:00:00:00:0a") + b"\x08\x00"
    # the encapsulation adds exactly 50 bytes to the inner frame
    inner_len = 14 + 20 + 20 + len(b"hello")
    assert len(raw) == 50 + inner_len


def test_outer_headers_byte_exact() -> None:
    p = packets.frame(encap(), FLOW, outer_src_mac="02:00:00:00:00:01", outer_dst_mac="02:00:00:00:00:02",
                            sport=50000)
    raw = bytes(p)
    assert raw[0:14] == mac("02:00:00:00:00:02") + mac("02:00:00:00:00:01") + b"\x08\x00"
    total = len(raw) - 14
    ip_wo_sum = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0, A("10.240.0.10").packed,
                            A("10.240.0.20").packed)
    ip = ip_wo_sum[:10] + struct.pack("!H", csum(ip_wo_sum)) + ip_wo_sum[12:]
    assert raw[14:34] == ip  # TTL 64, DF clear, protocol UDP, checksum as RFC 1071 gives it
    udp_len = total - 20
    assert struct.unpack("!HHH", raw[34:40]) == (50000, 4789, udp_len)
    # UDP checksum over the pseudo-header
    pseudo = A("10.240.0.10").packed + A("10.240.0.20").packed + struct.pack("!BBH", 0, 17, udp_len)
    assert csum(pseudo + raw[34:]) == 0


def test_inner_checksums_and_ttl() -> None:
    raw = bytes(packets.frame(encap(), FLOW, sport=50000))
    ip = raw[64:84]
    assert csum(ip) == 0
    assert ip[8] == 63  # the pod sent TTL 64; the node routed it once before encapsulation
    assert ip[6] & 0x40  # DF as the pod's stack sets it
    assert ip[12:16] == A("10.244.1.2").packed and ip[16:20] == A("10.244.2.3").packed
    tcp = raw[84:]
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
    assert csum(pseudo + tcp) == 0
    assert struct.unpack("!HH", tcp[:4]) == (40000, 80)


@pytest.mark.parametrize(("vni", "port"), [(1, 8472), (4096, 4789), (0xABCDEF, 5555)])
def test_vni_and_port_come_from_the_fact(vni: int, port: int) -> None:
    p = packets.frame(encap(vni, port), FLOW)
    raw = bytes(p)
    assert struct.unpack("!H", raw[36:38])[0] == port
    assert int.from_bytes(raw[46:49], "big") == vni
    assert p.haslayer(VXLAN) and p[VXLAN].vni == vni  # dissected as VXLAN even on a port scapy does not know


def test_source_port_policy() -> None:
    e = encap()
    flows = [packets.InnerPacket(A("10.244.1.2"), A("10.244.2.3"), sport=s) for s in range(40000, 40200)]
    ports = {packets.source_port(e, f) for f in flows}
    assert all(32768 <= p <= 60999 for p in ports)  # the Linux ephemeral range the fact names
    assert len(ports) > 150  # spread by the inner flow ...
    assert packets.source_port(e, FLOW) == packets.source_port(e, FLOW)  # ... and stable per flow
    raw = bytes(packets.frame(e, FLOW))
    assert struct.unpack("!H", raw[34:36])[0] == packets.source_port(e, FLOW)


def test_frame_for_builds_the_sample_hop_from_cluster_facts() -> None:
    c = Cluster.build(load_plan([TOPOLOGIES / "hybrid-vxlan.yaml"]))
    p = packets.frame_for(c, "lin1", "win1")
    assert p is not None
    raw = bytes(p)
    # lin1's planned pod client (10.244.1.2) to win1's iis-0 (10.244.2.3), VNI 4096 on UDP 4789
    assert raw[26:34] == A("10.240.0.10").packed + A("10.240.0.20").packed
    assert struct.unpack("!H", raw[36:38])[0] == 4789 and int.from_bytes(raw[46:49], "big") == 4096
    assert raw[76:84] == A("10.244.1.2").packed + A("10.244.2.3").packed
    win1_vtep = c.plugin.vtep("win1")  # type: ignore[attr-defined]
    assert raw[50:56] == mac(win1_vtep.mac)
    # Windows → Linux uses the Windows port range the fact names
    back = packets.hop(c, "win1", "lin1")
    assert back is not None and back.src_port_range == (49152, 65535)


def test_no_frame_for_direct_routing_peers() -> None:
    c = Cluster.build(load_plan([TOPOLOGIES / "linux-vxlan-directrouting.yaml"]))
    assert packets.frame_for(c, "lin1", "lin2") is None  # same rack: plain routed, no VXLAN
    p = packets.frame_for(c, "lin1", "lin3")
    assert p is not None and p[VXLAN].vni == 1 and struct.unpack("!H", bytes(p)[36:38])[0] == 8472
    # the outer frame goes to the rack's gateway, not to lin3
    gw = packets.placeholder_mac("uplink/gateway/10.240.0.1")
    assert bytes(p)[0:6] == mac(gw)
