"""The modelled Linux flannel vxlan data plane, realised in fresh network namespaces and read back.

For a node of a topology: the uplink (a veth whose peer sits in a "wire" namespace holding the other
nodes' addresses), cni0, the modelled ``flannel.<VNI>`` device (pyroute2: kind vxlan, vxlan_id,
vxlan_port, vxlan_local, learning off — but no MTU, so the kernel derives it), then the modelled
neighbours, FDB entries and routes. The kernel's own view (netlink dumps and ``ip``/``bridge`` output) must
equal the model, and a datagram a pod sends to a remote pod must leave the uplink as the frame
``cnimodel.packets`` builds, byte for byte except the outer IP ID and header checksum.

Needs CAP_NET_ADMIN (CI runs as root); skipped with a reason otherwise. Namespaces are named
``cnmvx<pid>-<n>-*`` and always removed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from cnimodel import packets
from cnimodel.cluster import Cluster
from cnimodel.dataplane import NodeFacts
from cnimodel.plan import load_plan
from cnimodel.render import iproute

TOPOLOGIES = Path(__file__).parent.parent / "topologies"
NUD_PERMANENT = 0x80
NTF_SELF = 0x02
RTNH_F_ONLINK = 0x04
RTPROT_BOOT = 3  # what flanneld's netlink library sends; `ip route` does not print it


def _cap_net_admin() -> bool:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 12))
    except OSError:
        pass
    return False


pytestmark = pytest.mark.skipif(not _cap_net_admin(), reason="needs CAP_NET_ADMIN to create network namespaces")
_counter = itertools.count()


@pytest.fixture
def netns() -> Iterator[dict[str, str]]:
    """Three fresh namespaces (node, wire, pod) with a unique prefix, removed afterwards whatever happens."""
    from pyroute2 import netns as nsmod

    prefix = f"cnmvx{os.getpid()}-{next(_counter)}"
    names = {role: f"{prefix}-{role}" for role in ("node", "wire", "pod")}
    created = []
    try:
        for name in names.values():
            nsmod.create(name)
            created.append(name)
        yield names
    finally:
        for name in created:
            with contextlib.suppress(OSError):
                nsmod.remove(name)


def realise(cluster: Cluster, node: str, names: dict[str, str]) -> None:
    """Build ``node``'s modelled Linux data plane in ``names['node']`` with pyroute2."""
    from pyroute2 import NetNS

    f = cluster.facts(node)
    spec = cluster.node(node)
    uplink = next(d for d in f.devices if d.kind == "ether")
    ns = NetNS(names["node"])
    wire = NetNS(names["wire"])
    try:
        ns.link("add", ifname=uplink.name, kind="veth", peer={"ifname": "wire0", "net_ns_fd": names["wire"]})
        up = ns.link_lookup(ifname=uplink.name)[0]
        ns.link("set", index=up, mtu=uplink.mtu)
        for a in uplink.addresses:
            ns.addr("add", index=up, address=str(a.ip), prefixlen=a.network.prefixlen)
        ns.link("set", index=up, state="up")
        # the wire side answers ARP for every other node on this node's subnet
        w = wire.link_lookup(ifname="wire0")[0]
        wire.link("set", index=w, mtu=uplink.mtu, state="up")
        for peer in cluster.plan.nodes:
            if peer.name != node and peer.subnet == spec.subnet:
                wire.addr("add", index=w, address=str(peer.ip), prefixlen=uplink.addresses[0].network.prefixlen)
        for d in f.devices:
            if d.kind == "bridge":
                ns.link("add", ifname=d.name, kind="bridge")
                b = ns.link_lookup(ifname=d.name)[0]
                ns.link("set", index=b, mtu=d.mtu)
                for a in d.addresses:
                    ns.addr("add", index=b, address=str(a.ip), prefixlen=a.network.prefixlen)
                ns.link("set", index=b, state="up")
            elif d.kind == "vxlan":
                assert d.vni is not None and d.port is not None
                ns.link("add", ifname=d.name, kind="vxlan", vxlan_id=d.vni, vxlan_port=d.port,
                        vxlan_local=str(d.local), vxlan_link=up, vxlan_learning=0, address=d.mac)
                v = ns.link_lookup(ifname=d.name)[0]
                for a in d.addresses:
                    ns.addr("add", index=v, address=str(a.ip), prefixlen=a.network.prefixlen)
                ns.link("set", index=v, state="up")
        for n in f.neighbors:
            ns.neigh("add", dst=str(n.ip), lladdr=n.mac, ifindex=ns.link_lookup(ifname=n.dev)[0], state=NUD_PERMANENT)
        for e in f.fdb:
            ns.fdb("add", ifindex=ns.link_lookup(ifname=e.dev)[0], lladdr=e.mac, dst=str(e.dst),
                   state=NUD_PERMANENT, flags=NTF_SELF)
        for r in f.routes:
            if r.kind == "connected":
                continue  # the kernel adds these from the addresses
            kw: dict[str, object] = {"dst": str(r.dst), "oif": ns.link_lookup(ifname=r.dev)[0], "proto": RTPROT_BOOT}
            if r.via is not None:
                kw["gateway"] = str(r.via)
            if r.onlink:
                kw["flags"] = RTNH_F_ONLINK
            ns.route("add", **kw)
    finally:
        ns.close()
        wire.close()


