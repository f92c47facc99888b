"""Hybrid flannel vxlan clusters: one VNI and one port everywhere, the mismatch as facts, the cheap per-node
VTEP accessor, and the ``routes -o json`` encapsulation section.

Expected values by hand from cni-plugins.md §1.3 (Linux VNI 1 / UDP 8472, Windows VNI ≥ 4096 / UDP 4789),
§3.10 (Windows ignores remote leases with VNI < 4096) and §10.2.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from click.testing import CliRunner

from cnimodel.cli import cli
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan

A, N = IPv4Address, IPv4Network
TOPOLOGIES = Path(__file__).parent.parent / "topologies"


def load(name: str) -> Cluster:
    return Cluster.build(load_plan([TOPOLOGIES / name]))


def test_hybrid_runs_one_vni_and_port_everywhere() -> None:
    c = load("hybrid-vxlan.yaml")
    vteps = {n.name: c.plugin.vtep(n.name) for n in c.plan.nodes}  # type: ignore[attr-defined]
    assert {(v.vni, v.port, v.up) for v in vteps.values()} == {(4096, 4789, True)}
    assert {n: v.dev for n, v in vteps.items()} == {"master": "flannel.4096", "lin1": "flannel.4096",
                                                    "win1": "flannel.4096", "win2": "flannel.4096"}
    for n in ("master", "lin1", "win1", "win2"):
        f = c.facts(n)
        assert len(f.encaps) == 3 and all(not e.mismatch for e in f.encaps)
        assert {e.peer for e in f.encaps} == {"master", "lin1", "win1", "win2"} - {n}


def test_vtep_accessor_builds_no_facts() -> None:
    c = load("hybrid-vxlan.yaml")
    for n in ("master", "lin1", "win1", "win2"):
        assert c.plugin.vtep(n) is not None  # type: ignore[attr-defined]
    assert c._facts == {}


def test_mismatch_is_facts_not_a_crash() -> None:
    c = load("hybrid-vxlan-mismatch.yaml")
    v = {n.name: c.plugin.vtep(n.name) for n in c.plan.nodes}  # type: ignore[attr-defined]
    assert (v["lin1"].dev, v["lin1"].vni, v["lin1"].port) == ("flannel.1", 1, 8472)
    assert (v["win1"].dev, v["win1"].vni, v["win1"].port) == ("flannel.4096", 4096, 4789)

    lin1 = c.facts("lin1")
    # Linux flanneld installs entries for every vxlan lease, whatever its VNI ...
    assert {r.dst for r in lin1.routes if r.dev == "flannel.1"} == {
        N("10.244.0.0/24"), N("10.244.2.0/24"), N("10.244.3.0/24")}
    # ... but the hops to Windows are refused at the receiver on both counts
    hops = {e.peer: e for e in lin1.encaps}
    assert hops["master"].mismatch == ()
    assert hops["win1"].mismatch == ("vni", "port")
    assert (hops["win1"].vni, hops["win1"].dst_port, hops["win1"].peer_vni, hops["win1"].peer_port) == (
        1, 8472, 4096, 4789)
    assert any("win1" in n and "VNI 1" in n and "4789" in n for n in lin1.notes)

    win1 = c.facts("win1")
    # Windows ignores the Linux leases (VNI 1 < 4096): a RemoteSubnetRoute only for win2
    rsr = [p.settings["DestinationPrefix"] for p in win1.hns_networks[0].policies if p.type == "RemoteSubnetRoute"]
    assert rsr == ["10.244.3.0/24"]
    assert [e.peer for e in win1.encaps] == ["win2"] and not win1.encaps[0].mismatch
    assert any("master" in n and "lin1" in n and "4096" in n for n in win1.notes)


def test_explicit_port_zero_stops_windows_flanneld() -> None:
    # Port 0 means "the kernel default" on Linux, but flanneld for Windows only accepts 4789 or no Port at all
    doc = (TOPOLOGIES / "hybrid-vxlan.yaml").read_text().replace("        Port: 4789", "        Port: 0")
    c = Cluster.build(load_plan(["x.yaml"], texts={"x.yaml": doc}))
    assert c.plugin.vtep("lin1").port == 8472  # type: ignore[attr-defined]
    win1 = c.plugin.vtep("win1")  # type: ignore[attr-defined]
    assert not win1.up and "Port 0" in win1.reason
    assert {e.peer for e in c.facts("lin1").encaps} == {"master"}  # no lease from win1, win2


def test_windows_config_splits_the_port() -> None:
    doc = (TOPOLOGIES / "hybrid-vxlan.yaml").read_text().replace(
        "        Port: 4789                  # Windows only uses 4789 (Linux would default to 8472)\n",
        "    windowsConfig: {Network: 10.244.0.0/16, Backend: {Type: vxlan, VNI: 4096}}\n")
    c = Cluster.build(load_plan(["x.yaml"], texts={"x.yaml": doc}))
    assert (c.plugin.vtep("lin1").port, c.plugin.vtep("win1").port) == (8472, 4789)  # type: ignore[attr-defined]
    hop = next(e for e in c.facts("win1").encaps if e.peer == "lin1")
    assert hop.mismatch == ("port",)  # same VNI 4096, Windows sends to 4789, Linux listens on 8472
    assert next(e for e in c.facts("win1").encaps if e.peer == "win2").mismatch == ()


def test_routes_json_has_the_encapsulation_section() -> None:
    res = CliRunner().invoke(cli, ["routes", str(TOPOLOGIES / "hybrid-vxlan-mismatch.yaml"), "--node", "lin1",
                                   "-o", "json"])
    assert res.exit_code == 0, res.output
    node = json.loads(res.output)["nodes"][0]
    enc = node["encapsulation"]
    (vtep,) = enc["vteps"]
    assert (vtep["dev"], vtep["vni"], vtep["port"], vtep["mtu"], vtep["underlayMtu"], vtep["up"]) == (
        "flannel.1", 1, 8472, 1450, 1500, True)
    hop = next(h for h in enc["hops"] if h["peer"] == "win2")
    assert hop == {
        "kind": "vxlan", "peer": "win2", "dst": "10.244.3.0/24", "dev": "flannel.1",
        "outerSrc": "10.240.0.10", "outerDst": "10.240.0.30", "outerNextHop": "10.240.0.30",
        "vni": 1, "dstPort": 8472, "srcPortPolicy": "inner-flow-hash", "srcPortRange": [32768, 60999],
        "innerSrcMac": vtep["mac"], "innerDstMac": hop["innerDstMac"], "innerMtu": 1450, "outerMtu": 1500,
        "overhead": 50, "peerVni": 4096, "peerPort": 4789, "mismatch": ["vni", "port"], "owner": "flannel"}


def test_host_gw_nodes_have_an_empty_encapsulation_section() -> None:
    res = CliRunner().invoke(cli, ["routes", str(TOPOLOGIES / "default.yaml"), "--node", "lin1", "-o", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["nodes"][0]["encapsulation"] == {"vteps": [], "hops": []}
