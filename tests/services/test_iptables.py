"""Linux kube-proxy (iptables mode) rules per Service type and option, derived by hand from services-lb.md
§3.1–3.5 (chain roles, 1/(n−i), the 0x4000 mark, REJECT/DROP) and kube-proxy's argument order as its
upstream test TestOverallIPTablesRules shows it (read during research; see docs/services.md)."""

from __future__ import annotations

from pathlib import Path

from builders import pod_doc
from lbplans import build, endpoint_slice, ep, service, web_example
from test_naming import recipe

from cnimodel.render.lb_iptables import render
from cnimodel.services import Rule, iptables_view

H = recipe("ns1/web:httptcp")  # 4LVCYZMTA5CQO6SX, §3.6
SEP = {"10.244.1.5": "KUBE-SEP-OXQUDQKXE4KJEHIO", "10.244.2.7": "KUBE-SEP-V5BBRWBRZQBRMI7Z",
       "10.244.3.9": "KUBE-SEP-CBBOSVEDJEY6GM53"}


def chain(view, name: str, table: str = "nat", form: str = "restore") -> list[str]:  # type: ignore[no-untyped-def]
    return [r.restore() if form == "restore" else r.save() for r in view.tables[table].get(name, [])]


def svc_rules(view, chain_name: str, table: str = "nat", service: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.restore() for r in view.tables[table].get(chain_name, []) if service is None or r.service == service]


def test_reference_example_clusterip_nodeport(tmp_path: Path) -> None:
    view = iptables_view(build(tmp_path, web_example()), "lin1")
    assert svc_rules(view, "KUBE-SERVICES", service="ns1/web:http") == [
        f'-m comment --comment "ns1/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-{H}']
    assert chain(view, f"KUBE-SVC-{H}") == [
        '-m comment --comment "ns1/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 '
        "-j KUBE-MARK-MASQ",
        '-m comment --comment "ns1/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability '
        f"0.3333333333 -j {SEP['10.244.1.5']}",
        '-m comment --comment "ns1/web:http -> 10.244.2.7:8080" -m statistic --mode random --probability '
        f"0.5000000000 -j {SEP['10.244.2.7']}",
        f'-m comment --comment "ns1/web:http -> 10.244.3.9:8080" -j {SEP["10.244.3.9"]}',
    ]
    assert svc_rules(view, "KUBE-NODEPORTS", service="ns1/web:http") == [
        f"-m comment --comment ns1/web:http -m tcp -p tcp --dport 30080 -j KUBE-EXT-{H}"]
    assert chain(view, f"KUBE-EXT-{H}") == [
        '-m comment --comment "masquerade traffic for ns1/web:http external destinations" -j KUBE-MARK-MASQ',
        f"-j KUBE-SVC-{H}"]
    for ip, sep in SEP.items():
        assert chain(view, sep) == [f"-m comment --comment ns1/web:http -s {ip} -j KUBE-MARK-MASQ",
                                    f"-m comment --comment ns1/web:http -m tcp -p tcp -j DNAT --to-destination "
                                    f"{ip}:8080"]
    assert f"KUBE-SVL-{H}" not in view.tables["nat"] and f"KUBE-FW-{H}" not in view.tables["nat"]


def test_reference_example_as_iptables_save_prints_it(tmp_path: Path) -> None:
    view = iptables_view(build(tmp_path, web_example()), "lin1")
    assert chain(view, f"KUBE-SVC-{H}", form="save")[:2] == [
        '! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "ns1/web:http cluster IP" -m tcp '
        "--dport 80 -j KUBE-MARK-MASQ",
        '-m comment --comment "ns1/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability '
        f"0.33333333349 -j {SEP['10.244.1.5']}"]
    assert chain(view, SEP["10.244.1.5"], form="save") == [
        '-s 10.244.1.5/32 -m comment --comment "ns1/web:http" -j KUBE-MARK-MASQ',
        '-p tcp -m comment --comment "ns1/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080']
    text = render(view)
    assert "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000" in text
    assert "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN" in text
    assert "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0" in text
    assert ('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE '
            "--random-fully") in text
    assert ('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule '
            'in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS') in text
    assert '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' in text
    nat = text[text.index("*nat"):]
    assert nat.index(":KUBE-SEP-") < nat.index(":KUBE-SERVICES") < nat.index(f":KUBE-SVC-{H}")  # by name
    restore = render(view, "restore")
    assert "-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000" in restore
    assert "-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN" in restore
    assert "-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000" in restore


