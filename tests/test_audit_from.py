"""`cnimodel audit PLAN --node N --from FILE…`: state people paste, written here by hand in each tool's documented
output shape (field names and casing as the commands print them), compared with the plan.

Shapes: `az network route-table route list -o json` (Azure CLI: addressPrefix, name, nextHopIpAddress, nextHopType,
provisioningState …); `aws ec2 describe-route-tables` (RouteTables[].Routes[] with DestinationCidrBlock, GatewayId,
NetworkInterfaceId, InstanceId, Origin, State); `gcloud compute routes list --format=json` (destRange, nextHopIp,
nextHopGateway, nextHopInstance, network, priority); MSFT_NetRoute through ConvertTo-Json (DestinationPrefix,
NextHop, InterfaceAlias, AddressFamily 2 = IPv4, Store 0 = ActiveStore); HNS v1 objects as Get-HnsNetwork /
Get-HnsEndpoint return them (ID, Name, Type, Subnets[].AddressPrefix/GatewayAddress, IPAddress, VirtualNetworkName,
IsRemoteEndpoint, flat Policies), HCN v2 endpoints (IpConfigurations, {Type, Settings} policies);
`hnsdiag list all` as microsoft/SDN Kubernetes/windows/kubeadm/Kubecluster.md shows it; iptables-save with
kube-proxy's chain names computed as proxier.go does (KUBE-SVC- + base32(sha256(port name + protocol))[:16]).
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from audit_captures import (
    DEFAULT,
    HNSDIAG,
    TALK,
    aws_tables,
    az_route,
    default_win1_netroutes,
    gcloud_routes,
    hybrid_fdb,
    hybrid_neighbors,
    iis_endpoints,
    iis_policy_list,
    iptables_save,
    svc_chain,
    talk_az,
    talk_host_endpoint,
    v1_network,
    v2_pod_endpoint,
    win_bridge_policies,
)
from builders import run

from cnimodel import examples


def put(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return str(path)


def audit(*args: str) -> tuple[int, dict[str, Any] | str, str]:
    result = run("audit", *args, "-o", "json")
    if result.exit_code in (0, 1):
        return result.exit_code, json.loads(result.stdout), result.stderr
    return result.exit_code, result.stdout, result.stderr


def found(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(d["status"], d["kind"], d["key"]) for d in report["differences"]}


# --- the cloud's route table ------------------------------------------------------------------------------


def test_the_talks_azure_table_as_listed_matches(tmp_path: Path) -> None:
    listing = talk_az()
    code, report, _ = audit(TALK, "--node", "underlay", "--from", put(tmp_path, "az.json", listing))
    assert code == 0 and report["differences"] == [] and report["checked"] == {"cloudRoutes": 3}
    assert report["from"][0]["kind"] == "az-routes"


def test_a_missing_a_wrong_and_an_extra_azure_route_each_with_its_az_line(tmp_path: Path) -> None:
    listing = [az_route("lin1", "10.244.1.0/24", "10.240.0.10"), az_route("win1", "10.244.2.0/24", "10.240.0.21"),
               az_route("old-node", "10.244.7.0/24", "10.240.0.70")]
    code, report, _ = audit(TALK, "--node", "vnet-routes", "--from", put(tmp_path, "az.json", listing))
    assert code == 1
    assert found(report) == {("missing", "cloud-route", "10.244.0.0/24"), ("different", "cloud-route", "10.244.2.0/24"),
                             ("extra", "cloud-route", "10.244.7.0/24")}
    fixes = {d["key"]: d["fix"] for d in report["differences"]}
    assert fixes["10.244.0.0/24"].startswith("az network route-table route create")
    assert "--name master --address-prefix 10.244.0.0/24 --next-hop-type VirtualAppliance " \
           "--next-hop-ip-address 10.240.0.4" in fixes["10.244.0.0/24"]
    assert "--next-hop-ip-address 10.240.0.20" in fixes["10.244.2.0/24"]
    assert fixes["10.244.7.0/24"].startswith("az network route-table route delete") and "--name old-node" in \
        fixes["10.244.7.0/24"]


def test_another_clusters_route_list_is_refused(tmp_path: Path) -> None:
    listing = [az_route("aks-1", "172.16.1.0/24", "192.168.0.5"), az_route("aks-2", "172.16.2.0/24", "192.168.0.6")]
    code, _, err = audit(TALK, "--node", "underlay", "--from", put(tmp_path, "other.json", listing))
    assert code == 2 and "another cluster" in err and "other.json" in err


def test_a_truncated_listing_is_refused_with_its_place(tmp_path: Path) -> None:
    text = json.dumps([az_route("lin1", "10.244.1.0/24", "10.240.0.10")], indent=2)
    code, _, err = audit(TALK, "--node", "underlay", "--from", put(tmp_path, "cut.json", text[: len(text) // 2]))
    assert code == 2 and "not valid JSON" in err and "truncated" in err


def test_aws_route_tables_compare_destinations_and_states(tmp_path: Path) -> None:
    tables = aws_tables()
    code, report, _ = audit(TALK, "--node", "underlay", "--from", put(tmp_path, "aws.json", tables))
    assert code == 1
    assert found(report) == {("missing", "cloud-route", "10.244.0.0/24"), ("different", "cloud-route", "10.244.2.0/24")}
    fix = next(d["fix"] for d in report["differences"] if d["key"] == "10.244.0.0/24")
    assert fix.startswith("aws ec2 create-route") and '--network-interface-id "${ENI[master]}"' in fix


def test_gcloud_routes_by_next_hop_address_or_instance(tmp_path: Path) -> None:
    routes = gcloud_routes()
    code, report, _ = audit(TALK, "--node", "underlay", "--from", put(tmp_path, "gce.json", routes))
    assert code == 1 and found(report) == {("different", "cloud-route", "10.244.0.0/24")}
    fix = report["differences"][0]["fix"]
    assert fix.startswith("gcloud compute routes delete talk-l2bridge-cloud-master") and \
        "--next-hop-address=10.240.0.4 " in fix


def test_node_state_against_the_underlay_or_a_table_against_a_node_is_refused(tmp_path: Path) -> None:
    az = put(tmp_path, "az.json", [az_route("lin1", "10.244.1.0/24", "10.240.0.10")])
    code, _, err = audit(TALK, "--node", "lin1", "--from", az)
    assert code == 2 and "--node vnet-routes" in err
    netroute = put(tmp_path, "r.json", [{"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.240.0.1",
                                         "InterfaceAlias": "Ethernet", "AddressFamily": 2, "Store": 0}])
    code, _, err = audit(TALK, "--node", "lin1", "--from", netroute)
    assert code == 2 and "Windows" in err and "Linux" in err


def test_a_file_of_no_known_kind_is_refused(tmp_path: Path) -> None:
    code, _, err = audit(TALK, "--node", "lin1", "--from", put(tmp_path, "x.json", [{"hello": "world"}]))
    assert code == 2 and "none of the outputs audit reads" in err


# --- Windows ----------------------------------------------------------------------------------------------


def test_get_netroute_finds_flannels_missing_route_and_passes_by_the_routes_windows_makes(tmp_path: Path) -> None:
    """default.yaml win1 (flannel host-gw): routes to lin1's and master's pods via their node IPs on
    vEthernet (Ethernet); the one to win2's pods (10.244.3.0/24 via 10.240.0.30) is not there."""
    routes = default_win1_netroutes()
    code, report, _ = audit(DEFAULT, "--node", "win1", "--from", put(tmp_path, "netroute.json", routes))
    assert code == 1
    assert found(report) == {("missing", "netroute", "10.244.3.0/24")}
    assert report["differences"][0]["fix"] == ("New-NetRoute -AddressFamily IPv4 -DestinationPrefix 10.244.3.0/24 "
                                               "-InterfaceAlias 'vEthernet (Ethernet)' -NextHop 10.240.0.30")


