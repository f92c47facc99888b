"""Azure CNI's mode comes from its conf, as azure-vnet reads it.

The confs below are written by hand in the shapes AKS ships (Azure/azure-container-networking@cbd7560:
cni/azure-linux.conflist, azure-linux-swift.conflist, azure-linux-swift-overlay.conflist, azure-windows.conflist,
azure-windows-swift.conflist, azure-windows-swift-overlay.conflist, and CNS's generated v4overlay conf,
cns/cniconflist/testdata/fixtures/azure-linux-swift-v4overlay.conflist). Expected values are worked from the
plugin's code: ipam.type azure-cns + ipam.mode overlay/v4overlay/dualStackOverlay is overlay
(cni/network/invoker_cns.go:267), azure-cns otherwise SWIFT pod subnet, anything else node subnet
(cni/network/network.go:576-583). Overlay on Linux: CNS hands out the whole /24 with gateway 169.254.1.1
(conversion_linux.go:24-30, network_linux.go:133); on Windows .2–.254 with gateway .1 (conversion_windows.go:22-29,
69). Pod subnet: the pool is 16 × ⌈0.5 + pods/16⌉ (cns/ipampool/v2/monitor.go:178-180; docs/feature/ipammath:
25 pods → 48), after the network container's primary IP; Linux routes the pod subnet via the node subnet's
gateway and SNATs Azure DNS to that primary IP (invoker_cns.go:297-335); Windows adds OutBoundNAT policies for
Azure DNS (VirtualIP = the primary IP) and IMDS when executionMode is v4swift (network_windows.go:388-402).
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from builders import at, build_docs, plan_errors, pod_doc, run, write_docs

from cnimodel.plugins import _azure_ipam as vnet

PORTMAP = {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True}
LINUX = {"cniVersion": "0.3.0", "name": "azure", "plugins": [
    {"type": "azure-vnet", "mode": "transparent", "ipsToRouteViaHost": ["169.254.20.10"],
     "ipam": {"type": "azure-vnet-ipam"}}, PORTMAP]}
LINUX_SWIFT = {"cniVersion": "0.3.0", "name": "azure", "plugins": [
    {"type": "azure-vnet", "mode": "transparent", "executionMode": "v4swift", "ipsToRouteViaHost": ["169.254.20.10"],
     "ipam": {"type": "azure-cns"}}, PORTMAP]}
LINUX_OVERLAY = {"cniVersion": "0.3.0", "name": "azure", "plugins": [
    {"type": "azure-vnet", "mode": "transparent", "ipsToRouteViaHost": ["169.254.20.10"],
     "ipam": {"type": "azure-cns", "mode": "overlay"}}, PORTMAP]}
CNS_V4OVERLAY = {"cniVersion": "0.3.0", "name": "azure", "plugins": [
    {"type": "azure-vnet", "mode": "transparent", "ipsToRouteViaHost": ["169.254.20.10"], "executionMode": "v4swift",
     "ipam": {"mode": "v4overlay", "type": "azure-cns"}, "dns": {}, "runtimeConfig": {"dns": {}},
     "windowsSettings": {}}, PORTMAP]}


def windows_conf(ipam: dict[str, str], **extra: Any) -> dict[str, Any]:
    """azure-windows*.conflist: the same DNS and AdditionalArgs in every variant, ipam and executionMode differ."""
    return {"cniVersion": "0.3.0", "name": "azure", "adapterName": "", "plugins": [{
        "type": "azure-vnet", **extra, "capabilities": {"portMappings": True, "dns": True}, "ipam": ipam,
        "dns": {"Nameservers": ["10.0.0.10", "168.63.129.16"], "Search": ["svc.cluster.local"]},
        "AdditionalArgs": [
            {"Name": "EndpointPolicy",
             "Value": {"Type": "OutBoundNAT", "ExceptionList": ["10.240.0.0/16", "10.0.0.0/8"]}},
            {"Name": "EndpointPolicy",
             "Value": {"Type": "ROUTE", "DestinationPrefix": "10.0.0.0/8", "NeedEncap": True}}],
    }]}


WINDOWS = windows_conf({"type": "azure-vnet-ipam"})
WINDOWS_SWIFT = windows_conf({"type": "azure-cns"}, executionMode="v4swift")
WINDOWS_OVERLAY = windows_conf({"type": "azure-cns", "mode": "overlay"})

NODES = [{"name": "lin0", "os": "linux", "ip": "10.240.0.4"},
         {"name": "lin1", "os": "linux", "ip": "10.240.0.5"},
         {"name": "win0", "os": "windows", "ip": "10.240.0.6", "windowsBuild": 20348}]


def plan(cni: dict[str, Any] | None = None, *, cluster_cidr: str | None = None, pod_subnet: bool = False,
         nodes: list[dict[str, Any]] | None = None, **config: Any) -> dict[str, Any]:
    subnets = [{"name": "nodes", "cidr": "10.240.0.0/16", "gateway": "10.240.0.1"}]
    if pod_subnet:
        subnets.append({"name": "pods", "cidr": "10.241.0.0/16", "gateway": "10.241.0.1"})
    network: dict[str, Any] = {"plugin": "azure-cni", "config": config}
    if cni is not None:
        network["cni"] = cni
    spec: dict[str, Any] = {"serviceCIDR": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "network": network,
                            "underlay": {"name": "vnet", "subnets": subnets}, "nodes": nodes or NODES}
    if cluster_cidr:
        spec["clusterCIDR"] = cluster_cidr
    return {"apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": "aks"}, "spec": spec}


IIS = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
PODS = [pod_doc("a", "lin0"), pod_doc("b", "lin1"), pod_doc("w", "win0", containers=[{"name": "c", "image": IIS}])]


def warnings_at(cluster: Any, path: str) -> list[Any]:
    return [w for w in cluster.warnings if w.origin.path == path]


# --- the mode from the conf ----------------------------------------------------------------------------

@pytest.mark.parametrize(("cni", "mode"), [
    (LINUX, "node-subnet"), (WINDOWS, "node-subnet"),
    (LINUX_OVERLAY, "overlay"), (WINDOWS_OVERLAY, "overlay"), (CNS_V4OVERLAY, "overlay"),
    (LINUX_SWIFT, "pod-subnet"), (WINDOWS_SWIFT, "pod-subnet"),
])
def test_mode_from_shipped_confs(tmp_path: Path, cni: dict[str, Any], mode: str) -> None:
    extra: dict[str, Any] = {"overlay": {"cluster_cidr": "10.244.0.0/16", "networkPluginMode": "overlay"},
                             "pod-subnet": {"pod_subnet": True, "podSubnet": "pods"}}.get(mode, {})
    c = build_docs(tmp_path, [plan(cni, **extra), *PODS])
    assert c.plugin.mode == mode  # type: ignore[attr-defined]
    assert not [w for w in c.warnings if "spec.network" in w.origin.path]  # plan and conf agree


def test_overlay_conf_overrides_a_node_subnet_plan(tmp_path: Path) -> None:
    """The issue's case: an azure-cns overlay conf in a plan without networkPluginMode is overlay, not node
    subnet: /24s of the plan's pod CIDR, maxPods 250, and a warning naming both."""
    c = build_docs(tmp_path, [plan(LINUX_OVERLAY, cluster_cidr="10.244.0.0/16"), *PODS])
    [w] = warnings_at(c, "spec.network.config.networkPluginMode")
    assert "node-subnet mode" in w.message and "azure-cns, mode: overlay" in w.message
    assert "modelled as overlay" in w.message and "networkPluginMode: overlay" in w.hint
    assert [str(a.pod_cidr) for a in c.allocation.nodes.values()] == ["10.244.0.0/24", "10.244.1.0/24",
                                                                      "10.244.2.0/24"]
    assert {a.capacity for a in c.allocation.nodes.values()} == {250}


