"""A plugin written as a third party writes one (tests/thirdparty/cnimodel_geneve_demo: one file) is found through
its entry point alone and is loaded, traced, checked, drawn, framed and realised like the built-in ones.

The entry point is registered the way an installed distribution registers it: a ``*.dist-info`` folder with
``entry_points.txt`` on sys.path, which importlib.metadata reads (no pip install). Expected values are derived
by hand: pod CIDRs from kube-controller-manager's order (/24s of 10.244.0.0/16 in node order, pods from .2),
GENEVE's numbers from RFC 8926 (UDP 6081, protocol type 0x6558, 8-byte header) and the kernel's geneve device
(outer source port over 1–65535, no UDP checksum, DF clear, TTL 64, MTU = lower device − 50), IP-in-IP's from
RFC 2003 and the kernel's ipip device (protocol 4, TTL inherited, DF set, MTU = lower device − 20).
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import MULTI_OS_IMAGE, cluster_doc, pod_doc, run, write_docs
from scapy.utils import rdpcap

from cnimodel.cluster import Cluster
from cnimodel.encapsulation import GENEVE
from cnimodel.plan import load_plan
from cnimodel.plugin import NetworkPlugin, available_plugins, load_plugin, plugins_of

THIRDPARTY = Path(__file__).parent / "thirdparty"
NODES = [{"name": f"lin{i}", "os": "linux", "ip": f"10.240.0.{10 + i}"} for i in (1, 2, 3)]
LEASE = {"lin1": "10.244.0.0/24", "lin2": "10.244.1.0/24", "lin3": "10.244.2.0/24"}  # CidrSet order
POD_IP = {"default/a": "10.244.0.2", "default/b": "10.244.1.2", "default/c": "10.244.2.2"}
_ids = itertools.count()


def _site(root: Path) -> Path:
    """An installed distribution's metadata, as pip would leave it, registering the plugin's entry point."""
    info = root / "cnimodel_geneve_demo-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cnimodel-geneve-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[cnimodel.plugins]\ngeneve-demo = cnimodel_geneve_demo:GenevePlugin\n")
    return root


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo plugin installed for this module's tests: its metadata and its module's folder on sys.path."""
    site = _site(tmp_path_factory.mktemp("site"))
    added = [str(site), str(THIRDPARTY)]
    sys.path[:0] = added
    available_plugins.cache_clear()  # the plan reader caches the names installed when it first looked
    try:
        yield site
    finally:
        for p in added:
            sys.path.remove(p)
        available_plugins.cache_clear()
        sys.modules.pop("cnimodel_geneve_demo", None)


def plan(tmp_path: Path, service: bool = False, **config: Any) -> Path:
    docs = [cluster_doc(NODES, network={"plugin": "geneve-demo", "config": {"vni": 100, **config}}),
            pod_doc("a", "lin1"), pod_doc("b", "lin2"), pod_doc("c", "lin3")]
    docs[0]["metadata"]["name"] = f"t{os.getpid()}-{next(_ids)}-gnv"
    if service:  # default/b behind a ClusterIP Service
        docs[2]["metadata"]["labels"] = {"app": "b"}
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "default"},
                     "spec": {"clusterIP": "10.96.0.20", "selector": {"app": "b"}, "ports": [{"port": 80}]}})
    return write_docs(tmp_path / "plan.yaml", docs)


def csum(data: bytes) -> int:
    """RFC 1071 one's-complement sum (0 over a header whose checksum is right)."""
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def steps(trace: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(h["node"], s["type"], s["action"], s) for h in trace["hops"] for s in h["steps"]]


# --- found, loaded, roles ------------------------------------------------------------------------------

def test_it_is_found_through_its_entry_point_and_touches_no_core_file(demo: Path) -> None:
    assert "geneve-demo" in plugins_of(NetworkPlugin)
    cls = load_plugin("geneve-demo", NetworkPlugin)
    source = Path(sys.modules[cls.__module__].__file__ or "")
    assert source.is_relative_to(THIRDPARTY)  # lives with the tests, not in the package
    imported = {n.module for n in ast.walk(ast.parse(source.read_text())) if isinstance(n, ast.ImportFrom)}
    core = sorted(m for m in imported if m and m.startswith("cnimodel"))
    # only the public interface: no built-in plugin family, no private module
    assert core and all(not m.startswith("cnimodel.plugins") and "._" not in m for m in core), core


