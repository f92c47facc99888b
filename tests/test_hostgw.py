"""flannel host-gw on Linux nodes (cni-plugins.md §3.6, §10.1): `remotePodCIDR via remoteNodeIP dev eth0` for
every remote node on the same L2 subnet, the cni0 bridge holding .1 and its connected route, the uplink and the
default route; peers beyond the subnet get no route and a note."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest
from builders import build_docs, cluster_doc, run

from cnimodel.cluster import Cluster
from cnimodel.dataplane import Route
from cnimodel.plan import load_plan

N = IPv4Network
A = IPv4Address


def route_set(facts, kind: str | None = None) -> set[tuple[str, str | None, str | None]]:
    return {(str(r.dst), str(r.via) if r.via else None, r.dev) for r in facts.routes if kind in (None, r.kind)}


def test_lin1_routes_worked_example(worked: Path) -> None:
    f = Cluster.build(load_plan([worked])).facts("lin1")
    assert route_set(f, "pod-route") == {
        ("10.244.0.0/24", "10.240.0.4", "eth0"),
        ("10.244.2.0/24", "10.240.0.20", "eth0"),
        ("10.244.3.0/24", "10.240.0.30", "eth0"),
    }
    assert route_set(f) == {
        ("0.0.0.0/0", "10.240.0.1", "eth0"),
        ("10.240.0.0/24", None, "eth0"),
        ("10.244.1.0/24", None, "cni0"),
        ("10.244.0.0/24", "10.240.0.4", "eth0"),
        ("10.244.2.0/24", "10.240.0.20", "eth0"),
        ("10.244.3.0/24", "10.240.0.30", "eth0"),
    }
    assert {r.owner for r in f.routes if r.kind == "pod-route"} == {"flannel"}
    assert not any(r.onlink for r in f.routes)
    local = next(r for r in f.routes if r.dst == N("10.244.1.0/24"))
    assert (local.scope, local.src, local.kind) == ("link", A("10.244.1.1"), "connected")
    cni0 = f.device("cni0")
    assert cni0 is not None and cni0.kind == "bridge"
    assert cni0.addresses == (IPv4Interface("10.244.1.1/24"),)
    assert cni0.mtu == 1500  # host-gw: FLANNEL_MTU = the uplink's MTU, no overhead
    eth0 = f.device("eth0")
    assert eth0 is not None and eth0.addresses == (IPv4Interface("10.240.0.10/24"),)
    assert f.notes == ()


def test_every_linux_node_routes_every_other_node(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc()])
    ips = {"master": "10.240.0.4", "lin1": "10.240.0.10", "win1": "10.240.0.20", "win2": "10.240.0.30"}
    cidrs = {"master": "10.244.0.0/24", "lin1": "10.244.1.0/24", "win1": "10.244.2.0/24", "win2": "10.244.3.0/24"}
    for me in ("master", "lin1"):
        want = {(cidrs[n], ips[n], "eth0") for n in ips if n != me}
        assert route_set(c.facts(me), "pod-route") == want


def test_mtu_follows_the_underlay(tmp_path: Path) -> None:
    doc = cluster_doc()
    doc["spec"]["underlay"]["subnets"][0]["mtu"] = 9000
    c = build_docs(tmp_path, [doc])
    assert c.facts("lin1").device("cni0").mtu == 9000
    assert c.facts("lin1").device("eth0").mtu == 9000


def test_custom_interface_name(tmp_path: Path) -> None:
    doc = cluster_doc()
    doc["spec"]["nodes"][1]["interface"] = "ens5"
    c = build_docs(tmp_path, [doc])
    assert {r.dev for r in c.facts("lin1").routes if r.kind == "pod-route"} == {"ens5"}
    # the other nodes still use eth0
    assert {r.dev for r in c.facts("master").routes if r.kind == "pod-route"} == {"eth0"}


def two_subnets(tmp_path: Path):
    doc = cluster_doc(nodes=[
        {"name": "a1", "ip": "10.240.0.10"}, {"name": "a2", "ip": "10.240.0.11"},
        {"name": "b1", "ip": "10.240.1.10"}, {"name": "bw", "os": "windows", "ip": "10.240.1.20"}])
    doc["spec"]["underlay"]["subnets"] = [{"name": "rack-a", "cidr": "10.240.0.0/24"},
                                          {"name": "rack-b", "cidr": "10.240.1.0/24"}]
    return build_docs(tmp_path, [doc])


def test_peers_on_another_subnet_get_no_route_and_a_note(tmp_path: Path) -> None:
    c = two_subnets(tmp_path)
    # a1 10.244.0.0/24, a2 .1, b1 .2, bw .3 (kube-controller-manager order)
    assert route_set(c.facts("a1"), "pod-route") == {("10.244.1.0/24", "10.240.0.11", "eth0")}
    assert route_set(c.facts("b1"), "pod-route") == {("10.244.3.0/24", "10.240.1.20", "eth0")}
    note = " ".join(c.facts("a1").notes)
    assert "2 node(s)" in note and "rack-a" in note and "L2" in note
    assert c.facts("b1").notes and "2 node(s)" in " ".join(c.facts("b1").notes)
    # the gateway of each subnet is its own .1
    assert ("0.0.0.0/0", "10.240.1.1", "eth0") in route_set(c.facts("b1"))


def test_no_note_when_every_peer_is_adjacent(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc()])
    assert c.facts("master").notes == ()


def test_ip_output_lin1(worked: Path) -> None:
    """`-o ip` prints what `ip route` shows: the kernel's main-table order (by prefix address) and the kernel's
    rendering of connected routes (`proto kernel scope link src`)."""
    r = run("routes", str(worked), "--node", "lin1", "-o", "ip")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "# lin1: ip route",
        "default via 10.240.0.1 dev eth0",
        "10.240.0.0/24 dev eth0 proto kernel scope link src 10.240.0.10",
        "10.244.0.0/24 via 10.240.0.4 dev eth0",
        "10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1",
        "10.244.2.0/24 via 10.240.0.20 dev eth0",
        "10.244.3.0/24 via 10.240.0.30 dev eth0",
    ]


def test_ip_output_skips_windows_nodes(worked: Path) -> None:
    r = run("routes", str(worked), "-o", "ip")
    assert r.exit_code == 0
    headers = [line for line in r.stdout.splitlines() if line.startswith("#")]
    assert headers == ["# master: ip route", "# lin1: ip route"]


def test_shared_peer_routes_are_ordinary_values_per_device(tmp_path: Path) -> None:
    """Nodes of one subnet share its peer routes per device: a Windows node's routes leave by its vNIC, a Linux
    node's by eth0, in either order of asking, and each route is a frozen value like any other Route."""
    c = build_docs(tmp_path, [cluster_doc()])
    win1 = c.facts("win1")  # the Windows node first: its device differs from the Linux nodes' eth0
    vnic = "vEthernet (Ethernet)"
    assert route_set(win1, "pod-route") == {("10.244.0.0/24", "10.240.0.4", vnic),
                                            ("10.244.1.0/24", "10.240.0.10", vnic),
                                            ("10.244.3.0/24", "10.240.0.30", vnic)}
    lin1 = c.facts("lin1")
    assert route_set(lin1, "pod-route") == {("10.244.0.0/24", "10.240.0.4", "eth0"),
                                            ("10.244.2.0/24", "10.240.0.20", "eth0"),
                                            ("10.244.3.0/24", "10.240.0.30", "eth0")}
    r = next(r for r in lin1.routes if r.dst == N("10.244.2.0/24"))
    built = Route(N("10.244.2.0/24"), via=A("10.240.0.20"), dev="eth0", kind="pod-route", owner="flannel")
    assert r == built and hash(r) == hash(built) and repr(r) == repr(built)
    assert replace(r, dev="eth1").dev == "eth1" and r.dev == "eth0"
    with pytest.raises(FrozenInstanceError):
        r.dev = "eth9"  # type: ignore[misc]
