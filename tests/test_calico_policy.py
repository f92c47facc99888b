"""Calico policy-only: who enforces NetworkPolicy on each node, and how (cni-plugins.md §7.5, §7.6, §8).

Linux nodes: felix with iptables. Windows nodes: felix with HNS ACLs, but only on HNS networks whose name
matches KUBE_NETWORK (default "Calico.*"). The default-deny inbound ACL {Block, In, Switch, protocol 256,
priority 65500} is written by Calico's own Windows CNI on the endpoints it creates, unless
windows_disable_default_deny_all_policy (projectcalico/calico@87c15906
cni-plugin/pkg/dataplane/windows/dataplane_windows.go:217): never on those of win-bridge, win-overlay or
azure-vnet. Without a policy plugin nothing enforces.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
from builders import at, build_docs, cluster_doc, plan_errors, pod_doc, run, write_docs

from cnimodel.dataplane import HnsEndpoint, HnsNetwork, NodeFacts

DENY = {"Action": "Block", "Direction": "In", "RuleType": "Switch", "Protocols": "256", "Priority": 65500}


def canal(tmp_path: Path, policy: dict[str, Any] | None, backend: str = "host-gw") -> Path:
    net: dict[str, Any] = {"Network": "10.244.0.0/16", "Backend": {"Type": backend}}
    if backend == "vxlan":
        net["Backend"].update(VNI=4096, Port=4789)
    doc = cluster_doc(network={"plugin": "flannel", "backend": backend, "config": net})
    if policy is not None:
        doc["spec"]["policy"] = policy
    return write_docs(tmp_path / "canal.yaml", [doc, pod_doc("a", "lin1"), pod_doc("w", "win1")])


def policies(path: Path) -> dict[str, dict[str, Any]]:
    out = json.loads(run("routes", str(path), "-o", "json").stdout)
    return {n["name"]: n["policy"] for n in out["nodes"]}


def pod_endpoint_policies(path: Path, node: str) -> list[dict[str, Any]]:
    objs = json.loads(run("routes", str(path), "--node", node, "-o", "hns").stdout)[node]
    ep = next(o for o in objs if o.get("ObjectType") == "Endpoint" and o.get("Role") == "pod")
    return ep.get("Policies", [])


def test_without_policy_plugin_nothing_enforces(tmp_path: Path) -> None:
    assert {n: p["enforced"] for n, p in policies(canal(tmp_path, None)).items()} == {
        "master": False, "lin1": False, "win1": False, "win2": False}


def test_canal_linux_iptables_windows_acl(tmp_path: Path) -> None:
    got = policies(canal(tmp_path, {"plugin": "calico", "config": {"KUBE_NETWORK": "^cbr0$"}}))
    assert (got["lin1"]["enforced"], got["lin1"]["by"], got["lin1"]["mechanism"]) == (True, "calico-felix",
                                                                                      "iptables")
    assert (got["win1"]["enforced"], got["win1"]["mechanism"]) == (True, "HNS ACL")


@pytest.mark.parametrize("backend", ["host-gw", "vxlan"])
def test_no_default_deny_acl_on_endpoints_of_another_cni(tmp_path: Path, backend: str) -> None:
    """felix matches the network, but win-bridge / win-overlay created the endpoints: no CNI default-deny."""
    net = "^cbr0$" if backend == "host-gw" else "^flannel\\.4096$"
    path = canal(tmp_path, {"plugin": "calico", "config": {"KUBE_NETWORK": net}}, backend)
    assert not [p for p in pod_endpoint_policies(path, "win1") if p["Type"] == "ACL"]
    got = policies(path)["win1"]
    assert got["enforced"] is True and "default-deny" not in got["reason"]


def calico_cni_facts(tmp_path: Path, config: dict[str, Any]) -> tuple[Any, Any, NodeFacts]:
    """win1's facts as Calico's own Windows CNI would leave them: network and pod endpoint owned by it."""
    c = build_docs(tmp_path, [cluster_doc(policy={"plugin": "calico", "config": config}), pod_doc("w", "win1")])
    net = HnsNetwork("Calico", "L2Bridge", IPv4Network("10.244.2.0/24"), IPv4Address("10.244.2.1"),
                     IPv4Address("10.240.0.20"), "Ethernet", owner="calico")
    ep = HnsEndpoint("w_Calico", "Calico", IPv4Address("10.244.2.3"), 24, IPv4Address("10.244.2.1"),
                     pod="default/w", owner="calico")
    return c, c.node("win1"), NodeFacts("win1", "windows", hns_networks=(net,), hns_endpoints=(ep,))


def test_default_deny_acl_on_calico_cni_endpoints(tmp_path: Path) -> None:
    c, node, facts = calico_cni_facts(tmp_path, {})
    got = c.policy.node_facts(c, node, facts)
    assert [dict(p.settings) for p in got.hns_endpoints[0].policies if p.type == "ACL"] == [DENY]
    assert "default-deny" in got.policy.reason


def test_default_deny_can_be_disabled(tmp_path: Path) -> None:
    c, node, facts = calico_cni_facts(tmp_path, {"windows_disable_default_deny_all_policy": True})
    got = c.policy.node_facts(c, node, facts)
    assert got.hns_endpoints[0].policies == () and got.policy.enforced


def test_default_kube_network_matches_no_flannel_network(tmp_path: Path) -> None:
    path = canal(tmp_path, {"plugin": "calico"})
    got = policies(path)
    assert got["win1"]["enforced"] is False and "KUBE_NETWORK" in got["win1"]["reason"]
    assert "cbr0" in got["win1"]["reason"]
    assert got["lin1"]["enforced"] is True
    assert not [p for p in pod_endpoint_policies(path, "win1") if p["Type"] == "ACL"]


def test_vxlan_network_name(tmp_path: Path) -> None:
    path = canal(tmp_path, {"plugin": "calico", "config": {"KUBE_NETWORK": "^flannel\\.4096$"}}, "vxlan")
    assert policies(path)["win1"]["enforced"] is True
    assert policies(canal(tmp_path, {"plugin": "calico", "config": {"KUBE_NETWORK": "^cbr0$"}}, "vxlan"))[
        "win1"]["enforced"] is False


def test_cluster_enforcement_agrees_with_facts(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(policy={"plugin": "calico"})])
    for node in ("master", "win1"):
        assert c.enforcement(node) == c.facts(node).policy


def test_calico_networking_backends_are_not_modelled(tmp_path: Path) -> None:
    problems = plan_errors(tmp_path, [cluster_doc(policy={"plugin": "calico", "config": {
        "CALICO_NETWORKING_BACKEND": "vxlan"}})])
    assert "requires calico-ipam" in at(problems, "spec.policy.config.ipam").message
    assert at(problems, "spec.policy.config.CALICO_NETWORKING_BACKEND")


def test_bad_regex(tmp_path: Path) -> None:
    problems = plan_errors(tmp_path, [cluster_doc(policy={"plugin": "calico", "config": {"KUBE_NETWORK": "("}})])
    assert at(problems, "spec.policy.config.KUBE_NETWORK")


def test_with_azure_cni_windows(tmp_path: Path) -> None:
    doc = cluster_doc(clusterCIDR=None, network={"plugin": "azure-cni"},
                      policy={"plugin": "calico", "config": {"KUBE_NETWORK": "^azure$"}})
    path = write_docs(tmp_path / "p.yaml", [doc, pod_doc("w", "win1")])
    got = policies(path)
    assert all(p["enforced"] for p in got.values())
    assert not [p for p in pod_endpoint_policies(path, "win1") if p["Type"] == "ACL"]  # azure-vnet's endpoints


def test_canal_topology() -> None:
    top = Path(__file__).parent.parent / "topologies" / "canal-windows.yaml"
    got = policies(top)
    assert all(p["enforced"] for p in got.values())
    assert {p["mechanism"] for p in got.values()} == {"iptables", "HNS ACL"}


def test_windows_verdicts_shared_by_description_name_the_hns_network() -> None:
    """Calico shares one Windows verdict among nodes the network plugin describes alike; that is sound only
    if every description names the node's HNS networks. Checked on every example plan with Windows nodes."""
    from cnimodel.cluster import Cluster
    from cnimodel.plan import PlanError, load_plan

    topologies = Path(__file__).resolve().parent.parent / "topologies"
    seen = 0
    for path in sorted(topologies.glob("*.yaml")):
        try:
            cluster = Cluster.build(load_plan([path]))
        except PlanError:  # a fragment meant to be combined with another plan file
            continue
        for node in cluster.plan.nodes:
            if node.os != "windows":
                continue
            text = cluster.plugin.describe(node)
            names = [n.name for n in cluster.facts(node.name).hns_networks]
            assert all(n in text for n in names), (path.name, node.name, text, names)
            seen += bool(names)
    assert seen >= 5  # the check saw real HNS networks