def test_the_talks_hns_network_and_host_endpoint_from_collectlogs_files(tmp_path: Path) -> None:
    """collectlogs.ps1 writes a `Select` table before the JSON (network.txt), and Windows PowerShell's `>` writes
    UTF-16 with a byte-order mark: both are read."""
    table = "\nName     Type     Id                                   AddressPrefix\n----     ----     --\n" \
            "l2bridge L2Bridge 3a8f1b7c-0000-0000-0000-000000000001 10.244.2.0/24\n\n"
    network = tmp_path / "network.txt"
    network.write_bytes(codecs.BOM_UTF16_LE + (table + json.dumps(v1_network(), indent=4)).encode("utf-16-le"))
    endpoint = talk_host_endpoint()
    code, report, _ = audit(TALK, "--node", "win1", "--from", str(network),
                            "--from", put(tmp_path, "endpoint.json", endpoint))
    assert code == 0, report
    assert [s["kind"] for s in report["from"]] == ["hns-network", "hns-endpoint"]
    broken = dict(v1_network(), Subnets=[{"AddressPrefix": "10.244.2.0/24", "GatewayAddress": "10.244.2.254"}])
    code, report, _ = audit(TALK, "--node", "win1", "--from", put(tmp_path, "n.json", [broken]))
    assert code == 1 and found(report) == {("different", "hns-network", "l2bridge")}
    assert "Remove-HnsNetwork; New-HnsNetwork -JsonString" in report["differences"][0]["fix"]


