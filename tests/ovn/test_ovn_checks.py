"""The checks ovn-kubernetes contributes to ``cnimodel check`` (CNI-OVN-001…003), each expected value derived by
hand from the rule it rests on (docs/checks.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import run
from ovnplans import NODES, build, config, plan_doc, pod, write

from cnimodel.validate import validate

EXAMPLE = str(Path(__file__).parents[2] / "topologies" / "ovn-kubernetes-hybrid.yaml")


def codes(tmp_path: Path, doc: dict[str, Any]) -> dict[str, list[str]]:
    c = build(tmp_path, [doc])
    out: dict[str, list[str]] = {}
    for f in validate(c.plan, c).findings:
        if f.code.startswith("CNI-OVN-"):
            out.setdefault(f.code, []).append(f.message)
    return out


def underlay(mtu: int = 1500, cidr: str = "10.0.0.0/24", gateway: str = "10.0.0.1") -> dict[str, Any]:
    return {"subnets": [{"name": "nodes", "cidr": cidr, "gateway": gateway, "mtu": mtu}]}


def test_the_example_is_clean_and_the_checks_ran() -> None:
    r = run("check", EXAMPLE, "-o", "json")
    assert r.exit_code == 0
    import json

    body = json.loads(r.stdout)
    assert not [f for f in body["findings"] if f["code"].startswith("CNI-OVN-")]
    assert body["summary"]["checks"] >= 3


def overlay_codes(tmp_path: Path, doc: dict[str, Any]) -> dict[str, list[str]]:
    c = build(tmp_path, [doc])
    out: dict[str, list[str]] = {}
    for f in validate(c.plan, c).findings:
        if f.code.startswith(("CNI-OVL-", "CNI-OVN-")):
            out.setdefault(f.code, []).append(f.message)
    return out


def test_geneve_mtu(tmp_path: Path) -> None:
    """mtu 1400 + GeneveHeaderLengthIPv4 58 = 1458 > 1450: ovnkube-node refuses to start — the GENEVE endpoint is
    not up, which the overlay checks report once (CNI-OVL-006; CNI-OVL-003 is about endpoints that run)."""
    found = overlay_codes(tmp_path, plan_doc(underlay=underlay(1450)))
    assert list(found) == ["CNI-OVL-006"]
    assert ("(lin1, lin2) does not start: the underlay MTU 1450 is below ovnkube's [default] mtu 1400 + 58 bytes of "
            "GENEVE (IPv4) = 1458") in found["CNI-OVL-006"][0]
    assert "set [default] mtu to 1392 or less" in found["CNI-OVL-006"][0]
    assert not overlay_codes(tmp_path, plan_doc(underlay=underlay(1458)))
    lowered = plan_doc(cfg=config(default={"mtu": 1392}), underlay=underlay(1450))
    assert not overlay_codes(tmp_path, lowered)


def test_geneve_endpoint_in_the_facts(tmp_path: Path) -> None:
    """A Linux chassis' GENEVE endpoint: genev_sys_6081, UDP encap-port 6081, 58 bytes of overhead (bare GENEVE's
    50 and OVN's 8-byte option); its MTU is ovnkube's mtu, so mtu + 58 must fit the underlay."""
    c = build(tmp_path, [plan_doc()])
    v = c.endpoint("lin1")
    assert v is not None
    assert (v.dev, v.kind, v.port, v.overhead, v.mtu, v.up) == ("genev_sys_6081", "geneve", 6081, 58, 1400, True)
    # a pod's hostPort on UDP 6081 collides with the tunnel port (CNI-OVL-007); on 6082 it does not
    for port, hit in ((6081, True), (6082, False)):
        dns = pod("dns", "lin1", ports=[{"containerPort": 53, "hostPort": port, "protocol": "UDP"}])
        c = build(tmp_path, [plan_doc(), dns])
        assert any(f.code == "CNI-OVL-007" for f in validate(c.plan, c).findings) is hit, port


def test_join_subnet_overlapping_the_underlay(tmp_path: Path) -> None:
    nodes = [{**n, "ip": n["ip"].replace("10.0.0.", "100.64.0.")} for n in NODES]
    found = codes(tmp_path, plan_doc(nodes=nodes, underlay=underlay(cidr="100.64.0.0/24", gateway="100.64.0.1")))
    assert list(found) == ["CNI-OVN-003"]
    assert found["CNI-OVN-003"][0].startswith("ovnkube's join subnet 100.64.0.0/16 overlaps underlay subnet nodes, "
                                               "2 node address(es)")
    moved = plan_doc(nodes=nodes, underlay=underlay(cidr="100.64.0.0/24", gateway="100.64.0.1"),
                     cfg=config(gateway={"v4-join-subnet": "100.65.0.0/16"}))
    assert "CNI-OVN-003" not in codes(tmp_path, moved)


def test_host_subnets_running_out(tmp_path: Path) -> None:
    # 10.128.0.0/23 with host prefix /24: 2 host subnets; two Linux nodes take both, none left
    full = plan_doc(cfg=config(default={"cluster-subnets": "10.128.0.0/23/24"}))
    found = codes(tmp_path, full)
    assert list(found) == ["CNI-OVN-001"]
    assert "hold 2 host subnet(s); 2 are taken, 0 left" in found["CNI-OVN-001"][0]
    # 10.128.0.0/20 with /24: 16 host subnets, 2 taken, 14 left ≥ a tenth
    assert "CNI-OVN-001" not in codes(tmp_path, plan_doc(cfg=config(default={"cluster-subnets": "10.128.0.0/20/24"})))


def test_check_cli_selects_plugin_codes(tmp_path: Path) -> None:
    nodes = [{**n, "ip": n["ip"].replace("10.0.0.", "100.64.0.")} for n in NODES]
    path = write(tmp_path, [plan_doc(nodes=nodes, underlay=underlay(cidr="100.64.0.0/24", gateway="100.64.0.1"))])
    r = run("check", str(path))
    assert r.exit_code == 1 and "CNI-OVN-003" in r.stdout
