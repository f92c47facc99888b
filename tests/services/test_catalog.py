"""Where endpoints come from and what the API server would fill in (services-lb.md §1.3, §3.5 and the
Kubernetes API defaults), and spec.kubeProxy checking with field paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from builders import pod_doc
from lbplans import build, cluster_doc, endpoint_slice, ep, service

from cnimodel.cluster import Cluster
from cnimodel.plan import PlanError, load_plan
from cnimodel.services import catalog


def eps(c, key: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    cat = catalog(c)
    svc = cat.service(key.rsplit(":", 1)[0] if ":" in key else key)
    sp = next(p for p in svc.ports if p.key == key)
    return [(str(e.ip), e.port, e.node, e.ready, e.serving, e.terminating) for e in cat.endpoints_of(sp)]


def test_selector_with_named_target_port(tmp_path: Path) -> None:
    ports = [{"name": "http", "containerPort": 8080}]
    docs = [pod_doc("a", "win1", ip="10.244.2.3", labels={"app": "a"}, ports=ports),
            pod_doc("b", "lin1", ip="10.244.1.4", labels={"app": "a"}),
            pod_doc("c", "lin1", ip="10.244.1.5", labels={"app": "other"}, ports=ports),
            service("a", [{"name": "web", "port": 80, "targetPort": "http"}], selector={"app": "a"})]
    # pod b has no container port named "http": the endpoint controller leaves it out of this port
    assert eps(build(tmp_path, docs), "default/a:web") == [("10.244.2.3", 8080, "win1", True, True, False)]


def test_slices_win_over_selectors_and_conditions_default(tmp_path: Path) -> None:
    docs = [pod_doc("a", "win1", ip="10.244.2.3", labels={"app": "a"}),
            service("a", [{"name": "p", "port": 80}], selector={"app": "a"}),
            endpoint_slice("a", [ep("10.244.3.7", "win2"), ep("10.244.3.8", "win2", ready=False),
                                 ep("10.244.3.9", "win2", ready=False, serving=True, terminating=True)],
                           [{"name": "p", "port": 8080, "protocol": "TCP"}])]
    # missing ready/serving count as true, a missing terminating as false
    assert eps(build(tmp_path, docs), "default/a:p") == [
        ("10.244.3.7", 8080, "win2", True, True, False), ("10.244.3.8", 8080, "win2", False, True, False),
        ("10.244.3.9", 8080, "win2", False, True, True)]


def test_slice_port_without_a_name_is_ignored_with_a_warning(tmp_path: Path) -> None:
    docs = [service("a", [{"port": 80}]),
            endpoint_slice("a", [ep("10.244.3.7", "win2")], [{"port": 8080, "protocol": "TCP"}])]
    c = build(tmp_path, docs)
    assert eps(c, "default/a") == []
    assert any("without a name" in w.message for w in catalog(c).warnings)


def test_legacy_endpoints_for_a_service_without_selector(tmp_path: Path) -> None:
    docs = [service("db", [{"name": "pg", "port": 5432}]),
            {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "db", "namespace": "default"},
             "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "notReadyAddresses": [{"ip": "192.0.2.11"}],
                          "ports": [{"name": "pg", "port": 5432}]}]}]
    assert eps(build(tmp_path, docs), "default/db:pg") == [("192.0.2.10", 5432, None, True, True, False),
                                                           ("192.0.2.11", 5432, None, False, False, False)]


def test_duplicate_endpoints_are_merged(tmp_path: Path) -> None:
    docs = [service("a", [{"name": "p", "port": 80}]),
            endpoint_slice("a", [ep("10.244.3.7", "win2")], [{"name": "p", "port": 80}], name="a-1"),
            endpoint_slice("a", [ep("10.244.3.7", "win2")], [{"name": "p", "port": 80}], name="a-2")]
    assert len(eps(build(tmp_path, docs), "default/a:p")) == 1


def test_headless_and_external_name_are_skipped(tmp_path: Path) -> None:
    docs = [service("h", [{"port": 80}], cluster_ip="None", selector={"app": "x"}),
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "e", "namespace": "default"},
             "spec": {"type": "ExternalName", "externalName": "example.com"}}]
    assert catalog(build(tmp_path, docs)).services == []


def test_missing_cluster_ip_and_node_ports_are_allocated(tmp_path: Path) -> None:
    docs = [service("a", [{"name": "p", "port": 80}], type="NodePort"),
            service("b", [{"name": "p", "port": 80, "nodePort": 30086}], type="LoadBalancer",
                    externalTrafficPolicy="Local", cluster_ip="10.96.1.1")]
    cat = catalog(build(tmp_path, docs))
    a, b = cat.service("default/a"), cat.service("default/b")
    # 10.96.0.0/12 keeps its first 256 usable addresses (10.96.0.1-10.96.1.0) for fixed IPs, so the dynamic band
    # starts at 10.96.1.1, which b holds; 30000-32767 keeps 86 ports (2768/32)
    assert [str(ip) for ip in a.cluster_ips] == ["10.96.1.2"]
    assert a.ports[0].node_port == 30087  # 30086 is b's
    assert b.health_check_node_port == 30088
    assert a.allocated and b.allocated == ("healthCheckNodePort 30088",)


def build_in(tmp_path: Path, service_cidr: str, docs: list) -> Cluster:
    doc = cluster_doc()
    doc["spec"]["serviceCIDR"] = service_cidr
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump_all([doc, *docs], sort_keys=False))
    return Cluster.build(load_plan([path]))


def cluster_ip(cat, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(cat.service(f"default/{name}").cluster_ips[0])


def test_cluster_ips_in_a_28(tmp_path: Path) -> None:
    # A /28 holds 16 addresses: no static band (the API server reserves one only above 16); usable .1-.14
    # (.0 is the network, .15 the broadcast address)
    docs = [service(f"s{i:02d}", [{"port": 80}]) for i in range(13)] + [
        service("fixed", [{"port": 80}], cluster_ip="10.96.0.3")]
    cat = catalog(build_in(tmp_path, "10.96.0.0/28", docs))
    got = [cluster_ip(cat, f"s{i:02d}") for i in range(13)]
    assert got == [f"10.96.0.{n}" for n in (1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)]
    # one more Service finds the range full
    docs.append(service("s13", [{"port": 80}]))
    with pytest.raises(PlanError) as info:
        catalog(build_in(tmp_path, "10.96.0.0/28", docs))
    assert "none left" in info.value.problems[0].message and "10.96.0.0/28" in info.value.problems[0].message


def test_cluster_ips_fall_back_to_the_static_band(tmp_path: Path) -> None:
    # A /27: static band max(16, 32/16) = 16 addresses, .1-.16; the dynamic band is .17-.30. Its 14 addresses
    # go first, then allocation falls back to the static band from its start.
    docs = [service(f"s{i:02d}", [{"port": 80}]) for i in range(16)]
    cat = catalog(build_in(tmp_path, "10.96.0.0/27", docs))
    assert [cluster_ip(cat, f"s{i:02d}") for i in range(16)] == [
        *(f"10.96.0.{n}" for n in range(17, 31)), "10.96.0.1", "10.96.0.2"]


def test_bad_service_fields_are_located(tmp_path: Path) -> None:
    docs = [service("a", [{"name": "p", "port": 80, "protocol": "ICMP"}], cluster_ip="10.96.0.300",
                    sessionAffinity="Sticky")]
    with pytest.raises(PlanError) as info:
        catalog(build(tmp_path, docs))
    paths = {p.origin.path for p in info.value.problems}
    assert {"spec.ports[0].protocol", "spec.clusterIP", "spec.sessionAffinity"} <= paths


def test_kube_proxy_settings_are_checked(tmp_path: Path) -> None:
    kp = {"mode": "ipvs", "winkernel": {"enableDSR": True, "sourceVip": {"win1": "nope"}},
          "featureGates": {"WinDSR": False}}
    with pytest.raises(PlanError) as info:
        catalog(build(tmp_path, [], kube_proxy=kp))
    paths = {p.origin.path for p in info.value.problems}
    assert {"spec.kubeProxy.mode", "spec.kubeProxy.winkernel.sourceVip.win1",
            "spec.kubeProxy.featureGates.WinDSR"} <= paths


def test_kube_proxy_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        build(tmp_path, [], kube_proxy="iptables")  # type: ignore[arg-type]
    assert any(p.origin.path == "spec.kubeProxy" for p in info.value.problems)