def test_endpoint_policies_policy_by_policy(tmp_path: Path) -> None:
    """default.yaml's win-bridge conf (flannel's Windows ConfigMap): OutBoundNAT with the cluster, service and node
    subnets excepted, SDNRoute 10.96.0.0/12 and SDNRoute to the node's own address, both NeedEncap. Here the
    second SDNRoute is gone and OutBoundNAT lacks the node subnet."""
    policies = win_bridge_policies()
    code, report, _ = audit(DEFAULT, "--node", "win1", "--from", put(tmp_path, "ep.json", [v2_pod_endpoint(policies)]))
    assert code == 1
    got = {(d["status"], d["kind"], d["key"].split()[-1]) for d in report["differences"]
           if d["kind"] == "endpoint-policy"}
    assert got == {("different", "endpoint-policy", "OutBoundNAT"), ("missing", "endpoint-policy", "SDNRoute")}
    fixes = [d["fix"] for d in report["differences"] if d["kind"] == "endpoint-policy"]
    assert any(f.startswith("Add-HnsEndpointPolicy -Endpoints @('6a2b1f40-0000-0000-0000-000000000003')") and
               "DestinationPrefix='10.240.0.20/32'" in f for f in fixes)
    assert ("missing", "hns-endpoint", "10.244.2.2") in found(report)  # the host endpoint was not in the file


def test_endpoints_of_another_cluster_are_refused(tmp_path: Path) -> None:
    other = dict(v2_pod_endpoint([]), IpConfigurations=[{"IpAddress": "192.168.5.9", "PrefixLength": 24}])
    code, _, err = audit(DEFAULT, "--node", "win1", "--from", put(tmp_path, "ep.json", [other]))
    assert code == 2 and "another node's or cluster's" in err


def test_hnsdiag_list_all_counts_the_endpoints_of_each_network(tmp_path: Path) -> None:
    """default.yaml win1 has cbr0 with two endpoints (cbr0_ep and the pod's); the listing has one. Its one Service
    (web/iis, ClusterIP 10.96.0.100, one port) is one load balancer; a load balancer for a VIP the plan does not
    have is extra."""
    code, report, _ = audit(DEFAULT, "--node", "win1", "--from", put(tmp_path, "hnsdiag.txt", HNSDIAG))
    assert code == 1 and report["from"][0]["kind"] == "hnsdiag"
    assert found(report) == {("different", "hns-endpoints", "cbr0")}
    more = HNSDIAG + "af826f8b-9f78-41ea-bc9e-6e433f8784df |  10.96.0.10      | 11796e63-07b3-4199-91d5-9bc25108fb41\n"
    code, report, _ = audit(DEFAULT, "--node", "win1", "--from", put(tmp_path, "h1.txt", more))
    assert ("extra", "hns-loadbalancers", "10.96.0.10") in found(report)
    missing_net = HNSDIAG.replace("cbr0             705B6B4D-E2F2-421A-B31B-E3C5E8831944\n", "")
    code, report, _ = audit(DEFAULT, "--node", "win1", "--from", put(tmp_path, "h2.txt", missing_net))
    assert ("missing", "hns-network", "cbr0") in found(report)


# --- Linux without root -----------------------------------------------------------------------------------


def test_ip_json_routes_of_another_host_are_refused(tmp_path: Path) -> None:
    routes = [{"dst": "default", "gateway": "192.168.1.1", "dev": "wlan0", "protocol": "dhcp", "prefsrc":
               "192.168.1.20", "metric": 600, "flags": []},
              {"dst": "192.168.1.0/24", "dev": "wlan0", "protocol": "kernel", "scope": "link",
               "prefsrc": "192.168.1.20", "metric": 600, "flags": []}]
    code, _, err = audit(DEFAULT, "--node", "lin1", "--from", put(tmp_path, "r.json", routes))
    assert code == 2 and "another host's" in err


