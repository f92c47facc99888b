"""State people paste into ``cnimodel audit --from``, written by hand in each tool's documented output shape (the
sources are named in tests/test_audit_from.py's docstring). tests/test_audit_from.py asserts what audit finds in
them; tests/robust/test_fuzz_audit.py mutates them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from cnimodel import examples

TALK = str(examples.path("talk-l2bridge-cloud.yaml"))
DEFAULT = str(examples.path("default.yaml"))
SERVICES = str(examples.path("services-l2bridge.yaml"))
HYBRID = str(examples.path("hybrid-vxlan.yaml"))


def az_route(name: str, prefix: str, hop: str) -> dict[str, Any]:
    return {"addressPrefix": prefix, "etag": "W/\"00000000-0000-0000-0000-000000000000\"", "hasBgpOverride": False,
            "id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/routeTables/vnet-routes/"
                  f"routes/{name}",
            "name": name, "nextHopIpAddress": hop, "nextHopType": "VirtualAppliance",
            "provisioningState": "Succeeded", "resourceGroup": "rg",
            "type": "Microsoft.Network/routeTables/routes"}


def talk_az() -> list[dict[str, Any]]:
    """The talk plan's three node routes, as `az network route-table route list -o json` lists them."""
    return [az_route("master", "10.244.0.0/24", "10.240.0.4"), az_route("lin1", "10.244.1.0/24", "10.240.0.10"),
            az_route("win1", "10.244.2.0/24", "10.240.0.20")]


