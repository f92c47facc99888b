"""Shapes the fast paths of the catalog and the iptables view must treat like the common one: slices with
several ports, non-canonical and IPv6 addresses, dual-stack ClusterIPs, chain order, colliding chain names.
Expected values are written by hand from the EndpointSlice API (services-lb.md §3.5) and iptables-save's
listing (built-in chains, then user chains by name)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lbplans import build, endpoint_slice, ep, service

from cnimodel.plan import PlanError
from cnimodel.render.lb_iptables import render
from cnimodel.services import catalog, iptables_view
from cnimodel.services.iptables import chain_order
from cnimodel.services.kubeproxy_iptables import LinuxNode
from cnimodel.services.model import Service


def keys(c, key: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    cat = catalog(c)
    svc = cat.service(key.rsplit(":", 1)[0])
    sp = next(p for p in svc.ports if p.key == key)
    return [(e.key, e.node, e.ready, e.pod, e.source) for e in cat.endpoints_of(sp)]


def test_a_slice_with_two_ports_gives_each_port_every_endpoint(tmp_path: Path) -> None:
    first = ep("10.244.3.7", "win2")
    first["targetRef"] = {"kind": "Pod", "name": "web-0"}  # namespace defaults to the slice's
    docs = [service("web", [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]),
            endpoint_slice("web", [first, ep("10.244.1.4", "lin1", ready=False)],
                           [{"name": "metrics", "port": 9091, "protocol": "TCP"},
                            {"name": "http", "port": 8080, "protocol": "TCP"},
                            {"name": "other", "port": 7000, "protocol": "TCP"}])]  # a port the Service lacks
    c = build(tmp_path, docs)
    src = "EndpointSlice default/web-abc"
    assert keys(c, "default/web:http") == [("10.244.1.4:8080", "lin1", False, None, src),
                                           ("10.244.3.7:8080", "win2", True, "default/web-0", src)]
    assert keys(c, "default/web:metrics") == [("10.244.1.4:9091", "lin1", False, None, src),
                                              ("10.244.3.7:9091", "win2", True, "default/web-0", src)]


def test_addresses_off_the_fast_path_read_the_same(tmp_path: Path) -> None:
    # " 10.244.3.8" is not canonical text, so the inline reader hands it to the checked one, which reads
    # the address and prints it canonically: the endpoint must come out as the common shape would
    docs = [service("a", [{"name": "p", "port": 80}]),
            endpoint_slice("a", [ep(" 10.244.3.8", "win2"), ep("10.244.3.7", "win2", ready=False)],
                           [{"name": "p", "port": 8080}])]
    assert [k[:3] for k in keys(build(tmp_path, docs), "default/a:p")] == [
        ("10.244.3.7:8080", "win2", False), ("10.244.3.8:8080", "win2", True)]


def test_a_bad_address_in_a_slice_is_located(tmp_path: Path) -> None:
    docs = [service("a", [{"name": "p", "port": 80}]),
            endpoint_slice("a", [ep("10.244.3.7", "win2"), ep("10.244.3.300", "win2")], [{"name": "p", "port": 8080}])]
    with pytest.raises(PlanError) as err:
        catalog(build(tmp_path, docs))
    assert "endpoints[1].addresses[0]" in str(err.value) and "'10.244.3.300' is not an IP address" in str(err.value)


def test_vip_is_the_first_cluster_ip_of_each_family(tmp_path: Path) -> None:
    docs = [service("dual", [{"name": "p", "port": 80}], clusterIPs=["fd00:10::a", "10.96.0.10"]),
            service("auto", [{"name": "p", "port": 80}])]  # allocated: 10.96.1.1, the upper band's first
    cat = catalog(build(tmp_path, docs))
    dual, auto = cat.service("default/dual"), cat.service("default/auto")
    assert dual.vip == {6: "fd00:10::a", 4: "10.96.0.10"}
    assert auto.vip == {4: "10.96.1.1"}
    for svc in (dual, auto):  # what the property computes from cluster_ips, uncached
        assert svc.vip == Service.vip.func(svc)  # type: ignore[attr-defined]


def test_chain_order_is_builtins_then_names() -> None:
    chains = ["KUBE-SVC-B", "POSTROUTING", "KUBE-SEP-A", "PREROUTING", "OUTPUT", "INPUT", "KUBE-MARK-MASQ"]
    assert chain_order("nat", chains) == ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "KUBE-MARK-MASQ",
                                          "KUBE-SEP-A", "KUBE-SVC-B"]
    # a chain neither built in nor kube-proxy's is a user chain like the others: by name among them
    assert chain_order("filter", ["OUTPUT", "LOCAL", "KUBE-X", "INPUT", "ZED", "FORWARD", "ACCEPTED"]) == [
        "INPUT", "FORWARD", "OUTPUT", "ACCEPTED", "KUBE-X", "LOCAL", "ZED"]


def test_iptables_save_lists_chains_in_its_order(tmp_path: Path) -> None:
    docs = [service(f"s{i}", [{"name": "p", "port": 80}]) for i in range(5)]
    docs += [endpoint_slice(f"s{i}", [ep(f"10.244.3.{i + 2}", "win2")], [{"name": "p", "port": 8080}])
             for i in range(5)]
    text = render(iptables_view(build(tmp_path, docs), "lin1"))
    builtin = {"filter": ["INPUT", "FORWARD", "OUTPUT"], "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
               "mangle": ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]}
    for block in text.split("\n*")[1:]:
        table, *lines = block.splitlines()
        declared = [line[1:].split()[0] for line in lines if line.startswith(":")]
        rest = [c for c in declared if c not in builtin[table]]
        assert declared == builtin[table] + sorted(rest), table
        assert all(c.startswith("KUBE-") for c in rest)


def test_colliding_chain_names_hold_both_ports_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two ports whose chain names hash alike (forced here) share one chain, as they would in the kernel:
    # the view keeps every rule of both instead of letting the second port's chain replace the first's.
    docs = [service("a", [{"name": "p", "port": 80}], cluster_ip="10.96.0.20"),
            service("b", [{"name": "p", "port": 80}], cluster_ip="10.96.0.21"),
            endpoint_slice("a", [ep("10.244.3.7", "win2")], [{"name": "p", "port": 8080}]),
            endpoint_slice("b", [ep("10.244.3.8", "win2")], [{"name": "p", "port": 8080}])]
    monkeypatch.setattr(LinuxNode, "chain_hash", lambda self, sp: "SAMEHASHSAMEHASH")
    view = iptables_view(build(tmp_path, docs), "lin1")
    svc = view.tables["nat"]["KUBE-SVC-SAMEHASHSAMEHASH"]
    assert [r.service for r in svc] == ["default/a:p", "default/a:p", "default/b:p", "default/b:p"]
    assert [r.target for r in svc][1::2] == [view.service_ports[0].sep["10.244.3.7:8080"],
                                              view.service_ports[1].sep["10.244.3.8:8080"]]
