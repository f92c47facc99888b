"""Which Windows CNI binary a conf runs, and the ways a conf fails it (docs/windows-cni.md).

Facts used, each read in the upstream code: flannel-io/cni-plugin flannel.go cmdAdd (a delegate with `name` or
`ipam` is refused; runtimeConfig copied to the delegate), flannel_windows.go (delegate type defaults to win-bridge);
containernetworking/plugins win-bridge / win-overlay (a network of another type: "unexpected type"; GetDNS:
runtimeConfig.dns replaces the conf's); windows-container-networking cni.go (MapCniTypeToHcnType accepts exactly
sdnbridge/sdnoverlay/nat or an HNS type; AdditionalArgs kept when Name contains "Policy", applied when exactly
"EndpointPolicy"; hcn.EndpointPolicy is {Type, Settings}); libcni injectRuntimeConfig (only declared capabilities).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from builders import FIXTURES, build_docs, cluster_doc, pod_doc
from test_overlay_linux import build, plan_doc

from cnimodel.cluster import Cluster

WIN = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
ROUTE_V2 = {"Name": "EndpointPolicy", "Value": {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12",
                                                                                 "NeedEncap": True}}}


def win_pod(name: str = "w", node: str = "win1") -> dict[str, Any]:
    return pod_doc(name, node, containers=[{"name": "c", "image": WIN}])


def flannel(delegate: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"cniVersion": "0.2.0", "name": "cbr0", "type": "flannel", **top, "delegate": delegate}


def host_gw(tmp_path: Path, cni: dict[str, Any], *docs: dict[str, Any]) -> Cluster:
    return build_docs(tmp_path, [cluster_doc(network={"plugin": "flannel", "backend": "host-gw", "cni": cni}),
                                 *(docs or (win_pod(),))])


def pod_eps(c: Cluster, node: str = "win1") -> list[Any]:
    return [e for e in c.facts(node).hns_endpoints if e.role == "pod"]


def warned(c: Cluster, needle: str) -> list[Any]:
    return [w for w in c.warnings if needle in w.message]


def test_unknown_delegate_type_is_warned_and_read_as_the_family_binary(tmp_path: Path) -> None:
    c = host_gw(tmp_path, flannel({"type": "calico", "policies": [ROUTE_V2 | {"name": "EndpointPolicy"}]}))
    (w,) = warned(c, "'calico' is not modelled")
    assert "win-bridge" in w.message and w.origin.path == "spec.network.cni.delegate.type"
    assert pod_eps(c)[0].owner == "win-bridge"


def test_delegate_without_type_is_win_bridge_so_vxlan_fails(tmp_path: Path) -> None:
    doc = plan_doc()
    doc["spec"]["network"]["cni"] = {"name": "flannel.4096", "type": "flannel", "delegate": {}}
    c = build(tmp_path, doc, win_pod())
    assert pod_eps(c) == []
    assert any("win-bridge finds network 'flannel.4096' of type Overlay" in n for n in c.facts("win1").notes)


def test_win_overlay_delegate_on_host_gw_fails(tmp_path: Path) -> None:
    c = host_gw(tmp_path, flannel({"type": "win-overlay"}))
    assert pod_eps(c) == [] and any("of type L2Bridge" in n for n in c.facts("win1").notes)


def test_flannel_refuses_a_delegate_with_ipam_or_name(tmp_path: Path) -> None:
    c = host_gw(tmp_path, flannel({"type": "sdnbridge", "ipam": {}, "AdditionalArgs": [ROUTE_V2]}))
    (w,) = warned(c, "refuses a delegate with 'ipam'")
    assert w.origin.path == "spec.network.cni.delegate.ipam"
    assert pod_eps(c) == [] and any("refuses its delegate's ipam" in n for n in c.facts("win1").notes)
    c = host_gw(tmp_path, flannel({"type": "win-bridge", "name": "other"}))
    assert pod_eps(c) == [] and warned(c, "refuses a delegate with 'name'")


def test_sdn_type_must_be_exact(tmp_path: Path) -> None:
    c = host_gw(tmp_path, flannel({"type": "sdnbridge.exe", "AdditionalArgs": [ROUTE_V2]}))
    assert pod_eps(c) == [] and any("Unsupported CNI config 'type'" in n for n in c.facts("win1").notes)


def test_additional_args_as_sdnbridge_reads_them(tmp_path: Path) -> None:
    args = [
        {"Name": "EndpointPolicy", "Value": {"Type": "OutBoundNAT", "ExceptionList": ["10.244.0.0/16"]}},  # v1 shape
        {"Name": "endpointpolicy", "Value": {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.1.0.0/16"}}},
        {"Name": "NetworkPolicy", "Value": {"Type": "HostRoute", "Settings": {}}},
        {"Name": "EndpointPolicy", "Value": {"type": "sdnroute", "settings": {"DestinationPrefix": "10.96.0.0/12"}}},
    ]
    c = host_gw(tmp_path, flannel({"type": "sdnbridge", "AdditionalArgs": args, "loopbackDSR": True,
                                   "policies": [{"name": "EndpointPolicy", "value": {"Type": "ROUTE"}}]}))
    (ep,) = pod_eps(c)
    # only the last one reaches the endpoint, its Type in hcn's spelling; no DSR: sdnbridge reads optionalFlags
    assert [(p.type, dict(p.settings)) for p in ep.policies] == [("SDNRoute", {"DestinationPrefix": "10.96.0.0/12"})]
    (v1,) = warned(c, "OutBoundNAT has no Settings")
    assert v1.origin.path == "spec.network.cni.delegate.AdditionalArgs[0].Value"
    assert warned(c, "'endpointpolicy' is ignored by sdnbridge")
    assert warned(c, "NetworkPolicy entries reach only a network sdnbridge creates")
    assert warned(c, "does not read 'loopbackDSR' (it reads optionalFlags.loopbackDSR)")
    assert warned(c, "does not read 'policies' (it reads AdditionalArgs)")
    # flannel's own additions (ipMasq, ipMasqNetwork, ipam) are not the user's: nothing said about them
    assert not warned(c, "ipMasq")


def test_chained_plugins_of_a_conflist_are_named(tmp_path: Path) -> None:
    cni = {"cniVersion": "0.3.0", "name": "cbr0", "plugins": [
        {"type": "flannel", "capabilities": {"dns": True}, "delegate": {"type": "sdnbridge",
                                                                        "AdditionalArgs": [ROUTE_V2]}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}
    c = host_gw(tmp_path, cni)
    (w,) = warned(c, "chained plugin 'portmap'")
    assert w.origin.path == "spec.network.cni.plugins[1].type"
    (ep,) = pod_eps(c)
    assert ep.owner == "sdnbridge" and ep.network == "cbr0"  # the conflist's name reaches the delegate
    assert ep.dns_servers == ("10.96.0.10",)  # capabilities of the flannel entry


def test_runtime_dns_reaches_win_bridge_and_win_overlay(tmp_path: Path) -> None:
    dns_conf = {"Nameservers": ["10.0.0.53"], "Search": ["corp.example"]}
    c = host_gw(tmp_path, flannel({"type": "win-bridge", "dns": dns_conf}, capabilities={"dns": True}))
    (ep,) = pod_eps(c)
    assert ep.dns_servers == ("10.96.0.10",)  # runtimeConfig.dns replaces the conf's (GetDNS)
    assert ep.dns_search == ("default.svc.cluster.local", "svc.cluster.local", "cluster.local")
    c = host_gw(tmp_path, flannel({"type": "win-bridge", "dns": dns_conf}))
    (ep,) = pod_eps(c)
    assert (ep.dns_servers, ep.dns_search) == (("10.0.0.53",), ("corp.example",))  # no capability: the conf's
    doc = plan_doc()
    doc["spec"]["network"]["cni"] = {"name": "flannel.4096", "type": "flannel", "capabilities": {"dns": True},
                                     "delegate": {"type": "win-overlay"}}
    (ep,) = pod_eps(build(tmp_path, doc, win_pod()))
    assert ep.dns_servers == ("10.96.0.10",) and ep.owner == "win-overlay"


def test_docker_variant_win_bridge_placeholders(tmp_path: Path) -> None:
    """sig-windows-tools' docker cni-conf.json: win-bridge with v1 policies whose values run.ps1 fills per node
    (ExceptionList: service, pod subnet, node subnet; ROUTE: service, then the node's address)."""
    cni = json.loads((FIXTURES / "configs" / "windows" / "sig-windows-tools-host-gw-docker.conf").read_text())
    c = host_gw(tmp_path, cni, win_pod(), win_pod("v", node="win2"))
    (ep,) = pod_eps(c)
    assert c.facts("win1").hns_api == 1
    # win-bridge's own rule still applies: 10.244.0.0/16 is listed verbatim, so no second OutBoundNAT
    assert [(p.type, dict(p.settings)) for p in ep.policies] == [
        ("OutBoundNAT", {"Exceptions": ("10.96.0.0/12", "10.244.0.0/16", "10.240.0.0/24")}),
        ("SDNRoute", {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}),
        ("SDNRoute", {"DestinationPrefix": "10.240.0.20/32", "NeedEncap": True}),
    ]
    (v,) = pod_eps(c, "win2")
    assert dict(v.policies[2].settings)["DestinationPrefix"] == "10.240.0.30/32"
    assert len(warned(c, "empty values")) == 1
