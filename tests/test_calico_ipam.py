"""Calico IPAM (cni-plugins.md §7.1, §7.2, §10.4; tools-and-planning.md §3.5).

Blocks of blockSize (default /26) carved from the IPPool, claimed by nodes; the model claims the lowest
free blocks in plan order, so the k-th claimed /26 of 10.244.0.0/16 is 10.244.0.0 + 64·k (k = 149 →
10.244.37.64/26, the block of the §10.4 example). Windows blocks keep the first three and the last
address; a /26 then holds 60 pods, the first at base + 3.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from builders import at, build_docs, cluster_doc, plan_errors, pod_doc

from cnimodel.plugins._calico_ipam import windows_reserved


def linux_nodes(count: int) -> list[dict[str, Any]]:
    base = int(IPv4Address("10.240.0.4"))
    return [{"name": f"lin{i}", "os": "linux", "ip": str(IPv4Address(base + i))} for i in range(count)]


def calico_doc(nodes: list[dict[str, Any]], backend: str = "host-gw", **config: Any) -> dict[str, Any]:
    net: dict[str, Any] = {"Network": "10.244.0.0/16", "Backend": {"Type": backend}}
    if backend == "vxlan":
        net["Backend"].update(VNI=4096, Port=4789)
    return cluster_doc(nodes, network={"plugin": "flannel", "backend": backend, "config": net},
                       underlay={"subnets": [{"name": "n", "cidr": "10.240.0.0/22"}]},
                       policy={"plugin": "calico", "config": {"ipam": "calico-ipam", "KUBE_NETWORK": "flannel",
                                                              **config}})


def pool(cidr: str = "10.244.0.0/16", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": "p"},
            "spec": {"cidr": cidr, **spec}}


def pods(node: str, count: int, prefix: str = "p") -> list[dict[str, Any]]:
    return [pod_doc(f"{prefix}{i}", node) for i in range(count)]


def test_windows_reservation_rule() -> None:
    got = [str(ip) for ip, _ in windows_reserved(IPv4Network("10.244.37.64/26"))]
    assert got == ["10.244.37.64", "10.244.37.65", "10.244.37.66", "10.244.37.127"]


def test_worked_example_10_4(tmp_path: Path) -> None:
    nodes = [*linux_nodes(149), {"name": "win1", "os": "windows", "ip": "10.240.1.250"}]
    c = build_docs(tmp_path, [calico_doc(nodes, "vxlan"), pool(blockSize=26, natOutgoing=True),
                              pod_doc("iis", "win1")])
    win = c.allocation.nodes["win1"]
    assert str(win.pod_cidr) == "10.244.37.64/26" and win.cidr_source == "calico-ipam"
    assert win.range is not None
    assert {"10.244.37.64", "10.244.37.65", "10.244.37.66", "10.244.37.127"} <= {
        str(ip) for ip in win.range.reserved_set}
    assert win.capacity == 60
    assert str(c.pod_ip("default/iis")) == "10.244.37.67"
    ep = next(e for e in c.facts("win1").hns_endpoints if e.pod == "default/iis")
    assert str(ep.gateway) == "10.244.37.65"
    assert ep.mac == "0E-2A-0a-f4-25-43"
    # Linux nodes reach the Windows block through the network plugin (flannel vxlan here).
    hit = c.lookup("lin0", IPv4Address("10.244.37.67"))
    assert hit.route is not None and str(hit.route.dst) == "10.244.37.64/26"


def test_blocks_on_demand_and_routes_to_every_block(tmp_path: Path) -> None:
    # 70 pods need two /26 blocks (64 + 6); lin1 then takes the third block.
    c = build_docs(tmp_path, [calico_doc(linux_nodes(2)), *pods("lin0", 70)])
    assert str(c.allocation.nodes["lin0"].pod_cidr) == "10.244.0.0/26"
    assert str(c.allocation.nodes["lin1"].pod_cidr) == "10.244.0.128/26"
    ips = sorted(int(c.pod_ip(f"default/p{i}") or 0) for i in range(70))
    assert IPv4Address(ips[-1]) in IPv4Network("10.244.0.64/26")
    routes = {str(r.dst): str(r.via) for r in c.facts("lin1").routes if r.kind == "pod-route"}
    assert routes == {"10.244.0.0/26": "10.240.0.4", "10.244.0.64/26": "10.240.0.4"}
    # lin0's second block is local: reached on the bridge like the first.
    local = {str(r.dst): r.dev for r in c.facts("lin0").routes}
    assert local["10.244.0.64/26"] == local["10.244.0.0/26"] == "cni0"


def test_max_blocks_per_host(tmp_path: Path) -> None:
    ipam_config = {"apiVersion": "projectcalico.org/v3", "kind": "IPAMConfiguration",
                   "metadata": {"name": "default"}, "spec": {"strictAffinity": True, "maxBlocksPerHost": 1}}
    problems = plan_errors(tmp_path, [calico_doc(linux_nodes(1)), ipam_config, *pods("lin0", 70)])
    assert "maxBlocksPerHost is 1" in at(problems, "spec.nodes[0]").message


def test_max_blocks_needs_strict_affinity(tmp_path: Path) -> None:
    problems = plan_errors(tmp_path, [calico_doc(linux_nodes(1), ipamConfig={"maxBlocksPerHost": 2})])
    assert "strictAffinity" in at(problems, "spec.policy.config.ipamConfig.maxBlocksPerHost").message


def test_windows_node_holds_one_block(tmp_path: Path) -> None:
    nodes = [{"name": "win1", "os": "windows", "ip": "10.240.0.4"}]
    problems = plan_errors(tmp_path, [calico_doc(nodes, "vxlan"), *pods("win1", 61)])
    assert "one block" in at(problems, "spec.nodes[0]").message


def test_default_pool_is_the_cluster_cidr_in_26s(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [calico_doc(linux_nodes(3))])
    assert [str(a.pod_cidr) for a in c.allocation.nodes.values()] == [
        "10.244.0.0/26", "10.244.0.64/26", "10.244.0.128/26"]
    assert c.allocation.max_nodes == 1024  # a /16 holds 1,024 /26 blocks


def test_block_size_from_pool(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [calico_doc(linux_nodes(2)), pool("10.244.0.0/16", blockSize=28)])
    assert [str(a.pod_cidr) for a in c.allocation.nodes.values()] == ["10.244.0.0/28", "10.244.0.16/28"]


def test_host_local_is_the_default(tmp_path: Path) -> None:
    doc = calico_doc(linux_nodes(2))
    doc["spec"]["policy"]["config"].pop("ipam")
    c = build_docs(tmp_path, [doc])
    assert [str(a.pod_cidr) for a in c.allocation.nodes.values()] == ["10.244.0.0/24", "10.244.1.0/24"]


def test_kubenet_keeps_its_ipam(tmp_path: Path) -> None:
    doc = cluster_doc(linux_nodes(1), network={"plugin": "kubenet"},
                      policy={"plugin": "calico", "config": {"ipam": "calico-ipam"}})
    assert "host-local" in at(plan_errors(tmp_path, [doc]), "spec.policy.config.ipam").message
