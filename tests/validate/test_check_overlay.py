"""Overlay checks. Expected values come from cni-plugins.md §1.3 and §3.10: Linux flannel VNI 1 / UDP 8472 by
default, Windows VNI ≥ 4096 and UDP 4789 only, DirectRouting/GBP refused on Windows, VXLAN overhead 50 bytes."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address

from builders import write_docs
from vplans import VXLAN_4096, cluster_doc, hits, nodes, pod_doc

from cnimodel import examples
from cnimodel.cluster import Cluster
from cnimodel.dataplane import Vtep
from cnimodel.plan import load_plan
from cnimodel.validate import CHECKS, CheckOptions
from cnimodel.validate.context import Context


def topo(name: str) -> list:
    import yaml

    return list(yaml.safe_load_all(examples.path(name).read_text()))


def vxlan(**backend) -> dict:
    return {"plugin": "flannel", "backend": "vxlan",
            "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", **backend}}}


def test_ovl001_linux_defaults_against_windows(tmp_path):
    found = hits(tmp_path, topo("hybrid-vxlan-mismatch.yaml"), "CNI-OVL-001")
    assert len(found) == 1
    assert "VNI 1/UDP 8472 on 2 node(s)" in found[0].message and "VNI 4096/UDP 4789 on 2 node(s)" in found[0].message
    assert "4096" in found[0].fix and "4789" in found[0].fix
    assert not hits(tmp_path, topo("hybrid-vxlan.yaml"), "CNI-OVL-001")


def test_ovl002_windows_with_vni_1(tmp_path):
    # One net-conf for every node that names VNI 1 (and 4789): Windows flanneld refuses VNI 1 (< 4096).
    doc = cluster_doc(network=vxlan(VNI=1, Port=4789))
    found = hits(tmp_path, [doc], "CNI-OVL-002")
    assert len(found) == 1 and "VNI 1 < 4096" in found[0].message and "win1" in found[0].message
    assert not hits(tmp_path, [doc], "CNI-OVL-001")  # every node says VNI 1/4789: one group, Windows refuses
    # Left out, the VNI defaults per OS (Linux 1, Windows 4096): no refusal, but a split overlay.
    assert not hits(tmp_path, [cluster_doc(network=vxlan())], "CNI-OVL-002")
    assert hits(tmp_path, [cluster_doc(network=vxlan())], "CNI-OVL-001")
    assert not hits(tmp_path, [cluster_doc(network=VXLAN_4096)], "CNI-OVL-002")


def test_ovl002_windows_port_8472(tmp_path):
    found = hits(tmp_path, [cluster_doc(network=vxlan(VNI=4096, Port=8472))], "CNI-OVL-002")
    assert len(found) == 1 and "UDP port 8472 ≠ 4789" in found[0].message


def test_ovl003_mtu_over_underlay_minus_50(tmp_path):
    # No plugin builds such a VTEP from a plan today (flannel derives MTU = uplink − 50), so the check is fed facts.
    plan = load_plan([write_docs(tmp_path / "p.yaml", [cluster_doc(network=VXLAN_4096)])])
    ctx = Context(plan, Cluster.build(plan), CheckOptions())
    ok = list(CHECKS["CNI-OVL-003"].run(ctx))
    assert not ok  # 1500 − 50 = 1450
    v = ctx.vteps["lin1"]
    ctx.vteps["lin1"] = replace(v, mtu=1451)
    found = list(CHECKS["CNI-OVL-003"].run(ctx))
    assert len(found) == 1 and "MTU 1451 over an underlay of MTU 1500" in found[0].message and "1450" in found[0].fix


def test_ovl004_jumbo_and_standard_subnets(tmp_path):
    found = hits(tmp_path, topo("linux-vxlan-directrouting.yaml"), "CNI-OVL-004")
    assert len(found) == 1 and "rack-b" in found[0].message and "at most 1450" in found[0].fix
    assert not hits(tmp_path, topo("hybrid-vxlan.yaml"), "CNI-OVL-004")


def test_ovl005_directrouting_on_windows(tmp_path):
    doc = cluster_doc(network=vxlan(VNI=4096, Port=4789, DirectRouting=True))
    found = hits(tmp_path, [doc], "CNI-OVL-005")
    texts = " ".join(f.message for f in found)
    assert "refuse the overlay config (DirectRouting is not supported on Windows)" in texts  # win1, win2
    assert "Linux node(s) (master, lin1) use DirectRouting" in texts  # same subnet as the Windows nodes
    assert not hits(tmp_path, [cluster_doc(network=VXLAN_4096)], "CNI-OVL-005")


def test_ovl005_gbp_on_windows(tmp_path):
    found = hits(tmp_path, [cluster_doc(network=vxlan(VNI=4096, Port=4789, GBP=True))], "CNI-OVL-005")
    assert len(found) == 1 and "GBP is not supported on Windows" in found[0].message


def test_ovl006_windows_build_without_remote_subnet(tmp_path):
    # Overlay on Windows needs HNS RemoteSubnet: Windows Server 2019 (17763) or later.
    doc = cluster_doc(network=VXLAN_4096, nodes=nodes(win1={"windowsBuild": 14393}))
    found = hits(tmp_path, [doc], "CNI-OVL-006")
    assert len(found) == 1 and "win1" in found[0].message and "14393" in found[0].message
    assert not hits(tmp_path, [cluster_doc(network=VXLAN_4096)], "CNI-OVL-006")


def test_ovl007_host_port_on_the_vxlan_port(tmp_path):
    def docs(proto: str, network: dict) -> list:
        pod = pod_doc("p", "lin1", containers=[{"name": "c", "image": "busybox",
                                                "ports": [{"containerPort": 53, "hostPort": 4789, "protocol": proto}]}])
        return [cluster_doc(network=network), pod]
    found = hits(tmp_path, docs("UDP", VXLAN_4096), "CNI-OVL-007")
    assert len(found) == 1 and found[0].objects == ("default/p[Pod]", "lin1[Node]")
    assert not hits(tmp_path, docs("TCP", VXLAN_4096), "CNI-OVL-007")
    assert not hits(tmp_path, docs("UDP", cluster_doc()["spec"]["network"]), "CNI-OVL-007")  # host-gw: no VTEP


def test_vteps_come_from_the_plugin_without_building_facts(tmp_path):
    plan = load_plan([write_docs(tmp_path / "p.yaml", [cluster_doc(network=VXLAN_4096)])])
    cluster = Cluster.build(plan)
    ctx = Context(plan, cluster)
    assert {v.vni for v in ctx.vteps.values()} == {4096}
    assert isinstance(ctx.vteps["win1"], Vtep) and ctx.vteps["win1"].local == IPv4Address("10.240.0.20")
    assert cluster._facts == {}  # lazy: no node's facts were built
