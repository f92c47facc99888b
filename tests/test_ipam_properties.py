"""Property tests over generated plans: node pod CIDRs never overlap and follow kube-controller-manager's index
arithmetic; every pod IP lies in its node's pod CIDR, is unique, and never lands on a reserved address
(network, .1 gateway, broadcast; Windows l2bridge also .2); unplaced pods take the lowest free addresses in
order (host-local's sequential walk)."""

from __future__ import annotations

import itertools
import json
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan


@st.composite
def plans(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    prefix = draw(st.integers(12, 22))
    mask = draw(st.integers(max(prefix, 22), 28))
    cluster = IPv4Network((10 << 24 | draw(st.integers(0, (1 << (prefix - 8)) - 1)) << (32 - prefix), prefix))
    total = 1 << (mask - prefix)
    n_nodes = draw(st.integers(1, min(total, 8)))
    # some nodes come with a podCIDR already (distinct indexes)
    given_idx = draw(st.lists(st.integers(0, total - 1), max_size=n_nodes, unique=True))
    nodes = []
    for i in range(n_nodes):
        node: dict[str, Any] = {"name": f"n{i}", "ip": f"192.168.0.{10 + i}",
                                "os": draw(st.sampled_from(["linux", "windows"]))}
        if i < len(given_idx) and draw(st.booleans()):
            node["podCIDR"] = str(IPv4Network((int(cluster.network_address) + (given_idx[i] << (32 - mask)), mask)))
        nodes.append(node)
    size = 1 << (32 - mask)
    pods = []
    for node in nodes:
        usable = size - 3 - (1 if node["os"] == "windows" else 0)
        count = draw(st.integers(0, min(usable, 12)))
        for k in range(count):
            pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod",
                                   "metadata": {"name": f"{node['name']}-p{k}", "namespace": "default"},
                                   "spec": {"nodeName": node["name"]}}
            pods.append(pod)
    doc = {"apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": "prop"},
           "spec": {"clusterCIDR": str(cluster), "serviceCIDR": "172.16.0.0/16", "nodeCIDRMaskSize": mask,
                    "network": {"plugin": "flannel", "backend": "host-gw"},
                    "underlay": {"subnets": [{"name": "nodes", "cidr": "192.168.0.0/24"}]}, "nodes": nodes}}
    return doc, pods


def reserved(cidr: IPv4Network, windows: bool) -> set[IPv4Address]:
    base = cidr.network_address
    out = {base, base + 1, cidr.broadcast_address}
    if windows:
        out.add(base + 2)
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(), st.data())
def test_allocations_never_overlap_and_pods_stay_in_their_range(generated, data: st.DataObject) -> None:
    doc, pods = generated
    nodes = {n["name"]: n for n in doc["spec"]["nodes"]}
    cluster = IPv4Network(doc["spec"]["clusterCIDR"])
    mask = doc["spec"]["nodeCIDRMaskSize"]
    # expected node CIDRs: the given ones, then free indexes in node order (kube-controller-manager)
    used = {(int(IPv4Network(n["podCIDR"]).network_address) - int(cluster.network_address)) >> (32 - mask)
            for n in nodes.values() if "podCIDR" in n}
    expected: dict[str, IPv4Network] = {}
    free = (i for i in range(1 << (mask - cluster.prefixlen)) if i not in used)
    for name, n in nodes.items():
        if "podCIDR" in n:
            expected[name] = IPv4Network(n["podCIDR"])
        else:
            expected[name] = IPv4Network((int(cluster.network_address) | (next(free) << (32 - mask)), mask))
    # some pods come with a status.podIP: a free, non-reserved address of their node's range
    taken: dict[str, set[IPv4Address]] = {name: set() for name in nodes}
    for pod in pods:
        node = pod["spec"]["nodeName"]
        if data.draw(st.booleans()):
            cidr = expected[node]
            choices = [a for a in cidr if a not in reserved(cidr, nodes[node]["os"] == "windows")
                       and a not in taken[node]]
            ip = data.draw(st.sampled_from(choices))
            taken[node].add(ip)
            pod["status"] = {"podIP": str(ip)}
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [doc, *pods]})
    c = Cluster.build(load_plan([], texts={"plan.json": text}))

    got = {name: c.allocation.nodes[name].pod_cidr for name in nodes}
    assert got == expected
    values = list(got.values())
    for a, b in itertools.combinations(values, 2):
        assert not a.overlaps(b)
    assert all(v.subnet_of(cluster) for v in values)

    seen: set[IPv4Address] = set()
    for name, n in nodes.items():
        cidr = got[name]
        windows = n["os"] == "windows"
        mine = [p for p in pods if p["spec"]["nodeName"] == name]
        ips = [c.pod_ip(f"default/{p['metadata']['name']}") for p in mine]
        for ip in ips:
            assert ip in cidr
            assert ip not in reserved(cidr, windows)
            assert ip not in seen
            seen.add(ip)
        # pods without a podIP take the lowest free addresses, in plan order
        lowest = (a for a in cidr if a not in reserved(cidr, windows) and a not in taken[name])
        for p, ip in zip(mine, ips, strict=True):
            if "status" in p:
                assert ip == IPv4Address(p["status"]["podIP"])
            else:
                assert ip == next(lowest)
