"""Windows kube-proxy (winkernel) load balancers per Service type and option, on an L2Bridge network
(flannel host-gw). Expected values are derived by hand from services-lb.md §1.2–1.6 (the table in §1.5:
frontends, port-mapping flags ILB=1 LocalRoutedVIP=2 UseMux=4 PreserveDIP=8 VipExternalIP=16, LB flags
DSR=1 IPv6=2, DistributionType 2 for ClientIP) and §1.3 (which endpoints are skipped)."""

from __future__ import annotations

from pathlib import Path

from builders import pod_doc
from lbplans import build, endpoint_slice, ep, service, web_example

from cnimodel.services import winkernel_view
from cnimodel.services.hnslb import HnsLoadBalancer


def lbs(view, service: str | None = None) -> dict[str, HnsLoadBalancer]:  # type: ignore[no-untyped-def]
    """The node's LBs by frontend kind (plus the VIP when a kind has several)."""
    out = {}
    for lb in view.load_balancers:
        if service is None or lb.service == service:
            key = lb.kind if lb.kind in ("clusterIP", "nodePort") else f"{lb.kind} {lb.frontend_vips[0]}"
            out[key] = lb
    return out


def ips(lb: HnsLoadBalancer) -> list[str]:
    return [str(b.ip) for b in lb.backends]


def test_reference_example_clusterip_and_nodeport(tmp_path: Path) -> None:
    view = winkernel_view(build(tmp_path, web_example()), "win1")
    got = lbs(view)
    assert set(got) == {"clusterIP", "nodePort"}
    cip, np = got["clusterIP"], got["nodePort"]
    assert (cip.frontend_vips, cip.protocol, cip.external_port, cip.internal_port) == (("10.96.0.10",), 6, 80, 8080)
    assert (cip.flags, cip.port_flags, cip.distribution, cip.source_vip) == (0, 0, 0, "")  # l2bridge: no SourceVIP
    assert (np.frontend_vips, np.external_port, np.internal_port) == ((), 30080, 8080)
    assert np.port_flags == 2 | 16 and np.flags == 0  # LocalRoutedVIP|VipExternalIP, no DSR with ETP Cluster
    # every endpoint, in kube-proxy's order; only 10.244.2.7 is an HNS endpoint of win1
    assert ips(cip) == ips(np) == ["10.244.1.5", "10.244.2.7", "10.244.3.9"]
    assert [b.local for b in cip.backends] == [False, True, False]
    remote = {str(e.ip): e for e in view.endpoints if e.role == "remote"}
    assert set(remote) == {"10.244.1.5", "10.244.3.9"}
    assert remote["10.244.1.5"].mac == "02-11-0a-f4-01-05" and remote["10.244.3.9"].mac == "02-11-0a-f4-03-09"
    assert all(not e.policies for e in remote.values())  # no ProviderAddress on l2bridge


def test_nothing_is_created_on_a_node_for_a_service_without_endpoints(tmp_path: Path) -> None:
    docs = [service("none", [{"name": "p80", "port": 80, "nodePort": 30009}], cluster_ip="10.96.0.46",
                    type="NodePort", selector={"app": "nothing"})]
    view = winkernel_view(build(tmp_path, docs), "win1")
    (p,) = view.service_ports
    assert p.load_balancers == () and view.endpoints == ()
    assert "not load-balanced" in p.notes[0]


def etp_local(build_: int = 20348, **spec: object) -> list[dict]:
    return [pod_doc("loc-0", "lin1", ip="10.244.1.7"), pod_doc("loc-1", "win1", ip="10.244.2.3"),
            service("loc", [{"name": "p80", "port": 80, "nodePort": 30001}], cluster_ip="10.96.0.42",
                    type="LoadBalancer", externalTrafficPolicy="Local", externalIPs=["192.168.99.22"],
                    ingress=["1.2.3.4"], healthCheckNodePort=30000, **spec),
            endpoint_slice("loc", [ep("10.244.1.7", "lin1"), ep("10.244.2.3", "win1")],
                           [{"name": "p80", "port": 80, "protocol": "TCP"}])]


def test_external_traffic_policy_local_uses_dsr_and_local_backends(tmp_path: Path) -> None:
    got = lbs(winkernel_view(build(tmp_path, etp_local()), "win1"))
    assert set(got) == {"clusterIP", "nodePort", "externalIP 192.168.99.22", "loadBalancerIP 1.2.3.4"}
    assert ips(got["clusterIP"]) == ["10.244.1.7", "10.244.2.3"] and got["clusterIP"].flags == 0
    for key, port_flags in (("nodePort", 18), ("externalIP 192.168.99.22", 16), ("loadBalancerIP 1.2.3.4", 16)):
        assert ips(got[key]) == ["10.244.2.3"], key
        assert (got[key].flags, got[key].port_flags) == (1, port_flags), key