def test_kube_services_is_terminated_by_the_nodeports_rule(tmp_path: Path) -> None:
    view = iptables_view(build(tmp_path, web_example()), "lin1")
    assert view.tables["nat"]["KUBE-SERVICES"][-1].target == "KUBE-NODEPORTS"


def test_masquerade_bit_and_masquerade_all(tmp_path: Path) -> None:
    kp = {"iptables": {"masqueradeBit": 15, "masqueradeAll": True}}
    view = iptables_view(build(tmp_path, web_example(), kube_proxy=kp), "lin1")
    text = render(view)
    assert "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x8000/0x8000" in text
    assert "--or-mark 0x00008000" in render(view, "restore")
    # masqueradeAll marks every packet to the ClusterIP: no "! -s <cluster CIDR>"
    assert chain(view, f"KUBE-SVC-{H}")[0] == ('-m comment --comment "ns1/web:http cluster IP" -m tcp -p tcp -d '
                                               "10.96.0.10 --dport 80 -j KUBE-MARK-MASQ")


def lb_docs(**spec: object) -> list[dict]:
    return [pod_doc("lb-0", "win1", ip="10.244.2.3"),
            service("lb", [{"name": "p80", "port": 80, "nodePort": 30002}], cluster_ip="10.96.0.45",
                    type="LoadBalancer", externalIPs=["192.168.99.33"], ingress=["5.6.7.8"], **spec),
            endpoint_slice("lb", [ep("10.244.2.3", "win1")], [{"name": "p80", "port": 80, "protocol": "TCP"}])]


def test_loadbalancer_source_ranges_and_client_ip_affinity(tmp_path: Path) -> None:
    h = recipe("default/lb:p80tcp")
    sep = "KUBE-SEP-" + recipe("default/lb:p80tcp10.244.2.3:80")
    view = iptables_view(build(tmp_path, lb_docs(loadBalancerSourceRanges=["203.0.113.0/25"],
                                                 sessionAffinity="ClientIP")), "lin1")
    assert svc_rules(view, "KUBE-SERVICES", service="default/lb:p80") == [
        f'-m comment --comment "default/lb:p80 cluster IP" -m tcp -p tcp -d 10.96.0.45 --dport 80 -j KUBE-SVC-{h}',
        f'-m comment --comment "default/lb:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-{h}',
        f'-m comment --comment "default/lb:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-{h}']
    assert chain(view, f"KUBE-FW-{h}") == [
        f'-m comment --comment "default/lb:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-{h}',
        '-m comment --comment "other traffic to default/lb:p80 will be dropped by KUBE-PROXY-FIREWALL"']
    assert chain(view, "KUBE-PROXY-FIREWALL", "filter") == [
        f'-m comment --comment "default/lb:p80 traffic not accepted by KUBE-FW-{h}" -m tcp -p tcp -d 5.6.7.8 '
        "--dport 80 -j DROP"]
    # affinity: a recent --rcheck rule per endpoint before the balancing rules, --set on the DNAT
    assert chain(view, f"KUBE-SVC-{h}")[1:] == [
        f'-m comment --comment "default/lb:p80 -> 10.244.2.3:80" -m recent --name {sep} --rcheck --seconds 10800 '
        f"--reap -j {sep}",
        f'-m comment --comment "default/lb:p80 -> 10.244.2.3:80" -j {sep}']
    assert chain(view, sep)[1] == (f"-m comment --comment default/lb:p80 -m recent --name {sep} --set -m tcp -p tcp "
                                   "-j DNAT --to-destination 10.244.2.3:80")
    assert chain(view, sep, form="save")[1] == (
        f'-p tcp -m comment --comment "default/lb:p80" -m recent --set --name {sep} --mask 255.255.255.255 '
        "--rsource -m tcp -j DNAT --to-destination 10.244.2.3:80")


def test_source_range_holding_the_node_admits_the_vip_itself(tmp_path: Path) -> None:
    h = recipe("default/lb:p80tcp")
    view = iptables_view(build(tmp_path, lb_docs(loadBalancerSourceRanges=["10.240.0.0/24"])), "lin1")
    assert chain(view, f"KUBE-FW-{h}")[:2] == [
        f'-m comment --comment "default/lb:p80 loadbalancer IP" -s 10.240.0.0/24 -j KUBE-EXT-{h}',
        f'-m comment --comment "default/lb:p80 loadbalancer IP" -s 5.6.7.8 -j KUBE-EXT-{h}']


