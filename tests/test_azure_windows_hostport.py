"""Azure CNI on Windows maps hostPorts: getPoliciesFromRuntimeCfg turns each runtime port mapping into an HCN
PortMapping endpoint policy (Azure/azure-container-networking@cbd7560c cni/network/network_windows.go:199-256):
Protocol 6 for TCP, 17 for UDP (any other protocol leaves the variable as the previous mapping set it, 0 at
first), Flags NatFlagsLocalRoutedVip = 1 (hcn's NatFlags: None 0, LocalRoutedVip 1, IPv6 2), VIP = the
mapping's hostIP; hcn's PortMappingPolicySetting omits zero and empty fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import build_docs, cluster_doc, pod_doc


def mappings(tmp_path: Path, ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pod = pod_doc("web", "win1", containers=[{"name": "c", "image": "x", "ports": ports}])
    c = build_docs(tmp_path, [cluster_doc(clusterCIDR=None, network={"plugin": "azure-cni"}), pod])
    ep = next(e for e in c.facts("win1").hns_endpoints if e.role == "pod")
    return [dict(p.settings) for p in ep.policies if p.type == "PortMapping"]


def test_tcp_and_udp_host_ports(tmp_path: Path) -> None:
    assert mappings(tmp_path, [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"},
                               {"containerPort": 53, "hostPort": 5353, "protocol": "UDP"},
                               {"containerPort": 9000}]) == [
        {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080, "Flags": 1},
        {"Protocol": 17, "InternalPort": 53, "ExternalPort": 5353, "Flags": 1}]


def test_a_protocol_azure_does_not_switch_on(tmp_path: Path) -> None:
    assert mappings(tmp_path, [{"containerPort": 9000, "hostPort": 9000, "protocol": "SCTP"}]) == [
        {"InternalPort": 9000, "ExternalPort": 9000, "Flags": 1}]
    assert mappings(tmp_path, [{"containerPort": 53, "hostPort": 53, "protocol": "UDP"},
                               {"containerPort": 9000, "hostPort": 9000, "protocol": "SCTP"}])[1] == {
        "Protocol": 17, "InternalPort": 9000, "ExternalPort": 9000, "Flags": 1}
