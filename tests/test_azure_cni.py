"""Azure CNI: VNet addressing, sizing, the Linux transparent view, the Windows L2Bridge view, overlay.

Expected values come from cni-plugins.md §6 and §10.3 and tools-and-planning.md §3.1, worked by hand:
Azure keeps 5 addresses per subnet (.0, .1 gateway, .2/.3 DNS, broadcast), a node takes 1 + maxPods, and
the AKS example needs 51 + 51×30 = 1,581 addresses, which a /22 (1,024 − 5 = 1,019) cannot hold and a
/21 (2,048 − 5 = 2,043) can.
"""

from __future__ import annotations

import hashlib
import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
from builders import at, build_docs, plan_errors, pod_doc, run, write_docs

from cnimodel.plugins import _azure_ipam as vnet


def azure_doc(nodes: list[dict[str, Any]], subnet: str = "10.240.0.0/22", **config: Any) -> dict[str, Any]:
    return {"apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": "aks"}, "spec": {
        "serviceCIDR": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10",
        "network": {"plugin": "azure-cni", "config": config},
        "underlay": {"subnets": [{"name": "aks-subnet", "cidr": subnet, "gateway": str(IPv4Network(subnet)[1])}]},
        "nodes": nodes}}


def aks_nodes(count: int, first: int = 4, step: int = 31, windows: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    base = int(IPv4Address("10.240.0.0"))
    return [{"name": f"n{i}", "os": "windows" if i in windows else "linux",
             "ip": str(IPv4Address(base + first + i * step))} for i in range(count)]


# --- sizing -----------------------------------------------------------------------------------------

def test_aks_planning_example_figures() -> None:
    assert vnet.addresses_needed([30] * 50, 1, 30) == 1581
    assert vnet.smallest_prefix(1581) == 21
    assert vnet.addresses_needed([30] * 60, 1, 30) == 1891 and vnet.smallest_prefix(1891) == 21
    assert vnet.usable(22) == 1019 and vnet.usable(21) == 2043


def test_fifty_nodes_do_not_fit_a_22_and_the_error_names_a_21(tmp_path: Path) -> None:
    problems = plan_errors(tmp_path, [azure_doc(aks_nodes(50, step=1))])
    p = at(problems, "spec.underlay.subnets[0].cidr")
    assert "1,581" in p.message and "1,019" in p.message
    assert "/21" in p.hint


def test_fifty_nodes_fit_a_21(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [azure_doc(aks_nodes(50, step=1), subnet="10.240.0.0/21")])
    assert all(n.capacity == 30 for n in c.allocation.nodes.values())
    assert c.allocation.max_nodes == 2043 // 31


def test_surge_counts(tmp_path: Path) -> None:
    # 32 nodes at 30 pods need 32 × 31 = 992 of the /22's 1,019 addresses; with the default surge of one
    # node (32 + 1) × 31 = 1,023 — too many; with maxSurge 0 it fits.
    assert plan_errors(tmp_path, [azure_doc(aks_nodes(32, step=1))])
    build_docs(tmp_path, [azure_doc(aks_nodes(32, step=1), maxSurge=0)])


# --- §10.3 ------------------------------------------------------------------------------------------

@pytest.fixture
def worked_103(tmp_path: Path) -> Path:
    nodes = [{"name": "master", "os": "linux", "ip": "10.240.0.4"},
             {"name": "lin1", "os": "linux", "ip": "10.240.0.35"},
             {"name": "win1", "os": "windows", "ip": "10.240.0.66"},
             {"name": "win2", "os": "windows", "ip": "10.240.0.97"}]
    docs = [azure_doc(nodes), pod_doc("client", "lin1"), pod_doc("client2", "lin1"),
            pod_doc("iis", "win1", namespace="web")]
    return write_docs(tmp_path / "aks.yaml", docs)


def test_worked_example_addressing(worked_103: Path) -> None:
    out = json.loads(run("ipam", str(worked_103), "-o", "json").stdout)
    nodes = {n["name"]: n for n in out["nodes"]}
    lin1 = nodes["lin1"]
    assert lin1["gateway"] == "10.240.0.1"
    reserved = {r["ip"]: r["reason"] for r in lin1["reserved"]}
    for ip in ("10.240.0.0", "10.240.0.1", "10.240.0.2", "10.240.0.3", "10.240.3.255"):
        assert "Azure reserved" in reserved[ip]
    assert "primary IP" in reserved["10.240.0.35"]
    # lin1's 30 secondary IPs follow its primary: .36–.65.
    assert (lin1["rangeStart"], lin1["rangeEnd"], lin1["capacity"]) == ("10.240.0.36", "10.240.0.65", 30)
    pods = {p["name"]: p["ip"] for p in out["pods"]}
    assert pods == {"client": "10.240.0.36", "client2": "10.240.0.37", "iis": "10.240.0.67"}
    # 1,019 usable addresses hold 32 nodes of 31.
    assert out["capacity"]["maxNodes"] == 32 and out["capacity"]["podsPerNode"] == 30


def test_no_pod_routes_anywhere(worked_103: Path) -> None:
    out = json.loads(run("routes", str(worked_103), "-o", "json").stdout)
    for node in out["nodes"]:
        assert not [r for r in node["routes"] if r["kind"] == "pod-route"], node["name"]
    assert not [r for r in out["underlay"][0]["routes"] if r["kind"] == "pod-route"]
    # A pod on another node is delivered by the VNet: the underlay's connected subnet.
    hit = json.loads(run("lookup", str(worked_103), "10.240.0.67", "--node", "underlay", "-o", "json").stdout)
    assert hit["route"]["dst"] == "10.240.0.0/22" and hit["route"]["nextHopType"] == "VnetLocal"


def test_the_vnet_delivers_a_pod_address_to_its_node(worked_103: Path) -> None:
    """lin1's client → win1's iis: lin1's connected /22 sends to 10.240.0.67 on-link, the VNet hands it to
    win1 (a secondary IP of its NIC), win1 delivers it to the pod."""
    out = json.loads(run("trace", str(worked_103), "default/client", "web/iis", "-o", "json").stdout)
    trace = out["traces"][0] if "traces" in out else out
    assert trace["disposition"] == "ACCEPTED"
    assert [h["node"] for h in trace["hops"]] == ["default/client", "lin1", "win1", "web/iis"]


def test_linux_transparent_view(worked_103: Path) -> None:
    out = json.loads(run("routes", str(worked_103), "--node", "lin1", "-o", "json").stdout)["nodes"][0]
    veth = "azv" + hashlib.sha1(b"default.client").hexdigest()[:11]
    host = [r for r in out["routes"] if r["dst"] == "10.240.0.36/32"]
    assert len(host) == 1 and host[0]["dev"] == veth and host[0]["via"] is None
    dev = next(d for d in out["devices"] if d["name"] == veth)
    assert dev["mac"] == "aa:aa:aa:aa:aa:aa"
    assert any("169.254.1.1" in n for n in out["notes"])
    ip = run("routes", str(worked_103), "--node", "lin1", "-o", "ip").stdout
    # iproute2 prints a /32 destination as the bare address
    assert f"10.240.0.36 dev {veth}" in ip.splitlines() and "10.240.0.36/32" not in ip


def test_windows_l2bridge_view(worked_103: Path) -> None:
    out = json.loads(run("routes", str(worked_103), "--node", "win1", "-o", "hns").stdout)["win1"]
    net = next(o for o in out if o.get("ObjectType") == "Network")
    assert net["Name"] == "azure" and net["Type"] == "L2Bridge"
    subnet = net["Ipams"][0]["Subnets"][0]
    assert subnet["IpAddressPrefix"] == "10.240.0.0/22"
    ep = next(o for o in out if o.get("ObjectType") == "Endpoint" and o.get("Role") == "pod")
    assert ep["IpConfigurations"][0]["IpAddress"] == "10.240.0.67"
    assert ep["Routes"][0]["NextHop"] == "10.240.0.1"
    policies = {p["Type"]: p["Settings"] for p in ep["Policies"]}
    assert policies["OutBoundNAT"]["Exceptions"] == ["10.240.0.0/22", "10.0.0.0/16"]
    assert policies["SDNRoute"] == {"DestinationPrefix": "10.0.0.0/16", "NeedEncap": True}
    assert ep["Dns"]["ServerList"] == ["10.0.0.10", "168.63.129.16"]


# --- secondary IPs and maxPods ---------------------------------------------------------------------

def test_adjacent_primaries_are_skipped(tmp_path: Path) -> None:
    # Nodes at .4 and .5: node 0 takes .6–.35 (30 addresses after skipping .5), node 1 .36–.65.
    c = build_docs(tmp_path, [azure_doc(aks_nodes(2, step=1)), pod_doc("a", "n1")])
    r0, r1 = c.allocation.nodes["n0"].range, c.allocation.nodes["n1"].range
    assert r0 is not None and r1 is not None
    assert (str(r0.start), str(r0.end), r0.usable()) == ("10.240.0.6", "10.240.0.35", 30)
    assert (str(r1.start), str(r1.end)) == ("10.240.0.36", "10.240.0.65")
    assert str(c.pod_ip("default/a")) == "10.240.0.36"


def test_pod_ip_of_another_node_is_rejected(tmp_path: Path) -> None:
    problems = plan_errors(tmp_path, [azure_doc(aks_nodes(2)), pod_doc("a", "n1", ip="10.240.0.10")])
    assert at(problems, "status.podIP").message.startswith("10.240.0.10 is outside node 'n1'")


def test_node_on_an_azure_reserved_address(tmp_path: Path) -> None:
    nodes = [{"name": "n0", "os": "linux", "ip": "10.240.0.2"}]
    assert "Azure DNS" in at(plan_errors(tmp_path, [azure_doc(nodes)]), "spec.nodes[0].ip").message


@pytest.mark.parametrize(("node_max", "config", "expected"), [
    (None, {}, 30), (50, {}, 50), (None, {"maxPods": 40}, 40), (20, {"maxPods": 40}, 20),
])
def test_max_pods(tmp_path: Path, node_max: int | None, config: dict[str, Any], expected: int) -> None:
    nodes = aks_nodes(1)
    if node_max is not None:
        nodes[0]["maxPods"] = node_max
    c = build_docs(tmp_path, [azure_doc(nodes, **config)])
    assert c.allocation.nodes["n0"].capacity == expected


def test_max_pods_bounds(tmp_path: Path) -> None:
    nodes = aks_nodes(1)
    nodes[0]["maxPods"] = 5
    assert "10–250" in at(plan_errors(tmp_path, [azure_doc(nodes)]), "spec.nodes[0].maxPods").message


# --- overlay ---------------------------------------------------------------------------------------

def overlay_doc(**spec: Any) -> dict[str, Any]:
    doc = azure_doc(aks_nodes(3, step=1, windows=(2,)), subnet="10.224.0.0/24", networkPluginMode="overlay")
    doc["spec"].update({"clusterCIDR": "10.244.0.0/16", **spec})
    return doc


def test_overlay_one_24_per_node_routed_by_the_vnet(tmp_path: Path) -> None:
    doc = overlay_doc()
    for n in doc["spec"]["nodes"]:
        n["ip"] = n["ip"].replace("10.240", "10.224")
    c = build_docs(tmp_path, [doc, pod_doc("w", "n2")])
    assert [str(a.pod_cidr) for a in c.allocation.nodes.values()] == ["10.244.0.0/24", "10.244.1.0/24",
                                                                      "10.244.2.0/24"]
    routes = {str(r.dst): (str(r.via), r.name) for r in c.underlay().routes if r.kind == "pod-route"}
    assert routes == {"10.244.0.0/24": ("10.224.0.4", "n0"), "10.244.1.0/24": ("10.224.0.5", "n1"),
                      "10.244.2.0/24": ("10.224.0.6", "n2")}
    assert all(n.capacity == 250 for n in c.allocation.nodes.values())  # AKS overlay default maxPods
    assert not any(r.kind == "pod-route" for r in c.facts("n0").routes)  # no routes on the hosts
    win = c.facts("n2").hns_networks[0]
    assert str(win.prefix) == "10.244.2.0/24" and win.type == "L2Bridge"


def test_overlay_needs_24s(tmp_path: Path) -> None:
    doc = overlay_doc(nodeCIDRMaskSize=25)
    for n in doc["spec"]["nodes"]:
        n["ip"] = n["ip"].replace("10.240", "10.224")
    assert "/24" in at(plan_errors(tmp_path, [doc]), "spec.nodeCIDRMaskSize").message


# --- policy ----------------------------------------------------------------------------------------

def test_azure_cni_alone_enforces_no_policy(worked_103: Path) -> None:
    out = json.loads(run("routes", str(worked_103), "-o", "json").stdout)
    assert [n["policy"]["enforced"] for n in out["nodes"]] == [False] * 4


def test_calico_ipam_cannot_replace_azure_ipam(tmp_path: Path) -> None:
    doc = azure_doc(aks_nodes(1))
    doc["spec"]["policy"] = {"plugin": "calico", "config": {"ipam": "calico-ipam"}}
    assert "azure-vnet-ipam" in at(plan_errors(tmp_path, [doc]), "spec.policy.config.ipam").message


def test_topologies_build() -> None:
    top = Path(__file__).parent.parent / "topologies"
    for name in ("aks-azure-cni.yaml", "aks-azure-cni-overlay.yaml"):
        assert run("routes", str(top / name), "-o", "json").exit_code == 0


def test_placement_takes_the_plugins_pod_capacity_only_when_handed_it(tmp_path: Path) -> None:
    """Azure CNI gives a node without maxPods AKS's node-subnet default of 30 pods (azure_cni.max_pods); the plan
    layer learns that only through the installed plugins' view (``installed=``): 40 replicas on one node are 30
    placed and 10 Pending with it, and all 40 placed by the node's own default of 110 without it."""
    from builders import MULTI_OS_IMAGE

    from cnimodel.plan import load_plan
    from cnimodel.plugin import installed

    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
                  "spec": {"replicas": 40, "selector": {"matchLabels": {"app": "web"}}, "template": {
                      "metadata": {"labels": {"app": "web"}},
                      "spec": {"containers": [{"name": "c", "image": MULTI_OS_IMAGE}]}}}}
    path = write_docs(tmp_path / "plan.yaml", [azure_doc(aks_nodes(1)), deployment])
    with_view = load_plan([path], installed=installed())
    bare = load_plan([path])
    assert sum(p.node == "n0" for p in with_view.pods) == 30 and sum(p.node is None for p in with_view.pods) == 10
    assert sum(p.node == "n0" for p in bare.pods) == 40
