"""flannel vxlan on Windows and the win-overlay plugin: the HCN Overlay network, RemoteSubnetRoutes, the
source-VIP endpoint, pod endpoints (MAC, gateway, policies in win-overlay's order) and flanneld's refusals.

Expected values are derived by hand from cni-plugins.md §1.2, §3.10, §5, §10.2 and services-lb.md §2.5.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import pod_doc
from click.testing import CliRunner
from test_overlay_linux import MACS, build, plan_doc

from cnimodel.cli import cli
from cnimodel.render import hns

A, N = IPv4Address, IPv4Network


def settings(p: Any) -> dict[str, Any]:
    return dict(p.settings)


def test_worked_example_win1_network(tmp_path: Path) -> None:
    f = build(tmp_path, plan_doc()).facts("win1")
    (net,) = f.hns_networks
    assert (net.name, net.type, net.prefix, net.gateway, net.flags) == (
        "flannel.4096", "Overlay", N("10.244.2.0/24"), A("10.244.2.1"), 8)
    assert [(p.type, settings(p)) for p in net.subnet_policies] == [("VSID", {"IsolationId": 4096})]
    by_type = {p.type: settings(p) for p in net.policies if p.type != "RemoteSubnetRoute"}
    assert by_type["ProviderAddress"] == {"ProviderAddress": "10.240.0.20"}
    assert by_type["HostRoute"] == {}
    assert by_type["NetAdapterName"] == {"NetworkAdapterName": "Ethernet"}
    assert by_type["DrMacAddress"] == {"Address": "00-15-5D-00-00-14"}  # win1's VtepMAC as HNS prints it
    rsr = [settings(p) for p in net.policies if p.type == "RemoteSubnetRoute"]
    assert rsr == [
        {"DestinationPrefix": "10.244.0.0/24", "IsolationId": 4096, "ProviderAddress": "10.240.0.4",
         "DistributedRouterMacAddress": MACS["master"]},
        {"DestinationPrefix": "10.244.1.0/24", "IsolationId": 4096, "ProviderAddress": "10.240.0.10",
         "DistributedRouterMacAddress": MACS["lin1"]},
        {"DestinationPrefix": "10.244.3.0/24", "IsolationId": 4096, "ProviderAddress": "10.240.0.30",
         "DistributedRouterMacAddress": MACS["win2"]},
    ]


def test_worked_example_source_vip_and_first_pod(tmp_path: Path) -> None:
    c = build(tmp_path, plan_doc(), pod_doc("iis-0", "win1"))
    f = c.facts("win1")
    (vip,) = [e for e in f.hns_endpoints if e.role == "source-vip"]
    assert vip.ip == A("10.244.2.2") and vip.network == "flannel.4096"
    assert vip.policies == ()  # a local endpoint: winkernel's createEndpoint adds a PA to remote ones only
    (ep,) = [e for e in f.hns_endpoints if e.role == "pod"]
    assert ep.ip == A("10.244.2.3")  # .2 is the source VIP, so the first pod is .3
    assert ep.mac == "0E-2A-0a-f4-02-03"
    assert ep.gateway == A("10.244.2.1")
    # SDN overlay conf policies, then ProviderAddress, then ipMasq's own-subnet OutBoundNAT (a separate policy)
    assert [(p.type, settings(p)) for p in ep.policies] == [
        ("OutBoundNAT", {"Exceptions": ("10.244.0.0/16", "10.96.0.0/12")}),
        ("SDNRoute", {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}),
        ("ProviderAddress", {"ProviderAddress": "10.240.0.20"}),
        ("OutBoundNAT", {"Exceptions": ("10.244.2.0/24",)}),
    ]
    rng = c.allocation.nodes["win1"].range
    assert rng is not None and A("10.244.2.2") in rng.reserved_set


def test_hcn_json_shapes(tmp_path: Path) -> None:
    objs = hns.objects(build(tmp_path, plan_doc(), pod_doc("iis-0", "win1")).facts("win1"), api=2)
    net = objs[0]
    assert net["Type"] == "Overlay" and net["Flags"] == 8
    subnet = net["Ipams"][0]["Subnets"][0]
    assert subnet["Routes"] == [{"NextHop": "10.244.2.1", "DestinationPrefix": "0.0.0.0/0"}]
    assert subnet["Policies"] == [{"Type": "VSID", "Settings": {"IsolationId": 4096}}]
    rsr = [p for p in net["Policies"] if p["Type"] == "RemoteSubnetRoute"]
    assert all(set(p["Settings"]) == {"DestinationPrefix", "IsolationId", "ProviderAddress",
                                      "DistributedRouterMacAddress"} for p in rsr)
    vip = next(o for o in objs if o.get("Role") == "source-vip")
    assert vip["IpConfigurations"] == [{"IpAddress": "10.244.2.2"}]
    ep = next(o for o in objs if o.get("Role") == "pod")
    assert ep["MacAddress"] == "0E-2A-0a-f4-02-03"
    assert ep["Routes"] == [{"NextHop": "10.244.2.1", "DestinationPrefix": "0.0.0.0/0"}]


def test_hns_v1_rendering_of_overlay_policies(tmp_path: Path) -> None:
    objs = hns.objects(build(tmp_path, plan_doc(), pod_doc("iis-0", "win1")).facts("win1"), api=1)
    net = objs[0]
    assert net["Subnets"][0]["Policies"] == [{"Type": "VSID", "VSID": 4096}]
    ep = next(o for o in objs if o.get("Role") == "pod")
    assert {"Type": "PA", "PA": "10.240.0.20"} in ep["Policies"]


def test_cli_hns_output(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan_doc()))
    res = CliRunner().invoke(cli, ["routes", str(path), "--node", "win2", "-o", "hns"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    net = data["win2"][0]
    assert net["Name"] == "flannel.4096"
    assert net["Ipams"][0]["Subnets"][0]["IpAddressPrefix"] == "10.244.3.0/24"


def test_windows_vtep_and_pod_mtu(tmp_path: Path) -> None:
    c = build(tmp_path, plan_doc())
    v = c.plugin.vtep("win1")  # type: ignore[attr-defined]
    assert (v.os, v.dev, v.vni, v.port, v.mtu, v.mac, v.mac_source, v.up) == (
        "windows", "flannel.4096", 4096, 4789, 1450, MACS["win1"], "annotation", True)
    hop = next(e for e in c.facts("win1").encaps if e.peer == "lin1")
    # Windows sends with the remote lease's VNI (RemoteSubnetRoute IsolationId) to UDP 4789
    assert (hop.vni, hop.dst_port, hop.outer_src, hop.outer_dst) == (4096, 4789, A("10.240.0.20"), A("10.240.0.10"))
    assert (hop.inner_dst_mac, hop.inner_mtu, hop.mismatch) == (MACS["lin1"], 1450, ())


def test_backend_name_names_network_and_default_cni_conf(tmp_path: Path) -> None:
    doc = plan_doc({"Type": "vxlan", "VNI": 4096, "Port": 4789, "Name": "vxlan0"})
    f = build(tmp_path, doc, pod_doc("p", "win1")).facts("win1")
    assert f.hns_networks[0].name == "vxlan0"
    (ep,) = [e for e in f.hns_endpoints if e.role == "pod"]
    assert ep.network == "vxlan0" and ep.name.endswith("_vxlan0")


def test_default_name_follows_the_vni(tmp_path: Path) -> None:
    f = build(tmp_path, plan_doc({"Type": "vxlan", "VNI": 5000, "Port": 4789}, macs=False)).facts("win1")
    assert f.hns_networks[0].name == "flannel.5000"
    assert f.hns_networks[0].subnet_policies[0].settings["IsolationId"] == 5000


def test_cni_name_must_match_the_network(tmp_path: Path) -> None:
    doc = plan_doc()
    doc["spec"]["network"]["cni"] = {"name": "vxlan0", "type": "flannel", "delegate": {"type": "win-overlay"}}
    f = build(tmp_path, doc, pod_doc("p", "win1")).facts("win1")
    assert not [e for e in f.hns_endpoints if e.role == "pod"]  # win-overlay cannot find network vxlan0
    assert any("'vxlan0'" in n and "flannel.4096" in n for n in f.notes)


@pytest.mark.parametrize(("backend", "needle"), [
    ({"Type": "vxlan", "VNI": 1, "Port": 4789}, "VNI 1 must be greater than or equal to 4096"),
    ({"Type": "vxlan", "VNI": 4096, "Port": 8472}, "Port 8472 is not supported"),
    ({"Type": "vxlan", "VNI": 4096, "Port": 0}, "Port 0 is not supported"),  # explicit 0 is not "omitted"
    ({"Type": "vxlan", "VNI": 4096, "DirectRouting": True}, "DirectRouting is not supported"),
    ({"Type": "vxlan", "VNI": 4096, "MacPrefix": "0E2A"}, "MacPrefix"),
])
def test_windows_flanneld_refuses(tmp_path: Path, backend: dict[str, Any], needle: str) -> None:
    c = build(tmp_path, plan_doc(backend, macs=False), pod_doc("p", "win1"))
    v = c.plugin.vtep("win1")  # type: ignore[attr-defined]
    assert not v.up and needle in v.reason
    f = c.facts("win1")
    assert f.hns_networks == () and f.hns_endpoints == () and f.encaps == ()
    assert any(needle in n for n in f.notes)
    # peers hold nothing for a node that publishes no lease
    lin = c.facts("lin1")
    assert N("10.244.2.0/24") not in {r.dst for r in lin.routes}
    assert A("10.244.2.0") not in {n.ip for n in lin.neighbors}


def test_old_windows_build_lacks_remote_subnet(tmp_path: Path) -> None:
    doc = plan_doc()
    doc["spec"]["nodes"][2]["windowsBuild"] = 17134
    v = build(tmp_path, doc).plugin.vtep("win1")  # type: ignore[attr-defined]
    assert not v.up and "RemoteSubnet" in v.reason


def test_outbound_nat_is_not_duplicated_when_listed_verbatim(tmp_path: Path) -> None:
    doc = plan_doc()
    doc["spec"]["network"]["cni"] = {"name": "flannel.4096", "type": "flannel", "delegate": {
        "type": "win-overlay", "ApiVersion": 2, "policies": [
            {"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "Settings": {
                "Exceptions": ["10.244.0.0/16", "10.244.2.0/24"]}}}]}}
    (ep,) = [e for e in build(tmp_path, doc, pod_doc("p", "win1")).facts("win1").hns_endpoints if e.role == "pod"]
    assert [p.type for p in ep.policies] == ["OutBoundNAT", "ProviderAddress"]


def test_win_overlay_plugin_with_its_cni_conf(tmp_path: Path) -> None:
    doc = plan_doc(macs=False)
    doc["spec"]["network"] = {"plugin": "win-overlay", "config": {
        "name": "vxlan0", "type": "win-overlay", "ApiVersion": 2, "ipMasq": False, "endpointMacPrefix": "0E-2B",
        "policies": [{"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "Settings": {
            "Exceptions": ["10.244.0.0/16"]}}}]}}
    # the network manager names the network after the CNI conf only if told: give it the same Name
    doc["spec"]["network"]["cni"] = doc["spec"]["network"].pop("config")
    doc["spec"]["network"]["config"] = {"Backend": {"Name": "vxlan0"}}
    c = build(tmp_path, doc, pod_doc("p", "win2"))
    assert c.plugin.name == "win-overlay"
    f = c.facts("win2")
    assert f.hns_networks[0].name == "vxlan0" and f.hns_networks[0].type == "Overlay"
    (ep,) = [e for e in f.hns_endpoints if e.role == "pod"]
    assert (ep.ip, ep.mac) == (A("10.244.3.3"), "0E-2B-0a-f4-03-03")
    # ipMasq false: no OutBoundNAT for the node's own pod subnet
    assert [(p.type, settings(p)) for p in ep.policies] == [
        ("OutBoundNAT", {"Exceptions": ("10.244.0.0/16",)}),
        ("ProviderAddress", {"ProviderAddress": "10.240.0.30"})]
    # Linux nodes are VXLAN peers with the Windows VNI and port
    lin = c.facts("lin1")
    dev = lin.device("flannel.4096")
    assert dev is not None and (dev.vni, dev.port) == (4096, 4789)
    assert all(not e.mismatch for e in lin.encaps)


def test_win_overlay_plugin_config_alone_is_the_cni_conf(tmp_path: Path) -> None:
    doc = plan_doc(macs=False)
    doc["spec"]["network"] = {"plugin": "win-overlay", "config": {
        "name": "flannel.4096", "type": "win-overlay", "ipMasq": True}}
    c = build(tmp_path, doc, pod_doc("p", "win1"))
    (ep,) = [e for e in c.facts("win1").hns_endpoints if e.role == "pod"]
    assert ep.gateway == A("10.244.2.1")
    assert [p.type for p in ep.policies] == ["ProviderAddress", "OutBoundNAT"]
    assert settings(ep.policies[1]) == {"Exceptions": ("10.244.2.0/24",)}
    assert c.plugin.describe(c.node("win1")).startswith("win-overlay")
