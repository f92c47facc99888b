"""Encapsulation kinds as data, and what the core does with a hop of each kind, from facts built by hand.

The numbers come from the RFCs (VXLAN: RFC 7348 §5, UDP 4789, 24-bit VNI; GENEVE: RFC 8926 §3.3–3.4, UDP 6081,
24-bit VNI, protocol type 0x6558 for Ethernet; IP in IP: RFC 2003, protocol 4) and from what a Linux tunnel
device's MTU leaves: 20 (IPv4) + 8 (UDP) + 8 (VXLAN or GENEVE header) + 14 (inner Ethernet) = 50, and 20 for
IP in IP.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from builders import cluster_doc, write_docs
from scapy.contrib.geneve import GENEVE as GeneveLayer
from scapy.layers.inet import IP

from cnimodel import encapsulation, packets
from cnimodel.cluster import Cluster
from cnimodel.dataplane import Encap, Vtep
from cnimodel.plan import load_plan

A, N = IPv4Address, IPv4Network
FLOW = packets.InnerPacket(A("10.244.1.2"), A("10.244.2.3"), sport=40000, dport=80)


def vtep(node: str, ip: str, kind: str, vni: int | None = 7, port: int | None = 6081) -> Vtep:
    mac = None if kind == "ipip" else "02:00:00:00:00:" + ip.rsplit(".", 1)[1].zfill(2)
    return Vtep(node, "linux", f"t-{node}", vni, port, mac, A(ip), 1450, 1500, kind=kind)


def test_the_kinds_numbers() -> None:
    k = encapsulation.KINDS
    assert (k["vxlan"].udp_port, k["vxlan"].id_bits, k["vxlan"].overhead, k["vxlan"].inner) == (4789, 24, 50,
                                                                                                  "ethernet")
    assert (k["geneve"].udp_port, k["geneve"].max_id, k["geneve"].overhead) == (6081, 16_777_215, 50)
    assert (k["ipip"].udp_port, k["ipip"].id_field, k["ipip"].overhead, k["ipip"].inner) == (None, None, 20, "ip")
    assert not k["none"].encapsulates and k["none"].overhead == 0
    with pytest.raises(KeyError, match="known: vxlan, geneve, ipip, none"):
        encapsulation.kind("gre")


def test_a_receiver_of_another_kind_drops_the_hop() -> None:
    e = Encap(vtep("a", "10.240.0.10", "geneve"), vtep("b", "10.240.0.20", "vxlan"), N("10.244.2.0/24"),
              A("10.240.0.20"), 7)
    assert e.kind == "geneve" and e.mismatch == ("kind",) and e.overhead == 50
    same = Encap(vtep("a", "10.240.0.10", "geneve"), vtep("b", "10.240.0.20", "geneve", vni=8), N("10.244.2.0/24"),
                 A("10.240.0.20"), 7)
    assert same.mismatch == ("vni",)


def test_a_geneve_frame_on_another_port_is_still_read_as_geneve() -> None:
    e = Encap(vtep("a", "10.240.0.10", "geneve", port=7000), vtep("b", "10.240.0.20", "geneve", port=7000),
              N("10.244.2.0/24"), A("10.240.0.20"), 7)
    p = packets.frame(e, FLOW, sport=50000)
    assert p.haslayer(GeneveLayer) and p[GeneveLayer].vni == 7 and p[GeneveLayer].proto == 0x6558
    raw = bytes(p)
    assert raw[36:38] == (7000).to_bytes(2, "big") and raw[42:44] == b"\0\0"  # dport; version 0, no options
    assert len(raw) == 50 + 14 + 20 + 20  # outer headers, then Ethernet / IP / TCP


def test_an_ip_in_ip_frame_has_no_inner_ethernet() -> None:
    e = Encap(vtep("a", "10.240.0.10", "ipip", None, None), vtep("b", "10.240.0.20", "ipip", None, None),
              N("10.244.2.0/24"), A("10.240.0.20"), None)
    raw = bytes(packets.frame(e, FLOW))
    assert raw[23] == 4 and raw[20] & 0x40  # protocol IP-in-IP, DF
    assert raw[22] == 63 and raw[34 + 8] == 63  # outer TTL = the inner packet's after one routing step
    assert IP(raw[34:]).dst == "10.244.2.3" and len(raw) == 14 + 20 + 20 + 20


def test_a_node_that_does_not_encapsulate_has_no_endpoint_and_builds_nothing(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    c = Cluster.build(load_plan([write_docs(tmp_path / "p.yaml", [cluster_doc()])]))  # flannel host-gw
    monkeypatch.setattr(c.plugin, "node_facts", lambda *_: pytest.fail("built a node's facts"))
    assert c.fast is None and all(c.endpoint(n.name) is None for n in c.plan.nodes)  # asked the roles only
