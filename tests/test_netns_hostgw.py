"""The Linux kernel as the oracle for route rendering, ordering and lookup.

For each modelled Linux node: a fresh network namespace gets the node's uplink (a veth) with the node address and
its pod bridge (cni0 / cbr0) with .1 and one port (so it has carrier, as with pods attached); the kernel makes the
connected routes itself; the modelled non-connected routes are added with pyroute2 the way a daemon adds them
(netlink, no protocol: RTPROT_BOOT). Then `ip route show` must equal `cnimodel routes PLAN --node N -o ip` line by
line, and `ip route get` must agree with `cnimodel lookup` for several destinations. Skipped only without
CAP_NET_ADMIN; every namespace is deleted afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest
from builders import cluster_doc, pod_doc, run, write_docs

from cnimodel import examples
from cnimodel.cluster import Cluster
from cnimodel.dataplane import Device, NodeFacts, Route
from cnimodel.plan import load_plan
from cnimodel.render import iproute

PREFIX = f"cnimt{os.getpid()}"
RTPROT_BOOT = 3
RTNH_F_ONLINK = 4
SCOPES = {"universe": 0, "link": 253, "host": 254}


def _cap_net_admin() -> bool:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 12))
    except OSError:
        pass
    return False


pytestmark = [
    pytest.mark.skipif(not _cap_net_admin(), reason="needs CAP_NET_ADMIN to create network namespaces"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2 (`ip`)"),
]


def ip(*args: str, check: bool = True) -> str:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


@pytest.fixture
def netns(request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"{PREFIX}-{request.node.name}"[:60].replace("[", "-").replace("]", "")
    ip("netns", "add", name)
    try:
        yield name
    finally:
        ip("netns", "del", name, check=False)


def realise(ns: str, facts: NodeFacts) -> None:
    """Build the node's devices in ``ns`` and add its non-connected routes through netlink."""
    from pyroute2 import NetNS

    for d in facts.devices:
        if d.kind == "ether":
            ip("-n", ns, "link", "add", d.name, "type", "veth", "peer", "name", f"{d.name}p")
            ip("-n", ns, "link", "set", f"{d.name}p", "up")
        elif d.kind == "bridge":
            ip("-n", ns, "link", "add", d.name, "type", "bridge")
            # one port with carrier, or the kernel marks the bridge's connected route `linkdown`
            ip("-n", ns, "link", "add", f"{d.name}v", "type", "veth", "peer", "name", f"{d.name}w")
            ip("-n", ns, "link", "set", f"{d.name}v", "master", d.name, "up")
            ip("-n", ns, "link", "set", f"{d.name}w", "up")
        else:
            raise AssertionError(f"device kind {d.kind} is not realised by this test")
        ip("-n", ns, "link", "set", d.name, "mtu", str(d.mtu))
        for a in d.addresses:
            ip("-n", ns, "addr", "add", str(a), "dev", d.name)
        ip("-n", ns, "link", "set", d.name, "up")
    with NetNS(ns) as h:
        index = {d.name: h.link_lookup(ifname=d.name)[0] for d in facts.devices}
        for r in facts.routes:
            if r.kind == "connected":
                continue  # the kernel derives these from the addresses: that is what is being checked
            kw: dict[str, object] = {"dst": str(r.dst), "proto": RTPROT_BOOT, "scope": SCOPES[r.scope]}
            if r.type == "blackhole":
                kw["type"] = "blackhole"
            else:
                assert r.dev is not None
                kw["oif"] = index[r.dev]
                if r.via is not None:
                    kw["gateway"] = str(r.via)
                if r.onlink:
                    kw["flags"] = RTNH_F_ONLINK
            h.route("add", **kw)


def model_lines(plan: Path, node: str) -> list[str]:
    r = run("routes", str(plan), "--node", node, "-o", "ip")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    start = lines.index(f"# {node}: ip route") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start:end]


def kernel_route_get(ns: str, dst: str) -> tuple[str, str]:
    """(next hop, device) from `ip route get`; the next hop of an on-link destination is the destination."""
    words = ip("-n", ns, "route", "get", dst).split()
    via = words[words.index("via") + 1] if "via" in words else dst
    return via, words[words.index("dev") + 1]


def check_node(ns: str, plan: Path, node: str, destinations: list[str]) -> None:
    cluster = Cluster.build(load_plan([plan]))
    realise(ns, cluster.facts(node))
    kernel = [line.strip() for line in ip("-n", ns, "route", "show").splitlines() if line.strip()]
    assert kernel == model_lines(plan, node)
    for dst in destinations:
        r = run("lookup", str(plan), "--node", node, dst, "-o", "json")
        assert r.exit_code == 0, r.stderr
        model = json.loads(r.stdout)
        assert kernel_route_get(ns, dst) == (model["nextHop"], model["dev"]), dst


def worked_plan(tmp_path: Path, **spec: object) -> Path:
    return write_docs(tmp_path / "plan.yaml", [cluster_doc(**spec), pod_doc("a", "lin1")])


DESTS = ["10.244.0.7", "10.244.1.9", "10.244.2.7", "10.244.3.200", "10.240.0.30", "10.240.0.99", "8.8.8.8",
         "10.96.0.10"]


@pytest.mark.parametrize("node", ["master", "lin1"])
def test_worked_example_flannel_host_gw(netns: str, tmp_path: Path, node: str) -> None:
    check_node(netns, worked_plan(tmp_path), node, DESTS)