def etp_local_docs() -> list[dict]:
    return [pod_doc("loc-0", "lin1", ip="10.244.1.7"), pod_doc("loc-1", "win1", ip="10.244.2.3"),
            service("loc", [{"name": "p80", "port": 80, "nodePort": 30001}], cluster_ip="10.96.0.42",
                    type="LoadBalancer", externalTrafficPolicy="Local", externalIPs=["192.168.99.22"],
                    ingress=["1.2.3.4"], healthCheckNodePort=30000),
            endpoint_slice("loc", [ep("10.244.1.7", "lin1"), ep("10.244.2.3", "win1")],
                           [{"name": "p80", "port": 80, "protocol": "TCP"}])]


def test_external_traffic_policy_local_with_a_local_endpoint(tmp_path: Path) -> None:
    h = recipe("default/loc:p80tcp")
    local_sep = "KUBE-SEP-" + recipe("default/loc:p80tcp10.244.1.7:80")
    view = iptables_view(build(tmp_path, etp_local_docs()), "lin1")
    assert chain(view, f"KUBE-EXT-{h}") == [
        f'-m comment --comment "pod traffic for default/loc:p80 external destinations" -s 10.244.0.0/16 '
        f"-j KUBE-SVC-{h}",
        '-m comment --comment "masquerade LOCAL traffic for default/loc:p80 external destinations" -m addrtype '
        "--src-type LOCAL -j KUBE-MARK-MASQ",
        '-m comment --comment "route LOCAL traffic for default/loc:p80 external destinations" -m addrtype '
        f"--src-type LOCAL -j KUBE-SVC-{h}",
        f"-j KUBE-SVL-{h}"]
    assert chain(view, f"KUBE-SVL-{h}") == [f'-m comment --comment "default/loc:p80 -> 10.244.1.7:80" -j {local_sep}']
    assert len(chain(view, f"KUBE-SVC-{h}")) == 3  # masquerade + both endpoints (the cluster chain)
    assert chain(view, "KUBE-NODEPORTS", "filter") == [
        '-m comment --comment "default/loc:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT']
    assert chain(view, "KUBE-EXTERNAL-SERVICES", "filter") == []


def test_external_traffic_policy_local_without_a_local_endpoint(tmp_path: Path) -> None:
    h = recipe("default/loc:p80tcp")
    view = iptables_view(build(tmp_path, etp_local_docs()), "master")
    drop = '-m comment --comment "default/loc:p80 has no local endpoints"'
    assert chain(view, "KUBE-EXTERNAL-SERVICES", "filter") == [
        f"{drop} -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP",
        f"{drop} -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP",
        f"{drop} -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30001 -j DROP"]
    ext = chain(view, f"KUBE-EXT-{h}")
    assert len(ext) == 3 and not any(r.endswith(f"KUBE-SVL-{h}") for r in ext)  # short-circuits only
    assert f"KUBE-SVL-{h}" not in view.tables["nat"]
    # the health-check port is accepted whether or not the node has local endpoints
    assert len(chain(view, "KUBE-NODEPORTS", "filter")) == 1


def itp_docs() -> list[dict]:
    return [pod_doc("itp-0", "lin1", ip="10.244.1.7"),
            service("itp", [{"name": "p80", "port": 80}], cluster_ip="10.96.0.47", internalTrafficPolicy="Local"),
            endpoint_slice("itp", [ep("10.244.1.7", "lin1")], [{"name": "p80", "port": 80, "protocol": "TCP"}])]


def test_internal_traffic_policy_local(tmp_path: Path) -> None:
    h = recipe("default/itp:p80tcp")
    c = build(tmp_path, itp_docs())
    here = iptables_view(c, "lin1")
    assert svc_rules(here, "KUBE-SERVICES", service="default/itp:p80") == [
        f'-m comment --comment "default/itp:p80 cluster IP" -m tcp -p tcp -d 10.96.0.47 --dport 80 -j KUBE-SVL-{h}']
    assert chain(here, f"KUBE-SVL-{h}")[0].endswith("! -s 10.244.0.0/16 -j KUBE-MARK-MASQ")
    assert f"KUBE-SVC-{h}" not in here.tables["nat"]
    there = iptables_view(c, "master")
    assert svc_rules(there, "KUBE-SERVICES", "filter", "default/itp:p80") == [
        '-m comment --comment "default/itp:p80 has no local endpoints" -m tcp -p tcp -d 10.96.0.47 --dport 80 -j DROP']
    assert svc_rules(there, "KUBE-SERVICES", service="default/itp:p80") == []