def test_it_states_its_roles_and_the_core_reads_its_endpoint_from_the_facts(demo: Path, tmp_path: Path) -> None:
    c = Cluster.build(load_plan([plan(tmp_path)]))
    assert c.fast is None  # no fast path: every answer comes from the full facts
    r = c.roles("lin1")
    assert (r.forwarding, r.encapsulation, r.services.by, r.services.mode) == ("linux-bridge", GENEVE, "kube-proxy",
                                                                               "iptables")
    v = c.endpoint("lin1")
    assert v is not None and (v.kind, v.vni, v.port, v.mtu, v.overhead) == ("geneve", 100, 6081, 1450, 50)
    assert {str(n.pod_cidr) for n in c.allocation.nodes.values()} == set(LEASE.values())


# --- trace ---------------------------------------------------------------------------------------------

def test_a_pod_reaches_a_pod_on_another_node_through_geneve(demo: Path, tmp_path: Path) -> None:
    r = run("trace", str(plan(tmp_path)), "default/a", "default/b", "-o", "json")
    assert r.exit_code == 0, r.output
    t = json.loads(r.output)
    t = t[0] if isinstance(t, list) else t
    assert t["disposition"] == "ACCEPTED"
    got = steps(t)
    routed = next(s for n, ty, a, s in got if n == "lin1" and ty == "routed")
    assert routed["detail"]["route"] == f"{LEASE['lin2']} via 10.244.1.0 dev gnv-lin2 onlink"
    enc = next(s for n, ty, a, s in got if ty == "encapsulated")
    assert enc["action"] == "GENEVE"
    assert {k: enc["detail"][k] for k in ("device", "outerSrc", "outerDst", "vni", "udpDstPort", "udpSrcPort",
                                          "overhead")} == {
        "device": "gnv-lin2", "outerSrc": "10.240.0.11", "outerDst": "10.240.0.12", "vni": 100, "udpDstPort": 6081,
        "udpSrcPort": "inner-flow-hash 1-65535", "overhead": 50}
    assert any(n == "lin2" and ty == "decapsulated" and a == "GENEVE" for n, ty, a, _ in got)
    assert got[-1][1:3] == ("delivered", "DELIVERED")


def test_ip_in_ip_has_no_id_and_no_port(demo: Path, tmp_path: Path) -> None:
    r = run("trace", str(plan(tmp_path, encap="ipip")), "default/a", "default/c", "-o", "json")
    assert r.exit_code == 0, r.output
    t = json.loads(r.output)
    t = t[0] if isinstance(t, list) else t
    enc = next(s for _, ty, _, s in steps(t) if ty == "encapsulated")
    assert enc["action"] == "IPIP" and enc["detail"]["device"] == "ipip0" and enc["detail"]["overhead"] == 20
    assert not {"vni", "udpDstPort", "udpSrcPort", "innerDstMac"} & set(enc["detail"])
    routed = next(s for n, ty, _, s in steps(t) if n == "lin1" and ty == "routed")
    assert routed["detail"]["route"] == f"{LEASE['lin3']} via 10.240.0.13 dev ipip0 onlink"
    assert t["disposition"] == "ACCEPTED"


def test_a_packet_over_the_tunnel_mtu_is_dropped_with_the_kinds_overhead(demo: Path, tmp_path: Path) -> None:
    r = run("trace", str(plan(tmp_path)), "default/a", "default/b", "--size", "1451", "-o", "json")
    t = json.loads(r.output)
    t = t[0] if isinstance(t, list) else t
    assert t["disposition"] == "DENIED_OUT" and "1450" in t["reason"]  # cni0 and pods at 1500 − 50


# --- frames --------------------------------------------------------------------------------------------

def test_pcap_holds_a_real_geneve_frame(demo: Path, tmp_path: Path) -> None:
    path = plan(tmp_path)
    pcap = tmp_path / "t.pcap"
    assert run("trace", str(path), "default/a", "default/b", "--pcap", str(pcap)).exit_code == 0
    routes = json.loads(run("routes", str(path), "--node", "lin2", "-o", "json").output)["nodes"][0]
    peer_mac = next(d["mac"] for d in routes["devices"] if d["name"] == "gnv-lin1")  # lin2's end of the tunnel
    frames = [bytes(p) for p in rdpcap(str(pcap))]
    raw = next(f for f in frames if len(f) > 42 and f[23] == 17 and f[36:38] == (6081).to_bytes(2, "big"))
    assert raw[26:30] == bytes([10, 240, 0, 11]) and raw[30:34] == bytes([10, 240, 0, 12])
    assert raw[22] == 64 and raw[20:22] == b"\0\0" and csum(raw[14:34]) == 0  # TTL 64, DF clear, checksum right
    assert 1 <= int.from_bytes(raw[34:36], "big") <= 65535 and raw[40:42] == b"\0\0"  # sport hashed, no UDP csum
    assert int.from_bytes(raw[38:40], "big") == len(raw) - 34  # UDP length
    # GENEVE: version 0, no options, O and C clear, protocol 0x6558, VNI 100, reserved 0
    assert raw[42:50] == bytes([0, 0]) + b"\x65\x58" + (100).to_bytes(3, "big") + b"\0"
    assert raw[50:56] == bytes.fromhex(peer_mac.replace(":", "")) and raw[62:64] == b"\x08\x00"
    inner = raw[64:]
    assert inner[8] == 63 and inner[12:16] == bytes([10, 244, 0, 2]) and inner[16:20] == bytes([10, 244, 1, 2])


