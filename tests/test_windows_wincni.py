"""wincni, the 2018 talk's l2bridge plugin (microsoft/SDN Kubernetes/wincni), on the talk's own setup.

The conf is the one Kubernetes/windows/start-kubelet.ps1 writes (Update-CNIConfig: name l2bridge, type
wincni.exe, ipam.subnet = the node's podCIDR, ipam.routes[0].GW = .2, dns, AdditionalArgs of HNS v1
OutBoundNAT/ROUTE). Expected objects derived by hand from Kubernetes/wincni: cni/cni.go (GetNetworkInfo,
GetEndpointInfo: gateway = routes[0].GW, DNSSuffix = "<namespace>." + search joined by ",", NAT policies for
the runtime's port mappings first), cni/network/network.go (no ipam.type: HNS assigns the address; endpoint
policies = Name exactly "EndpointPolicy", handed to HNS v1 as written), network/endpoint.go (HNSEndpoint v1);
and from start-kubelet.ps1 (network l2bridge gateway .1, host endpoint cbr0 at .2, gateway 0.0.0.0).
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import yaml
from builders import FIXTURES, build_docs, cluster_doc, pod_doc, run, write_docs

from cnimodel import examples
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan

A = IPv4Address
WINCNI = json.loads((FIXTURES / "configs" / "windows" / "wincni-l2bridge.conf").read_text())
WS2019 = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2019"


def talk_with(tmp_path: Path, *docs: dict[str, Any]) -> Path:
    plan = [d for d in yaml.safe_load_all(examples.path("talk-l2bridge-cloud.yaml").read_text()) if d]
    return write_docs(tmp_path / "talk.yaml", [*plan, *docs])


def win_pod(name: str, namespace: str = "default", **container: Any) -> dict[str, Any]:
    return pod_doc(name, "win1", namespace=namespace, containers=[{"name": "c", "image": WS2019, **container}])


def test_the_talks_windows_node(tmp_path: Path) -> None:
    c = Cluster.build(load_plan([talk_with(tmp_path, win_pod("web", ports=[{"containerPort": 80, "hostPort": 8080}]),
                                           win_pod("cli", namespace="tools"))]))
    f = c.facts("win1")
    assert f.hns_api == 1
    (net,) = f.hns_networks
    assert (net.name, net.type, str(net.prefix), str(net.gateway)) == ("l2bridge", "L2Bridge", "10.244.2.0/24",
                                                                       "10.244.2.1")
    (host,) = [e for e in f.hns_endpoints if e.role == "host"]
    assert (host.name, host.ip, host.gateway) == ("cbr0", A("10.244.2.2"), None)
    assert f.device("vEthernet (cbr0)") is not None
    web, cli = sorted((e for e in f.hns_endpoints if e.role == "pod"), key=lambda e: e.ip)
    assert (web.name, web.ip, web.gateway) == ("default.web_l2bridge", A("10.244.2.3"), A("10.244.2.2"))
    assert cli.ip == A("10.244.2.4")
    assert web.dns_servers == ("10.0.0.10",)  # the conf's: wincni has no runtime DNS
    assert web.dns_search == ("default.svc.cluster.local",) and cli.dns_search == ("tools.svc.cluster.local",)
    assert web.owner == "wincni" and web.mac is None
    assert [(p.type, dict(p.settings)) for p in web.policies] == [
        ("PortMapping", {"Protocol": "tcp", "InternalPort": 80, "ExternalPort": 8080}),
        ("OutBoundNAT", {"Exceptions": ("10.244.0.0/16", "10.0.0.0/16", "10.240.0.0/16")}),
        ("SDNRoute", {"DestinationPrefix": "10.0.0.0/16", "NeedEncap": True}),
        ("SDNRoute", {"DestinationPrefix": "10.240.0.20/32", "NeedEncap": True}),
    ]
    assert [p.type for p in cli.policies] == ["OutBoundNAT", "SDNRoute", "SDNRoute"]  # no hostPort, no NAT
    rng = c.allocation.nodes["win1"].range
    assert rng is not None and (rng.ipam, rng.gateway) == ("hns", A("10.244.2.2"))
    assert not [w for w in c.warnings if "wincni" in w.message or "ipam.subnet" in w.message]


def test_the_talks_hns_v1_json(tmp_path: Path) -> None:
    r = run("routes", str(talk_with(tmp_path, win_pod("web", ports=[{"containerPort": 80, "hostPort": 8080}]))),
            "--node", "win1", "-o", "hns", "--hns-api", "1")
    assert r.exit_code == 0, r.stderr
    objs = json.loads(r.stdout)["win1"]
    (ep,) = [o for o in objs if o.get("Role") == "pod"]
    assert ep["VirtualNetworkName"] == "l2bridge" and ep["GatewayAddress"] == "10.244.2.2"
    assert (ep["DNSServerList"], ep["DNSSuffix"]) == ("10.0.0.10", "default.svc.cluster.local")
    assert ep["Policies"] == [
        {"Type": "NAT", "Protocol": "tcp", "InternalPort": 80, "ExternalPort": 8080},
        {"Type": "OutBoundNAT", "ExceptionList": ["10.244.0.0/16", "10.0.0.0/16", "10.240.0.0/16"]},
        {"Type": "ROUTE", "DestinationPrefix": "10.0.0.0/16", "NeedEncap": True},
        {"Type": "ROUTE", "DestinationPrefix": "10.240.0.20/32", "NeedEncap": True},
    ]
    (host,) = [o for o in objs if o.get("Role") == "host"]
    assert host["Name"] == "cbr0" and "GatewayAddress" not in host


def test_the_talks_trace_still_crosses_the_vnet(tmp_path: Path) -> None:
    plan = talk_with(tmp_path, win_pod("web"),
                     pod_doc("client", "lin1", containers=[{"name": "c", "image": "curlimages/curl"}]))
    r = run("trace", str(plan), "default/client", "default/web", "-o", "json")
    assert r.exit_code == 0, r.stderr
    t = json.loads(r.stdout)
    assert t["disposition"] == "ACCEPTED"
    assert [h["node"] for h in t["hops"]] == ["default/client", "lin1", "vnet-routes", "win1", "default/web"]


def test_wincni_under_win_bridge_with_two_nodes(tmp_path: Path) -> None:
    """One conf written for win1 read on win2 too: win2's pods get win2's pod CIDR, and the plan is told."""
    doc = cluster_doc(network={"plugin": "win-bridge", "config": WINCNI})
    c = build_docs(tmp_path, [doc, win_pod("a"), pod_doc("b", "win2", containers=[{"name": "c", "image": WS2019}])])
    (a,) = [e for e in c.facts("win1").hns_endpoints if e.role == "pod"]
    (b,) = [e for e in c.facts("win2").hns_endpoints if e.role == "pod"]
    assert (a.ip, a.gateway) == (A("10.244.2.3"), A("10.244.2.2"))
    assert b.ip == A("10.244.3.3")
    assert b.gateway == A("10.244.2.2")  # routes[0].GW is used as written, even on win2: the conf is win1's
    (w,) = [w for w in c.warnings if "ipam.subnet" in w.message]
    assert "win2" in w.message and w.origin.path == "spec.network.config.ipam.subnet"
    # every AdditionalArgs value is handed to HNS v1 as written (ROUTE, ExceptionList)
    assert [p.type for p in a.policies] == ["OutBoundNAT", "SDNRoute", "SDNRoute"]


def test_wincni_does_not_read_runtime_dns_or_v2_settings(tmp_path: Path) -> None:
    conf = {**WINCNI, "capabilities": {"portMappings": True, "dns": True},
            "AdditionalArgs": [*WINCNI["AdditionalArgs"],
                               {"Name": "EndpointPolicy", "Value": {"Type": "SDNRoute", "Settings": {
                                   "DestinationPrefix": "10.1.0.0/16", "NeedEncap": True}}},
                               {"Name": "endpointpolicy",
                                "Value": {"Type": "ROUTE", "DestinationPrefix": "10.2.0.0/16"}}]}
    doc = cluster_doc(network={"plugin": "win-bridge", "config": conf},
                      nodes=[{"name": "win1", "os": "windows", "ip": "10.240.0.20", "podCIDR": "10.244.2.0/24"}])
    c = build_docs(tmp_path, [doc, win_pod("a")])
    (a,) = [e for e in c.facts("win1").hns_endpoints if e.role == "pod"]
    assert a.dns_servers == ("10.96.0.10",) and a.dns_search == ("default.svc.cluster.local",)
    assert len(a.policies) == 3  # the v2-shaped and the lower-case entries do not reach the endpoint
    messages = " | ".join(w.message for w in c.warnings)
    assert "runtimeConfig.dns" in messages and "Settings" in messages and "'endpointpolicy'" in messages