def test_node_subnet_conf_overrides_an_overlay_plan(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [plan(WINDOWS, networkPluginMode="overlay"), *PODS])
    [w] = warnings_at(c, "spec.network.config.networkPluginMode")
    assert "modelled as node-subnet" in w.message and "leave networkPluginMode" in w.hint
    assert str(c.pod_ip("default/a")) == "10.240.0.7"  # lin0 .4 with 30 secondaries after all primaries .4–.6


def test_cns_without_a_pod_subnet_is_refused(tmp_path: Path) -> None:
    p = at(plan_errors(tmp_path, [plan(LINUX_SWIFT), *PODS]), "spec.network.config.podSubnet")
    assert "pod-subnet mode" in p.message and "azure-cns" in p.message and "--pod-subnet-id" in p.hint


@pytest.mark.parametrize(("change", "path", "words"), [
    ({"multiTenancy": True}, "multiTenancy", "not modelled"),
    ({"executionMode": "baremetal"}, "executionMode", "not modelled"),
    ({"ipam": {"type": "host-local"}}, "ipam.type", "'host-local'"),
    ({"ipam": {"type": "azure-vnet-ipam", "mode": "overlay"}}, "ipam.mode", "has no effect"),
])
def test_what_is_not_modelled_is_named(tmp_path: Path, change: dict[str, Any], path: str, words: str) -> None:
    conf = json.loads(json.dumps(LINUX))
    conf["plugins"][0].update(change)
    c = build_docs(tmp_path, [plan(conf), *PODS])
    assert c.plugin.mode == "node-subnet"  # type: ignore[attr-defined]
    [w] = warnings_at(c, f"spec.network.cni.plugins[0].{path}")
    assert words in w.message