def attach_pod(cluster: Cluster, node: str, names: dict[str, str]) -> IPv4Address:
    """A pod namespace on cni0 as the bridge CNI wires it: veth, the first pod IP, default via .1."""
    from pyroute2 import NetNS

    f = cluster.facts(node)
    bridge = next(d for d in f.devices if d.kind == "bridge")
    gw = bridge.addresses[0]
    ip = packets.sample_flow(cluster, f.encaps[0]).src
    ns, pod = NetNS(names["node"]), NetNS(names["pod"])
    try:
        ns.link("add", ifname="vethpod", kind="veth", peer={"ifname": "eth0", "net_ns_fd": names["pod"]})
        h = ns.link_lookup(ifname="vethpod")[0]
        ns.link("set", index=h, mtu=bridge.mtu, master=ns.link_lookup(ifname=bridge.name)[0], state="up")
        p = pod.link_lookup(ifname="eth0")[0]
        pod.link("set", index=p, mtu=bridge.mtu, state="up")
        pod.addr("add", index=p, address=str(ip), prefixlen=gw.network.prefixlen)
        pod.link("set", index=pod.link_lookup(ifname="lo")[0], state="up")
        pod.route("add", dst="0.0.0.0/0", gateway=str(gw.ip))
    finally:
        ns.close()
        pod.close()
    # Checksum offload would leave a UDP checksum half done (pseudo-header only) on the wire: a real NIC
    # finishes it, a veth never does. Have the stacks compute them, as a capture of a real NIC shows.
    no_tx_checksum_offload(names["pod"], "eth0")
    no_tx_checksum_offload(names["node"], next(d.name for d in f.devices if d.kind == "ether"))
    subprocess.run(["ip", "netns", "exec", names["node"], "sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)
    return ip


def no_tx_checksum_offload(ns: str, ifname: str) -> None:
    """``ethtool -K <ifname> tx off`` inside namespace ``ns``."""
    from pyroute2 import netns as nsmod
    from pyroute2.ethtool.ethtool import Ethtool

    nsmod.pushns(ns)
    try:
        tool = Ethtool()
        feats = tool.get_features(ifname)
        feats.features["tx-checksum-ip-generic"].enable = False
        tool.set_features(ifname, feats)
        tool.close()
    finally:
        nsmod.popns()


def run(*cmd: str) -> list[str]:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def check_against_kernel(f: NodeFacts, names: dict[str, str]) -> None:
    from pyroute2 import NetNS

    vx = next(d for d in f.devices if d.kind == "vxlan")
    up = next(d for d in f.devices if d.kind == "ether")
    ns = NetNS(names["node"])
    try:
        (link,) = ns.get_links(ns.link_lookup(ifname=vx.name)[0])
        data = dict(link.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")["attrs"])
        assert data["IFLA_VXLAN_ID"] == vx.vni
        assert data["IFLA_VXLAN_PORT"] == vx.port
        assert data["IFLA_VXLAN_LOCAL"] == str(vx.local)
        assert data["IFLA_VXLAN_LEARNING"] == 0
        assert data["IFLA_VXLAN_LINK"] == ns.link_lookup(ifname=up.name)[0]
        assert link.get_attr("IFLA_ADDRESS") == vx.mac
        # the model's MTU (uplink − 50) is what the kernel derives from the lower device by itself
        assert link.get_attr("IFLA_MTU") == vx.mtu
        v4 = {"family": socket.AF_INET, "index": link["index"]}
        addrs = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ns.get_addr(**v4)}
        assert addrs == {(str(a.ip), a.network.prefixlen) for a in vx.addresses}
        idx = {ns.link_lookup(ifname=n)[0]: n for n in {r.dev for r in f.routes if r.dev}}
        kernel_routes = set()
        for r in ns.get_routes(table=254):
            if r["proto"] != RTPROT_BOOT:
                continue
            dst = r.get_attr("RTA_DST")
            kernel_routes.add((f"{dst or '0.0.0.0'}/{r['dst_len']}", r.get_attr("RTA_GATEWAY"),
                               idx.get(r.get_attr("RTA_OIF")), bool(r["flags"] & RTNH_F_ONLINK)))
        model_routes = {(str(r.dst), str(r.via) if r.via else None, r.dev, r.onlink) for r in f.routes
                        if r.kind != "connected"}
        assert kernel_routes == model_routes
        neigh = {(n.get_attr("NDA_DST"), n.get_attr("NDA_LLADDR"), n["state"])
                 for n in ns.get_neighbours(family=socket.AF_INET, ifindex=link["index"])}
        assert neigh == {(str(n.ip), n.mac, NUD_PERMANENT) for n in f.neighbors}
        fdb = {(e.get_attr("NDA_LLADDR"), e.get_attr("NDA_DST")) for e in ns.fdb("dump", ifindex=link["index"])}
        assert fdb == {(e.mac, str(e.dst)) for e in f.fdb}
    finally:
        ns.close()
    # the renderer's lines are what iproute2 prints (routes in the kernel's dump order)
    model_lines = [iproute.route_line(r) for r in iproute.kernel_order(f.routes)]
    assert run("ip", "-n", names["node"], "route", "show") == model_lines
    kernel_neigh = [x for x in run("ip", "-n", names["node"], "neigh", "show") if f" dev {vx.name} " in x]
    assert sorted(kernel_neigh) == sorted(iproute.neigh_line(n) for n in f.neighbors)
    kernel_fdb = [x for x in run("bridge", "-n", names["node"], "fdb", "show") if f" dev {vx.name} " in x]
    assert sorted(kernel_fdb) == sorted(iproute.fdb_line(e) for e in f.fdb)


def test_hybrid_lin1_in_the_kernel(netns: dict[str, str]) -> None:
    c = Cluster.build(load_plan([TOPOLOGIES / "hybrid-vxlan.yaml"]))
    realise(c, "lin1", netns)
    check_against_kernel(c.facts("lin1"), netns)


def test_direct_routing_lin1_in_the_kernel(netns: dict[str, str]) -> None:
    c = Cluster.build(load_plan([TOPOLOGIES / "linux-vxlan-directrouting.yaml"]))
    realise(c, "lin1", netns)
    check_against_kernel(c.facts("lin1"), netns)


def test_kernel_defaults_behind_the_model(netns: dict[str, str]) -> None:
    """flannel's Port 0 and unset MTU: the kernel picks UDP 8472 and lower-device MTU − 50."""
    from pyroute2 import NetNS

    ns = NetNS(netns["node"])
    try:
        ns.link("add", ifname="up0", kind="veth", peer={"ifname": "wire0", "net_ns_fd": netns["wire"]})
        up = ns.link_lookup(ifname="up0")[0]
        ns.link("set", index=up, mtu=9000)
        ns.link("add", ifname="flannel.1", kind="vxlan", vxlan_id=1, vxlan_link=up, vxlan_learning=0)
        (link,) = ns.get_links(ns.link_lookup(ifname="flannel.1")[0])
        data = dict(link.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")["attrs"])
        assert data["IFLA_VXLAN_PORT"] == 8472
        assert link.get_attr("IFLA_MTU") == 8950
    finally:
        ns.close()


def test_pod_to_pod_frame_matches_the_model(netns: dict[str, str]) -> None:
    c = Cluster.build(load_plan([TOPOLOGIES / "hybrid-vxlan.yaml"]))
    realise(c, "lin1", netns)
    src = attach_pod(c, "lin1", netns)
    hop = packets.hop(c, "lin1", "win1")
    assert hop is not None
    dst = packets.sample_flow(c, hop).dst
    payload = b"cnimodel-vxlan-check"
    from pyroute2 import netns as nsmod

    nsmod.pushns(netns["wire"])
    try:
        cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        cap.bind(("wire0", 0))
    finally:
        nsmod.popns()
    cap.settimeout(5)
    send = (f"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(({str(src)!r}, 40000)); "
            f"s.sendto({payload!r}, ({str(dst)!r}, 80))")
    subprocess.run(["ip", "netns", "exec", netns["pod"], sys.executable, "-c", send], check=True)
    frame = b""
    try:
        for _ in range(50):
            data = cap.recv(65535)
            if data[12:14] == b"\x08\x00" and data[23] == 17 and struct.unpack("!H", data[36:38])[0] == hop.dst_port:
                frame = data
                break
    finally:
        cap.close()
    assert frame, "no VXLAN frame left the uplink"
    # What the model does not predict is taken from the capture: the NICs' MACs, the hashed source port
    # (checked against the range) and the IP ID the pod's stack chose.
    sport = struct.unpack("!H", frame[34:36])[0]
    assert hop.src_port_range[0] <= sport <= hop.src_port_range[1]
    inner_id = struct.unpack("!H", frame[68:70])[0]
    flow = packets.InnerPacket(src, dst, sport=40000, dport=80, proto="udp", payload=payload, ip_id=inner_id)
    model = bytes(packets.frame(hop, flow, outer_src_mac=frame[6:12].hex(":"),
                                      outer_dst_mac=frame[0:6].hex(":"), sport=sport))
    assert len(frame) == len(model)
    # identical except the outer IPv4 identification (18:20) and header checksum (24:26)
    diff = [i for i in range(len(model)) if frame[i] != model[i]]
    assert set(diff) <= {18, 19, 24, 25}, f"bytes differ at {diff}"
