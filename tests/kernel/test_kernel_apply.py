"""The Linux apply scripts run by the real tools in network namespaces: `ip -batch` and `bridge -batch` input from
`cnimodel routes PLAN --node N -o ip-batch|bridge-batch`, then `ip -j route`, `ip -j neigh` and `bridge -j fdb` read
back equal to the model's node (the kernel is the judge), applied a second time without a change, and the same
read-back fed to `cnimodel audit --from` finds nothing missing.

Each namespace stands for a node: its uplink (a veth `eth0` with the node's address and default route: the node's
own configuration, which the batch expects) is made by the test, everything else by the batch. Namespaces are
named cmapply<pid>-… so that runs in other worktrees never meet them; each is deleted afterwards.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from builders import cluster_doc, run, write_docs

from cnimodel import examples
from cnimodel.cluster import Cluster
from cnimodel.dataplane import NodeFacts, Route
from cnimodel.kernel import nsutil
from cnimodel.plan import load_plan

pytestmark = [
    pytest.mark.skipif(nsutil.can_admin() is not None, reason=f"netns tests need root: {nsutil.can_admin()}"),
    pytest.mark.skipif(shutil.which("ip") is None or shutil.which("bridge") is None,
                       reason="needs iproute2 (`ip`, `bridge`)"),
]
PREFIX = f"cmapply{os.getpid()}"
_ids = itertools.count()


def tool(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r


@pytest.fixture
def ns() -> Iterator[str]:
    name = f"{PREFIX}-{next(_ids)}"
    tool("ip", "netns", "add", name)
    try:
        yield name
    finally:
        tool("ip", "netns", "del", name, check=False)


def node_config(ns: str, cluster: Cluster, node: str) -> None:
    """The node's own configuration, as DHCP or networkd leave it: eth0 up with the address, MTU and default
    route (the peer end stays in the namespace, up, so eth0 has carrier)."""
    facts = cluster.facts(node)
    up = next(d for d in facts.devices if d.kind == "ether")
    tool("ip", "-n", ns, "link", "add", up.name, "type", "veth", "peer", "name", "uplinkpeer")
    tool("ip", "-n", ns, "link", "set", up.name, "mtu", str(up.mtu), "up")
    tool("ip", "-n", ns, "link", "set", "uplinkpeer", "up")
    for a in up.addresses:
        tool("ip", "-n", ns, "address", "add", str(a), "dev", up.name)
    default = next(r for r in facts.routes if r.dst.prefixlen == 0)
    tool("ip", "-n", ns, "route", "add", "default", "via", str(default.via), "dev", up.name)


def script(tmp_path: Path, plan: Path, node: str, output: str, *extra: str) -> Path:
    result = run("routes", str(plan), "--node", node, "-o", output, *extra)
    assert result.exit_code == 0, result.output
    path = tmp_path / f"{node}.{output}{''.join(extra)}"
    path.write_text(result.stdout)
    return path


def kernel_routes(ns: str) -> set[tuple[object, ...]]:
    """The main table as `ip -j route` prints it: (dst, gateway, dev, onlink, scope, protocol, prefsrc, type)."""
    out = set()
    for r in json.loads(tool("ip", "-n", ns, "-j", "route", "show", "table", "main").stdout):
        dst = "0.0.0.0/0" if r["dst"] == "default" else r["dst"] if "/" in r["dst"] else r["dst"] + "/32"
        out.add((dst, r.get("gateway"), r.get("dev"), "onlink" in r.get("flags", []), r.get("scope", "global"),
                 r.get("protocol"), r.get("prefsrc"), r.get("type", "unicast")))
    return out


def model_routes(routes: list[Route]) -> set[tuple[object, ...]]:
    """The model's routes in the same terms (`ip` prints scope universe as global; boot protocol not at all)."""
    return {(str(r.dst), str(r.via) if r.via else None, r.dev, r.onlink,
             "global" if r.scope == "universe" else r.scope, r.proto, str(r.src) if r.src and r.proto else None,
             r.type) for r in routes}


