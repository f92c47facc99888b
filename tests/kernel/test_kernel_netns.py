"""netns up / verify / down in the real kernel (CI runs as root; skipped without CAP_NET_ADMIN).

Each plan gets a unique name here so that concurrent runs never share namespaces. The counts asserted are
derived by hand: route checks = node namespaces × remote pod CIDRs × samples (first host, last host, the two
realised pods) + the router × every pod CIDR × samples; packets = ordered pod pairs × 3 protocols. Which
packets arrive follows the reference: host-gw, vxlan with one VNI/port, DirectRouting and the cloud route
table deliver everything; a Linux VNI 1/8472 vs Windows 4096/4789 cluster delivers only same-OS pairs.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest
import yaml
from builders import cluster_doc, run, write_docs

from cnimodel import examples, kernel
from cnimodel.kernel import nsutil, realise
from cnimodel.plan import Plan, load_plan

pytestmark = pytest.mark.skipif(nsutil.can_admin() is not None,
                                reason=f"netns tests need root: {nsutil.can_admin()}")
_ids = itertools.count()


def unique(plan: Plan) -> Plan:
    return replace(plan, name=f"t{os.getpid()}-{next(_ids)}-{plan.name}")


def topo(name: str) -> Plan:
    return unique(load_plan([examples.path(name)]))


def leftovers(prefix: str) -> list[str]:
    """Namespaces with the prefix, and links with it in this (the host's) namespace."""
    ipr = nsutil.ipr(None)
    try:
        links = [link.get_attr("IFLA_IFNAME") for link in ipr.get_links()]
    finally:
        ipr.close()
    return nsutil.names(prefix) + [n for n in links if n.startswith(prefix)]


@pytest.fixture
def host_links() -> Iterator[set[str]]:
    ipr = nsutil.ipr(None)
    try:
        yield {link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
    finally:
        ipr.close()


def linux_hostgw(tmp_path: Path) -> Plan:
    nodes = [{"name": f"node{i}", "os": "linux", "ip": f"10.240.0.{10 + i}"} for i in range(4)]
    return unique(load_plan([write_docs(tmp_path / "linux.yaml", [cluster_doc(nodes)])]))


CASES = {
    # plan: (route checks, packets, delivered, dropped)
    "default.yaml": (64, 168, 168, 0),  # 4 nodes (2 Windows L2Bridge), host-gw
    "hybrid-vxlan.yaml": (64, 168, 168, 0),  # 4 nodes, VNI 4096 / 4789 everywhere
    "linux-vxlan-directrouting.yaml": (100, 270, 270, 0),  # 5 nodes, 2 racks: 5·4·4 + 5·4; 10 pods
    "talk-l2bridge-cloud.yaml": (36, 90, 90, 0),  # 3 nodes, pod routes only in the cloud table
    "hybrid-vxlan-mismatch.yaml": (64, 168, 72, 96),  # same-OS pairs: 4·3 + 4·3 = 24 → 72 probes
}


@pytest.mark.parametrize("name", list(CASES))
def test_plan_is_built_verified_and_torn_down(name: str, host_links: set[str]) -> None:
    plan = topo(name)
    prefix = kernel.Names(plan.name).prefix
    bp = kernel.up(plan, pods_per_node=2)
    try:
        ipr = nsutil.ipr(None)
        try:
            assert {link.get_attr("IFLA_IFNAME") for link in ipr.get_links()} == host_links  # host untouched
        finally:
            ipr.close()
        _, report = kernel.verify(plan)
        assert report.mismatches == []
        assert (report.routes, report.packets, report.delivered, report.dropped) == CASES[name]
        assert len(bp.pods) * 3 == report.packets // (len(bp.pods) - 1)
    finally:
        gone = kernel.down(plan)
    assert len(gone) == len(bp.spaces)
    assert leftovers(prefix) == []


def test_an_all_linux_hostgw_plan(tmp_path: Path) -> None:
    plan = linux_hostgw(tmp_path)
    steps: dict[str, tuple[int, int]] = {}  # the progress display's stages: the last step heard, and the total

    def step(stage: str, done: int, total: int) -> None:
        assert 0 <= done < total and steps.get(stage, (-1, total))[0] < done
        steps[stage] = (done, total)

    kernel.up(plan, pods_per_node=2, steps=step)
    try:
        _, report = kernel.verify(plan, steps=step)
        # 4·3·4 + 4·4 route checks; 8 pods → 56 pairs × 3
        assert (report.routes, report.packets, report.delivered, report.mismatches) == (64, 168, 168, [])
    finally:
        kernel.down(plan)
    # 13 namespaces: the underlay, 4 nodes, 8 pods; 17 links: the underlay's bridge (its one subnet), a cni0
    # bridge per node, a veth per pod and one from each node to the underlay; 168 probes traced in steps of 64
    assert steps == {"creating namespaces": (12, 13), "creating links": (16, 17),
                     "addresses, routes, neighbours": (12, 13), "asking the kernel's routes": (12, 13),
                     "sending probes (waves)": (0, 1), "tracing the probes in the model": (128, 168)}
    assert leftovers(kernel.Names(plan.name).prefix) == []


def cli_plan(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A copy of a topology under a unique plan name, for the CLI."""
    docs = list(yaml.safe_load_all(examples.path(name).read_text()))
    docs[0]["metadata"]["name"] = f"t{os.getpid()}-{next(_ids)}-{docs[0]['metadata']['name']}"
    return write_docs(tmp_path / name, docs), docs[0]["metadata"]["name"]


def test_a_corrupted_route_fails_verify_and_is_named(tmp_path: Path) -> None:
    path, name = cli_plan(tmp_path, "default.yaml")
    names = kernel.Names(name)
    assert run("netns", "up", str(path)).exit_code == 0
    try:
        ipr = nsutil.ipr(names.node("lin1"))
        try:
            eth0 = ipr.link_lookup(ifname="eth0")[0]
            # win1's pods sent to win2 instead (win2 forwards them on, so only the route check can tell)
            ipr.route("replace", dst="10.244.2.0/24", gateway="10.240.0.30", oif=eth0, proto=3)
        finally:
            ipr.close()
        r = run("netns", "verify", str(path))
        assert r.exit_code == 1
        assert "lin1" in r.stdout and "10.244.2.0/24 → 10.240.0.30 dev eth0" in r.stdout
        assert "10.244.2.0/24 → 10.240.0.20 dev eth0" in r.stdout  # what the model says
        assert "4 mismatch" in r.stdout  # first and last host, iis-0 and the sample pod on win1
    finally:
        assert run("netns", "down", str(path)).exit_code == 0
    assert leftovers(names.prefix) == []


def test_a_missing_route_also_stops_packets(tmp_path: Path) -> None:
    plan = topo("default.yaml")
    names = kernel.Names(plan.name)
    kernel.up(plan)
    try:
        ipr = nsutil.ipr(names.node("lin1"))
        try:
            ipr.route("del", dst="10.244.3.0/24")
        finally:
            ipr.close()
        _, report = kernel.verify(plan, timeout=1.0)
        routes = [m for m in report.mismatches if m.check == "route"]
        packets = [m for m in report.mismatches if m.check == "packet"]
        assert {m.where for m in routes} == {"lin1"} and all("0.0.0.0/0 → 10.240.0.1" in m.kernel for m in routes)
        # lin1's two pods to win2's two pods go to the router, which has no pod route: dropped; the other way
        # the packet arrives but the reply takes the same broken path. 2 × 2 pairs, both ways, 3 protocols.
        lin1, win2 = {"default/client", "netns-sample/lin1-1"}, {"web/iis-1", "netns-sample/win2-1"}
        assert {tuple(m.where.split(" → ")) for m in packets} == {(a, b) for a in lin1 for b in win2} | {
            (b, a) for a in lin1 for b in win2}
        assert len(packets) == 2 * 2 * 2 * 3
        udp_back = next(m for m in packets if m.where == "web/iis-1 → default/client" and m.what == "UDP :80")
        assert udp_back.kernel.startswith("delivered, no reply")
    finally:
        kernel.down(plan)


@pytest.mark.parametrize("error", [realise.RealiseError("boom"), KeyboardInterrupt()])
def test_a_failure_midway_leaves_nothing(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    plan = topo("hybrid-vxlan.yaml")
    calls = itertools.count()
    real = realise._tunnel

    def flaky(handles: realise.Handles, x: object) -> None:
        if next(calls) == 2:
            raise error
        real(handles, x)  # type: ignore[arg-type]

    monkeypatch.setattr(realise, "_tunnel", flaky)
    with pytest.raises(type(error)):
        kernel.up(plan)
    assert next(calls) == 3  # it did fail midway, after two VXLAN devices
    assert leftovers(kernel.Names(plan.name).prefix) == []


def test_json_output_has_the_documented_keys(tmp_path: Path) -> None:
    import json

    path, name = cli_plan(tmp_path, "talk-l2bridge-cloud.yaml")
    assert run("netns", "up", str(path), "-k", "1").exit_code == 0
    try:
        r = run("netns", "verify", str(path), "-o", "json")
        assert r.exit_code == 0
        body = json.loads(r.stdout)
        assert set(body) == {"plan", "prefix", "podsPerNode", "routeChecks", "packetChecks", "podPairs",
                             "packetsDelivered", "packetsDropped", "mismatches", "notes"}
        assert (body["plan"], body["podsPerNode"], body["mismatches"]) == (name, 1, [])
        r = run("audit", str(path), "--node", "lin1", "--netns", kernel.Names(name).node("lin1"), "-o", "json")
        assert r.exit_code == 0
        audit = json.loads(r.stdout)
        assert set(audit) == {"node", "netns", "checked", "differences"} and audit["differences"] == []
        assert audit["checked"] == {"routes": 3, "neighbors": 0, "fdb": 0}  # default, eth0 and cbr0 connected
    finally:
        run("netns", "down", str(path))
    r = run("netns", "verify", str(path))
    assert r.exit_code == 2 and "not up" in r.stderr


def test_up_twice_and_verify_before_up_are_refused() -> None:
    plan = topo("talk-l2bridge-cloud.yaml")
    with pytest.raises(kernel.KernelProblem, match="not up"):
        kernel.verify(plan)
    kernel.up(plan, pods_per_node=1)
    try:
        with pytest.raises(kernel.KernelProblem, match="up already"):
            kernel.up(plan)
    finally:
        kernel.down(plan)
    assert kernel.down(plan) == []


def test_verify_reads_pods_per_node_back_from_the_namespaces() -> None:
    plan = topo("talk-l2bridge-cloud.yaml")
    kernel.up(plan, pods_per_node=1)
    try:
        bp, report = kernel.verify(plan)
        assert bp.pods_per_node == 1 and len(bp.pods) == 3
        assert report.packets == 3 * 2 * 3 and report.ok
    finally:
        kernel.down(plan)


def test_audit_of_realised_nodes_finds_nothing_then_names_each_change(tmp_path: Path) -> None:
    plan = topo("hybrid-vxlan.yaml")
    names = kernel.Names(plan.name)
    kernel.up(plan, pods_per_node=1)
    try:
        cluster = kernel.blueprint(plan, 1).cluster
        for node in plan.nodes:
            report = kernel.audit(cluster, node.name, names.node(node.name))
            assert report.differences == [], node.name
        ipr = nsutil.ipr(names.node("lin1"))
        try:
            vx = ipr.link_lookup(ifname="flannel.4096")[0]
            ipr.neigh("replace", dst="10.244.0.0", lladdr="02:00:00:00:00:01", ifindex=vx, state=0x80)
            win2 = next(e for e in ipr.get_neighbours(family=7, ifindex=vx) if e.get_attr("NDA_DST") == "10.240.0.30")
            ipr.fdb("del", ifindex=vx, lladdr=win2.get_attr("NDA_LLADDR"), dst="10.240.0.30")
            ipr.route("add", dst="192.0.2.0/24", type="blackhole")
        finally:
            ipr.close()
        report = kernel.audit(cluster, "lin1", names.node("lin1"))
        got = {(d.status, d.kind, d.key) for d in report.differences}
        assert got == {("different", "neighbor", "10.244.0.0 dev flannel.4096"),
                       ("missing", "fdb", f"{win2.get_attr('NDA_LLADDR')} dev flannel.4096"),
                       ("extra", "route", str(IPv4Network("192.0.2.0/24")))}
        r = run("audit", str(examples.path("hybrid-vxlan.yaml")), "--node", "lin1", "--netns", names.node("lin1"))
        assert r.exit_code == 1 and "3 difference(s)" in r.stdout
    finally:
        kernel.down(plan)