def test_service_without_endpoints_is_rejected(tmp_path: Path) -> None:
    docs = [service("none", [{"name": "p80", "port": 80, "nodePort": 30009}], cluster_ip="10.96.0.46",
                    type="NodePort", externalIPs=["192.168.99.44"], selector={"app": "nothing"})]
    view = iptables_view(build(tmp_path, docs), "lin1")
    reject = '-m comment --comment "default/none:p80 has no endpoints"'
    assert svc_rules(view, "KUBE-SERVICES", "filter", "default/none:p80") == [
        f"{reject} -m tcp -p tcp -d 10.96.0.46 --dport 80 -j REJECT"]
    assert chain(view, "KUBE-EXTERNAL-SERVICES", "filter") == [
        f"{reject} -m tcp -p tcp -d 192.168.99.44 --dport 80 -j REJECT",
        f"{reject} -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30009 -j REJECT"]
    assert chain(view, "KUBE-SERVICES", "filter", "save")[0].endswith("-j REJECT --reject-with icmp-port-unreachable")
    assert not any(r.service == "default/none:p80" for rules in view.tables["nat"].values() for r in rules)


def test_two_ports_named_target_ports_and_udp(tmp_path: Path) -> None:
    ports = [{"name": "http", "containerPort": 8080}, {"name": "dns", "containerPort": 5353, "protocol": "UDP"}]
    docs = [pod_doc("two-0", "win1", ip="10.244.2.3", labels={"app": "two"}, ports=ports),
            service("two", [{"name": "http", "port": 80, "targetPort": "http"},
                            {"name": "dns", "port": 53, "targetPort": "dns", "protocol": "UDP"}],
                    cluster_ip="10.96.0.50", selector={"app": "two"})]
    view = iptables_view(build(tmp_path, docs), "lin1")
    http, dns = recipe("default/two:httptcp"), recipe("default/two:dnsudp")
    assert [r.target for r in view.tables["nat"]["KUBE-SERVICES"] if r.service] == [
        f"KUBE-SVC-{http}", f"KUBE-SVC-{dns}"]
    sep = "KUBE-SEP-" + recipe("default/two:dnsudp10.244.2.3:5353")
    assert chain(view, sep)[1] == ("-m comment --comment default/two:dns -m udp -p udp -j DNAT --to-destination "
                                   "10.244.2.3:5353")


def test_terminating_endpoints_are_a_fallback_on_linux(tmp_path: Path) -> None:
    # §3.5: no Ready endpoint anywhere → serving-and-terminating ones are used
    docs = [service("term", [{"name": "p80", "port": 80}], cluster_ip="10.96.0.51"),
            endpoint_slice("term", [ep("10.244.2.3", "win1", ready=False, serving=True, terminating=True),
                                    ep("10.244.3.3", "win2", ready=False, serving=False, terminating=True)],
                           [{"name": "p80", "port": 80, "protocol": "TCP"}])]
    view = iptables_view(build(tmp_path, docs), "lin1")
    (p,) = view.service_ports
    assert [e.key for e in p.cluster_endpoints] == ["10.244.2.3:80"]


def test_endpoints_are_ordered_as_strings(tmp_path: Path) -> None:
    # kube-proxy sorts endpoints by the "ip:port" string: 10.244.10.5:80 sorts before 10.244.2.3:80
    docs = [service("ord", [{"name": "p80", "port": 80}], cluster_ip="10.96.0.52"),
            endpoint_slice("ord", [ep("10.244.2.3", "win1"), ep("10.244.10.5", None)],
                           [{"name": "p80", "port": 80, "protocol": "TCP"}])]
    view = iptables_view(build(tmp_path, docs), "lin1")
    rules = chain(view, "KUBE-SVC-" + recipe("default/ord:p80tcp"))
    assert "10.244.10.5:80" in rules[1] and "--probability 0.5000000000" in rules[1]
    assert "10.244.2.3:80" in rules[2] and "statistic" not in rules[2]


