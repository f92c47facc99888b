"""winkernel on an Overlay network (flannel vxlan, VNI 4096) and the HNS v2 JSON it produces.

By hand from services-lb.md §1.1 (ClusterIP remote endpoint on overlay), §1.3 (remote endpoints: Flags 1,
MAC 02-11-<octets>, ProviderAddress from the RemoteSubnetRoute holding the IP, else the node's own IP),
§1.4 (SourceVIP: the source VIP, or the node IP when a remote backend is a node IP or outside the cluster)
and §2.5 (hcsshim field names; omitempty drops zero values, never struct values)."""

from __future__ import annotations

from pathlib import Path

from builders import pod_doc
from lbplans import build, endpoint_slice, ep, service, web_example

from cnimodel.render.lb_hns import objects
from cnimodel.services import winkernel_view

SCHEMA = {"Major": 2, "Minor": 0}


def by_type(view) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[dict]] = {}
    for o in objects(view):
        out.setdefault(o["ObjectType"], []).append(o)
    return out


def test_overlay_source_vip_and_provider_addresses(tmp_path: Path) -> None:
    view = winkernel_view(build(tmp_path, web_example(), backend="vxlan"), "win1")
    assert view.source_vip == "10.244.2.2"  # flannel reserves .2 of win1's 10.244.2.0/24 for kube-proxy
    assert {lb.source_vip for lb in view.load_balancers} == {"10.244.2.2"}
    pa = {str(e.ip): dict(e.policies[0].settings) for e in view.endpoints if e.role == "remote"}
    assert pa == {"10.96.0.10": {"ProviderAddress": "10.240.0.20"},  # the ClusterIP: PA = this node's IP
                  "10.244.1.5": {"ProviderAddress": "10.240.0.10"},  # lin1's RemoteSubnetRoute
                  "10.244.3.9": {"ProviderAddress": "10.240.0.30"}}  # win2's


def test_a_node_ip_backend_switches_source_vip_to_the_node_ip(tmp_path: Path) -> None:
    docs = [pod_doc("hn", "lin1", labels={"app": "hn"}, hostNetwork=True),
            service("hn", [{"name": "p", "port": 9100}], cluster_ip="10.96.0.70", selector={"app": "hn"})]
    (lb,) = winkernel_view(build(tmp_path, docs, backend="vxlan"), "win1").load_balancers
    assert [str(b.ip) for b in lb.backends] == ["10.240.0.10"] and lb.source_vip == "10.240.0.20"


def test_a_backend_outside_the_cluster(tmp_path: Path) -> None:
    docs = [service("ext", [{"name": "p", "port": 443}], cluster_ip="10.96.0.71"),
            endpoint_slice("ext", [ep("192.0.2.10", None)], [{"name": "p", "port": 443, "protocol": "TCP"}])]
    view = winkernel_view(build(tmp_path, docs, backend="vxlan"), "win1")
    (lb,) = view.load_balancers
    assert lb.source_vip == "10.240.0.20"
    remote = next(e for e in view.endpoints if str(e.ip) == "192.0.2.10")
    # no RemoteSubnetRoute holds it: kube-proxy falls back to its own node IP ("assuming it is a public IP")
    assert dict(remote.policies[0].settings) == {"ProviderAddress": "10.240.0.20"}


def test_hns_json_of_the_reference_example_on_l2bridge(tmp_path: Path) -> None:
    view = winkernel_view(build(tmp_path, web_example()), "win1")
    objs = by_type(view)
    eps = {o["IpConfigurations"][0]["IpAddress"]: o for o in objs["Endpoint"]}
    remote = eps["10.244.1.5"]
    assert remote == {"ObjectType": "Endpoint", "Role": "remote", "ID": remote["ID"],
                      "HostComputeNetwork": objs["Network"][0]["ID"],
                      "IpConfigurations": [{"IpAddress": "10.244.1.5"}], "Dns": {}, "MacAddress": "02-11-0a-f4-01-05",
                      "Flags": 1, "Health": {"Extra": {}}, "SchemaVersion": SCHEMA}  # no Policies on l2bridge
    lbs = {o["Frontend"]: o for o in objs["LoadBalancer"]}
    ids = [eps[ip]["ID"] for ip in ("10.244.1.5", "10.244.2.7", "10.244.3.9")]
    assert lbs["clusterIP"] == {"ObjectType": "LoadBalancer", "Service": "ns1/web:http", "Frontend": "clusterIP",
                                "ID": lbs["clusterIP"]["ID"], "HostComputeEndpoints": ids,
                                "FrontendVIPs": ["10.96.0.10"],
                                "PortMappings": [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80}],
                                "SchemaVersion": SCHEMA}  # no SourceVIP, no Flags: both zero
    assert lbs["nodePort"]["PortMappings"] == [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 30080,
                                                "Flags": 18}]
    assert "FrontendVIPs" not in lbs["nodePort"]


def test_hns_json_on_overlay_with_dsr_and_affinity(tmp_path: Path) -> None:
    docs = web_example(sessionAffinity="ClientIP")
    view = winkernel_view(build(tmp_path, docs, backend="vxlan", kube_proxy={"winkernel": {"enableDSR": True}}),
                          "win1")
    objs = by_type(view)
    lb = next(o for o in objs["LoadBalancer"] if o["Frontend"] == "clusterIP")
    assert lb["SourceVIP"] == "10.244.2.2" and lb["Flags"] == 1
    assert lb["PortMappings"] == [{"Protocol": 6, "InternalPort": 8080, "ExternalPort": 80, "DistributionType": 2}]
    remote = next(o for o in objs["Endpoint"] if o["IpConfigurations"][0]["IpAddress"] == "10.244.3.9")
    assert remote["Policies"] == [{"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.240.0.30"}}]
    # every ID an LB names is an object of the list
    known = {o["ID"] for o in objects(view)}
    assert all(i in known for o in objs["LoadBalancer"] for i in o["HostComputeEndpoints"])


def test_rejected_load_balancers_are_not_hns_objects(tmp_path: Path) -> None:
    eps = [ep(f"10.250.{i // 250}.{i % 250 + 1}", None) for i in range(1025)]
    docs = [service("big", [{"name": "p80", "port": 80}], cluster_ip="10.96.0.53"),
            endpoint_slice("big", eps, [{"name": "p80", "port": 80, "protocol": "TCP"}])]
    assert "LoadBalancer" not in by_type(winkernel_view(build(tmp_path, docs), "win1"))
