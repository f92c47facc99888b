"""sdnbridge and sdnoverlay (microsoft/windows-container-networking) as flannel's Windows delegate.

Inputs are the confs kubernetes-sigs/sig-windows-tools ships in its flannel ConfigMaps (empty values its start
scripts fill per node) and the project's own example/flannel_l2bridge.conf. Expected endpoints are derived by
hand from that code (docs/windows-cni.md): cni/cni.go GetNetworkInfo / GetEndpointInfo, common/core/network.go
Add (port mappings, then AdditionalArgs EndpointPolicy entries, then loopback DSR; host-local's gateway, .2 with
forceBridgeGateway), network/endpoint.go (HCN v2, no MAC); flannel-io/cni-plugin flannel_windows.go (name,
ipMasq/ipMasqNetwork, host-local ipam); kubelet's ClusterFirst DNS via the `dns` capability.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from builders import FIXTURES, build_docs, cluster_doc, pod_doc, run, write_docs
from test_overlay_linux import build, plan_doc

from cnimodel.cluster import Cluster
from cnimodel.render import hns

A = IPv4Address
CONFS = FIXTURES / "configs" / "windows"
WIN = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"


def conf(name: str) -> dict[str, Any]:
    return json.loads((CONFS / name).read_text())


def win_pod(name: str, node: str = "win1", namespace: str = "web", **container: Any) -> dict[str, Any]:
    return pod_doc(name, node, namespace=namespace, containers=[{"name": "c", "image": WIN, **container}])


def pods(c: Cluster, node: str = "win1") -> list[Any]:
    return sorted((e for e in c.facts(node).hns_endpoints if e.role == "pod"), key=lambda e: e.ip)


def table(ep: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(p.type, dict(p.settings)) for p in ep.policies]


def host_gw(tmp_path: Path, cni: dict[str, Any], *docs: dict[str, Any]) -> Cluster:
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw",
                               "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}, "cni": cni})
    return build_docs(tmp_path, [doc, *docs])


# ---------------------------------------------------------------- sig-windows-tools host-gw (sdnbridge)

def test_sig_windows_tools_host_gw_endpoints(tmp_path: Path) -> None:
    c = host_gw(tmp_path, conf("sig-windows-tools-host-gw.conf"), win_pod("w-0"), win_pod("w-1"),
                win_pod("x", node="win2", namespace="default"))
    f = c.facts("win1")
    assert f.hns_api == 2  # sdnbridge speaks HCN schema 2.0 only
    # flanneld's network and bridge endpoint are unchanged
    assert [(n.name, n.type) for n in f.hns_networks] == [("cbr0", "L2Bridge")]
    assert [(e.name, e.ip) for e in f.hns_endpoints if e.role == "host"] == [("cbr0_ep", A("10.244.2.2"))]
    w0, w1 = pods(c)
    assert (w0.name, w0.ip, w1.ip) == ("web.w-0_cbr0", A("10.244.2.3"), A("10.244.2.4"))  # host-local from .2
    assert w0.gateway == A("10.244.2.2")  # forceBridgeGateway: the lease's .2, not host-local's .1
    assert w0.mac is None and w0.owner == "sdnbridge"  # sdnbridge sets no MAC: HNS picks one
    # the start script's fills: Exceptions = service, pod subnet, node subnet; routes: service, then the node /32.
    # No OutBoundNAT for ipMasqNetwork: flannel hands it on, sdnbridge has no such field.
    assert table(w0) == [
        ("OutBoundNAT", {"Exceptions": ("10.96.0.0/12", "10.244.0.0/16", "10.240.0.0/24")}),
        ("SDNRoute", {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}),
        ("SDNRoute", {"DestinationPrefix": "10.240.0.20/32", "NeedEncap": True}),
    ]
    # win2 gets its own /32 from the same ConfigMap
    (x,) = pods(c, "win2")
    assert table(x)[2] == ("SDNRoute", {"DestinationPrefix": "10.240.0.30/32", "NeedEncap": True})
    # the conf has no dns; capabilities.dns brings kubelet's ClusterFirst DNS for the pod's namespace
    assert w0.dns_servers == ("10.96.0.10",)
    assert w0.dns_search == ("web.svc.cluster.local", "svc.cluster.local", "cluster.local")
    assert x.dns_search[0] == "default.svc.cluster.local"
    # the pod range agrees with the endpoints: gateway .2, first pod .3
    rng = c.allocation.nodes["win1"].range
    assert rng is not None and rng.gateway == A("10.244.2.2")
    assert c.plugin.describe(c.node("win1")) == "flannel host-gw → sdnbridge (HNS L2Bridge cbr0)"
    filled = [w for w in c.warnings if "empty values" in w.message]
    assert len(filled) == 1 and "SDNRoute DestinationPrefix" in filled[0].message
    assert filled[0].origin.path == "spec.network.cni.delegate.AdditionalArgs"


def test_sdnbridge_hcn_json(tmp_path: Path) -> None:
    c = host_gw(tmp_path, conf("sig-windows-tools-host-gw.conf"), win_pod("w-0"))
    ep = next(o for o in hns.objects(c.facts("win1"), api=2) if o.get("Role") == "pod")
    assert ep["Routes"] == [{"NextHop": "10.244.2.2", "DestinationPrefix": "0.0.0.0/0"}]
    assert ep["Dns"] == {"Search": ["web.svc.cluster.local", "svc.cluster.local", "cluster.local"],
                         "ServerList": ["10.96.0.10"]}
    assert "MacAddress" not in ep
    assert ep["Policies"][1] == {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12",
                                                                  "NeedEncap": True}}


def test_host_port_and_optional_flags(tmp_path: Path) -> None:
    cni = conf("sig-windows-tools-host-gw.conf")
    cni["delegate"]["optionalFlags"].update(localRoutedPortMapping=True, allowAclPortMapping=True, loopbackDSR=True)
    c = host_gw(tmp_path, cni, win_pod("iis", ports=[{"containerPort": 80, "hostPort": 8080},
                                                      {"containerPort": 53, "protocol": "UDP"}]))
    (ep,) = pods(c)
    # one PortMapping per mapping with a hostPort (Flags 1 = NatFlagsLocalRoutedVip), its inbound ACL at 1000,
    # then the AdditionalArgs, then the loopback DSR OutBoundNAT to the pod itself
    assert table(ep)[:2] == [
        ("PortMapping", {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080, "Flags": 1}),
        ("ACL", {"Protocols": "6", "Action": "Allow", "Direction": "In", "LocalPorts": "80", "Priority": 1000}),
    ]
    assert [t for t, _ in table(ep)[2:5]] == ["OutBoundNAT", "SDNRoute", "SDNRoute"]
    assert table(ep)[5:] == [("OutBoundNAT", {"Destinations": ("10.244.2.3",)})]


def test_port_mappings_need_the_capability(tmp_path: Path) -> None:
    cni = conf("sig-windows-tools-host-gw.conf")
    del cni["capabilities"]["portMappings"]
    c = host_gw(tmp_path, cni, win_pod("iis", ports=[{"containerPort": 80, "hostPort": 8080}]))
    (ep,) = pods(c)
    assert "PortMapping" not in [t for t, _ in table(ep)]  # the runtime passes no runtimeConfig.portMappings


def test_sctp_host_port_fails_that_pods_add(tmp_path: Path) -> None:
    c = host_gw(tmp_path, conf("sig-windows-tools-host-gw.conf"),
                win_pod("sctp", ports=[{"containerPort": 9, "hostPort": 9, "protocol": "SCTP"}]), win_pod("ok"))
    assert [e.name for e in pods(c)] == ["web.ok_cbr0"]
    assert any("web/sctp" in n and "invalid protocol" in n for n in c.facts("win1").notes)


def test_loopback_dsr_before_ws2019_fails_every_add(tmp_path: Path) -> None:
    cni = conf("sig-windows-tools-host-gw.conf")
    cni["delegate"]["optionalFlags"]["loopbackDSR"] = True
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw", "cni": cni},
                      nodes=[{"name": "win1", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 17134}])
    c = build_docs(tmp_path, [doc, win_pod("w")])
    assert pods(c) == [] and any("DSRSupported" in n for n in c.facts("win1").notes)


# ---------------------------------------------------------------- windows-container-networking's example

def test_wcn_example_flannel_l2bridge(tmp_path: Path) -> None:
    plan = write_docs(tmp_path / "plan.yaml", [
        cluster_doc(network={"plugin": "flannel", "backend": "host-gw",
                             "configFile": str(CONFS / "wcn-flannel-l2bridge.conf")}), win_pod("w")])
    r = run("routes", str(plan), "--node", "win1", "-o", "hns")
    assert r.exit_code == 0, r.stderr
    (ep,) = [o for o in json.loads(r.stdout)["win1"] if o.get("Role") == "pod"]
    assert [p["Type"] for p in ep["Policies"]] == ["OutBoundNAT", "SDNRoute", "SDNRoute"]
    assert ep["Policies"][0]["Settings"] == {"Exceptions": ["10.244.0.0/16", "10.96.0.0/12"]}
    # "dnsCapabilities" is no capability a runtime passes, and the conf has no dns: the pod gets no DNS server
    assert ep["Dns"] == {}
    r = run("check", str(plan), "-o", "json")
    codes = {f["code"] for f in json.loads(r.stdout)["findings"]}
    assert "CNI-WIN-008" in codes
    r = run("summary", str(plan))
    assert "sdnbridge" in r.stdout


def test_dns_capabilities_quirk_is_warned(tmp_path: Path) -> None:
    c = host_gw(tmp_path, conf("wcn-flannel-l2bridge.conf"), win_pod("w"))
    (w,) = [w for w in c.warnings if "dnsCapabilities" in w.message]
    assert w.origin.path == "spec.network.cni.capabilities.dnsCapabilities"  # flannel's own conf


# ---------------------------------------------------------------- sig-windows-tools overlay (sdnoverlay)

def overlay(tmp_path: Path, cni: dict[str, Any], *docs: dict[str, Any]) -> Cluster:
    doc = plan_doc()
    doc["spec"]["network"]["cni"] = cni
    return build(tmp_path, doc, *docs)


def test_sig_windows_tools_overlay_endpoints(tmp_path: Path) -> None:
    c = overlay(tmp_path, conf("sig-windows-tools-overlay.conf"),
                win_pod("iis", ports=[{"containerPort": 80, "hostPort": 8080}]), win_pod("y", node="win2"))
    f = c.facts("win1")
    assert f.hns_api == 2
    (vip,) = [e for e in f.hns_endpoints if e.role == "source-vip"]
    assert vip.ip == A("10.244.2.2")  # kube-proxy's, untouched
    (ep,) = pods(c)
    assert (ep.network, ep.ip, ep.gateway, ep.mac) == ("flannel.4096", A("10.244.2.3"), A("10.244.2.1"), None)
    # sdnoverlay applies the runtime's port mapping, then the conf's entries as filled by start.ps1 — and adds
    # nothing of its own: no ProviderAddress beyond the conf's, no OutBoundNAT for the node's own subnet
    assert table(ep) == [
        ("PortMapping", {"Protocol": 6, "InternalPort": 80, "ExternalPort": 8080}),
        ("OutBoundNAT", {"Exceptions": ("10.96.0.0/12", "10.244.0.0/16")}),
        ("SDNRoute", {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}),
        ("ProviderAddress", {"ProviderAddress": "10.240.0.20"}),
    ]
    (y,) = pods(c, "win2")
    assert table(y)[-1] == ("ProviderAddress", {"ProviderAddress": "10.240.0.30"})
    assert c.plugin.describe(c.node("win1")).startswith("flannel vxlan → sdnoverlay")


def test_win_overlay_plugin_reads_an_sdnoverlay_conf(tmp_path: Path) -> None:
    doc = plan_doc()
    delegate = conf("sig-windows-tools-overlay.conf")["delegate"]
    doc["spec"]["network"] = {"plugin": "win-overlay", "config": {"Backend": {"Type": "vxlan"}},
                              "cni": {"cniVersion": "0.2.0", "name": "flannel.4096", **delegate}}
    c = build(tmp_path, doc, win_pod("p"))
    (ep,) = pods(c)
    assert ep.owner == "sdnoverlay" and [t for t, _ in table(ep)] == ["OutBoundNAT", "SDNRoute", "ProviderAddress"]
    assert ep.dns_servers == ()  # a plain conf without capabilities: no runtime DNS, and the conf has none
