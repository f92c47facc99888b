"""The ovnkube config as users write it: ovnkube.conf sections, OpenShift's ovnkube-config ConfigMap, the dist
DaemonSet's OVN_* environment, with ovnkube's (and ovnkube.sh's) defaults and its refusal of overlapping ranges.

Expected values are ovn-kubernetes' own: pkg/config/config.go:31-201 (defaults), pkg/config/utils.go:50-125
(cluster-subnets), :210-222 (overlaps), dist/images/ovnkube.sh:179-221 (the dist defaults).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from ovnplans import NODES, build, config, plan_doc, write

from cnimodel.plan import PlanError, Problems, load_plan
from cnimodel.plan.errors import Origin
from cnimodel.plugins.ovn_kubernetes.config import parse_subnet_entries, read_config


def test_ovnkube_defaults() -> None:
    """Nothing given: ovnkube's code defaults (config.go:63-74, :115, :143-156, :180, :201)."""
    p = Problems()
    c = read_config({}, Origin("t"), p)
    assert not p.errors
    assert (c.mtu, c.encap_type, c.encap_port) == (1400, "geneve", 6081)
    assert [str(e) for e in c.cluster_subnets] == ["10.128.0.0/14/23"]
    assert c.service_cidrs == (IPv4Network("172.16.1.0/24"),)
    assert c.join_subnet == IPv4Network("100.64.0.0/16")
    assert c.masquerade_subnet == IPv4Network("169.254.169.0/29")
    assert c.transit_subnet == IPv4Network("100.88.0.0/16")
    assert c.hybrid_vxlan_port == 4789
    assert c.gateway_mode == ""  # config.go:1389: no --gateway-mode, no gateway
    # AllocateV4MasqueradeIPs: .1 OVN, .2 host, .3 ETP=local, .4 dummy next hop, .5 hairpin (utils.go:283-305)
    assert (c.host_masquerade_ip, c.dummy_next_hop, c.hairpin_ip) == (
        IPv4Address("169.254.169.2"), IPv4Address("169.254.169.4"), IPv4Address("169.254.169.5"))


def test_cluster_subnets_host_prefix() -> None:
    p = Problems()
    entries = parse_subnet_entries("10.128.0.0/14/23, 10.200.0.0/16", Origin("t"), p, "cluster-subnets")
    assert [(str(e.cidr), e.host_len) for e in entries] == [("10.128.0.0/14", 23), ("10.200.0.0/16", 24)]
    for bad in ("10.128.0.0/14/14", "10.128.0.0/14/33", "10.128.0.0", "10.128.0.0/14/23/1"):
        p = Problems()
        parse_subnet_entries(bad, Origin("t"), p, "cluster-subnets")
        assert p.errors, bad


@pytest.mark.parametrize(("sections", "clash"), [
    ({"gateway": {"v4-join-subnet": "10.128.0.0/16"}}, "overlaps"),                # join inside the cluster range
    ({"kubernetes": {"service-cidrs": "10.130.0.0/16"}}, "overlaps"),              # services inside it
    ({"clustermanager": {"v4-transit-switch-subnet": "100.64.0.0/16"}}, "overlaps"),  # transit = join
])
def test_overlapping_ranges_refused(tmp_path: Path, sections: dict, clash: str) -> None:
    """ovnkube exits on overlapping ranges (CheckForOverlaps, config.go:2429): a PlanError naming the field."""
    with pytest.raises(PlanError) as info:
        build(tmp_path, [plan_doc(cfg=config(**sections))])
    assert any(clash in p.message and "illegal network configuration" in p.message for p in info.value.problems)


def test_gateway_mode_checked(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        build(tmp_path, [plan_doc(cfg=config(gateway={"mode": "bridge"}))])
    assert any(p.origin.path.endswith("config.gateway.mode") for p in info.value.problems)


def test_openshift_ovnkube_config_configmap(tmp_path: Path) -> None:
    """The ovnkube.conf key of OpenShift's ovnkube-config ConfigMap (cluster-network-operator
    bindata/network/ovn-kubernetes/self-hosted/004-config.yaml), rendered by hand: gcfg sections, quoted values."""
    conf = "\n".join([
        "[default]", 'mtu="1400"', 'cluster-subnets="10.128.0.0/14/23"', 'encap-port="6081"',
        "enable-lflow-cache=true", "lflow-cache-limit-kb=1048576", "",
        "[kubernetes]", 'service-cidrs="172.30.0.0/16"', 'ovn-config-namespace="openshift-ovn-kubernetes"',
        'apiserver="https://api-int.example:6443"', 'host-network-namespace="openshift-host-network"',
        'no-hostsubnet-nodes="kubernetes.io/os=windows"', "", "[gateway]", "mode=local", "nodeport=true", "",
        "[hybridoverlay]", "enabled=true", 'cluster-subnets="10.132.0.0/14/23"'])
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ovnkube-config",
                                                                "namespace": "openshift-ovn-kubernetes"},
          "data": {"ovnkube.conf": conf}}
    doc = plan_doc(network={"plugin": "ovn-kubernetes"})
    cluster = build(tmp_path, [doc, cm])
    c = cluster.plugin.config
    assert c.gateway_mode == "local" and c.hybrid_enabled and c.nodeport
    assert [str(e) for e in c.hybrid_subnets] == ["10.132.0.0/14/23"]
    assert c.no_hostsubnet_nodes == "kubernetes.io/os=windows"
    assert any("ConfigMap openshift-ovn-kubernetes/ovnkube-config" in s for s in cluster.plugin.sources)


