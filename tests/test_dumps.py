"""A plan from a live cluster's dump alone (issue #16 §3): `kubectl get … -A -o yaml|json` output, no ClusterPlan.

The dumps under fixtures/dumps are written by hand in the shape the API server returns (kubernetes/api@10b39a39
core/v1/types.go: NodeSpec.podCIDR(s), NodeStatus.addresses/allocatable/nodeInfo; discovery/v1 EndpointSlice),
the canal one below from canal.yaml's own ConfigMap and DaemonSet plus what the API server adds. Expected values
are derived by hand from the dumps and the upstream facts cited, never from cnimodel's output.
"""

from __future__ import annotations

import copy
import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import FIXTURES, run

from cnimodel.cluster import Cluster
from cnimodel.infer import covering
from cnimodel.plan import PlanError, load_plan

DUMPS = FIXTURES / "dumps"
HYBRID = DUMPS / "flannel-hybrid.yaml"
AKS = DUMPS / "aks-azure-cni-overlay.json"
CANAL = FIXTURES / "manifests" / "canal.yaml"


def _inferred(c: Cluster) -> dict[str, tuple[str, str, bool]]:
    return {i.field: (i.value, i.source, i.guessed) for i in c.plan.inferred}


def test_flannel_hybrid_dump_alone_builds_the_plan() -> None:
    c = Cluster.build(load_plan([HYBRID]))
    plan, got = c.plan, _inferred(c)
    assert plan.network is not None and plan.network.plugin == "flannel"
    # the flanneld container (command /opt/bin/flanneld) first; then, by image, the init container
    # install-cni-plugin (flannel-cni-plugin) and the Windows DaemonSet's kube-flannel (sigwindowstools/flannel)
    assert got["spec.network.plugin"][1].startswith("its daemon runs: DaemonSet kube-flannel/kube-flannel-ds in ")
    assert got["spec.network.plugin"][1].endswith(
        "container kube-flannel (image ghcr.io/flannel-io/flannel:v0.27.0) and 2 more")
    # net-conf.json Network, agreeing with kube-proxy's clusterCIDR and kubeadm's podSubnet (no warning)
    assert plan.cluster_cidr == IPv4Network("10.244.0.0/16")
    assert got["spec.clusterCIDR"][1].startswith("Network of net-conf.json from ConfigMap kube-flannel/kube-flannel-")
    assert plan.service_cidr == IPv4Network("10.96.0.0/12")  # kubeadm networking.serviceSubnet
    assert "kubeadm-config" in got["spec.serviceCIDR"][1] and not got["spec.serviceCIDR"][2]
    assert plan.dns_service_ip == IPv4Address("10.96.0.10")  # kube-system/kube-dns
    assert plan.node_cidr_mask_size == 24
    # kube-proxy's config.conf: mode "" is kube-proxy's default and left out; clusterCIDR kept
    assert dict(plan.kube_proxy) == {"clusterCIDR": "10.244.0.0/16", "iptables": {"masqueradeAll": False}}
    # 10.240.0.4, .5, .20, .21: smallest covering range 10.240.0.0/27, widened to a /24, gateway .1 — a guess
    (subnet,) = plan.underlay.subnets
    assert (subnet.cidr, subnet.gateway) == (IPv4Network("10.240.0.0/24"), IPv4Address("10.240.0.1"))
    assert got["spec.underlay.subnets"][2] is True
    guesses = [w for w in c.warnings if "is a guess" in w.message]
    assert [w.origin.path for w in guesses] == ["spec.underlay.subnets"]
    assert not any("says" in w.message for w in c.warnings)  # the three pod-range sources agree
    nodes = {n.name: n for n in plan.nodes}
    assert [(n.os, str(n.ip), str(n.pod_cidr)) for n in plan.nodes] == [
        ("linux", "10.240.0.4", "10.244.0.0/24"), ("linux", "10.240.0.5", "10.244.1.0/24"),
        ("windows", "10.240.0.20", "10.244.2.0/24"), ("windows", "10.240.0.21", "10.244.3.0/24")]
    # win1: the label 10.0.20348; win2 has none: kernelVersion 10.0.17763.6189 (major.minor.build.UBR)
    assert (nodes["win1"].windows_build, nodes["win2"].windows_build) == (20348, 17763)
    assert nodes["win2"].at("windowsBuild").path == "items[3].status.nodeInfo.kernelVersion"
    assert (nodes["win2"].max_pods, nodes["win2"].at("maxPods").path) == (30, "items[3].status.allocatable.pods")
    assert dict(nodes["master"].taints[0]) == {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}
    assert nodes["master"].labels["topology.kubernetes.io/zone"] == "lab-a"
    # Windows nodes: flanneld for Windows with the Windows ConfigMap's delegate (sdnoverlay), VNI 4096, UDP 4789
    assert plan.network.windows_cni is not None and plan.network.windows_cni["delegate"]["type"] == "sdnoverlay"
    vtep = c.plugin.vtep("win1")  # type: ignore[attr-defined]
    assert (vtep.vni, vtep.port) == (4096, 4789)
    # the listed pod keeps its IP
    assert str(c.allocation.pods["kube-system/coredns-668d6bf9bc-4xk2p"].ip) == "10.244.0.2"