def test_pcap_holds_a_real_ip_in_ip_packet(demo: Path, tmp_path: Path) -> None:
    pcap = tmp_path / "t.pcap"
    path = plan(tmp_path, encap="ipip")
    assert run("trace", str(path), "default/a", "default/c", "--proto", "icmp", "--pcap", str(pcap)).exit_code == 0
    raw = next(bytes(p) for p in rdpcap(str(pcap)) if bytes(p)[23] == 4)
    inner = raw[34:]
    assert raw[26:30] == bytes([10, 240, 0, 11]) and raw[30:34] == bytes([10, 240, 0, 13])
    assert raw[20] & 0x40 and raw[22] == inner[8]  # DF set, TTL inherited from the inner packet
    assert int.from_bytes(raw[16:18], "big") == 20 + len(inner) and csum(raw[14:34]) == 0
    assert inner[0] == 0x45 and inner[9] == 1 and inner[16:20] == bytes([10, 244, 2, 2])  # the ICMP packet itself


# --- check, render, lb ---------------------------------------------------------------------------------

def test_check_runs_and_reads_the_kinds_overhead(demo: Path, tmp_path: Path) -> None:
    clean = run("check", str(plan(tmp_path)), "-o", "json")
    assert clean.exit_code == 0, clean.output
    assert not [f for f in json.loads(clean.output)["findings"] if f["code"].startswith("CNI-OVL")]
    for encap, room in (("geneve", "1450 (underlay − 50)"), ("ipip", "1480 (underlay − 20)")):
        r = run("check", str(plan(tmp_path, encap=encap, mtu=1500)), "-o", "json")
        found = [f for f in json.loads(r.output)["findings"] if f["code"] == "CNI-OVL-003"]
        assert found and room in found[0]["fix"], (encap, found)


def test_check_finds_a_host_port_on_the_geneve_port(demo: Path, tmp_path: Path) -> None:
    path = plan(tmp_path)
    docs = list(yaml.safe_load_all(path.read_text()))
    port = {"containerPort": 53, "hostPort": 6081, "protocol": "UDP"}
    docs.append(pod_doc("dns", "lin2", containers=[{"name": "c", "image": MULTI_OS_IMAGE, "ports": [port]}]))
    r = run("check", str(write_docs(path, docs)), "-o", "json")
    found = [f for f in json.loads(r.output)["findings"] if f["code"] == "CNI-OVL-007"]
    assert found and "GENEVE traffic" in found[0]["message"]


def test_render_draws_its_tunnel_devices(demo: Path, tmp_path: Path) -> None:
    r = run("render", str(plan(tmp_path)), "-o", "dot")
    assert r.exit_code == 0, r.output
    for device in ("gnv-lin2", "gnv-lin3", "cni0"):
        assert f"lin1/{device}" in r.output
    assert r.output.lstrip().startswith(("graph", "digraph", "strict"))


def test_services_follow_the_services_role(demo: Path, tmp_path: Path) -> None:
    kube = json.loads(run("lb", str(plan(tmp_path, service=True)), "-o", "json").output)
    assert {n["proxy"] for n in kube["nodes"]} == {"iptables"}
    own = json.loads(run("lb", str(plan(tmp_path, service=True, services="plugin")), "-o", "json").output)
    assert {n["proxy"] for n in own["nodes"]} == {"plugin"} and all(not n["servicePorts"] for n in own["nodes"])
    from cnimodel.services import decide

    c = Cluster.build(load_plan([plan(tmp_path, service=True, services="plugin")]))
    d = decide(c, "lin1", "10.96.0.20", 80, "TCP", src=POD_IP["default/a"])
    assert d.disposition == "NOT_LOAD_BALANCED" and "network plugin itself" in d.reason
    assert c.roles("lin1").services.by == "plugin"
    import cnimodel

    net = cnimodel.load(str(plan(tmp_path, service=True)))
    assert [row["vips"] for row in net.lb("lin1")] == [["10.96.0.20"]]  # kube-proxy's ClusterIP rule
    assert list(cnimodel.load(str(plan(tmp_path, service=True, services="plugin"))).lb("lin1")) == []