def aws_tables() -> dict[str, Any]:
    """`aws ec2 describe-route-tables`: master's route missing, win1's a blackhole."""
    return {"RouteTables": [{
        "Associations": [{"Main": False, "RouteTableAssociationId": "rtbassoc-0a1", "RouteTableId": "rtb-0123",
                          "SubnetId": "subnet-0b2"}],
        "PropagatingVgws": [], "RouteTableId": "rtb-0123", "VpcId": "vpc-0c3", "OwnerId": "111122223333",
        "Tags": [{"Key": "Name", "Value": "vnet-routes"}],
        "Routes": [
            {"DestinationCidrBlock": "10.240.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable",
             "State": "active"},
            {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0d4", "Origin": "CreateRoute", "State": "active"},
            {"DestinationCidrBlock": "10.244.1.0/24", "InstanceId": "i-0aaa", "InstanceOwnerId": "111122223333",
             "NetworkInterfaceId": "eni-0aaa", "Origin": "CreateRoute", "State": "active"},
            {"DestinationCidrBlock": "10.244.2.0/24", "InstanceId": "i-0bbb", "InstanceOwnerId": "111122223333",
             "NetworkInterfaceId": "eni-0bbb", "Origin": "CreateRoute", "State": "blackhole"}]}]}


GCE_NET = "https://www.googleapis.com/compute/v1/projects/p/global/networks/default"


def gcloud_routes() -> list[dict[str, Any]]:
    """`gcloud compute routes list --format=json`: master's route via the wrong address."""
    net = GCE_NET
    return [
        {"creationTimestamp": "2024-01-01T00:00:00.000-07:00", "description": "Default local route to the subnetwork "
         "10.240.0.0/16.", "destRange": "10.240.0.0/16", "id": "1", "kind": "compute#route", "name": "default-route-1",
         "network": net, "nextHopNetwork": net, "priority": 0, "selfLink": f"{net}/routes/default-route-1"},
        {"destRange": "0.0.0.0/0", "id": "2", "kind": "compute#route", "name": "default-route-2", "network": net,
         "nextHopGateway": "https://www.googleapis.com/compute/v1/projects/p/global/gateways/default-internet-gateway",
         "priority": 1000},
        {"description": "k8s-node-route", "destRange": "10.244.1.0/24", "id": "3", "kind": "compute#route",
         "name": "talk-l2bridge-cloud-0d3c", "network": net, "priority": 1000,
         "nextHopInstance": "https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/lin1"},
        {"destRange": "10.244.2.0/24", "id": "4", "kind": "compute#route", "name": "talk-l2bridge-cloud-win1",
         "network": net, "nextHopIp": "10.240.0.20", "priority": 1000},
        {"destRange": "10.244.0.0/24", "id": "5", "kind": "compute#route", "name": "talk-l2bridge-cloud-master",
         "network": net, "nextHopIp": "10.240.0.40", "priority": 1000}]


def netroute(prefix: str, hop: str, alias: str, index: int = 5, family: int = 2) -> dict[str, Any]:
    return {"DestinationPrefix": prefix, "NextHop": hop, "InterfaceAlias": alias, "InterfaceIndex": index,
            "ifIndex": index, "AddressFamily": family, "RouteMetric": 256, "Protocol": 3, "Store": 0, "TypeOfRoute": 3,
            "Publish": 0, "State": 1, "ValidLifetime": "10675199.02:48:05.4775807"}


def default_win1_netroutes() -> list[dict[str, Any]]:
    """default.yaml win1's Get-NetRoute without the route to win2's pods (10.244.3.0/24 via 10.240.0.30)."""
    eth, br = "vEthernet (Ethernet)", "vEthernet (cbr0_ep)"
    return [netroute("0.0.0.0/0", "10.240.0.1", eth), netroute("10.240.0.0/24", "0.0.0.0", eth),
            netroute("10.240.0.20/32", "0.0.0.0", eth), netroute("10.240.0.255/32", "0.0.0.0", eth),
            netroute("10.244.2.0/24", "0.0.0.0", br, 9), netroute("10.244.2.2/32", "0.0.0.0", br, 9),
            netroute("10.244.0.0/24", "10.240.0.4", eth), netroute("10.244.1.0/24", "10.240.0.10", eth),
            netroute("224.0.0.0/4", "0.0.0.0", eth), netroute("255.255.255.255/32", "0.0.0.0", eth),
            netroute("127.0.0.0/8", "0.0.0.0", "Loopback Pseudo-Interface 1", 1),
            netroute("::/0", "fe80::1", eth, family=23)]


def v1_network() -> dict[str, Any]:
    return {"ActivityId": "0B4A5C5E-0000-0000-0000-000000000000", "AdditionalParams": {}, "CurrentEndpointCount": 1,
            "Extensions": [{"Id": "E7C3B2F0-F3C5-48DF-AF2B-10FED6D72E7A", "IsEnabled": False,
                            "Name": "Microsoft Windows Filtering Platform"}],
            "Flags": 0, "Health": {"LastErrorCode": 0}, "ID": "3A8F1B7C-0000-0000-0000-000000000001", "IPv6": False,
            "LayeredOn": "5204E456-2E38-488C-859A-17273A84E3B9", "ManagementIP": "10.240.0.20",
            "MacPools": [{"EndMacAddress": "00-15-5D-C4-FF-FF", "StartMacAddress": "00-15-5D-C4-F0-00"}],
            "Name": "l2bridge", "NetworkAdapterName": "Ethernet", "Policies": [], "State": 1,
            "Subnets": [{"AddressPrefix": "10.244.2.0/24", "GatewayAddress": "10.244.2.1", "Policies": [],
                         "State": 0}],
            "TotalEndpoints": 1, "Type": "L2Bridge", "Version": 38654705666}


def talk_host_endpoint() -> dict[str, Any]:
    """The talk plan's win1 host endpoint as Get-HnsEndpoint (HNS v1) returns it."""
    return {"ActivityId": "1", "ID": "9c3e0d11-0000-0000-0000-000000000002", "IPAddress": "10.244.2.2",
            "IsRemoteEndpoint": False, "MacAddress": "00-15-5D-C4-F0-01", "Name": "cbr0", "Policies": [],
            "PrefixLength": 24, "SharedContainers": [], "State": 2, "Type": "L2Bridge", "Version": 38654705666,
            "VirtualNetwork": "3a8f1b7c-0000-0000-0000-000000000001", "VirtualNetworkName": "l2bridge"}


def v2_pod_endpoint(policies: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ID": "6a2b1f40-0000-0000-0000-000000000003", "Name": "5f1e…_cbr0",
            "HostComputeNetwork": "3a8f1b7c-0000-0000-0000-000000000001", "State": 1,
            "IpConfigurations": [{"IpAddress": "10.244.2.3", "PrefixLength": 24}],
            "Dns": {"Search": ["svc.cluster.local"], "ServerList": ["10.96.0.10"]},
            "Routes": [{"NextHop": "10.244.2.2", "DestinationPrefix": "0.0.0.0/0"}],
            "MacAddress": "00-15-5D-C4-F0-05", "Policies": policies, "SchemaVersion": {"Major": 2, "Minor": 0}}


def win_bridge_policies() -> list[dict[str, Any]]:
    """default.yaml's win-bridge endpoint policies, less the SDNRoute to the node and the node subnet's exception."""
    return [{"Type": "OutBoundNAT", "Settings": {"Exceptions": ["10.96.0.0/12", "10.244.0.0/16"]}},
            {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}},
            {"Type": "L2Driver", "Settings": {}}]