# --- node subnet: no cluster CIDR -------------------------------------------------------------------------

def test_node_subnet_refuses_a_cluster_cidr_saying_pods_take_vnet_addresses(tmp_path: Path) -> None:
    # 10.244.0.0/16 overlaps nothing: the refusal is about the mode, not an overlap
    p = at(plan_errors(tmp_path, [plan(LINUX, cluster_cidr="10.244.0.0/16"), *PODS]), "spec.clusterCIDR")
    assert "node-subnet mode" in p.message and "VNet addresses" in p.message and "overlaps" not in p.message
    assert "remove spec.clusterCIDR" in p.hint and "pods take VNet addresses" in p.hint


def test_pod_subnet_refuses_a_cluster_cidr(tmp_path: Path) -> None:
    p = at(plan_errors(tmp_path, [plan(LINUX_SWIFT, cluster_cidr="10.244.0.0/16", pod_subnet=True,
                                       podSubnet="pods"), *PODS]), "spec.clusterCIDR")
    assert "pod subnet pods" in p.message


# --- overlay addressing ------------------------------------------------------------------------------------

def test_overlay_addresses_linux_and_windows(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [plan(LINUX_OVERLAY, cluster_cidr="10.244.0.0/16", networkPluginMode="overlay"),
                              *PODS])
    lin, win = c.allocation.nodes["lin0"].range, c.allocation.nodes["win0"].range
    assert lin is not None and win is not None
    # Linux: all 256 addresses, gateway 169.254.1.1, nothing reserved
    assert (str(lin.start), str(lin.end), str(lin.gateway), lin.reserved, lin.usable()) == \
        ("10.244.0.0", "10.244.0.255", "169.254.1.1", (), 256)
    # Windows: .1 is the gateway, .2–.254 are handed out
    assert (str(win.start), str(win.end), str(win.gateway), win.usable()) == \
        ("10.244.2.2", "10.244.2.254", "10.244.2.1", 253)
    assert str(c.pod_ip("default/w")) == "10.244.2.2" and str(c.pod_ip("default/a")) == "10.244.0.0"
    net = c.facts("win0").hns_networks[0]
    assert (str(net.prefix), str(net.gateway)) == ("10.244.2.0/24", "10.244.2.1")
    ep = c.facts("win0").hns_endpoints[0]
    assert [p.type for p in ep.policies] == ["OutBoundNAT", "SDNRoute"]  # no DNS NAT in overlay
    # no pod-subnet route on the host; the VNet routes each /24 to its node
    assert not [r for r in c.facts("lin0").routes if r.kind == "pod-route"]
    assert {str(r.dst): str(r.via) for r in c.underlay().routes if r.kind == "pod-route"} == {
        "10.244.0.0/24": "10.240.0.4", "10.244.1.0/24": "10.240.0.5", "10.244.2.0/24": "10.240.0.6"}


# --- pod subnet -----------------------------------------------------------------------------------------------

def test_swift_pool_formula() -> None:
    # ipammath's worked example: 25 pods, batch 16, min free 0.5 → 48; by hand: 0 → 16, 8 → 16, 9 → 32
    assert [vnet.swift_pool(d, 250) for d in (0, 8, 9, 24, 25)] == [16, 16, 32, 32, 48]
    assert vnet.swift_pool(200, 110) == 110  # never past the node's maxPods


def test_pod_subnet_addresses_routes_and_snat(tmp_path: Path) -> None:
    docs = [plan(LINUX_SWIFT, pod_subnet=True, podSubnet="pods"), *PODS]
    c = build_docs(tmp_path, docs)
    # plan order from .4 (Azure keeps .0–.3): lin0 NC .4 + pool .5–.20, lin1 NC .21 + .22–.37, win0 NC .38 + …
    want = {"lin0": ("10.241.0.4", "10.241.0.5", "10.241.0.20"), "lin1": ("10.241.0.21", "10.241.0.22", "10.241.0.37"),
            "win0": ("10.241.0.38", "10.241.0.39", "10.241.0.54")}
    for name, (nc, first, last) in want.items():
        rng = c.allocation.nodes[name].range
        assert rng is not None and (str(rng.start), str(rng.end)) == (first, last)
        assert str(rng.gateway) == "10.241.0.1" and "network container" in dict(rng.reserved)[IPv4Address(nc)]
        # the pool holds 16 now and grows with the pods: no limit below maxPods (110 in this mode)
        assert rng.usable() == 16 and rng.dynamic and c.allocation.nodes[name].capacity == 110
    assert {k: str(c.pod_ip(k)) for k in ("default/a", "default/b", "default/w")} == {
        "default/a": "10.241.0.5", "default/b": "10.241.0.22", "default/w": "10.241.0.39"}
    lin = c.facts("lin0")
    route = next(r for r in lin.routes if str(r.dst) == "10.241.0.0/16")
    assert (str(route.via), route.dev) == ("10.240.0.1", "eth0")  # the node subnet's gateway
    assert {(str(n.dst), str(n.to)) for n in lin.nat} == {("168.63.129.16/32", "10.241.0.4"),
                                                          ("169.254.169.254/32", "10.240.0.4")}
    # the node keeps its node-subnet address
    assert [str(a) for a in lin.devices[0].addresses] == ["10.240.0.4/16"]


