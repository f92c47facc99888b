"""flannel host-gw on Windows: the win-bridge / HNS L2Bridge view (cni-plugins.md §1.2, §3.9, §4, §10.1).

win1 of the worked example: HNS network cbr0 (L2Bridge 10.244.2.0/24, gateway .1), host endpoint cbr0_ep .2,
NetRoutes for every remote pod CIDR via the remote node IP on the management vNIC, pods from .3 with gateway .2,
endpoint policies OutBoundNAT [cluster, service, node subnet], ROUTE/SDNRoute NeedEncap for the service CIDR and
the node's /32, and ipMasqNetwork's OutBoundNAT appended only when no OutBoundNAT lists it verbatim."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from builders import build_docs, cluster_doc, pod_doc, run, write_docs

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan

N = IPv4Network
A = IPv4Address
WORKED_EXCEPTIONS = ["10.244.0.0/16", "10.96.0.0/12", "10.240.0.0/24"]


def win1(worked: Path):
    return Cluster.build(load_plan([worked])).facts("win1")


def test_win1_net_routes(worked: Path) -> None:
    f = win1(worked)
    vnic = "vEthernet (Ethernet)"
    routes = {(str(r.dst), str(r.via), r.dev) for r in f.routes if r.kind == "pod-route"}
    assert routes == {("10.244.0.0/24", "10.240.0.4", vnic), ("10.244.1.0/24", "10.240.0.10", vnic),
                      ("10.244.3.0/24", "10.240.0.30", vnic)}
    assert {r.owner for r in f.routes if r.kind == "pod-route"} == {"flannel"}
    # no route for its own pod CIDR through another node
    assert not [r for r in f.routes if r.dst == N("10.244.2.0/24") and r.via is not None]


def test_win1_hns_network_and_bridge_endpoint(worked: Path) -> None:
    f = win1(worked)
    assert len(f.hns_networks) == 1
    net = f.hns_networks[0]
    assert (net.name, net.type, net.prefix, net.gateway) == ("cbr0", "L2Bridge", N("10.244.2.0/24"), A("10.244.2.1"))
    assert net.management_ip == A("10.240.0.20")
    assert net.policies == ()  # flanneld creates the L2Bridge network with its subnet only
    host = [e for e in f.hns_endpoints if e.role == "host"]
    assert [(e.name, e.ip) for e in host] == [("cbr0_ep", A("10.244.2.2"))]


def test_win1_pods_and_policies(worked: Path) -> None:
    f = win1(worked)
    pods = sorted((e for e in f.hns_endpoints if e.role == "pod"), key=lambda e: e.ip)
    assert [e.ip for e in pods] == [A("10.244.2.3"), A("10.244.2.4")]
    assert {e.gateway for e in pods} == {A("10.244.2.2")}  # cbr0_ep, (IP masked) + 2
    assert {e.network for e in pods} == {"cbr0"}
    ep = pods[0]
    assert [(p.type, dict(p.settings)) for p in ep.policies] == [
        ("OutBoundNAT", {"Exceptions": tuple(WORKED_EXCEPTIONS)}),
        ("SDNRoute", {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}),
        ("SDNRoute", {"DestinationPrefix": "10.240.0.20/32", "NeedEncap": True}),
    ]  # 10.244.0.0/16 is listed verbatim: no second OutBoundNAT
    assert ep.dns_servers == ("10.96.0.10",) and ep.dns_search == ("svc.cluster.local",)


def test_win2_routes_its_own_node_ip(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [cluster_doc(), pod_doc("w", "win2")])
    ep = next(e for e in c.facts("win2").hns_endpoints if e.role == "pod")
    assert ep.ip == A("10.244.3.3")
    assert ("SDNRoute", "10.240.0.30/32") in {(p.type, p.settings.get("DestinationPrefix")) for p in ep.policies}


def given_conf(exceptions: list[str], api: int = 1) -> dict:
    """A win-bridge conf (inside a flannel conf) with v1 policies and the given OutBoundNAT exceptions."""
    delegate = {"type": "win-bridge", "apiVersion": api, "policies": [
        {"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "ExceptionList": exceptions}},
        {"name": "EndpointPolicy", "value": {"Type": "ROUTE", "DestinationPrefix": "10.96.0.0/12",
                                             "NeedEncap": True}}]}
    return {"name": "cbr0", "type": "flannel", "delegate": delegate}


def endpoint_policies(tmp_path: Path, cni: dict) -> list:
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw", "cni": cni})
    c = build_docs(tmp_path, [doc, pod_doc("w", "win1")])
    return list(next(e for e in c.facts("win1").hns_endpoints if e.role == "pod").policies)


def test_masq_network_appended_as_a_separate_policy(tmp_path: Path) -> None:
    ps = endpoint_policies(tmp_path, given_conf(["10.96.0.0/12", "10.240.0.0/24"]))
    assert [p.type for p in ps] == ["OutBoundNAT", "SDNRoute", "OutBoundNAT"]
    assert list(ps[0].settings["Exceptions"]) == ["10.96.0.0/12", "10.240.0.0/24"]  # never merged
    assert list(ps[2].settings["Exceptions"]) == ["10.244.0.0/16"]


def test_masq_network_compared_as_a_string(tmp_path: Path) -> None:
    """A wider exception that contains the cluster CIDR is not the same string: a second policy is added."""
    ps = endpoint_policies(tmp_path, given_conf(["10.244.0.0/15"]))
    assert [list(p.settings["Exceptions"]) for p in ps if p.type == "OutBoundNAT"] == [
        ["10.244.0.0/15"], ["10.244.0.0/16"]]


def test_masq_network_already_listed_adds_nothing(tmp_path: Path) -> None:
    ps = endpoint_policies(tmp_path, given_conf(["10.96.0.0/12", "10.244.0.0/16"]))
    assert [p.type for p in ps] == ["OutBoundNAT", "SDNRoute"]


def test_host_port_mapping_policy(tmp_path: Path) -> None:
    pod = pod_doc("web", "win1")
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"},
                                             {"containerPort": 53, "hostPort": 5353, "protocol": "UDP"},
                                             {"containerPort": 9000, "hostPort": 9000, "protocol": "SCTP"}]
    c = build_docs(tmp_path, [cluster_doc(), pod])
    ep = next(e for e in c.facts("win1").hns_endpoints if e.role == "pod")
    maps = [dict(p.settings) for p in ep.policies if p.type == "PortMapping"]
    # hcn protocol enum: tcp 6, udp 17; SCTP is not in it and the plugin skips the mapping
    assert maps == [{"InternalPort": 80, "ExternalPort": 8080, "Protocol": 6},
                    {"InternalPort": 53, "ExternalPort": 5353, "Protocol": 17}]
    v1 = hns_json(tmp_path, [cluster_doc(), pod], api=1)
    pod_v1 = next(o for o in v1["win1"] if o.get("Role") == "pod")
    nat = [p for p in pod_v1["Policies"] if p["Type"] == "NAT"]
    assert nat == [{"Type": "NAT", "InternalPort": 80, "ExternalPort": 8080, "Protocol": "TCP"},
                   {"Type": "NAT", "InternalPort": 53, "ExternalPort": 5353, "Protocol": "UDP"}]


def hns_json(tmp_path: Path, docs: list, api: int, node: str = "win1") -> dict:
    path = write_docs(tmp_path / f"hns{api}.yaml", docs)
    r = run("routes", str(path), "--node", node, "-o", "hns", "--hns-api", str(api))
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_hns_v1_shape(worked: Path) -> None:
    r = run("routes", str(worked), "--node", "win1", "-o", "hns", "--hns-api", "1")
    assert r.exit_code == 0, r.stderr
    objs = json.loads(r.stdout)["win1"]
    net = next(o for o in objs if o["ObjectType"] == "Network")
    assert net["Name"] == "cbr0" and net["Type"] == "L2Bridge"
    assert net["Subnets"] == [{"AddressPrefix": "10.244.2.0/24", "GatewayAddress": "10.244.2.1"}]
    assert "Policies" not in net
    eps = {o["Name"]: o for o in objs if o["ObjectType"] == "Endpoint"}
    assert eps["cbr0_ep"]["IPAddress"] == "10.244.2.2"
    pod = next(o for o in objs if o.get("Role") == "pod" and o["IPAddress"] == "10.244.2.3")
    assert pod["VirtualNetworkName"] == "cbr0"
    assert pod["GatewayAddress"] == "10.244.2.2"
    assert pod["DNSServerList"] == "10.96.0.10" and pod["DNSSuffix"] == "svc.cluster.local"
    assert pod["Policies"] == [
        {"Type": "OutBoundNAT", "ExceptionList": WORKED_EXCEPTIONS},
        {"Type": "ROUTE", "DestinationPrefix": "10.96.0.0/12", "NeedEncap": True},
        {"Type": "ROUTE", "DestinationPrefix": "10.240.0.20/32", "NeedEncap": True},
    ]


def test_hns_v2_shape(worked: Path) -> None:
    r = run("routes", str(worked), "--node", "win1", "-o", "hns", "--hns-api", "2")
    assert r.exit_code == 0, r.stderr
    objs = json.loads(r.stdout)["win1"]
    net = next(o for o in objs if o["ObjectType"] == "Network")
    assert net["Type"] == "L2Bridge"
    subnet = net["Ipams"][0]["Subnets"][0]
    assert subnet["IpAddressPrefix"] == "10.244.2.0/24"
    assert subnet["Routes"] == [{"NextHop": "10.244.2.1", "DestinationPrefix": "0.0.0.0/0"}]
    assert net["SchemaVersion"] == {"Major": 2, "Minor": 0}
    pod = next(o for o in objs if o.get("Role") == "pod" and o["IpConfigurations"][0]["IpAddress"] == "10.244.2.3")
    assert pod["HostComputeNetwork"] == "cbr0"
    assert pod["IpConfigurations"] == [{"IpAddress": "10.244.2.3", "PrefixLength": 24}]
    # HCN endpoints always get a default route to the gateway (GenerateHcnEndpoint)
    assert pod["Routes"] == [{"NextHop": "10.244.2.2", "DestinationPrefix": "0.0.0.0/0"}]
    assert pod["Dns"] == {"Search": ["svc.cluster.local"], "ServerList": ["10.96.0.10"]}
    assert pod["Policies"] == [
        {"Type": "OutBoundNAT", "Settings": {"Exceptions": WORKED_EXCEPTIONS}},
        {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}},
        {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.240.0.20/32", "NeedEncap": True}},
    ]


def test_hns_output_refuses_linux_only_nodes(worked: Path) -> None:
    r = run("routes", str(worked), "--node", "lin1", "-o", "hns")
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    r = run("routes", str(worked), "--node", "win1", "-o", "ip")
    assert r.exit_code == 2 and "-o hns" in r.stderr


def test_v1_policies_under_api_version_2_are_warned(tmp_path: Path) -> None:
    conf = given_conf(["10.244.0.0/16"], api=2)
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw", "cni": conf})
    c = build_docs(tmp_path, [doc, pod_doc("w", "win1")])
    assert any("Settings" in w.message for w in c.warnings)


def test_policies_not_named_endpoint_policy_are_ignored(tmp_path: Path) -> None:
    conf = given_conf(["10.244.0.0/16"])
    conf["delegate"]["policies"].append({"name": "NetworkPolicy", "value": {"Type": "ROUTE",
                                                                            "DestinationPrefix": "1.2.3.0/24"}})
    ps = endpoint_policies(tmp_path, conf)
    assert [p.type for p in ps] == ["OutBoundNAT", "SDNRoute"]


def test_win_bridge_plugin_host_routes(tmp_path: Path) -> None:
    """`plugin: win-bridge` with `underlay.routes: host`: static routes on every node (Linux nodes kubenet-style
    on cbr0), the same shape as flannel host-gw."""
    doc = cluster_doc(network={"plugin": "win-bridge", "config": {"name": "cbr0", "type": "win-bridge"}})
    c = build_docs(tmp_path, [doc])
    lin1 = {(str(r.dst), str(r.via), r.dev) for r in c.facts("lin1").routes if r.kind == "pod-route"}
    assert lin1 == {("10.244.0.0/24", "10.240.0.4", "eth0"), ("10.244.2.0/24", "10.240.0.20", "eth0"),
                    ("10.244.3.0/24", "10.240.0.30", "eth0")}
    assert c.facts("lin1").device("cbr0") is not None
    win = {(str(r.dst), str(r.via)) for r in c.facts("win1").routes if r.kind == "pod-route"}
    assert win == {("10.244.0.0/24", "10.240.0.4"), ("10.244.1.0/24", "10.240.0.10"),
                   ("10.244.3.0/24", "10.240.0.30")}
    assert c.underlay().routes and not [r for r in c.underlay().routes if r.kind == "pod-route"]