def v1_endpoint(eid: str, ip: str, remote: bool) -> dict[str, Any]:
    return {"ID": eid, "Name": "Ethernet", "VirtualNetwork": "3a8f1b7c-0000-0000-0000-000000000001",
            "VirtualNetworkName": "cbr0", "IPAddress": ip, "IsRemoteEndpoint": remote,
            "MacAddress": "00-15-5D-C4-F0-09", "Policies": [{"Type": "L2Driver"}], "State": 1}


def iis_endpoints() -> list[dict[str, Any]]:
    """default.yaml web/iis's backends seen from win1: iis-0 local (10.244.2.3), iis-1 remote on win2."""
    return [v1_endpoint("aaaa0000-0000-0000-0000-000000000001", "10.244.2.3", False),
            v1_endpoint("bbbb0000-0000-0000-0000-000000000002", "10.244.3.3", True)]


def iis_policy_list() -> list[dict[str, Any]]:
    """Get-HnsPolicyList on win1: one ELB policy (TCP = 6, 80 → 80) for web/iis's ClusterIP 10.96.0.100."""
    return [{"ActivityId": "7", "ID": "3c89c920-c65a-4c81-a1de-056fe4097e95",
             "Policies": [{"ExternalPort": 80, "ILB": False, "InternalPort": 80, "Protocol": 6, "Type": "ELB",
                           "VIPs": ["10.96.0.100"]}],
             "References": ["/endpoints/aaaa0000-0000-0000-0000-000000000001",
                            "/endpoints/bbbb0000-0000-0000-0000-000000000002"]}]


HNSDIAG = """PS C:\\Users\\azureuser> hnsdiag list all
Networks:
Name             ID
nat              B5083512-BE1D-4326-B58F-56CA5154E8D5
cbr0             705B6B4D-E2F2-421A-B31B-E3C5E8831944

Endpoints:
Name             ID                                   Virtual Network Name
cbr0_ep          11796e63-07b3-4199-91d5-9bc25108fb41 cbr0

Namespaces:
ID                                   | Endpoint IDs

LoadBalancers:
ID                                   | Virtual IPs      | Direct IP IDs
326f84d7-35ec-4355-a60a-e82e2b05ec24 |  10.96.0.100     | 11796e63-07b3-4199-91d5-9bc25108fb41
"""


def hybrid_neighbors() -> list[dict[str, Any]]:
    """hybrid-vxlan.yaml lin1's `ip -j neigh`: master's VTEP only, and a host neighbour."""
    return [{"dst": "10.244.0.0", "dev": "flannel.4096", "lladdr": "fe:61:3b:4d:fd:67", "state": ["PERMANENT"]},
            {"dst": "10.240.0.1", "dev": "eth0", "lladdr": "12:34:56:78:9a:bc", "state": ["REACHABLE"]}]


def hybrid_fdb() -> list[dict[str, Any]]:
    """hybrid-vxlan.yaml lin1's `bridge -j fdb`: master's VTEP only, and a multicast entry."""
    return [{"mac": "fe:61:3b:4d:fd:67", "ifname": "flannel.4096", "dst": "10.240.0.4", "flags": ["self"],
             "state": "permanent"},
            {"mac": "33:33:00:00:00:01", "ifname": "eth0", "flags": ["self"], "state": "permanent"}]