def test_plan_infer_writes_a_clusterplan_that_reads_back_to_the_same_plan(tmp_path: Path) -> None:
    r = run("plan", "infer", str(HYBRID))
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    assert "# guessed: the smallest range (at least a /24) covering 4 nodes' InternalIPs" in text
    assert "# source: networking.serviceSubnet in ClusterConfiguration of ConfigMap kube-system/kubeadm-config" in text
    doc = yaml.safe_load(text)
    assert doc["kind"] == "ClusterPlan" and doc["spec"]["network"] == {"plugin": "flannel"}
    assert doc["spec"]["clusterCIDR"] == "10.244.0.0/16" and doc["spec"]["dnsServiceIP"] == "10.96.0.10"
    kept = tmp_path / "cluster.yaml"
    kept.write_text(text)
    alone, beside = Cluster.build(load_plan([HYBRID])), Cluster.build(load_plan([kept, HYBRID]))
    assert beside.plan.inferred == ()  # nothing left to infer: the ClusterPlan states it all
    for field in ("name", "cluster_cidr", "service_cidr", "dns_service_ip", "node_cidr_mask_size", "underlay",
                  "nodes", "kube_proxy"):
        assert getattr(beside.plan, field) == getattr(alone.plan, field), field
    assert beside.plan.network.config == alone.plan.network.config  # type: ignore[union-attr]
    assert beside.plan.network.windows_cni == alone.plan.network.windows_cni  # type: ignore[union-attr]
    assert {n: a.pod_cidr for n, a in beside.allocation.nodes.items()} == \
        {n: a.pod_cidr for n, a in alone.allocation.nodes.items()}
    assert {k: p.ip for k, p in beside.allocation.pods.items()} == {k: p.ip for k, p in alone.allocation.pods.items()}
    # an edited value replaces the inferred one
    kept.write_text(text.replace('"cidr": "10.240.0.0/24"', '"cidr": "10.240.0.0/26"').replace(
        '"name": "10.240.0.0/24"', '"name": "lab"'))
    edited = load_plan([kept, HYBRID])
    assert [(s.name, str(s.cidr)) for s in edited.underlay.subnets] == [("lab", "10.240.0.0/26")]
    j = run("plan", "infer", str(HYBRID), "-o", "json")
    assert j.exit_code == 0, j.stderr
    status = json.loads(j.stdout)["status"]["inferred"]
    dns = next(i for i in status if i["field"] == "spec.dnsServiceIP")
    assert (dns["value"], dns["guessed"]) == ("10.96.0.10", False)