def test_ip_json_neighbours_and_fdb_with_their_fix_lines(tmp_path: Path) -> None:
    """hybrid-vxlan.yaml lin1 holds a permanent neighbour and an FDB entry per peer VTEP on flannel.4096; the
    files here hold master's only (win1's and win2's are missing), with the kind named for the neighbours."""
    neigh, fdb = hybrid_neighbors(), hybrid_fdb()
    code, report, _ = audit(str(examples.path("hybrid-vxlan.yaml")), "--node", "lin1",
                            "--from", "ip-neigh=" + put(tmp_path, "n.json", neigh),
                            "--from", put(tmp_path, "f.json", fdb))
    assert code == 1
    kinds = {(d["status"], d["kind"]) for d in report["differences"]}
    assert kinds == {("missing", "neighbor"), ("missing", "fdb")}
    assert sum(d["kind"] == "neighbor" for d in report["differences"]) == 2
    fixes = sorted(d["fix"] for d in report["differences"])
    assert any(f.startswith("bridge fdb replace 00:15:5d:f5:9d:db dev flannel.4096 dst 10.240.0.20") for f in fixes)
    assert any(f.startswith("ip neigh replace 10.244.2.0 lladdr 00:15:5d:f5:9d:db dev flannel.4096") for f in fixes)


def test_iptables_save_rule_by_rule(tmp_path: Path) -> None:
    """services-l2bridge.yaml lin1: web/iis's ClusterIP 10.96.0.100:80 jumps to its KUBE-SVC chain; the host's own
    rules are passed by; a jump for a Service the plan does not have is extra."""
    iis, gone = svc_chain("web/iis", "tcp"), svc_chain("web/gone", "tcp")
    text = iptables_save()
    code, report, _ = audit(str(examples.path("services-l2bridge.yaml")), "--node", "lin1",
                            "--from", put(tmp_path, "iptables.txt", text))
    assert code == 1 and report["from"][0]["kind"] == "iptables-save"
    diffs = report["differences"]
    assert not any(iis in d["live"] or (iis in d["model"] and "KUBE-SERVICES" in d["key"] and
                                        "10.96.0.100/32" in d["model"]) for d in diffs)
    extra = [d for d in diffs if d["status"] == "extra"]
    assert [d["live"].split(" -j ")[-1] for d in extra] == [gone]
    assert extra[0]["fix"].startswith("iptables -t nat -D KUBE-SERVICES -d 10.96.0.199/32")
    assert any(d["status"] == "missing" and d["key"] == "-t nat OUTPUT" and "KUBE-SERVICES" in d["model"]
               for d in diffs)
    assert not any("--dport 22" in d["live"] for d in diffs)


@pytest.mark.parametrize("text", ["*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j KUBE-SERVICES\n",  # no COMMIT
                                  "-A KUBE-SERVICES -j ACCEPT\nCOMMIT\n*nat\nCOMMIT\n"])  # a rule outside a table
def test_a_cut_iptables_save_is_refused(tmp_path: Path, text: str) -> None:
    code, _, err = audit(str(examples.path("services-l2bridge.yaml")), "--node", "lin1",
                         "--from", "iptables-save=" + put(tmp_path, "cut.txt", text))
    assert code == 2 and "cut.txt" in err


def test_get_hns_policy_list_load_balancers_and_their_backends(tmp_path: Path) -> None:
    """default.yaml: web/iis (ClusterIP 10.96.0.100, port 80 → the pods' containerPort 80 named http) has pods
    iis-0 on win1 (10.244.2.3: .2 is the host endpoint's) and iis-1 on win2 (10.244.3.3). On win1 kube-proxy's
    HNS v1 policy list holds one ELB policy (TCP = 6, 80 → 80) referencing the local endpoint and a remote one."""
    plist = iis_policy_list()
    endpoints = iis_endpoints()
    args = [DEFAULT, "--node", "win1", "--from", put(tmp_path, "ep.json", endpoints)]
    code, report, _ = audit(*args, "--from", put(tmp_path, "policy.txt", plist))
    assert [s["kind"] for s in report["from"]] == ["hns-endpoint", "hns-policylist"]
    assert not [d for d in report["differences"] if d["kind"] == "hns-loadbalancer"]
    endpoints[1]["IPAddress"] = "10.244.3.9"
    code, report, _ = audit(DEFAULT, "--node", "win1", "--from", put(tmp_path, "ep2.json", endpoints),
                            "--from", put(tmp_path, "policy2.txt", plist))
    lb = [d for d in report["differences"] if d["kind"] == "hns-loadbalancer"]
    assert [(d["status"], d["model"], d["live"]) for d in lb] == [("different", "10.244.2.3 10.244.3.3",
                                                                  "10.244.2.3 10.244.3.9")]
    foreign = [dict(plist[0], Policies=[dict(plist[0]["Policies"][0], VIPs=["172.20.0.10"])])]
    code, _, err = audit(DEFAULT, "--node", "win1", "--from", put(tmp_path, "p3.json", foreign))
    assert code == 2 and "another cluster" in err
