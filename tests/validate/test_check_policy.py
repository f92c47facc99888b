"""Policy checks and cyclonus-style lints. Expected values from policy-semantics.md §2.2–2.6 (policyTypes
defaulting, empty vs missing, ports default TCP) and §7; enforcement from cni-plugins.md §3.11 and §7.5 (flannel
enforces nothing; felix on Windows acts only on HNS networks matching KUBE_NETWORK); Calico for Windows builds
from services-lb.md §4.1 (2019 and 2022)."""

from __future__ import annotations

import pytest
import yaml
from vplans import cluster_doc, hits, netpol, nodes, pod_doc, run_check

from cnimodel import examples
from cnimodel.plan import PlanError

WS2022 = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"


def labelled(name: str, node: str, app: str, **spec) -> dict:
    doc = pod_doc(name, node, **spec)
    doc["metadata"]["labels"] = {"app": app}
    return doc


def pods() -> list[dict]:
    return [labelled("web-0", "lin1", "web"), labelled("iis-0", "win1", "iis", containers=[{"name": "c",
                                                                                         "image": WS2022}])]


def calico(kube_network: str = "Calico.*") -> dict:
    return {"plugin": "calico", "config": {"CALICO_NETWORKING_BACKEND": "none", "KUBE_NETWORK": kube_network}}


def test_pol001_policy_on_flannel_alone(tmp_path):
    deny = netpol("deny", podSelector={"matchLabels": {"app": "iis"}}, policyTypes=["Ingress"])
    found = hits(tmp_path, [cluster_doc(), *pods(), deny], "CNI-POL-001")
    assert len(found) == 1 and "selects 1 pod(s) on 1 node(s)" in found[0].message and "(win1:" in found[0].message
    assert found[0].objects[0] == "default/deny[NetworkPolicy]"
    # Calico policy-only with KUBE_NETWORK matching flannel's L2Bridge network cbr0 enforces on every node.
    assert not hits(tmp_path, [cluster_doc(policy=calico("^cbr0$")), *pods(), deny], "CNI-POL-001")


def test_pol001_pol002_kube_network_not_matching(tmp_path):
    # The default KUBE_NETWORK "Calico.*" does not match cbr0: felix enforces nothing on the Windows nodes.
    deny = netpol("deny", podSelector={"matchLabels": {"app": "iis"}}, policyTypes=["Ingress"])
    docs = [cluster_doc(policy=calico()), *pods(), deny]
    assert len(hits(tmp_path, docs, "CNI-POL-001")) == 1
    idle = hits(tmp_path, docs, "CNI-POL-002")
    assert len(idle) == 1 and "2 windows node(s) (win1, win2" in idle[0].message and "KUBE_NETWORK" in idle[0].message
    assert not hits(tmp_path, [cluster_doc(policy=calico("^cbr0$")), *pods()], "CNI-POL-002")
    assert not hits(tmp_path, [cluster_doc(), *pods()], "CNI-POL-002")  # no policy plugin: nothing to be idle


def test_pol003_calico_for_windows_builds(tmp_path):
    docs = [cluster_doc(policy=calico("^cbr0$"), nodes=nodes(win1={"windowsBuild": 26100})), *pods()]
    found = hits(tmp_path, docs, "CNI-POL-003")
    assert len(found) == 1 and "build 26100" in found[0].message and "(win1)" in found[0].message
    assert not hits(tmp_path, [cluster_doc(policy=calico("^cbr0$")), *pods()], "CNI-POL-003")


def test_pol010_default_deny_egress_blocks_dns(tmp_path):
    web_only = netpol("egress", policyTypes=["Egress"], egress=[{"ports": [{"port": 80, "protocol": "TCP"}]}])
    found = hits(tmp_path, [web_only], "CNI-POL-010")
    assert len(found) == 1 and "UDP 53 or TCP 53" in found[0].message
    udp_only = netpol("egress", policyTypes=["Egress"], egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])
    found = hits(tmp_path, [udp_only], "CNI-POL-010")
    assert len(found) == 1 and "allows TCP 53 to" in found[0].message
    both = netpol("egress", policyTypes=["Egress"], egress=[{"ports": [{"port": 53, "protocol": "UDP"},
                                                                       {"port": 53, "protocol": "TCP"}]}])
    assert not hits(tmp_path, [both], "CNI-POL-010")
    # A second policy on the same pods that allows DNS lifts the block (rules of one target add up).
    dns = netpol("dns", policyTypes=["Egress"], egress=[{"ports": [{"port": 53, "protocol": "UDP"},
                                                                   {"port": 53, "protocol": "TCP"}]}])
    assert not hits(tmp_path, [web_only, dns], "CNI-POL-010")
    assert not hits(tmp_path, [netpol("ingress-only", policyTypes=["Ingress"])], "CNI-POL-010")


