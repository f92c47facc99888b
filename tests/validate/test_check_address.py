"""Address-plan checks, each with a plan that triggers it and one that does not. Capacities are derived by hand
from tools-and-planning.md §3.1–3.4 (2^(node mask − cluster prefix) node CIDRs, flannel's skipped first subnet,
AKS (nodes + surge) × (1 + maxPods), GKE's 2 × maxPods) and cni-plugins.md §2 (host-local ranges)."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from builders import write_docs
from vplans import VXLAN_4096, cluster_doc, hits, nodes, pod_doc, run_check, service

from cnimodel.cluster import Cluster
from cnimodel.ipam.engine import PodAddress
from cnimodel.plan import load_plan
from cnimodel.validate import validate


def test_addr001_overlap_is_found_in_a_plan_the_loader_would_refuse(tmp_path):
    # The loader refuses overlapping ranges (a PlanError), so the check is exercised on a plan changed after loading.
    plan = load_plan([write_docs(tmp_path / "p.yaml", [cluster_doc()])])
    cluster = Cluster.build(plan)
    assert not validate(plan, cluster, codes={"CNI-ADDR-001"}).findings
    bad = replace(plan, service_cidr=IPv4Network("10.244.128.0/17"))
    found = validate(bad, cluster, codes={"CNI-ADDR-001"}).findings
    assert len(found) == 1 and "10.244.128.0/17" in found[0].message and "10.244.0.0/16" in found[0].message


def test_addr002_link_local_range(tmp_path):
    doc = cluster_doc(nodes=[{"name": "a", "ip": "169.254.10.4"}],
                      underlay={"subnets": [{"name": "ll", "cidr": "169.254.10.0/24"}]})
    found = hits(tmp_path, [doc], "CNI-ADDR-002")
    assert len(found) == 1 and "169.254.10.0/24" in found[0].message
    assert found[0].locations[0].path == "spec.underlay.subnets[0].cidr"
    assert not hits(tmp_path, [cluster_doc()], "CNI-ADDR-002")


def test_addr003_aks_reserved_ranges_only_on_azure(tmp_path):
    doc = cluster_doc(serviceCIDR="172.30.0.0/16")
    assert len(hits(tmp_path, [doc], "CNI-ADDR-003", cloud="azure")) == 1
    assert not hits(tmp_path, [doc], "CNI-ADDR-003", cloud="none")
    assert not hits(tmp_path, [doc], "CNI-ADDR-003")  # no cloud said, none detected
    # An AKS node label says Azure without the option.
    labelled = cluster_doc(serviceCIDR="192.0.2.0/24",
                           nodes=nodes(master={"labels": {"kubernetes.azure.com/mode": "system"}}))
    assert len(hits(tmp_path, [labelled], "CNI-ADDR-003")) == 1


def test_addr004_external_ranges(tmp_path):
    found = hits(tmp_path, [cluster_doc()], "CNI-ADDR-004", external=(IPv4Network("10.240.0.0/16"),))
    assert len(found) == 1 and "underlay subnet nodes" in found[0].message
    assert not hits(tmp_path, [cluster_doc()], "CNI-ADDR-004", external=(IPv4Network("192.168.0.0/16"),))


def test_addr005_cluster_cidr_equal_to_the_node_mask(tmp_path):
    # kubernetes#85866: a /24 cluster CIDR at node mask /24 holds 2^0 = 1 node CIDR; 1 node + 1 surge needs 2.
    doc = cluster_doc(clusterCIDR="10.244.0.0/24", nodes=[{"name": "a", "ip": "10.240.0.4"}],
                      network={"plugin": "kubenet"})
    found = hits(tmp_path, [doc], "CNI-ADDR-005")
    assert len(found) == 1 and "holds 1 node pod CIDRs" in found[0].message
    assert not hits(tmp_path, [doc], "CNI-ADDR-005", surge=0)


def test_addr005_growth_on_a_16_at_24(tmp_path):
    # /16 at /24: 2^8 = 256 node CIDRs. 255 planned + 1 surge fit; 256 + 1 do not.
    assert not hits(tmp_path, [cluster_doc()], "CNI-ADDR-005", max_nodes=255)
    assert len(hits(tmp_path, [cluster_doc()], "CNI-ADDR-005", max_nodes=256)) == 1


def test_addr005_flannel_etcd_skips_the_first_subnet(tmp_path):
    # A /22 at /24 holds 4 subnets; flannel's etcd manager never leases the first (SubnetMin), leaving 3.
    net = {"plugin": "flannel", "backend": "host-gw", "subnetManager": "etcd",
           "config": {"Network": "10.244.0.0/22", "Backend": {"Type": "host-gw"}}}
    three = nodes()[:3]
    etcd = cluster_doc(clusterCIDR="10.244.0.0/22", network=net, nodes=three)
    found = hits(tmp_path, [etcd], "CNI-ADDR-005")
    assert len(found) == 1 and "holds 3 node pod CIDRs" in found[0].message
    kube = cluster_doc(clusterCIDR="10.244.0.0/22", network={**net, "subnetManager": "kube"}, nodes=three)
    assert not hits(tmp_path, [kube], "CNI-ADDR-005")  # 4 CIDRs for 3 nodes + 1 surge


def test_addr005_azure_node_subnet(tmp_path):
    # AKS: a /22 offers 1024 − 5 = 1019 addresses; at maxPods 30 each node takes 31: 1019 // 31 = 32 nodes.
    doc = cluster_doc(clusterCIDR=None, serviceCIDR="10.0.0.0/16", network={"plugin": "azure-cni",
                      "config": {"maxPods": 30}}, underlay={"subnets": [{"name": "aks", "cidr": "10.240.0.0/22"}]},
                      nodes=[{"name": "a", "ip": "10.240.0.4"}])
    del doc["spec"]["clusterCIDR"]
    assert not hits(tmp_path, [doc], "CNI-ADDR-005", max_nodes=31)
    found = hits(tmp_path, [doc], "CNI-ADDR-005", max_nodes=32)
    assert len(found) == 1 and "hold 32 nodes" in found[0].message


def test_addr006_pod_range_below_max_pods(tmp_path):
    # /26: Linux host-local .2–.62 = 61 addresses; Windows l2bridge .3–.62 = 60 (cni-plugins.md §12).
    doc = cluster_doc(nodeCIDRMaskSize=26)
    found = hits(tmp_path, [doc], "CNI-ADDR-006")
    assert {(f.message.split(" have ")[1].split(" pod addresses")[0]) for f in found} == {"61", "60"}
    assert not hits(tmp_path, [cluster_doc()], "CNI-ADDR-006")
    small = cluster_doc(nodeCIDRMaskSize=26, nodes=[{**n, "maxPods": 30} for n in nodes()])
    assert not hits(tmp_path, [small], "CNI-ADDR-006")


def test_addr007_less_than_twice_max_pods(tmp_path):
    # /25: Linux 125 addresses ≥ 110 but < 220 (GKE sizes node ranges to 2 × maxPods); /24: 253 ≥ 220.
    found = hits(tmp_path, [cluster_doc(nodeCIDRMaskSize=25)], "CNI-ADDR-007")
    assert found and any("125 pod addresses for maxPods 110" in f.message for f in found)
    assert not hits(tmp_path, [cluster_doc()], "CNI-ADDR-007")


def test_addr008_service_cidr_larger_than_12(tmp_path):
    assert len(hits(tmp_path, [cluster_doc(serviceCIDR="10.96.0.0/11")], "CNI-ADDR-008")) == 1
    assert not hits(tmp_path, [cluster_doc(serviceCIDR="10.96.0.0/12")], "CNI-ADDR-008")


def test_addr009_services_fill_the_range(tmp_path):
    # /28: 16 − 2 = 14 ClusterIPs; 80 % of 14 is 11.2, so 12 Services warn and 11 do not.
    def plan(n: int) -> list:
        return [cluster_doc(serviceCIDR="10.96.0.0/28", dnsServiceIP="10.96.0.14"),
                *(service(f"s{i}", clusterIP=f"10.96.0.{i + 2}") for i in range(n))]
    assert len(hits(tmp_path, plan(12), "CNI-ADDR-009")) == 1
    assert not hits(tmp_path, plan(11), "CNI-ADDR-009")


def test_addr010_dns_ip_is_the_kubernetes_service_address(tmp_path):
    found = hits(tmp_path, [cluster_doc(dnsServiceIP="10.96.0.1")], "CNI-ADDR-010")
    assert len(found) == 1 and found[0].locations[0].path == "spec.dnsServiceIP"
    assert not hits(tmp_path, [cluster_doc(dnsServiceIP="10.96.0.10")], "CNI-ADDR-010")


def test_addr011_service_takes_the_dns_ip(tmp_path):
    found = hits(tmp_path, [cluster_doc(), service("web", clusterIP="10.96.0.10")], "CNI-ADDR-011")
    assert len(found) == 1 and found[0].objects == ("default/web[Service]",)
    assert not hits(tmp_path, [cluster_doc(), service("kube-dns", "kube-system", clusterIP="10.96.0.10")],
                    "CNI-ADDR-011")


def test_addr012_pod_outside_its_range_is_found_in_an_allocation_changed_after_building(tmp_path):
    plan = load_plan([write_docs(tmp_path / "p.yaml", [cluster_doc(), pod_doc("a", "lin1")])])
    cluster = Cluster.build(plan)
    assert not validate(plan, cluster, codes={"CNI-ADDR-012"}).findings
    a = cluster.allocation.pods["default/a"]
    cluster.allocation.pods["default/a"] = PodAddress(a.pod, IPv4Address("10.244.9.9"), "plan")  # lin1 is 10.244.1.0/24
    found = validate(plan, cluster, codes={"CNI-ADDR-012"}).findings
    assert len(found) == 1 and "10.244.9.9" in found[0].message and "lin1" in found[0].message


def test_addr013_external_ip_of_a_pod(tmp_path):
    # lin1's first pod gets 10.244.1.2 (host-local: gateway .1, first pod .2).
    docs = [cluster_doc(), pod_doc("a", "lin1"), service("web", externalIPs=["10.244.1.2"])]
    found = hits(tmp_path, docs, "CNI-ADDR-013")
    assert len(found) == 1 and set(found[0].objects) == {"default/web[Service]", "default/a[Pod]"}
    # externalIPs on a node's address is the common, intended use.
    assert not hits(tmp_path, [cluster_doc(), pod_doc("a", "lin1"), service("web", externalIPs=["10.240.0.10"])],
                    "CNI-ADDR-013")


def test_addr013_two_services_one_cluster_ip(tmp_path):
    docs = [cluster_doc(), service("a", clusterIP="10.96.0.50"), service("b", clusterIP="10.96.0.50")]
    assert len(hits(tmp_path, docs, "CNI-ADDR-013")) == 1


def test_clean_plan_has_no_address_findings(tmp_path):
    report = run_check(tmp_path, [cluster_doc(), pod_doc("a", "lin1")])
    assert not [f for f in report.findings if f.concept == "address"]


def test_addr014_every_pod_add_fails_on_a_node(tmp_path):
    """win-overlay looks its HNS network up by the CNI conf's name (containernetworking/plugins
    win-overlay_windows.go: GetHNSNetworkByName(n.Name)); flanneld names the Overlay network flannel.<VNI>,
    so a conf named vxlan0 fails every ADD on the Windows nodes, and only there."""
    network = {**VXLAN_4096, "cni": {"name": "vxlan0", "cniVersion": "0.3.0", "type": "flannel",
                                     "delegate": {"type": "win-overlay"}}}
    docs = [cluster_doc(network=network), pod_doc("web", "win1"), pod_doc("db", "lin1")]
    (f,) = hits(tmp_path, docs, "CNI-ADDR-014")
    assert f.severity == "error"
    assert f.objects == ("win1[Node]", "win2[Node]", "default/web[Pod]")
    assert "'vxlan0'" in f.message and "'flannel.4096'" in f.message and "1 pod(s) (default/web)" in f.message
    assert f.locations[0].path == "spec.network"
    assert not hits(tmp_path, [cluster_doc(network=VXLAN_4096), pod_doc("web", "win1")], "CNI-ADDR-014")