def test_aks_azure_cni_overlay_dump(tmp_path: Path) -> None:
    """AKS's azure-cns DaemonSet and its cns-config ConfigMap (Azure/azure-container-networking@cbd7560:
    test/integration/manifests/cns/daemonset-linux.yaml, cnsconfig/azurecnioverlaylinuxconfigmap.yaml):
    CNIConflistScenario v4overlay is the overlay mode (cns/service/main.go:621-623)."""
    c = Cluster.build(load_plan([AKS]))
    plan, got = c.plan, _inferred(c)
    assert plan.network is not None and plan.network.plugin == "azure-cni"
    assert plan.network.config["networkPluginMode"] == "overlay"
    assert c.plugin.overlay  # type: ignore[attr-defined]
    # no kubeadm-config, no kube-proxy ConfigMap: the ranges are guesses covering what the dump shows
    assert plan.cluster_cidr == IPv4Network("10.244.0.0/22")  # 10.244.0.0/24 … 10.244.2.0/24
    assert plan.service_cidr == IPv4Network("10.0.0.0/16")  # 10.0.0.1, 10.0.0.10, 10.0.212.94
    assert got["spec.clusterCIDR"][2] and got["spec.serviceCIDR"][2]
    assert plan.dns_service_ip == IPv4Address("10.0.0.10") and not got["spec.dnsServiceIP"][2]
    assert [str(s.cidr) for s in plan.underlay.subnets] == ["10.224.0.0/24"]
    assert sorted(w.origin.path for w in c.warnings if "is a guess" in w.message) == [
        "spec.clusterCIDR", "spec.serviceCIDR", "spec.underlay.subnets"]
    nodes = {n.name: n for n in plan.nodes}
    assert nodes["akswin000000"].os == "windows" and nodes["akswin000000"].windows_build == 20348
    assert {n.max_pods for n in plan.nodes} == {250}  # status.allocatable.pods
    # plan infer names the plugin only: azure-cns's config is read from the dump again, the mode with it
    r = run("plan", "infer", str(AKS))
    assert r.exit_code == 0, r.stderr
    assert yaml.safe_load(r.stdout)["spec"]["network"] == {"plugin": "azure-cni"}
    assert "# config: networkPluginMode overlay from azure-cns's CNIConflistScenario v4overlay" in r.stdout
    kept = tmp_path / "cluster.yaml"
    kept.write_text(r.stdout)
    again = Cluster.build(load_plan([kept, AKS]))
    assert again.plan.network.config == plan.network.config and again.plugin.overlay  # type: ignore[attr-defined]
    assert (again.plan.cluster_cidr, again.plan.service_cidr) == (plan.cluster_cidr, plan.service_cidr)


def _canal_dump() -> list[dict[str, Any]]:
    """canal.yaml's canal-config and canal DaemonSet as the API server returns them, with two Linux nodes,
    Services and no kubeadm-config (a cluster not installed with kubeadm)."""
    manifest = [d for d in yaml.safe_load_all(CANAL.read_text()) if isinstance(d, dict)]
    cm = copy.deepcopy(next(d for d in manifest if d["kind"] == "ConfigMap"
                            and d["metadata"]["name"] == "canal-config"))
    ds = copy.deepcopy(next(d for d in manifest if d["kind"] == "DaemonSet"))
    for i, obj in enumerate((cm, ds)):
        obj["metadata"].update(uid=f"9d8c7b6a-5f4e-4d3c-8b2a-19080706050{i}", resourceVersion=str(400 + i),
                               creationTimestamp="2025-03-01T12:00:00Z", managedFields=[{
                                   "apiVersion": obj["apiVersion"], "fieldsType": "FieldsV1",
                                   "fieldsV1": {"f:metadata": {"f:labels": {}}}, "manager": "kubectl-client-side-apply",
                                   "operation": "Update", "time": "2025-03-01T12:00:00Z"}])
    ds["status"] = {"currentNumberScheduled": 2, "desiredNumberScheduled": 2, "numberReady": 2,
                    "observedGeneration": 1}

    def node(name: str, ip: str, cidr: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}, "name": name,
                             "resourceVersion": "9", "uid": f"uid-{name}"},
                "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
                "status": {"addresses": [{"address": ip, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
                           "allocatable": {"pods": "110"}, "capacity": {"pods": "110"},
                           "nodeInfo": {"kernelVersion": "6.1.0-30-amd64", "operatingSystem": "linux",
                                        "osImage": "Debian GNU/Linux 12 (bookworm)"}}}

    def service(ns: str, name: str, ip: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "uid": f"s-{name}"},
                "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"port": 53 if "dns" in name else 443,
                                                                         "protocol": "TCP"}], "type": "ClusterIP"},
                "status": {"loadBalancer": {}}}

    return [node("k1", "192.168.10.11", "10.244.0.0/24"), node("k2", "192.168.10.12", "10.244.1.0/24"),
            service("default", "kubernetes", "10.43.0.1"), service("kube-system", "kube-dns", "10.43.0.10"),
            service("shop", "web", "10.43.117.8"), cm, ds]


def test_canal_dump_as_json(tmp_path: Path) -> None:
    dump = tmp_path / "canal-dump.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "items": _canal_dump(), "kind": "List",
                                "metadata": {"resourceVersion": ""}}, indent=4))
    c = Cluster.build(load_plan([dump]))
    plan, got = c.plan, _inferred(c)
    # canal runs flanneld (container kube-flannel) and calico-node (policy only) in one DaemonSet
    assert (plan.network.plugin, plan.policy.plugin) == ("flannel", "calico")  # type: ignore[union-attr]
    assert "container kube-flannel" in got["spec.network.plugin"][1]
    assert "container calico-node" in got["spec.policy.plugin"][1]
    assert plan.policy.config["CALICO_NETWORKING_BACKEND"] == "none"  # canal.yaml's calico-node env
    assert plan.network.cni["plugins"][0]["type"] == "calico"  # type: ignore[index]  # cni_network_config
    assert plan.cluster_cidr == IPv4Network("10.244.0.0/16")  # net-conf.json Network
    # no kubeadm-config: 10.43.0.1 … 10.43.117.8 → 10.43.0.0/17, a guess
    assert plan.service_cidr == IPv4Network("10.43.0.0/17") and got["spec.serviceCIDR"][2]
    assert plan.dns_service_ip == IPv4Address("10.43.0.10")
    assert [str(s.cidr) for s in plan.underlay.subnets] == ["192.168.10.0/24"]
    assert c.enforcement("k1").enforced