@pytest.mark.parametrize("node", ["master", "lin1"])
def test_node_mask_26_and_jumbo_underlay(netns: str, tmp_path: Path, node: str) -> None:
    doc = cluster_doc(nodeCIDRMaskSize=26)
    doc["spec"]["underlay"]["subnets"][0]["mtu"] = 9000
    plan = write_docs(tmp_path / "plan26.yaml", [doc])
    check_node(netns, plan, node, ["10.244.0.7", "10.244.0.70", "10.244.0.130", "10.244.0.250", "10.244.1.1"])


@pytest.mark.parametrize("node", ["a1", "b1"])
def test_peers_beyond_the_subnet(netns: str, tmp_path: Path, node: str) -> None:
    doc = cluster_doc(nodes=[{"name": "a1", "ip": "10.240.0.10"}, {"name": "a2", "ip": "10.240.0.11"},
                             {"name": "b1", "ip": "10.240.1.10"}, {"name": "bw", "os": "windows", "ip": "10.240.1.20"}])
    doc["spec"]["underlay"]["subnets"] = [{"name": "rack-a", "cidr": "10.240.0.0/24"},
                                          {"name": "rack-b", "cidr": "10.240.1.0/24"}]
    plan = write_docs(tmp_path / "racks.yaml", [doc])
    # a1 10.244.0.0/24, a2 .1, b1 .2, bw .3: remote-rack pods fall to the default route
    check_node(netns, plan, node, ["10.244.0.5", "10.244.1.5", "10.244.2.5", "10.244.3.5", "10.240.1.20"])


@pytest.mark.parametrize("node", ["master", "lin1"])
def test_talk_topology_linux_nodes(netns: str, node: str) -> None:
    plan = examples.path("talk-l2bridge-cloud.yaml")
    check_node(netns, plan, node, ["10.244.0.5", "10.244.1.5", "10.244.2.5", "10.240.3.3"])


def test_embedded_default_plan(netns: str) -> None:
    check_node(netns, examples.path("default.yaml"), "lin1", DESTS)


def test_lookup_next_hop_matches_kernel_for_many_addresses(netns: str, tmp_path: Path) -> None:
    plan = worked_plan(tmp_path)
    cluster = Cluster.build(load_plan([plan]))
    realise(netns, cluster.facts("lin1"))
    for n in range(0, 256, 17):
        for base in ("10.244.0.", "10.244.1.", "10.244.2.", "10.244.3.", "10.240.0.", "10.245.0."):
            dst = f"{base}{n}"
            if dst in ("10.240.0.10", "10.244.1.1", "10.240.0.0", "10.240.0.255", "10.244.1.0", "10.244.1.255"):
                continue  # the node's own addresses and broadcasts answer from the local table
            res = cluster.lookup("lin1", IPv4Address(dst))
            assert kernel_route_get(netns, dst) == (str(res.next_hop), res.dev), dst


def synthetic(routes: list[Route]) -> NodeFacts:
    eth0 = Device("eth0", "ether", (IPv4Interface("10.240.0.10/24"),))
    connected = Route(IPv4Network("10.240.0.0/24"), dev="eth0", scope="link", kind="connected",
                      src=IPv4Address("10.240.0.10"), proto="kernel")
    return NodeFacts("synthetic", "linux", (eth0,), (connected, *routes))


def rendered_routes(facts: NodeFacts) -> list[str]:
    return [line for line in iproute.render(facts).splitlines() if not line.startswith("#")]


def test_route_shapes_other_plugins_use(netns: str) -> None:
    """Same destination address at two lengths (longer first), onlink (VXLAN), blackhole (Calico): the renderer
    against the kernel."""
    n, a = IPv4Network, IPv4Address
    facts = synthetic([
        Route(n("10.244.0.0/16"), via=a("10.240.0.5"), dev="eth0"),
        Route(n("10.244.0.0/24"), via=a("10.240.0.4"), dev="eth0"),
        Route(n("10.244.9.0/24"), via=a("10.244.9.0"), dev="eth0", onlink=True),
        Route(n("10.250.0.0/24"), kind="blackhole", type="blackhole"),
        Route(n("0.0.0.0/0"), via=a("10.240.0.1"), dev="eth0", kind="default"),
    ])
    realise(netns, facts)
    kernel = [line.strip() for line in ip("-n", netns, "route", "show").splitlines() if line.strip()]
    assert kernel == rendered_routes(facts)


def test_host_route_rendering(netns: str) -> None:
    """/32 destinations print as the bare address, as the kernel's `ip route` does."""
    facts = synthetic([Route(IPv4Network("10.244.5.7/32"), dev="eth0", scope="link", kind="host"),
                       Route(IPv4Network("10.250.0.9/32"), kind="blackhole", type="blackhole")])
    realise(netns, facts)
    kernel = [line.strip() for line in ip("-n", netns, "route", "show").splitlines() if line.strip()]
    assert kernel == rendered_routes(facts)
    assert "10.244.5.7 dev eth0 scope link" in kernel and "blackhole 10.250.0.9" in kernel


def test_namespaces_are_cleaned_up() -> None:
    # runs after the others in this module (file order): none of this process's namespaces is left
    left = [line.split()[0] for line in ip("netns", "list").splitlines() if line.startswith(PREFIX)]
    assert left == []