def test_dist_daemonset_environment(tmp_path: Path) -> None:
    """The dist manifests (dist/templates/ovn-setup.yaml.j2:55-65, ovnkube-node.yaml.j2:50, :130-211), rendered
    by hand: the ovn-config ConfigMap feeds OVN_NET_CIDR/OVN_SVC_CIDR/OVN_MTU through configMapKeyRef; variables
    left empty take ovnkube.sh's defaults (encap port 6081, ovnkube.sh:221)."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ovn-config", "namespace": "ovn-kubernetes"},
          "data": {"net_cidr": "10.244.0.0/16/24", "svc_cidr": "10.96.0.0/16", "k8s_apiserver": "https://10.0.0.5:6443",
                   "mtu": "1400", "host_network_namespace": "ovn-host-network"}}

    def ref(var: str, key: str) -> dict:
        return {"name": var, "valueFrom": {"configMapKeyRef": {"name": "ovn-config", "key": key}}}

    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"name": "ovnkube-node", "namespace": "ovn-kubernetes"},
          "spec": {"selector": {"matchLabels": {"app": "ovnkube-node"}}, "template": {
              "metadata": {"labels": {"app": "ovnkube-node"}},
              "spec": {"hostNetwork": True, "nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{
                  "name": "ovnkube-node", "image": "ghcr.io/ovn-org/ovn-kubernetes/ovn-kube-ubuntu:master",
                  "command": ["/root/ovnkube.sh", "ovn-node"],
                  "env": [ref("OVN_NET_CIDR", "net_cidr"), ref("OVN_SVC_CIDR", "svc_cidr"), ref("OVN_MTU", "mtu"),
                          {"name": "OVN_GATEWAY_MODE", "value": "shared"},
                          {"name": "OVN_HYBRID_OVERLAY_ENABLE", "value": ""}, {"name": "OVN_ENCAP_PORT", "value": ""},
                          {"name": "OVN_V4_JOIN_SUBNET", "value": ""}]}]}}}}
    doc = plan_doc(network={"plugin": "ovn-kubernetes"}, serviceCIDR="10.96.0.0/16")
    cluster = build(tmp_path, [doc, cm, ds])
    c = cluster.plugin.config
    assert [str(e) for e in c.cluster_subnets] == ["10.244.0.0/16/24"]
    assert c.service_cidrs == (IPv4Network("10.96.0.0/16"),)
    assert (c.gateway_mode, c.encap_port, c.mtu, c.nodeport) == ("shared", 6081, 1400, True)
    assert c.join_subnet == IPv4Network("100.64.0.0/16")  # empty OVN_V4_JOIN_SUBNET: ovnkube's own default
    # /24 host subnets from 10.244.0.0/16 in plan order (no rotation on an octet boundary)
    assert [str(a.pod_cidr) for a in cluster.allocation.nodes.values()] == ["10.244.0.0/24", "10.244.1.0/24"]


def test_unmodelled_key_is_a_warning(tmp_path: Path) -> None:
    plan = load_plan([write(tmp_path, [plan_doc(cfg=config(gateway={"egw-interface": "eth1"}))])])
    from cnimodel.cluster import Cluster

    cluster = Cluster.build(plan)
    assert any("egw-interface" in w.message and "not modelled" in w.message for w in cluster.warnings)


def test_plan_ranges_compared(tmp_path: Path) -> None:
    """kube-controller-manager's range is not ovnkube's: a clusterCIDR outside cluster-subnets is reported."""
    cluster = build(tmp_path, [plan_doc(clusterCIDR="10.244.0.0/16", nodes=NODES)])
    assert any("cluster-subnets" in w.message for w in cluster.warnings)