def test_pod_subnet_windows_endpoint(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [plan(WINDOWS_SWIFT, pod_subnet=True, podSubnet="pods"), *PODS])
    net = c.facts("win0").hns_networks[0]
    assert (str(net.prefix), str(net.gateway)) == ("10.241.0.0/16", "10.241.0.1")
    ep = c.facts("win0").hns_endpoints[0]
    nat = [dict(p.settings) for p in ep.policies if p.type == "OutBoundNAT"][1:]
    assert nat == [{"VirtualIP": "10.241.0.38", "Destinations": ("168.63.129.16",)},
                   {"Destinations": ("169.254.169.254",)}]


def test_pod_subnet_windows_2019_gets_no_dns_nat(tmp_path: Path) -> None:
    nodes = [*NODES[:2], {**NODES[2], "windowsBuild": 17763}]
    c = build_docs(tmp_path, [plan(WINDOWS_SWIFT, pod_subnet=True, podSubnet="pods", nodes=nodes), *PODS])
    assert [p.type for p in c.facts("win0").hns_endpoints[0].policies] == ["OutBoundNAT", "SDNRoute"]


def test_pod_subnet_errors(tmp_path: Path) -> None:
    p = at(plan_errors(tmp_path, [plan(LINUX_SWIFT, pod_subnet=True, podSubnet="podz"), *PODS]),
           "spec.network.config.podSubnet")
    assert "no underlay subnet named 'podz'" in p.message and "pods" in p.hint
    nodes = [*NODES, {"name": "lin2", "os": "linux", "ip": "10.241.0.200"}]
    p = at(plan_errors(tmp_path, [plan(LINUX_SWIFT, pod_subnet=True, podSubnet="pods", nodes=nodes), *PODS]),
           "spec.nodes[3].ip")
    assert "sits in the pod subnet" in p.message


# --- the VNet delivers pod addresses (trace) -------------------------------------------------------------------

@pytest.mark.parametrize(("cni", "extra"), [
    (LINUX, {}), (WINDOWS_SWIFT, {"pod_subnet": True, "podSubnet": "pods"}),
])
def test_trace_between_nodes_is_delivered(tmp_path: Path, cni: dict[str, Any], extra: dict[str, Any]) -> None:
    path = write_docs(tmp_path / "p.yaml", [plan(cni, **extra), *PODS])
    for src, dst in (("default/a", "default/w"), ("default/w", "default/b")):
        out = json.loads(run("trace", str(path), src, dst, "-o", "json").stdout)
        trace = out["traces"][0] if "traces" in out else out
        assert trace["disposition"] == "ACCEPTED", (src, dst, trace)


def test_podsubnet_topology_builds_and_checks_clean() -> None:
    top = Path(__file__).parent.parent / "topologies" / "aks-azure-cni-podsubnet.yaml"
    out = json.loads(run("ipam", str(top), "-o", "json").stdout)
    assert {p["name"]: p["ip"] for p in out["pods"]} == {"client": "10.241.0.5", "web-0": "10.241.0.22",
                                                          "iis-0": "10.241.0.39"}
    found = json.loads(run("check", str(top), "-o", "json").stdout)["findings"]
    assert [f["code"] for f in found if f["severity"] != "info"] == []  # a 16-address pool is no maxPods limit


def test_the_nodes_conflist_file(tmp_path: Path) -> None:
    """The conf as it sits on a node (/etc/cni/net.d/10-azure.conflist), named by cniConfigFile."""
    (tmp_path / "10-azure.conflist").write_text(json.dumps(LINUX_OVERLAY, indent=3))
    doc = plan(cluster_cidr="10.244.0.0/16", networkPluginMode="overlay")
    doc["spec"]["network"]["cniConfigFile"] = "10-azure.conflist"
    c = build_docs(tmp_path, [doc, *PODS])
    assert c.plugin.mode == "overlay"  # type: ignore[attr-defined]
    assert str(c.pod_ip("default/b")) == "10.244.1.0"