def test_pol011_policy_selects_nothing(tmp_path):
    typo = netpol("typo", podSelector={"matchLabels": {"app": "isi"}}, policyTypes=["Ingress"])
    found = hits(tmp_path, [cluster_doc(), *pods(), typo], "CNI-POL-011")
    assert len(found) == 1 and found[0].objects == ("default/typo[NetworkPolicy]",)
    ok = netpol("ok", podSelector={"matchLabels": {"app": "iis"}}, policyTypes=["Ingress"])
    assert not hits(tmp_path, [cluster_doc(), *pods(), ok], "CNI-POL-011")


def test_pol012_pol013_policy_types(tmp_path):
    egress_only = netpol("e", egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])
    found = hits(tmp_path, [egress_only], "CNI-POL-012")
    assert len(found) == 1 and "[Ingress, Egress]" in found[0].message
    assert not hits(tmp_path, [egress_only], "CNI-POL-013")
    ingress = netpol("i", ingress=[{}])
    assert len(hits(tmp_path, [ingress], "CNI-POL-013")) == 1
    assert not hits(tmp_path, [ingress], "CNI-POL-012")
    explicit = netpol("x", policyTypes=["Ingress", "Egress"], egress=[{}])
    assert not hits(tmp_path, [explicit], "CNI-POL-012") and not hits(tmp_path, [explicit], "CNI-POL-013")


def test_pol014_port_without_protocol(tmp_path):
    bare = netpol("p", policyTypes=["Ingress"], ingress=[{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}])
    found = hits(tmp_path, [bare], "CNI-POL-014")
    assert len(found) == 1 and found[0].locations[0].path == "spec.ingress[0].ports[0]"
    full = netpol("p", policyTypes=["Ingress"], ingress=[{"ports": [{"port": 80, "protocol": "TCP"}]}])
    assert not hits(tmp_path, [full], "CNI-POL-014")


def test_pol015_retired_duplicates_are_load_errors(tmp_path):
    """CNI-POL-015 is retired: the loader refuses a policy given twice; the same name in another namespace or
    API group is another object."""
    from cnimodel.validate import CHECKS

    a, b = netpol("same", policyTypes=["Ingress"]), netpol("same", policyTypes=["Egress"])
    assert "CNI-POL-015" not in CHECKS
    with pytest.raises(PlanError, match=r"NetworkPolicy default/same \(networking.k8s.io\) is given twice"):
        hits(tmp_path, [a, b], "CNI-POL-001")
    calico = {**b, "apiVersion": "projectcalico.org/v3"}
    assert not hits(tmp_path, [a, netpol("same", "other", policyTypes=["Egress"]), calico], "CNI-POL-015")


def test_pol016_shadowed_rules(tmp_path):
    peer = {"podSelector": {"matchLabels": {"app": "client"}}}
    covered = netpol("s", policyTypes=["Ingress"], ingress=[
        {"from": [peer], "ports": [{"port": 80, "endPort": 90, "protocol": "TCP"}]},
        {"from": [peer], "ports": [{"port": 85, "protocol": "TCP"}]}])
    found = hits(tmp_path, [covered], "CNI-POL-016")
    assert len(found) == 1 and "ingress rule 2" in found[0].message and "ingress rule 1" in found[0].message
    assert found[0].locations[0].path == "spec.ingress[1]"
    allow_all = netpol("a", policyTypes=["Ingress"], ingress=[{}, {"from": [peer]}])
    assert len(hits(tmp_path, [allow_all], "CNI-POL-016")) == 1
    udp = netpol("u", policyTypes=["Ingress"], ingress=[
        {"from": [peer], "ports": [{"port": 80, "endPort": 90, "protocol": "TCP"}]},
        {"from": [peer], "ports": [{"port": 85, "protocol": "UDP"}]}])
    other_peer = netpol("o", policyTypes=["Ingress"], ingress=[
        {"from": [peer]}, {"from": [{"podSelector": {"matchLabels": {"app": "other"}}}]}])
    assert not hits(tmp_path, [udp], "CNI-POL-016") and not hits(tmp_path, [other_peer], "CNI-POL-016")


def test_lints_run_on_manifests_without_a_cluster_plan(tmp_path):
    report = run_check(tmp_path, [netpol("e", egress=[{"ports": [{"port": 80}]}])])
    codes = {f.code for f in report.findings}
    assert {"CNI-POL-010", "CNI-POL-012", "CNI-POL-014"} <= codes
    assert "CNI-ADDR-005" in report.skipped and "CNI-POL-010" in report.ran


def test_canal_windows_topology_enforces_everywhere(tmp_path):
    docs = [d for d in yaml.safe_load_all(examples.path("canal-windows.yaml").read_text()) if d]
    report = run_check(tmp_path, docs)
    assert not {"CNI-POL-001", "CNI-POL-002"} & {f.code for f in report.findings}
