"""Windows checks. Expected values from services-lb.md §4.1–4.4 (build numbers: 14393 WS2016, 17134 1803,
17763 WS2019, 20348 WS2022, 26100 WS2025; same-build rule with the WS2022-on-WS2025 exception; no hostNetwork
without HostProcess; DSR for ETP=Local; affinity from WS2022; no SCTP; source ranges ignored; ≤ 1024 backends)
and cni-plugins.md §8 (DNS only from the CNI config; ICMP not translated by OutBoundNAT)."""

from __future__ import annotations

from ipaddress import IPv4Address

import yaml
from vplans import VXLAN_4096, cluster_doc, hits, nodes, pod_doc, service

from cnimodel import examples

WS2022 = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
WS2019 = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2019"
WS2025 = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2025"


def win_pod(name: str, node: str = "win1", image: str = WS2022, **spec) -> dict:
    return pod_doc(name, node, containers=[{"name": "c", "image": image}], **spec)


def test_win001_unsupported_builds(tmp_path):
    found = hits(tmp_path, [cluster_doc(nodes=nodes(win1={"windowsBuild": 17134}))], "CNI-WIN-001")
    assert len(found) == 1 and "Windows Server 1803 (build 17134)" in found[0].message
    assert found[0].locations[0].path == "spec.nodes[2].windowsBuild"
    assert not hits(tmp_path, [cluster_doc()], "CNI-WIN-001")


def test_win002_builds_outside_the_current_list(tmp_path):
    found = hits(tmp_path, [cluster_doc(nodes=nodes(win1={"windowsBuild": 17763}))], "CNI-WIN-002")
    assert len(found) == 1 and "Windows Server 2019" in found[0].message and "win1" in found[0].message
    assert not hits(tmp_path, [cluster_doc(nodes=nodes(win1={"windowsBuild": 26100}))], "CNI-WIN-002")


def test_win003_build_missing(tmp_path):
    plain = nodes()
    del plain[2]["windowsBuild"]
    assert len(hits(tmp_path, [cluster_doc(nodes=plain)], "CNI-WIN-003")) == 1
    assert not hits(tmp_path, [cluster_doc()], "CNI-WIN-003")


def test_win004_image_build_against_node_build(tmp_path):
    older = hits(tmp_path, [cluster_doc(), win_pod("old", image=WS2019)], "CNI-WIN-004")
    assert len(older) == 1 and "17763" in older[0].message and "20348" in older[0].message
    assert older[0].objects == ("default/old[Pod]",) and older[0].severity == "error"
    newer = hits(tmp_path, [cluster_doc(), win_pod("new", image=WS2025)], "CNI-WIN-004")
    assert len(newer) == 1 and "26100" in newer[0].message
    assert not hits(tmp_path, [cluster_doc(), win_pod("same")], "CNI-WIN-004")
    # The current matrix's exception: a WS2022 image runs process-isolated on a WS2025 host.
    assert not hits(tmp_path, [cluster_doc(nodes=nodes(win1={"windowsBuild": 26100})), win_pod("x")], "CNI-WIN-004")


def test_win005_image_os(tmp_path):
    found = hits(tmp_path, [cluster_doc(), win_pod("nginx", image="nginx:1.27")], "CNI-WIN-005")
    assert len(found) == 1 and found[0].objects == ("default/nginx[Pod]",)
    assert not hits(tmp_path, [cluster_doc(), win_pod("iis")], "CNI-WIN-005")


def test_win006_host_network_without_host_process(tmp_path):
    found = hits(tmp_path, [cluster_doc(), win_pod("h", hostNetwork=True)], "CNI-WIN-006")
    assert len(found) == 1 and found[0].locations[0].path == "spec.hostNetwork"
    hp = {"windowsOptions": {"hostProcess": True, "runAsUserName": "NT AUTHORITY\\SYSTEM"}}
    assert not hits(tmp_path, [cluster_doc(), win_pod("h", hostNetwork=True, securityContext=hp)], "CNI-WIN-006")
    assert not hits(tmp_path, [cluster_doc(), pod_doc("l", "lin1", hostNetwork=True)], "CNI-WIN-006")  # Linux


def test_win007_cluster_first_with_host_net(tmp_path):
    hp = {"windowsOptions": {"hostProcess": True}}
    bad = win_pod("h", hostNetwork=True, securityContext=hp, dnsPolicy="ClusterFirstWithHostNet")
    assert len(hits(tmp_path, [cluster_doc(), bad], "CNI-WIN-007")) == 1
    assert not hits(tmp_path, [cluster_doc(), win_pod("h", hostNetwork=True, securityContext=hp)], "CNI-WIN-007")


