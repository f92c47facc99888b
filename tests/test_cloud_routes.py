"""The 2018 talk's l2bridge cluster with its pod routes in the cloud route table (origin.md; cni-plugins.md §3.9,
§4.5, §6.3): one route per node, AddressPrefix = the node's podCIDR, next hop = the node IP, NextHopType
VirtualAppliance, route name = node name; the hosts hold no pod routes."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from builders import build_docs, cluster_doc, run

from cnimodel import examples
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan

TALK = examples.path("talk-l2bridge-cloud.yaml")
N = IPv4Network
A = IPv4Address


@pytest.fixture(scope="module")
def talk() -> Cluster:
    return Cluster.build(load_plan([TALK]))


def test_the_talks_two_routes(talk: Cluster) -> None:
    table = talk.underlay()
    assert table.name == "vnet-routes"
    pod_routes = {r.name: r for r in table.routes if r.kind == "pod-route"}
    lin1, win1 = pod_routes["lin1"], pod_routes["win1"]
    assert (lin1.dst, lin1.via) == (N("10.244.1.0/24"), A("10.240.0.10"))
    assert (win1.dst, win1.via) == (N("10.244.2.0/24"), A("10.240.0.20"))
    for r in (lin1, win1):
        assert r.next_hop_type == "VirtualAppliance"
        assert r.owner == "cloud-provider"
    # master has no podCIDR in the plan: kube-controller-manager gives it index 0 (1 and 2 are taken)
    assert (pod_routes["master"].dst, pod_routes["master"].via) == (N("10.244.0.0/24"), A("10.240.0.4"))
    assert len(pod_routes) == 3


def test_no_pod_routes_on_the_hosts(talk: Cluster) -> None:
    for node in ("master", "lin1", "win1"):
        assert not [r for r in talk.facts(node).routes if r.kind == "pod-route"], node


def test_hosts_in_the_talk(talk: Cluster) -> None:
    lin1 = talk.facts("lin1")
    cbr0 = lin1.device("cbr0")
    assert cbr0 is not None and [str(a) for a in cbr0.addresses] == ["10.244.1.1/24"]
    assert ("0.0.0.0/0", "10.240.0.1") in {(str(r.dst), str(r.via)) for r in lin1.routes}
    win1 = talk.facts("win1")
    assert win1.hns_api == 1  # wincni, the talk's plugin, speaks HNS v1 (2018, dockershim)
    # microsoft/SDN Kubernetes/windows start-kubelet.ps1 (2018): network "l2bridge" (wincni needs name = type)
    assert [(n.name, n.type, str(n.prefix)) for n in win1.hns_networks] == [("l2bridge", "L2Bridge", "10.244.2.0/24")]


def test_underlay_lookup(talk: Cluster) -> None:
    hit = talk.lookup("vnet-routes", A("10.244.2.7"))
    assert hit.route is not None and hit.route.name == "win1"
    assert hit.next_hop == A("10.240.0.20")
    local = talk.lookup("vnet-routes", A("10.240.0.20"))
    assert local.route is not None and local.route.kind == "connected" and local.next_hop == A("10.240.0.20")
    out = talk.lookup("vnet-routes", A("8.8.8.8"))
    assert out.route is not None and out.route.next_hop_type == "Internet"


def test_node_sends_remote_pod_traffic_to_the_vnet_gateway(talk: Cluster) -> None:
    hit = talk.lookup("lin1", A("10.244.2.7"))
    assert hit.route is not None and hit.route.dst == N("0.0.0.0/0")
    assert hit.next_hop == A("10.240.0.1")


def test_cli_underlay_json(tmp_path: Path) -> None:
    r = run("routes", str(TALK), "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    [table] = data["underlay"]
    assert table["name"] == "vnet-routes"
    rows = {(x["dst"], x["via"], x["nextHopType"], x["name"]) for x in table["routes"] if x["kind"] == "pod-route"}
    assert ("10.244.1.0/24", "10.240.0.10", "VirtualAppliance", "lin1") in rows
    assert ("10.244.2.0/24", "10.240.0.20", "VirtualAppliance", "win1") in rows


def test_kubenet_cloud_routes(tmp_path: Path) -> None:
    """kubenet (cloud-provider-azure CreateRoute): the same one-route-per-node table for a Linux cluster."""
    doc = cluster_doc(network={"plugin": "kubenet"}, nodes=[
        {"name": "aks-0", "ip": "10.240.0.4"}, {"name": "aks-1", "ip": "10.240.0.5"}])
    doc["spec"]["underlay"]["routes"] = "cloud"
    c = build_docs(tmp_path, [doc])
    rows = {(r.name, str(r.dst), str(r.via), r.next_hop_type) for r in c.underlay().routes if r.kind == "pod-route"}
    assert rows == {("aks-0", "10.244.0.0/24", "10.240.0.4", "VirtualAppliance"),
                    ("aks-1", "10.244.1.0/24", "10.240.0.5", "VirtualAppliance")}
    assert not [r for r in c.facts("aks-0").routes if r.kind == "pod-route"]