def test_a_real_process_finds_it_through_the_entry_point(demo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(demo), str(THIRDPARTY),
                                                        os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "cnimodel", "trace", str(plan(tmp_path)), "default/a", "default/b"],
                       capture_output=True, text=True, timeout=120, env=env, cwd=Path(__file__).parent.parent)
    assert r.returncode == 0, r.stderr
    assert "GENEVE" in r.stdout and "ACCEPTED" in r.stdout


# --- netns ---------------------------------------------------------------------------------------------

def test_the_blueprint_holds_tunnel_devices_of_its_kind(demo: Path, tmp_path: Path) -> None:
    from cnimodel import kernel

    bp = kernel.blueprint(load_plan([plan(tmp_path)]), 1)
    lin1 = [t for t in bp.tunnels if t.ns == bp.names.node("lin1")]
    assert sorted((t.kind, t.name, t.vni, t.port, str(t.remote)) for t in lin1) == [
        ("geneve", "gnv-lin2", 100, 6081, "10.240.0.12"), ("geneve", "gnv-lin3", 100, 6081, "10.240.0.13")]
    bp = kernel.blueprint(load_plan([plan(tmp_path, encap="ipip")]), 1)
    assert sorted((t.ns == bp.names.node(n["name"]), t.kind, t.name, str(t.local), t.remote)
                  for n in NODES for t in bp.tunnels if t.ns == bp.names.node(n["name"])) == [
        (True, "ipip", "ipip0", f"10.240.0.{10 + i}", None) for i in (1, 2, 3)]


def _kernel_has(kind: str) -> bool:
    """Whether this kernel makes ``kind`` devices (tried in a scratch namespace of this test run)."""
    from pyroute2 import NetNS, netns
    from pyroute2.netlink.exceptions import NetlinkError

    name = f"cnmgd{os.getpid()}-probe"
    netns.create(name)
    try:
        ns = NetNS(name)
        try:
            args = {"geneve_id": 1, "geneve_remote": "192.0.2.1"} if kind == "geneve" else {}
            ns.link("add", ifname="probe0", kind=kind, **args)
            return True
        except NetlinkError:
            return False
        finally:
            ns.close()
    finally:
        with contextlib.suppress(OSError):
            netns.remove(name)


@pytest.mark.parametrize("encap", ["geneve", "ipip"])
def test_netns_realises_the_tunnels_and_a_packet_crosses(demo: Path, tmp_path: Path, encap: str) -> None:
    from cnimodel import kernel
    from cnimodel.kernel import nsutil

    if nsutil.can_admin() is not None:
        pytest.skip(f"netns tests need root: {nsutil.can_admin()}")
    p = load_plan([plan(tmp_path, encap=encap)])
    prefix = kernel.Names(p.name).prefix
    if not _kernel_has(encap):
        # This kernel cannot: netns up says so plainly (no traceback) and leaves nothing behind.
        with pytest.raises(kernel.KernelProblem, match=f"no {encap} devices"):
            kernel.up(p, pods_per_node=1)
        assert nsutil.names(prefix + "-") == []
        pytest.skip(f"this kernel has no {encap} devices: realisation checked to fail cleanly only")
    bp = kernel.up(p, pods_per_node=1)
    try:
        ipr = nsutil.ipr(bp.names.node("lin1"))
        try:
            kinds = {link.get_attr("IFLA_IFNAME"): link.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")
                     for link in ipr.get_links()}
        finally:
            ipr.close()
        want = {"gnv-lin2": "geneve", "gnv-lin3": "geneve"} if encap == "geneve" else {"ipip0": "ipip"}
        assert {k: v for k, v in kinds.items() if k in want} == want
        _, report = kernel.verify(p)
        # 3 pods, 6 ordered pairs × 3 protocols, every one delivered; every route check agrees
        assert report.mismatches == [] and (report.packets, report.delivered) == (18, 18)
    finally:
        kernel.down(p)
    assert nsutil.names(prefix + "-") == []
