"""decide(): the load-balancing decision trace uses, on both OSes. By hand from services-lb.md §3.2–3.4
(Linux: which chain, 1/n each, masquerade for off-cluster sources and all external ETP=Cluster traffic,
REJECT/DROP) and §1.5/§2.4 (Windows: the matching HNS LB; no SNAT with DSR; SourceVIP for remote DIPs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import pod_doc
from lbplans import build, endpoint_slice, ep, service, web_example
from test_iptables import etp_local_docs, itp_docs, lb_docs
from test_naming import recipe

from cnimodel.services import decide


def test_linux_clusterip_from_a_pod(tmp_path: Path) -> None:
    d = decide(build(tmp_path, web_example()), "lin1", "10.96.0.10", 80, "TCP", src="10.244.1.9")
    assert d.disposition == "LOAD_BALANCED" and d.source_kind == "pod"
    assert d.decided_by == "nat KUBE-SVC-" + recipe("ns1/web:httptcp")
    assert [(b.dnat, round(b.weight, 4), b.probability, b.snat) for b in d.backends] == [
        ("10.244.1.5:8080", 0.3333, "0.3333333333", None), ("10.244.2.7:8080", 0.3333, "0.5000000000", None),
        ("10.244.3.9:8080", 0.3333, None, None)]
    assert d.rules[0].startswith("-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp")


def test_linux_clusterip_from_outside_the_cluster_cidr_is_masqueraded(tmp_path: Path) -> None:
    d = decide(build(tmp_path, web_example()), "lin1", "10.96.0.10", 80, src="192.168.1.50")
    # MASQUERADE takes the address of the interface the packet leaves by: cni0 (10.244.1.1) for the local
    # backend, the uplink (10.240.0.10) towards the other nodes' pods
    assert [(b.ip, b.snat) for b in d.backends] == [("10.244.1.5", "10.244.1.1"), ("10.244.2.7", "10.240.0.10"),
                                                    ("10.244.3.9", "10.240.0.10")]


def test_linux_hairpin(tmp_path: Path) -> None:
    d = decide(build(tmp_path, web_example()), "lin1", "10.96.0.10", 80, src="10.244.1.5")
    hairpin = next(b for b in d.backends if b.ip == "10.244.1.5")
    assert hairpin.snat == "10.244.1.1" and "hairpin" in hairpin.snat_reason
    assert next(b for b in d.backends if b.ip == "10.244.2.7").snat is None


def test_linux_nodeport_etp_cluster_masquerades(tmp_path: Path) -> None:
    d = decide(build(tmp_path, web_example()), "lin1", "10.240.0.10", 30080, src="203.0.113.7")
    assert d.frontend == "nodePort" and d.source_kind == "external"
    assert all(b.snat is not None for b in d.backends) and len(d.backends) == 3


def test_linux_etp_local(tmp_path: Path) -> None:
    c = build(tmp_path, etp_local_docs())
    outside = decide(c, "lin1", "1.2.3.4", 80, src="203.0.113.7")
    assert [(b.ip, b.snat) for b in outside.backends] == [("10.244.1.7", None)]  # client address kept
    assert outside.decided_by == "nat KUBE-SVL-" + recipe("default/loc:p80tcp")
    pod_src = decide(c, "lin1", "1.2.3.4", 80, src="10.244.1.9")  # pods short-circuit to every endpoint
    assert sorted(b.ip for b in pod_src.backends) == ["10.244.1.7", "10.244.2.3"]
    dropped = decide(c, "master", "192.168.99.22", 80, src="203.0.113.7")
    assert dropped.disposition == "DROPPED" and "KUBE-EXTERNAL-SERVICES" in dropped.decided_by


def test_linux_no_endpoints_and_itp_local(tmp_path: Path) -> None:
    docs = [service("none", [{"name": "p80", "port": 80}], cluster_ip="10.96.0.46", selector={"app": "x"})]
    assert decide(build(tmp_path, docs), "lin1", "10.96.0.46", 80).disposition == "REJECTED"
    c = build(tmp_path, itp_docs(), name="itp.yaml")
    assert decide(c, "master", "10.96.0.47", 80).disposition == "DROPPED"
    assert [b.ip for b in decide(c, "lin1", "10.96.0.47", 80).backends] == ["10.244.1.7"]


def test_linux_source_ranges(tmp_path: Path) -> None:
    c = build(tmp_path, lb_docs(loadBalancerSourceRanges=["203.0.113.0/25"]))
    assert decide(c, "lin1", "5.6.7.8", 80, src="203.0.113.7").disposition == "LOAD_BALANCED"
    denied = decide(c, "lin1", "5.6.7.8", 80, src="198.51.100.1")
    assert denied.disposition == "DROPPED" and "KUBE-PROXY-FIREWALL" in denied.decided_by


def test_linux_affinity_is_reported(tmp_path: Path) -> None:
    d = decide(build(tmp_path, lb_docs(sessionAffinity="ClientIP")), "lin1", "10.96.0.45", 80)
    assert d.affinity is not None and "10800" in d.affinity


def test_windows_clusterip_l2bridge(tmp_path: Path) -> None:
    d = decide(build(tmp_path, web_example()), "win1", "10.96.0.10", 80, src="10.244.2.9")
    assert d.disposition == "LOAD_BALANCED" and d.load_balancer is not None
    assert d.load_balancer.kind == "clusterIP" and d.decided_by.startswith("HNS LoadBalancer")
    snat = {b.ip: b.snat for b in d.backends}
    assert snat["10.244.2.7"] is None  # local DIP
    assert snat["10.244.1.5"] == "10.240.0.20" and "[U]" in d.backends[0].snat_reason  # l2bridge: HNS-chosen
    assert [b.dnat for b in d.backends] == ["10.244.1.5:8080", "10.244.2.7:8080", "10.244.3.9:8080"]


def test_windows_overlay_snat_to_source_vip_and_dsr(tmp_path: Path) -> None:
    d = decide(build(tmp_path, web_example(), backend="vxlan"), "win1", "10.96.0.10", 80)
    assert {b.ip: b.snat for b in d.backends} == {"10.244.1.5": "10.244.2.2", "10.244.2.7": None,
                                                  "10.244.3.9": "10.244.2.2"}
    c = build(tmp_path, web_example(), backend="vxlan", kube_proxy={"winkernel": {"enableDSR": True}},
              name="dsr.yaml")
    assert all(b.snat is None for b in decide(c, "win1", "10.96.0.10", 80).backends)


def test_windows_nodeport_and_not_load_balanced(tmp_path: Path) -> None:
    c = build(tmp_path, etp_local_docs())
    d = decide(c, "win1", "10.240.0.20", 30001)
    assert d.frontend == "nodePort" and [b.ip for b in d.backends] == ["10.244.2.3"]
    assert all(b.snat is None for b in d.backends)  # DSR (ETP Local)
    miss = decide(c, "win2", "10.240.0.30", 30001)
    assert miss.disposition == "NOT_LOAD_BALANCED"


def test_unknown_destination(tmp_path: Path) -> None:
    c = build(tmp_path, web_example())
    assert decide(c, "lin1", "10.96.9.9", 80).disposition == "NO_SERVICE"
    assert decide(c, "lin1", "10.96.0.10", 81).disposition == "NO_SERVICE"
    assert decide(c, "lin1", "10.96.0.10", 80, "UDP").disposition == "NO_SERVICE"


@pytest.mark.parametrize("node", ["lin1", "win1"])
def test_preserve_dip_and_ingress(tmp_path: Path, node: str) -> None:
    docs = [pod_doc("p-0", "win1", ip="10.244.2.3"),
            service("pd", [{"name": "p80", "port": 80, "nodePort": 30020}], cluster_ip="10.96.0.80",
                    type="LoadBalancer", ingress=["1.2.3.9"], annotations={"preserve-destination": "true"}),
            endpoint_slice("pd", [ep("10.244.2.3", "win1")], [{"name": "p80", "port": 80, "protocol": "TCP"}])]
    d = decide(build(tmp_path, docs), node, "1.2.3.9", 80, src="203.0.113.7")
    assert d.frontend == "loadBalancerIP" and d.disposition == "LOAD_BALANCED"
    if node == "win1":
        assert d.backends[0].dnat.startswith("1.2.3.9:80")  # PreserveDIP: the destination is kept


def test_windows_health_check_forwarding(tmp_path: Path) -> None:
    c = build(tmp_path, etp_local_docs(), kube_proxy={"winkernel": {"forwardHealthCheckVip": True}})
    d = decide(c, "win1", "1.2.3.4", 30000)
    assert d.frontend == "healthCheck" and [(b.ip, b.dnat) for b in d.backends] == [("10.244.2.2", "10.244.2.2:30000")]
    assert decide(c, "lin1", "1.2.3.4", 30000).disposition == "NO_SERVICE"
