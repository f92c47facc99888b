"""flannel vxlan on Linux nodes: the flannel.<VNI> VTEP, onlink routes, permanent neighbours, FDB entries,
defaults, DirectRouting and the ``-o ip`` lines.

Expected values are derived by hand from cni-plugins.md §1.3, §3.2, §3.7, §10.2 (the 4-node example:
master 10.240.0.4, lin1 .10, win1 .20, win2 .30; pod CIDRs 10.244.0-3.0/24 in node order). VTEP MACs are
given as node annotations so every expected MAC is a literal.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cnimodel.cli import cli
from cnimodel.cluster import Cluster
from cnimodel.plan import PlanError, load_plan

A, N = IPv4Address, IPv4Network
TOPOLOGIES = Path(__file__).parent.parent / "topologies"
ANN = "flannel.alpha.coreos.com/backend-data"
MACS = {"master": "5a:00:00:00:00:04", "lin1": "5a:00:00:00:00:0a", "win1": "00:15:5d:00:00:14",
        "win2": "00:15:5d:00:00:1e"}


def plan_doc(backend: dict[str, Any] | None = None, macs: bool = True, **spec: Any) -> dict[str, Any]:
    """§10 worked example on flannel vxlan; Backend defaults to the hybrid setting VNI 4096 / Port 4789."""
    nodes = [{"name": "master", "os": "linux", "ip": "10.240.0.4"},
             {"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
             {"name": "win1", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 20348},
             {"name": "win2", "os": "windows", "ip": "10.240.0.30", "windowsBuild": 20348}]
    if macs:
        for n in nodes:
            n["annotations"] = {ANN: json.dumps({"VNI": 4096, "VtepMAC": MACS[n["name"]]})}
    be = {"Type": "vxlan", "VNI": 4096, "Port": 4789} if backend is None else backend
    body: dict[str, Any] = {
        "clusterCIDR": "10.244.0.0/16", "serviceCIDR": "10.96.0.0/12",
        "network": {"plugin": "flannel", "backend": "vxlan", "config": {"Network": "10.244.0.0/16", "Backend": be}},
        "underlay": {"subnets": [{"name": "nodes", "cidr": "10.240.0.0/24", "gateway": "10.240.0.1", "mtu": 1500}]},
        "nodes": nodes,
    }
    body.update(spec)
    return {"apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": "t"}, "spec": body}


def build(tmp_path: Path, *docs: dict[str, Any]) -> Cluster:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return Cluster.build(load_plan([path]))


def test_worked_example_lin1_vtep_device(tmp_path: Path) -> None:
    f = build(tmp_path, plan_doc()).facts("lin1")
    dev = f.device("flannel.4096")
    assert dev is not None and dev.kind == "vxlan"
    assert dev.addresses == (IPv4Interface("10.244.1.0/32"),)  # lease network address /32
    assert dev.mtu == 1450  # 1500 − 50
    assert (dev.vni, dev.port, dev.local, dev.underlay_dev) == (4096, 4789, A("10.240.0.10"), "eth0")
    assert dev.mac == "5a:00:00:00:00:0a"  # from lin1's own annotation
    cni0 = f.device("cni0")
    assert cni0 is not None and cni0.mtu == 1450  # the flannel CNI gives the bridge FLANNEL_MTU


def test_worked_example_lin1_routes_neighbours_fdb(tmp_path: Path) -> None:
    f = build(tmp_path, plan_doc()).facts("lin1")
    vx = {(r.dst, r.via, r.dev, r.onlink) for r in f.routes if r.dev == "flannel.4096"}
    assert vx == {(N("10.244.0.0/24"), A("10.244.0.0"), "flannel.4096", True),
                  (N("10.244.2.0/24"), A("10.244.2.0"), "flannel.4096", True),
                  (N("10.244.3.0/24"), A("10.244.3.0"), "flannel.4096", True)}
    assert {(n.ip, n.mac, n.dev, n.state) for n in f.neighbors} == {
        (A("10.244.0.0"), "5a:00:00:00:00:04", "flannel.4096", "PERMANENT"),
        (A("10.244.2.0"), "00:15:5d:00:00:14", "flannel.4096", "PERMANENT"),
        (A("10.244.3.0"), "00:15:5d:00:00:1e", "flannel.4096", "PERMANENT")}
    assert {(e.mac, e.dev, e.dst) for e in f.fdb} == {
        ("5a:00:00:00:00:04", "flannel.4096", A("10.240.0.4")),
        ("00:15:5d:00:00:14", "flannel.4096", A("10.240.0.20")),
        ("00:15:5d:00:00:1e", "flannel.4096", A("10.240.0.30"))}
    # no route, neighbour or FDB entry for the node's own lease
    assert N("10.244.1.0/24") not in {r.dst for r in f.routes if r.dev == "flannel.4096"}


def test_ip_output_lines(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan_doc()))
    res = CliRunner().invoke(cli, ["routes", str(path), "--node", "lin1", "-o", "ip"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines == [
        "# lin1: ip route",
        "default via 10.240.0.1 dev eth0",
        "10.240.0.0/24 dev eth0 proto kernel scope link src 10.240.0.10",
        "10.244.0.0/24 via 10.244.0.0 dev flannel.4096 onlink",
        "10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1",
        "10.244.2.0/24 via 10.244.2.0 dev flannel.4096 onlink",
        "10.244.3.0/24 via 10.244.3.0 dev flannel.4096 onlink",
        "# lin1: ip neigh",
        "10.244.0.0 dev flannel.4096 lladdr 5a:00:00:00:00:04 PERMANENT",
        "10.244.2.0 dev flannel.4096 lladdr 00:15:5d:00:00:14 PERMANENT",
        "10.244.3.0 dev flannel.4096 lladdr 00:15:5d:00:00:1e PERMANENT",
        "# lin1: bridge fdb",
        "5a:00:00:00:00:04 dev flannel.4096 dst 10.240.0.4 self permanent",
        "00:15:5d:00:00:14 dev flannel.4096 dst 10.240.0.20 self permanent",
        "00:15:5d:00:00:1e dev flannel.4096 dst 10.240.0.30 self permanent",
    ]


def test_linux_defaults_vni_1_port_8472(tmp_path: Path) -> None:
    c = build(tmp_path, plan_doc({"Type": "vxlan"}, macs=False, nodes=[
        {"name": "a", "ip": "10.240.0.4"}, {"name": "b", "ip": "10.240.0.5"}]))
    v = c.plugin.vtep("a")  # type: ignore[attr-defined]
    assert (v.dev, v.vni, v.port, v.mtu) == ("flannel.1", 1, 8472, 1450)
    f = c.facts("a")
    assert [(r.dst, r.via, r.dev) for r in f.routes if r.onlink] == [(N("10.244.1.0/24"), A("10.244.1.0"), "flannel.1")]


def test_port_zero_means_the_kernel_default(tmp_path: Path) -> None:
    c = build(tmp_path, plan_doc({"Type": "vxlan", "VNI": 7, "Port": 0}, macs=False, nodes=[
        {"name": "a", "ip": "10.240.0.4"}, {"name": "b", "ip": "10.240.0.5"}]))
    dev = c.facts("a").device("flannel.7")
    assert dev is not None and (dev.vni, dev.port) == (7, 8472)


def test_derived_vtep_macs_are_stable_locally_administered_unicast(tmp_path: Path) -> None:
    doc = plan_doc({"Type": "vxlan"}, macs=False, nodes=[
        {"name": "a", "ip": "10.240.0.4"}, {"name": "b", "ip": "10.240.0.5"}, {"name": "c", "ip": "10.240.0.6"}])
    c1 = build(tmp_path, doc)
    c2 = build(tmp_path, doc)
    macs = [c1.plugin.vtep(n).mac for n in ("a", "b", "c")]  # type: ignore[attr-defined]
    assert macs == [c2.plugin.vtep(n).mac for n in ("a", "b", "c")]  # type: ignore[attr-defined]
    assert len(set(macs)) == 3
    for mac in macs:
        first = int(mac.split(":")[0], 16)
        assert first & 0x01 == 0 and first & 0x02 == 0x02  # unicast, locally administered
        assert c1.plugin.vtep("a").mac_source == "derived"  # type: ignore[attr-defined]
    # the peers' entries use the peer's VTEP MAC
    f = c1.facts("a")
    assert {(n.ip, n.mac) for n in f.neighbors} == {(A("10.244.1.0"), macs[1]), (A("10.244.2.0"), macs[2])}


def test_annotation_mac_forms_are_normalised(tmp_path: Path) -> None:
    doc = plan_doc({"Type": "vxlan"}, macs=False, nodes=[
        {"name": "a", "ip": "10.240.0.4", "annotations": {ANN: '{"VNI":1,"VtepMAC":"C6-D2-32-6F-8F-44"}'}},
        {"name": "b", "ip": "10.240.0.5"}])
    c = build(tmp_path, doc)
    v = c.plugin.vtep("a")  # type: ignore[attr-defined]
    assert (v.mac, v.mac_source) == ("c6:d2:32:6f:8f:44", "annotation")
    assert [e.mac for e in c.facts("b").fdb] == ["c6:d2:32:6f:8f:44"]


@pytest.mark.parametrize(("value", "needle"), [
    ("{not json", "is not JSON"),
    ('{"VNI": 1, "VtepMAC": "zz:00"}', "not a MAC address"),
    ('{"VNI": "x"}', "VNI 'x'"),
])
def test_bad_backend_data_annotation_is_a_plan_error(tmp_path: Path, value: str, needle: str) -> None:
    doc = plan_doc({"Type": "vxlan"}, macs=False,
                   nodes=[{"name": "a", "ip": "10.240.0.4", "annotations": {ANN: value}}])
    with pytest.raises(PlanError) as err:
        build(tmp_path, doc)
    msgs = [p.render() for p in err.value.problems]
    assert any(needle in m and ANN in m for m in msgs), msgs


def test_jumbo_underlay_mtu(tmp_path: Path) -> None:
    doc = plan_doc({"Type": "vxlan"}, macs=False, nodes=[{"name": "a", "ip": "10.240.0.4"}],
                   underlay={"subnets": [{"name": "n", "cidr": "10.240.0.0/24", "mtu": 9000}]})
    c = build(tmp_path, doc)
    assert c.facts("a").device("flannel.1").mtu == 8950  # type: ignore[union-attr]


def test_direct_routing_across_two_subnets() -> None:
    c = Cluster.build(load_plan([TOPOLOGIES / "linux-vxlan-directrouting.yaml"]))
    f = c.facts("lin1")
    pod_routes = {(r.dst, r.via, r.dev, r.onlink) for r in f.routes if r.kind == "pod-route"}
    assert pod_routes == {
        (N("10.244.0.0/24"), A("10.240.0.4"), "eth0", False),   # master, same rack: host-gw style
        (N("10.244.2.0/24"), A("10.240.0.11"), "eth0", False),  # lin2, same rack
        (N("10.244.3.0/24"), A("10.244.3.0"), "flannel.1", True),  # lin3, other rack: VXLAN
        (N("10.244.4.0/24"), A("10.244.4.0"), "flannel.1", True),  # lin4
    }
    # VXLAN entries only for the other rack; the outer frames leave through rack-a's gateway
    assert {n.ip for n in f.neighbors} == {A("10.244.3.0"), A("10.244.4.0")}
    assert {e.dst for e in f.fdb} == {A("10.240.1.10"), A("10.240.1.11")}
    assert {(e.peer, e.outer_next_hop) for e in f.encaps} == {("lin3", A("10.240.0.1")), ("lin4", A("10.240.0.1"))}
    # rack-b runs MTU 9000
    assert c.facts("lin3").device("flannel.1").mtu == 8950  # type: ignore[union-attr]


def test_linux_hops_carry_the_encapsulation(tmp_path: Path) -> None:
    f = build(tmp_path, plan_doc()).facts("lin1")
    hop = next(e for e in f.encaps if e.peer == "win1")
    assert (hop.outer_src, hop.outer_dst, hop.outer_next_hop) == (A("10.240.0.10"), A("10.240.0.20"), A("10.240.0.20"))
    assert (hop.vni, hop.dst_port, hop.peer_vni, hop.peer_port, hop.mismatch) == (4096, 4789, 4096, 4789, ())
    assert (hop.inner_src_mac, hop.inner_dst_mac) == ("5a:00:00:00:00:0a", "00:15:5d:00:00:14")
    assert (hop.inner_mtu, hop.outer_mtu, hop.overhead) == (1450, 1500, 50)
    assert hop.src_port_range == (32768, 60999)  # net.ipv4.ip_local_port_range default
    assert hop.dst == N("10.244.2.0/24")