def kernel_neighbors(ns: str) -> set[tuple[str, str, str]]:
    got = json.loads(tool("ip", "-n", ns, "-j", "neigh", "show", "nud", "permanent").stdout)
    return {(n["dst"], n["lladdr"], n["dev"]) for n in got}


def kernel_fdb(ns: str) -> set[tuple[str, str, str]]:
    got = json.loads(tool("bridge", "-n", ns, "-j", "fdb", "show").stdout)
    return {(e["mac"], e.get("ifname", e.get("dev")), e["dst"]) for e in got if "dst" in e}


def per_pod(facts: NodeFacts) -> set[str]:
    return {d.name for d in facts.devices if d.kind == "veth"}


def expected(facts: NodeFacts) -> tuple[set[tuple[object, ...]], set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    pods = per_pod(facts)
    routes = model_routes([r for r in facts.routes if r.dev not in pods])
    neighbors = {(str(n.ip), n.mac.lower(), n.dev) for n in facts.neighbors}
    fdb = {(e.mac.lower(), e.dev, str(e.dst)) for e in facts.fdb}
    return routes, neighbors, fdb


def apply_and_read(ns: str, ip_batch: Path, bridge_batch: Path,
                   force: bool = False) -> subprocess.CompletedProcess[str]:
    r = tool("ip", "-n", ns, *(["-force"] if force else []), "-batch", str(ip_batch), check=False)
    tool("bridge", "-n", ns, "-batch", str(bridge_batch))
    return r


CASES = [  # (topology, node)
    ("hybrid-vxlan.yaml", "lin1"),  # cni0 + flannel.4096 (VNI 4096, port 4789), 3 onlink routes, neighbours, FDB
    ("default.yaml", "lin1"),  # host-gw: cni0, routes via the peers' node IPs
    ("linux-vxlan-directrouting.yaml", "lin3"),  # VXLAN to the other rack, direct routes on its own
    ("canal-linux.yaml", "lin2"),  # flannel.1 only; the calico CNI's per-pod veths and /32 routes left out
    ("talk-l2bridge-cloud.yaml", "lin1"),  # kubenet: cbr0 alone, pod routes in the cloud table
]


@pytest.mark.parametrize(("name", "node"), CASES)
def test_the_batches_build_the_node_the_model_describes(tmp_path: Path, ns: str, name: str, node: str) -> None:
    plan = examples.path(name)
    cluster = Cluster.build(load_plan([plan]))
    facts = cluster.facts(node)
    node_config(ns, cluster, node)
    ip_batch = script(tmp_path, plan, node, "ip-batch")
    bridge_batch = script(tmp_path, plan, node, "bridge-batch")
    assert apply_and_read(ns, ip_batch, bridge_batch).returncode == 0
    routes, neighbors, fdb = expected(facts)
    assert kernel_routes(ns) == routes
    assert kernel_neighbors(ns) == neighbors
    assert kernel_fdb(ns) == fdb

    # again, on the node as it is now: `ip -force -batch` only fails the `link add` lines; nothing changes
    again = apply_and_read(ns, ip_batch, bridge_batch, force=True)
    made = [d for d in facts.devices if d.kind in ("bridge", "vxlan")]
    assert again.stderr.count("File exists") == len(made)
    assert (kernel_routes(ns), kernel_neighbors(ns), kernel_fdb(ns)) == (routes, neighbors, fdb)
    # and the batch without the devices applies cleanly to a node that has them
    assert apply_and_read(ns, script(tmp_path, plan, node, "ip-batch", "--no-devices"), bridge_batch).returncode == 0
    assert (kernel_routes(ns), kernel_neighbors(ns), kernel_fdb(ns)) == (routes, neighbors, fdb)


def test_the_vxlan_device_has_the_vni_port_local_address_and_mtu_flannel_gives_it(tmp_path: Path, ns: str) -> None:
    """hybrid-vxlan.yaml: VNI 4096 and port 4789 (the Windows-compatible flannel settings), local = lin1's node IP,
    MTU 1500 − 50 (cni-plugins.md: flannel's vxlan MTU is the uplink's less the VXLAN overhead)."""
    plan = examples.path("hybrid-vxlan.yaml")
    cluster = Cluster.build(load_plan([plan]))
    node_config(ns, cluster, "lin1")
    apply_and_read(ns, script(tmp_path, plan, "lin1", "ip-batch"), script(tmp_path, plan, "lin1", "bridge-batch"))
    link = json.loads(tool("ip", "-n", ns, "-d", "-j", "link", "show", "flannel.4096").stdout)[0]
    data = link["linkinfo"]["info_data"]
    assert (data["id"], data["port"], data["local"], data["link"], data["learning"]) == \
        (4096, 4789, "10.240.0.10", "eth0", False)
    assert link["mtu"] == 1450 and "UP" in link["flags"]
    assert kernel_routes(ns) >= {("10.244.2.0/24", "10.244.2.0", "flannel.4096", True, "global", None, None,
                                  "unicast")}


def test_static_routes_of_kubenet_without_a_cloud_table(tmp_path: Path, ns: str) -> None:
    """kubenet with `underlay.routes: host`: the operator adds a route per peer pod CIDR via the peer's node IP
    (kube-controller-manager gives master 10.244.0.0/24, lin1 .1, lin2 .2)."""
    nodes = [{"name": "master", "os": "linux", "ip": "10.240.0.4"},
             {"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
             {"name": "lin2", "os": "linux", "ip": "10.240.0.11"}]
    plan = write_docs(tmp_path / "kubenet.yaml", [cluster_doc(nodes, network={"plugin": "kubenet"})])
    cluster = Cluster.build(load_plan([plan]))
    node_config(ns, cluster, "lin1")
    assert apply_and_read(ns, script(tmp_path, plan, "lin1", "ip-batch"),
                          script(tmp_path, plan, "lin1", "bridge-batch")).returncode == 0
    got = kernel_routes(ns)
    assert ("10.244.0.0/24", "10.240.0.4", "eth0", False, "global", None, None, "unicast") in got
    assert ("10.244.2.0/24", "10.240.0.11", "eth0", False, "global", None, None, "unicast") in got
    assert got == expected(cluster.facts("lin1"))[0]


def test_the_read_back_audits_clean_and_a_removed_route_is_named_with_its_fix(tmp_path: Path, ns: str) -> None:
    plan = examples.path("hybrid-vxlan.yaml")
    cluster = Cluster.build(load_plan([plan]))
    node_config(ns, cluster, "lin1")
    apply_and_read(ns, script(tmp_path, plan, "lin1", "ip-batch"), script(tmp_path, plan, "lin1", "bridge-batch"))
    captures = {"routes.json": ["ip", "-n", ns, "-j", "route", "show", "table", "all"],
                "neigh.json": ["ip", "-n", ns, "-j", "neigh"], "fdb.json": ["bridge", "-n", ns, "-j", "fdb"]}
    for file, cmd in captures.items():
        (tmp_path / file).write_text(tool(*cmd).stdout)
    files = [a for f in captures for a in ("--from", str(tmp_path / f))]
    clean = run("audit", str(plan), "--node", "lin1", *files)
    assert clean.exit_code == 0, clean.output
    tool("ip", "-n", ns, "route", "del", "10.244.3.0/24")
    (tmp_path / "routes.json").write_text(tool(*captures["routes.json"]).stdout)
    broken = run("audit", str(plan), "--node", "lin1", "-o", "json", *files)
    assert broken.exit_code == 1
    diffs = json.loads(broken.stdout)["differences"]
    assert [(d["status"], d["kind"], d["key"]) for d in diffs] == [("missing", "route", "10.244.3.0/24")]
    assert diffs[0]["fix"] == "ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.4096 onlink"
    assert IPv4Network(diffs[0]["key"]) == IPv4Network("10.244.3.0/24")
