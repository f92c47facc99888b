"""win-overlay's endpoint policy lists, in the order the plugin appends them, from containernetworking/plugins
@3d27709f (plugins/main/windows/win-overlay/win-overlay_windows.go, pkg/hns/netconf_windows.go):

- HCN (ApiVersion 2), cmdHcnAdd: processEndpointArgs runs ApplyLoopbackDSRPolicy first (:88), then
  ApplyDefaultPAPolicy (:129) and, with ipMasq, ApplyOutboundNatPolicy for the node's pod subnet (:131).
- HNS v1, cmdHnsAdd: ApplyDefaultPAPolicy (:205), ApplyOutboundNatPolicy (:207), ApplyLoopbackDSRPolicy (:212).
- Each appends after the conf's `policies`; none is added when an equal one is there (PA: same address; DSR: an
  OutBoundNAT whose Destinations hold the pod IP, netconf_windows.go:131-194).
- Neither path calls ApplyPortMappingPolicy (only win-bridge does, win-bridge_windows.go:90): no PortMapping.
kube-proxy's source-VIP endpoint is a local endpoint (newSourceVIP, isLocal true); winkernel's createEndpoint
adds a ProviderAddress policy only to remote ones (kubernetes@280cccaf pkg/proxy/winkernel/hns.go:259).

The confs are written by hand in the shape of win-overlay's sample-v2.conf / sample.conf.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import pod_doc, write_docs
from test_overlay_linux import plan_doc

from cnimodel.cluster import Cluster
from cnimodel.dataplane import HnsEndpoint
from cnimodel.plan import load_plan
from cnimodel.render import hns

# win1: node IP 10.240.0.20, lease 10.244.2.0/24; .2 is the source VIP, so the first pod is 10.244.2.3
EXC = {"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "Settings": {
    "Exceptions": ["10.244.0.0/16", "10.96.0.0/12"]}}}
ROUTE = {"name": "EndpointPolicy", "value": {"Type": "SDNRoute", "Settings": {
    "DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}}}
EXC_V1 = {"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "ExceptionList": [
    "10.244.0.0/16", "10.96.0.0/12"]}}
ROUTE_V1 = {"name": "EndpointPolicy", "value": {"Type": "ROUTE", "DestinationPrefix": "10.96.0.0/12",
                                                "NeedEncap": True}}


def cluster(tmp_path: Path, conf: dict[str, Any], *pods: dict[str, Any]) -> Cluster:
    doc = plan_doc(macs=False)
    doc["spec"]["network"] = {"plugin": "win-overlay", "cni": {"name": "vxlan0", "type": "win-overlay", **conf},
                              "config": {"Backend": {"Name": "vxlan0"}}}
    return Cluster.build(load_plan([write_docs(tmp_path / "plan.yaml", [doc, *pods])]))


def pod_endpoint(c: Cluster, node: str = "win1") -> HnsEndpoint:
    (ep,) = [e for e in c.facts(node).hns_endpoints if e.role == "pod"]
    return ep


def rows(ep: HnsEndpoint) -> list[tuple[str, dict[str, Any]]]:
    return [(p.type, dict(p.settings)) for p in ep.policies]


def test_hcn_path_puts_the_dsr_outbound_nat_first(tmp_path: Path) -> None:
    c = cluster(tmp_path, {"apiVersion": 2, "ipMasq": True, "loopbackDSR": True, "policies": [EXC, ROUTE]},
                pod_doc("iis", "win1"))
    assert rows(pod_endpoint(c)) == [
        ("OutBoundNAT", {"Exceptions": ("10.244.0.0/16", "10.96.0.0/12")}),
        ("SDNRoute", {"DestinationPrefix": "10.96.0.0/12", "NeedEncap": True}),
        ("OutBoundNAT", {"Destinations": ("10.244.2.3",)}),
        ("ProviderAddress", {"ProviderAddress": "10.240.0.20"}),
        ("OutBoundNAT", {"Exceptions": ("10.244.2.0/24",)}),
    ]


def test_hns_v1_path_keeps_dsr_last(tmp_path: Path) -> None:
    c = cluster(tmp_path, {"ipMasq": True, "loopbackDSR": True, "policies": [EXC_V1, ROUTE_V1]},
                pod_doc("iis", "win1"))
    objs = hns.objects(c.facts("win1"), api=1)
    ep = next(o for o in objs if o.get("Role") == "pod")
    assert ep["Policies"] == [
        {"Type": "OutBoundNAT", "ExceptionList": ["10.244.0.0/16", "10.96.0.0/12"]},
        {"Type": "ROUTE", "DestinationPrefix": "10.96.0.0/12", "NeedEncap": True},
        {"Type": "PA", "PA": "10.240.0.20"},
        {"Type": "OutBoundNAT", "ExceptionList": ["10.244.2.0/24"]},
        {"Type": "OutBoundNAT", "Destinations": ["10.244.2.3"]},
    ]


def test_hcn_path_with_the_conf_provider_address_and_no_masq(tmp_path: Path) -> None:
    """sample-v2.conf carries its own ProviderAddress: ApplyDefaultPAPolicy finds it and adds none."""
    pa = {"name": "EndpointPolicy", "value": {"Type": "ProviderAddress", "Settings": {
        "ProviderAddress": "10.240.0.20"}}}
    c = cluster(tmp_path, {"apiVersion": 2, "loopbackDSR": True, "policies": [EXC, ROUTE, pa]},
                pod_doc("iis", "win1"))
    assert [t for t, _ in rows(pod_endpoint(c))] == ["OutBoundNAT", "SDNRoute", "ProviderAddress", "OutBoundNAT"]
    assert rows(pod_endpoint(c))[3] == ("OutBoundNAT", {"Destinations": ("10.244.2.3",)})


def test_dsr_not_repeated_when_the_conf_lists_the_pod(tmp_path: Path) -> None:
    dsr = {"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "Settings": {"Destinations": ["10.244.2.3"]}}}
    c = cluster(tmp_path, {"apiVersion": 2, "loopbackDSR": True, "policies": [dsr]}, pod_doc("iis", "win1"))
    assert rows(pod_endpoint(c)) == [("OutBoundNAT", {"Destinations": ("10.244.2.3",)}),
                                     ("ProviderAddress", {"ProviderAddress": "10.240.0.20"})]


def test_host_port_gets_no_port_mapping(tmp_path: Path) -> None:
    web = pod_doc("web", "win1", containers=[{"name": "c", "image": "x", "ports": [
        {"containerPort": 80, "hostPort": 8080, "protocol": "TCP"},
        {"containerPort": 53, "hostPort": 5353, "protocol": "UDP"}]}])
    for api in (1, 2):
        c = cluster(tmp_path, {"apiVersion": api, "ipMasq": True}, web)
        ep = pod_endpoint(c)
        assert [p.type for p in ep.policies] == ["ProviderAddress", "OutBoundNAT"]
        (note,) = [n for n in c.facts("win1").notes if "hostPort" in n]
        assert "default/web (8080/TCP, 5353/UDP)" in note and "no port mapping" in note
    # a node whose pods ask for no hostPort has no such note
    assert not [n for n in c.facts("win2").notes if "hostPort" in n]


def test_source_vip_endpoint_is_local_without_provider_address(tmp_path: Path) -> None:
    c = cluster(tmp_path, {"apiVersion": 2, "ipMasq": True})
    (vip,) = [e for e in c.facts("win1").hns_endpoints if e.role == "source-vip"]
    assert (str(vip.ip), vip.policies, vip.owner) == ("10.244.2.2", (), "kube-proxy")
    body = next(o for o in hns.objects(c.facts("win1"), api=2) if o.get("Role") == "source-vip")
    assert "Policies" not in body and "Flags" not in body  # local: no remote flag, no policy
