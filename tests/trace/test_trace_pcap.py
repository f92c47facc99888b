"""The pcap of a trace read back with scapy matches the facts: VXLAN at byte 42 with the real VNI and UDP
port, valid checksums, and each segment showing the packet as it is there (before and after NAT)."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.vxlan import VXLAN
from scapy.utils import rdpcap

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.trace import trace
from cnimodel.trace.pcap import write_pcap

TOPO = Path(__file__).resolve().parents[2] / "topologies"


def checksums_valid(pkt) -> bool:  # type: ignore[no-untyped-def]
    """Recompute every IP/TCP/UDP checksum with scapy from scratch and compare with the bytes on the wire."""
    for layer in (IP, TCP, UDP):
        for i in range(8):
            sub = pkt.getlayer(layer, i + 1)
            if sub is None:
                break
            seen = sub.chksum
            fresh = sub.__class__(bytes(sub))
            fresh.chksum = None
            if layer is not IP:
                # the pseudo-header needs the enclosing IP: rebuild the IP datagram around it
                ip = sub.underlayer
                rebuilt = IP(bytes(ip))
                rebuilt[layer].chksum = None
                if IP(bytes(rebuilt))[layer].chksum != seen:
                    return False
            elif IP(bytes(fresh))[IP].chksum != seen:
                return False
    return True


def test_vxlan_segment_matches_the_encap_fact(tmp_path: Path) -> None:
    c = Cluster.build(load_plan([TOPO / "hybrid-vxlan.yaml"]))
    traces = trace(c, "default/client", "default/iis-0", port=80, both=True)
    out = tmp_path / "t.pcap"
    n = write_pcap(c, traces, str(out))
    frames = rdpcap(str(out))
    assert len(frames) == n == sum(len(t.wires) for t in traces)
    vx = [f for f in frames if f.haslayer(VXLAN)]
    assert len(vx) == 2  # one each way
    fwd = vx[0]
    raw = bytes(fwd)
    assert raw[42] == 0x08  # VXLAN flags byte right after Ether(14)+IP(20)+UDP(8): the I flag
    assert int.from_bytes(raw[46:49], "big") == 4096  # the VNI field
    assert fwd[UDP].dport == 4789
    assert (fwd[IP].src, fwd[IP].dst) == ("10.240.0.10", "10.240.0.20")  # lin1 → win1 node IPs
    inner = fwd[VXLAN].payload
    assert (inner[IP].src, inner[IP].dst, inner[TCP].dport, str(inner[TCP].flags)) == (
        "10.244.1.2", "10.244.2.3", 80, "S")
    assert str(vx[1][VXLAN].payload[TCP].flags) == "SA"
    assert all(checksums_valid(f) for f in frames)


def test_segments_show_nat(tmp_path: Path) -> None:
    c = Cluster.build(load_plan([TOPO / "default.yaml"]))
    traces = trace(c, "default/client", "93.184.216.34", port=443)
    out = tmp_path / "nat.pcap"
    write_pcap(c, traces, str(out))
    frames = rdpcap(str(out))
    # on the pod's veth the source is the pod; on the underlay, after FLANNEL-POSTRTG MASQUERADE, lin1's IP
    assert frames[0][IP].src == "10.244.1.2"
    assert frames[-1][IP].src == "10.240.0.10"
    assert all(f[IP].dst == "93.184.216.34" and f[TCP].dport == 443 for f in frames)