def flannel_with_conf(conf: dict) -> dict:
    return {"plugin": "flannel", "backend": "host-gw", "cni": conf,
            "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}}


def test_win008_win009_dns_from_the_cni_config(tmp_path):
    no_dns = {"name": "cbr0", "type": "win-bridge", "ApiVersion": 2}
    found = hits(tmp_path, [cluster_doc(network=flannel_with_conf(no_dns)), win_pod("a")], "CNI-WIN-008")
    assert len(found) == 1 and "10.96.0.10" in found[0].fix  # the DNS IP the plan names (kubeadm's 10th address)
    other = {**no_dns, "dns": {"Nameservers": ["10.0.0.10"], "Search": ["svc.cluster.local"]}}
    found = hits(tmp_path, [cluster_doc(network=flannel_with_conf(other)), win_pod("a")], "CNI-WIN-009")
    assert len(found) == 1 and "use DNS 10.0.0.10" in found[0].message
    assert not hits(tmp_path, [cluster_doc(network=flannel_with_conf(other)), win_pod("a")], "CNI-WIN-008")
    # The default conf (microsoft/SDN scripts) names the plan's DNS IP.
    for code in ("CNI-WIN-008", "CNI-WIN-009"):
        assert not hits(tmp_path, [cluster_doc(), win_pod("a")], code)


def test_win010_icmp_through_outbound_nat(tmp_path):
    assert len(hits(tmp_path, [cluster_doc(), win_pod("a")], "CNI-WIN-010")) == 1
    no_nat = {"name": "cbr0", "type": "win-bridge", "ApiVersion": 2,
              "dns": {"Nameservers": ["10.96.0.10"]}}
    doc = cluster_doc(network={"plugin": "win-bridge", "cni": no_nat})
    assert not hits(tmp_path, [doc, win_pod("a")], "CNI-WIN-010")


def hybrid_vxlan() -> list:
    return [d for d in yaml.safe_load_all(examples.path("hybrid-vxlan.yaml").read_text()) if d]


def test_win011_ipv6_service_with_windows_overlay(tmp_path):
    dual = service("web", ipFamilyPolicy="RequireDualStack", ipFamilies=["IPv4", "IPv6"])
    found = hits(tmp_path, [*hybrid_vxlan(), dual], "CNI-WIN-011")
    assert len(found) == 1 and found[0].objects == ("default/web[Service]",)
    assert not hits(tmp_path, [cluster_doc(), dual], "CNI-WIN-011")  # l2bridge carries dual-stack


def test_win012_etp_local_without_dsr(tmp_path):
    svc = service("web", type="NodePort", externalTrafficPolicy="Local")
    no_dsr = cluster_doc(kubeProxy={"winkernel": {"dsrSupported": False}})
    found = hits(tmp_path, [no_dsr, svc], "CNI-WIN-012")
    assert len(found) == 1 and "(win1, win2)" in found[0].message
    old = cluster_doc(nodes=nodes(win1={"windowsBuild": 17134}))  # before WS2019: no HNS DSR
    assert "(win1)" in hits(tmp_path, [old, svc], "CNI-WIN-012")[0].message
    assert not hits(tmp_path, [cluster_doc(), svc], "CNI-WIN-012")


def test_win013_win014_session_affinity(tmp_path):
    svc = service("web", sessionAffinity="ClientIP")
    found = hits(tmp_path, [cluster_doc(nodes=nodes(win1={"windowsBuild": 17763})), svc], "CNI-WIN-013")
    assert len(found) == 1 and "(win1)" in found[0].message
    assert not hits(tmp_path, [cluster_doc(), svc], "CNI-WIN-013")
    timed = service("web", sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 600}})
    assert len(hits(tmp_path, [cluster_doc(), timed], "CNI-WIN-014")) == 1
    assert not hits(tmp_path, [cluster_doc(), svc], "CNI-WIN-014")  # the default 10800 s


def test_win015_sctp(tmp_path):
    sctp = service("sig", ports=[{"port": 3868, "protocol": "SCTP"}])
    assert len(hits(tmp_path, [cluster_doc(), sctp], "CNI-WIN-015")) == 1
    linux_only = cluster_doc(nodes=nodes()[:2])
    assert not hits(tmp_path, [linux_only, sctp], "CNI-WIN-015")
    pod = pod_doc("s", "win1", containers=[{"name": "c", "image": WS2022,
                                            "ports": [{"containerPort": 3868, "protocol": "SCTP"}]}])
    assert hits(tmp_path, [cluster_doc(), pod], "CNI-WIN-015")[0].objects == ("default/s[Pod]",)


def test_win016_lb_source_ranges(tmp_path):
    lb = service("web", type="LoadBalancer", loadBalancerSourceRanges=["203.0.113.0/24"])
    assert len(hits(tmp_path, [cluster_doc(), lb], "CNI-WIN-016")) == 1
    assert not hits(tmp_path, [cluster_doc(), service("web", type="LoadBalancer")], "CNI-WIN-016")


def endpoint_slice(service_name: str, count: int) -> dict:
    base = int(IPv4Address("10.250.0.0"))
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{service_name}-a", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": service_name}},
            "addressType": "IPv4", "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
            "endpoints": [{"addresses": [str(IPv4Address(base + i))]} for i in range(count)]}


def test_win017_more_than_1024_backends(tmp_path):
    found = hits(tmp_path, [cluster_doc(), service("big"), endpoint_slice("big", 1025)], "CNI-WIN-017")
    assert len(found) == 1 and "1,025 endpoints" in found[0].message
    assert not hits(tmp_path, [cluster_doc(), service("big"), endpoint_slice("big", 1024)], "CNI-WIN-017")


def test_windows_service_checks_need_windows_nodes(tmp_path):
    linux_only = cluster_doc(nodes=nodes()[:2], network=VXLAN_4096)
    svc = service("web", type="LoadBalancer", loadBalancerSourceRanges=["203.0.113.0/24"], sessionAffinity="ClientIP")
    for code in ("CNI-WIN-012", "CNI-WIN-013", "CNI-WIN-016"):
        assert not hits(tmp_path, [linux_only, svc], code)


def test_loader_findings_are_summed_up_past_fifty(tmp_path):
    # Bare pods get one loader warning each; 60 of them give 49 findings and one for the other 11.
    docs = [cluster_doc(), *(win_pod(f"n{i:02d}", image="nginx:1.27") for i in range(60))]
    found = hits(tmp_path, docs, "CNI-WIN-005")
    assert len(found) == 50 and found[-1].message.startswith("11 more like the above")
    assert found[-1].objects[0] == "default/n49[Pod]" and len(found[-1].objects) == 11