def test_large_cluster_mode_drops_endpoint_comments(tmp_path: Path) -> None:
    # more than 1,000 endpoints in the cluster: no comments on KUBE-SVC jump rules nor in KUBE-SEP chains
    eps = [ep(f"10.250.{i // 250}.{i % 250 + 1}", None) for i in range(1001)]
    docs = [service("big", [{"name": "p80", "port": 80}], cluster_ip="10.96.0.53"),
            endpoint_slice("big", eps, [{"name": "p80", "port": 80, "protocol": "TCP"}])]
    view = iptables_view(build(tmp_path, docs), "lin1")
    assert view.large_cluster
    svc = chain(view, "KUBE-SVC-" + recipe("default/big:p80tcp"))
    assert svc[0].startswith('-m comment --comment "default/big:p80 cluster IP"')  # the masquerade rule keeps it
    # string order puts "10.250.0.100:80" first ("0" sorts before ":")
    assert svc[1] == ("-m statistic --mode random --probability 0.0009990010 -j KUBE-SEP-"
                      + recipe("default/big:p80tcp10.250.0.100:80"))
    assert "comment" not in chain(view, "KUBE-SEP-" + recipe("default/big:p80tcp10.250.0.100:80"))[0]
    # as iptables-save prints them: /32 on the source, the kernel's 31-bit probability with 11 decimals
    sep = "KUBE-SEP-" + recipe("default/big:p80tcp10.250.0.100:80")
    assert chain(view, sep, form="save") == ["-s 10.250.0.100/32 -j KUBE-MARK-MASQ",
                                             "-p tcp -m tcp -j DNAT --to-destination 10.250.0.100:80"]
    fixed = round(0.0009990010 * 2**31)  # the statistic match keeps the probability in 31 bits
    assert chain(view, "KUBE-SVC-" + recipe("default/big:p80tcp"), form="save")[1] == (
        f"-m statistic --mode random --probability {fixed / 2**31:.11f} -j {sep}")


def test_save_of_rules_without_comments() -> None:
    # iptables-save: "! -s" before a negated source, /32 or /128 added to a bare address, the target last
    assert Rule("nat", "C", "T", src="!10.0.0.0/8").save() == "! -s 10.0.0.0/8 -j T"
    assert Rule("nat", "C", "T", src="fd00::1").save() == "-s fd00::1/128 -j T"
    assert Rule("nat", "C", "", src="10.0.0.1").save() == "-s 10.0.0.1/32"
    assert Rule("nat", "C", "", proto="udp", dport=53).save() == "-p udp -m udp --dport 53"
    assert Rule("nat", "C", "DNAT --to-destination 10.0.0.1:53", proto="udp", target_save="X").save() == (
        "-p udp -m udp -j X")
    assert Rule("nat", "C").save() == ""


def test_localhost_nodeports_off(tmp_path: Path) -> None:
    view = iptables_view(build(tmp_path, web_example(), kube_proxy={"iptables": {"localhostNodePorts": False}}),
                         "lin1")
    assert view.tables["nat"]["KUBE-SERVICES"][-1].restore() == (
        '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" '
        "-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS")
    assert "KUBE-FIREWALL" not in view.tables["filter"]


def test_summary_names_the_chains_and_endpoints_without_rules(tmp_path: Path) -> None:
    # what `cnimodel lb` prints as text: the chains each port uses and its endpoints, not the rules
    plan = build(tmp_path, web_example())
    view = iptables_view(plan, "lin1", summary=True)
    web = next(p for p in view.service_ports if p.service_port.key == "ns1/web:http")
    assert (web.svc_chain, web.svl_chain, web.ext_chain, web.fw_chain) == (f"KUBE-SVC-{H}", None, f"KUBE-EXT-{H}",
                                                                           None)
    assert [e.key for e in web.cluster_endpoints] == [f"{ip}:8080" for ip in SEP]  # as the KUBE-SEP chains above
    assert view.summary and view.tables == {} and web.rules == () and web.sep == {}
    full = iptables_view(plan, "lin1")
    assert not full.summary and full.notes == view.notes
    fields = ("service_port", "svc_chain", "svl_chain", "ext_chain", "fw_chain", "cluster_endpoints",
              "local_endpoints", "has_endpoints", "has_internal", "has_external", "notes")
    assert [[getattr(p, f) for f in fields] for p in view.service_ports] == [
        [getattr(p, f) for f in fields] for p in full.service_ports]