def test_external_traffic_policy_local_without_a_local_endpoint(tmp_path: Path) -> None:
    # win2 has no endpoint: no NodePort/external/ingress LB; the ClusterIP LB keeps the remote ones (#115919)
    view = winkernel_view(build(tmp_path, etp_local()), "win2")
    assert set(lbs(view)) == {"clusterIP"}
    assert ips(lbs(view)["clusterIP"]) == ["10.244.1.7", "10.244.2.3"]


def test_external_traffic_policy_local_needs_dsr_support(tmp_path: Path) -> None:
    # WS2016 (14393) has no HNS DSR: Local is silently treated as Cluster
    nodes = [{"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
             {"name": "win1", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 14393}]
    docs = [pod_doc("loc-0", "lin1", ip="10.244.0.7"), pod_doc("loc-1", "win1", ip="10.244.1.3"),
            service("loc", [{"name": "p80", "port": 80, "nodePort": 30001}], cluster_ip="10.96.0.42", type="NodePort",
                    externalTrafficPolicy="Local"),
            endpoint_slice("loc", [ep("10.244.0.7", "lin1"), ep("10.244.1.3", "win1")],
                           [{"name": "p80", "port": 80, "protocol": "TCP"}])]
    view = winkernel_view(build(tmp_path, docs, nodes=nodes), "win1")
    np = lbs(view)["nodePort"]
    assert ips(np) == ["10.244.0.7", "10.244.1.3"] and np.flags == 0
    assert any("DSR" in n for n in view.service_ports[0].notes)


def itp_docs(**spec: object) -> list[dict]:
    return [pod_doc("itp-0", "win1", ip="10.244.2.3"), pod_doc("itp-1", "lin1", ip="10.244.1.7"),
            service("itp", [{"name": "p80", "port": 80, **({"nodePort": 30005} if spec else {})}],
                    cluster_ip="10.96.0.47", internalTrafficPolicy="Local", **spec),
            endpoint_slice("itp", [ep("10.244.1.7", "lin1"), ep("10.244.2.3", "win1")],
                           [{"name": "p80", "port": 80, "protocol": "TCP"}])]


def test_internal_traffic_policy_local(tmp_path: Path) -> None:
    c = build(tmp_path, itp_docs())
    assert ips(lbs(winkernel_view(c, "win1"))["clusterIP"]) == ["10.244.2.3"]
    assert lbs(winkernel_view(c, "win2")) == {}  # no local endpoint: no ClusterIP LB (Linux would DROP)


def test_both_policies_local_skip_remote_endpoints_entirely(tmp_path: Path) -> None:
    view = winkernel_view(build(tmp_path, itp_docs(type="NodePort", externalTrafficPolicy="Local")), "win1")
    assert not [e for e in view.endpoints if e.role == "remote"]  # no remote HNS endpoint is even created
    got = lbs(view)
    assert ips(got["clusterIP"]) == ips(got["nodePort"]) == ["10.244.2.3"]
    assert view.service_ports[0].skipped[0][0] == "10.244.1.7:80"


def test_client_ip_affinity_sets_distribution_type(tmp_path: Path) -> None:
    docs = web_example(ingress=["5.6.7.8"], type="LoadBalancer", sessionAffinity="ClientIP",
                       externalIPs=["192.168.99.33"])
    got = lbs(winkernel_view(build(tmp_path, docs, kube_proxy={"winkernel": {"forwardHealthCheckVip": True}}),
                             "win1"))
    for key in ("clusterIP", "nodePort", "externalIP 192.168.99.33", "loadBalancerIP 5.6.7.8"):
        assert got[key].distribution == 2, key
    assert got["healthCheck 5.6.7.8"].distribution == 0  # never on the health-check LB


def test_enable_dsr_flags_the_clusterip_lb_only(tmp_path: Path) -> None:
    docs = web_example(ingress=["5.6.7.8"], type="LoadBalancer")
    got = lbs(winkernel_view(build(tmp_path, docs, kube_proxy={"winkernel": {"enableDSR": True}}), "win1"))
    assert got["clusterIP"].flags == 1
    assert got["nodePort"].flags == 0 and got["loadBalancerIP 5.6.7.8"].flags == 0


def test_preserve_destination(tmp_path: Path) -> None:
    docs = web_example(ingress=["5.6.7.8"], type="LoadBalancer", externalIPs=["192.168.99.33"],
                       annotations={"preserve-destination": "true"})
    got = lbs(winkernel_view(build(tmp_path, docs, kube_proxy={"winkernel": {"forwardHealthCheckVip": True}}),
                             "win1"))
    ingress = got["loadBalancerIP 5.6.7.8"]
    assert (ingress.port_flags, ingress.flags, ips(ingress)) == (16 | 4 | 8, 1, ["10.244.2.7"])
    assert (got["nodePort"].port_flags, got["nodePort"].flags, ips(got["nodePort"])) == (18, 0, ["10.244.2.7"])
    ext = got["externalIP 192.168.99.33"]  # preserve-destination does not apply to externalIPs
    assert (ext.port_flags, ext.flags, len(ext.backends)) == (16, 0, 3)
    assert got["healthCheck 5.6.7.8"].port_flags == 4 | 8


def test_health_check_load_balancer(tmp_path: Path) -> None:
    kp = {"winkernel": {"forwardHealthCheckVip": True}}
    got = lbs(winkernel_view(build(tmp_path, etp_local(), kube_proxy=kp), "win1"))
    hc = got["healthCheck 1.2.3.4"]
    # ETP Local: the Service's healthCheckNodePort on both sides, the host endpoint cbr0_ep (.2) as the backend
    assert (hc.external_port, hc.internal_port, hc.flags, hc.port_flags, hc.protocol) == (30000, 30000, 0, 0, 6)
    assert [(str(b.ip), b.endpoint) for b in hc.backends] == [("10.244.2.2", "cbr0_ep")]
    # ETP Cluster: kube-proxy's healthz port; a UDP Service gets a UDP health-check LB
    docs = [pod_doc("u-0", "win1", ip="10.244.2.3"),
            service("u", [{"name": "dns", "port": 53, "protocol": "UDP"}], cluster_ip="10.96.0.60",
                    type="LoadBalancer", ingress=["1.2.3.5"]),
            endpoint_slice("u", [ep("10.244.2.3", "win1")], [{"name": "dns", "port": 53, "protocol": "UDP"}])]
    got = lbs(winkernel_view(build(tmp_path, docs, kube_proxy=kp, name="udp.yaml"), "win1"))
    assert (got["healthCheck 1.2.3.5"].external_port, got["healthCheck 1.2.3.5"].protocol) == (10256, 17)
    assert got["loadBalancerIP 1.2.3.5"].protocol == 17


def test_terminating_endpoints_are_not_a_fallback_without_ingress_ips(tmp_path: Path) -> None:
    docs = [pod_doc("t-0", "win1", ip="10.244.2.3"),
            service("term", [{"name": "p80", "port": 80}], cluster_ip="10.96.0.51"),
            endpoint_slice("term", [ep("10.244.2.3", "win1", ready=False, serving=True, terminating=True)],
                           [{"name": "p80", "port": 80, "protocol": "TCP"}])]
    view = winkernel_view(build(tmp_path, docs), "win1")
    assert view.load_balancers == []  # Linux would use the serving-terminating endpoint (§1.3 vs §3.5)
    assert "not ready" in view.service_ports[0].skipped[0][1]


def test_all_terminating_with_ingress_ip_keeps_only_the_clusterip_lb(tmp_path: Path) -> None:
    docs = [pod_doc("t-0", "win1", ip="10.244.2.3"),
            service("term", [{"name": "p80", "port": 80, "nodePort": 30010}], cluster_ip="10.96.0.51",
                    type="LoadBalancer", ingress=["1.2.3.6"]),
            endpoint_slice("term", [ep("10.244.2.3", "win1", ready=False, serving=True, terminating=True)],
                           [{"name": "p80", "port": 80, "protocol": "TCP"}])]
    got = lbs(winkernel_view(build(tmp_path, docs), "win1"))
    assert set(got) == {"clusterIP"} and ips(got["clusterIP"]) == ["10.244.2.3"]


def test_more_than_1024_backends_is_refused(tmp_path: Path) -> None:
    def plan(n: int, name: str) -> list:
        eps = [ep(f"10.250.{i // 250}.{i % 250 + 1}", None) for i in range(n)]
        return winkernel_view(build(tmp_path, [service("big", [{"name": "p80", "port": 80}], cluster_ip="10.96.0.53"),
                                               endpoint_slice("big", eps, [{"name": "p80", "port": 80,
                                                                            "protocol": "TCP"}])], name=name),
                              "win1").load_balancers
    (ok,) = plan(1024, "ok.yaml")
    assert ok.rejected is None and len(ok.backends) == 1024
    (refused,) = plan(1025, "big.yaml")
    assert refused.rejected is not None and "1024" in refused.rejected


def test_two_ports_get_independent_load_balancers(tmp_path: Path) -> None:
    ports = [{"name": "http", "containerPort": 8080}, {"name": "dns", "containerPort": 5353, "protocol": "UDP"}]
    docs = [pod_doc("two-0", "win1", ip="10.244.2.3", labels={"app": "two"}, ports=ports),
            service("two", [{"name": "http", "port": 80, "targetPort": "http"},
                            {"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"}],
                    cluster_ip="10.96.0.50", selector={"app": "two"})]
    view = winkernel_view(build(tmp_path, docs), "win1")
    got = sorted((lb.service, lb.protocol, lb.external_port, lb.internal_port) for lb in view.load_balancers)
    assert got == [("default/two:dns", 17, 53, 5353), ("default/two:http", 6, 80, 8080)]