def test_unrecognisable_plugin_names_what_was_looked_for_and_a_partial_clusterplan_fixes_it(tmp_path: Path) -> None:
    dump = json.loads(AKS.read_text())
    # no plugin daemon (a kubenet cluster; AKS kubenet has Linux nodes only)
    dump["items"] = [i for i in dump["items"] if i["kind"] != "DaemonSet" and i["metadata"]["name"] != "akswin000000"]
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump))
    with pytest.raises(PlanError) as e:
        Cluster.build(load_plan([path]))
    (err,) = e.value.problems
    assert err.origin.path == "spec.network.plugin"
    assert "the network plugin is not recognisable" in err.message
    assert "flanneld" in err.message and "azure-cns" in err.message and "kubenet" in err.message
    assert "network: {plugin: NAME}" in err.hint
    r = run("ipam", str(path))
    assert r.exit_code == 2 and "not recognisable" in r.stderr and "Traceback" not in r.stderr
    # a ClusterPlan naming only the plugin (and the route table kubenet's routes live in): the rest is inferred
    partial = tmp_path / "cluster.yaml"
    partial.write_text("apiVersion: cnimodel/v1\nkind: ClusterPlan\nmetadata: {name: shop}\n"
                       "spec:\n  network: {plugin: kubenet}\n  underlay: {routes: cloud}\n")
    c = Cluster.build(load_plan([partial, path]))
    assert c.plan.name == "shop" and c.plugin.name == "kubenet" and c.plan.underlay.routes == "cloud"
    assert "spec.network.plugin" not in _inferred(c)
    assert c.plan.cluster_cidr == IPv4Network("10.244.0.0/23")  # the two nodes' 10.244.0.0/24 and 10.244.1.0/24
    assert any(r.owner == "cloud-provider" for r in c.underlay().routes)


def test_check_takes_a_dump() -> None:
    r = run("check", str(HYBRID))
    assert r.exit_code in (0, 1), r.stderr
    assert "skipped: no ClusterPlan" not in r.stdout


def test_covering() -> None:
    assert covering([IPv4Address("10.0.0.1"), IPv4Address("10.0.0.10")]) == IPv4Network("10.0.0.0/28")
    assert covering([IPv4Network("10.244.0.0/24"), IPv4Network("10.244.2.0/24")]) == IPv4Network("10.244.0.0/22")
    assert covering([IPv4Address("10.1.2.3")]) == IPv4Network("10.1.2.3/32")
    assert covering([]) is None


def test_calico_networking_is_named_as_a_policy_plugin_without_a_network_under_it(tmp_path: Path) -> None:
    """calico.yaml runs calico-node with Calico's own networking (CALICO_NETWORKING_BACKEND bird): cnimodel models
    Calico as a policy plugin only, so the dump names no network plugin and the error says what runs."""
    items = [i for i in _canal_dump() if i["kind"] != "DaemonSet"]
    ds = next(i for i in _canal_dump() if i["kind"] == "DaemonSet")
    ds["metadata"]["name"] = "calico-node"
    ds["spec"]["template"]["spec"]["containers"] = [
        c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "calico-node"]
    path = tmp_path / "calico.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "items": [*items, ds], "kind": "List",
                                    "metadata": {"resourceVersion": ""}}))
    r = run("plan", "infer", str(path))
    assert r.exit_code == 2
    assert "the network plugin is not recognisable" in r.stderr
    assert "the policy plugin calico runs (DaemonSet kube-system/calico-node" in r.stderr


def test_a_dump_on_standard_input(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cnimodel.cli import cli

    r = CliRunner().invoke(cli, ["plan", "infer", "-"], input=HYBRID.read_text())
    assert r.exit_code == 0, r.stderr
    doc = yaml.safe_load(r.stdout)
    assert (doc["metadata"]["name"], doc["spec"]["clusterCIDR"]) == ("stdin", "10.244.0.0/16")