def default_lin1_routes() -> list[dict[str, Any]]:
    """default.yaml lin1's `ip -j route show table all` (flannel host-gw), as `cnimodel routes -o ip` writes it,
    with a local-table entry and an IPv6 route that audit passes by."""
    return [{"dst": "default", "gateway": "10.240.0.1", "dev": "eth0", "flags": []},
            {"dst": "10.240.0.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.240.0.10",
             "flags": []},
            {"dst": "10.244.0.0/24", "gateway": "10.240.0.4", "dev": "eth0", "flags": []},
            {"dst": "10.244.1.0/24", "dev": "cni0", "protocol": "kernel", "scope": "link", "prefsrc": "10.244.1.1",
             "flags": []},
            {"dst": "10.244.2.0/24", "gateway": "10.240.0.20", "dev": "eth0", "flags": []},
            {"dst": "10.244.3.0/24", "gateway": "10.240.0.30", "dev": "eth0", "flags": []},
            {"type": "local", "dst": "10.240.0.10", "table": "local", "dev": "eth0", "protocol": "kernel",
             "scope": "host", "prefsrc": "10.240.0.10", "flags": []},
            {"dst": "fe80::/64", "dev": "eth0", "protocol": "kernel", "metric": 256, "flags": [], "pref": "medium"}]


def svc_chain(port_name: str, protocol: str) -> str:
    """kube-proxy's servicePortChainName: KUBE-SVC- and the first 16 characters of base32(sha256(name+protocol))."""
    return "KUBE-SVC-" + base64.b32encode(hashlib.sha256((port_name + protocol).encode()).digest()).decode()[:16]


def iptables_save() -> str:
    """services-l2bridge.yaml lin1's iptables-save: web/iis's jump, the host's own rule, a jump for a gone Service."""
    iis, gone = svc_chain("web/iis", "tcp"), svc_chain("web/gone", "tcp")
    return "\n".join([
        "# Generated by iptables-save v1.8.9 on Mon Dec  1 10:00:00 2025", "*filter", ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "COMMIT",
        "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]",
        ":KUBE-SERVICES - [0:0]",
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        f'-A KUBE-SERVICES -d 10.96.0.100/32 -p tcp -m comment --comment "web/iis cluster IP" -m tcp --dport 80 '
        f"-j {iis}",
        f'-A KUBE-SERVICES -d 10.96.0.199/32 -p tcp -m comment --comment "web/gone cluster IP" -m tcp --dport 80 '
        f"-j {gone}",
        "COMMIT", ""])


@dataclass(frozen=True)
class Capture:
    """One file for ``audit PLAN --node NODE --from [KIND=]FILE``: JSON data, or the text of a text output."""

    plan: str
    node: str
    name: str
    data: Any
    kind: str = ""  # given as KIND= when set

    @property
    def text(self) -> bool:
        return isinstance(self.data, str)


def captures() -> list[Capture]:
    """One capture of every kind audit reads."""
    return [
        Capture(TALK, "underlay", "az.json", talk_az()),
        Capture(TALK, "underlay", "aws.json", aws_tables()),
        Capture(TALK, "underlay", "gce.json", gcloud_routes()),
        Capture(DEFAULT, "win1", "netroute.json", default_win1_netroutes()),
        Capture(TALK, "win1", "network.json", v1_network()),
        Capture(TALK, "win1", "endpoint.json", talk_host_endpoint()),
        Capture(DEFAULT, "win1", "ep.json", [v2_pod_endpoint(win_bridge_policies())]),
        Capture(DEFAULT, "win1", "endpoints.json", iis_endpoints()),
        Capture(DEFAULT, "win1", "policy.json", iis_policy_list()),
        Capture(DEFAULT, "win1", "hnsdiag.txt", HNSDIAG),
        Capture(DEFAULT, "lin1", "routes.json", default_lin1_routes()),
        Capture(HYBRID, "lin1", "neigh.json", hybrid_neighbors(), "ip-neigh"),
        Capture(HYBRID, "lin1", "fdb.json", hybrid_fdb()),
        Capture(SERVICES, "lin1", "iptables.txt", iptables_save()),
    ]
