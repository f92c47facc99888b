"""cnimodel's own trace through OVN's logical datapaths on the example plan (no OVN needed here; test_ovn_compare
holds the same walks against ovn-trace).

Hand-derived from upstream (docs/ovn-kubernetes.md cites each): lin1 holds 10.129.0.0/23, lin2 10.130.0.0/23
(the allocator's rotation), client 10.129.0.5, web-1 10.130.0.4; a connected /23 on the cluster router has
priority 23 × 3 + 2 = 71 and a source route 23 × 3 = 69 (northd.c ROUTE_PRIO_OFFSET_*); ovnkube's node-IP policy
is 1004 and the hybrid overlay's 1002 (const.go:109, :112); the gateway router SNATs the cluster subnets to the
node IP (gateway.go:761-817); GENEVE on UDP 6081 (config.go:31); the hybrid overlay's VXLAN VNI 4097 on 4789.
"""

from __future__ import annotations

import networkx as nx

import cnimodel

PLAN = cnimodel.example("ovn-kubernetes-hybrid.yaml")


def steps(t: object) -> list[tuple[str, str, dict]]:
    return [(h["node"], s["action"], s["detail"]) for h in t.hops for s in h["steps"]]  # type: ignore[attr-defined]


def actions(t: object) -> list[str]:
    return [a for _, a, _ in steps(t)]  # type: ignore[arg-type]


def test_pod_to_pod_between_chassis_crosses_geneve() -> None:
    net = cnimodel.load(PLAN)
    t = net.trace("default/client", "shop/web-1", port=8080)
    assert t.disposition == "ACCEPTED"
    got = steps(t)
    routing = next(d for n, a, d in got if a == "13. lr_in_ip_routing")
    assert (routing["datapath"], routing["match"], routing["priority"], routing["outport"]) == (
        "ovn_cluster_router", "ip4.dst == 10.130.0.0/23", 71, "rtos-lin2")
    redirect = next((n, d) for n, a, d in got if a == "20. lr_in_gw_redirect")
    assert redirect == ("lin1", {"datapath": "ovn_cluster_router", "pipeline": "ingress", "outport": "cr-rtos-lin2",
                                 "chassis": "lin2"})
    geneve = next((n, d) for n, a, d in got if a == "GENEVE" and "outerDst" in d)
    assert geneve[0] == "lin1"
    assert (geneve[1]["outerSrc"], geneve[1]["outerDst"], geneve[1]["udpDstPort"]) == ("10.0.0.11", "10.0.0.12", 6081)
    after = actions(t)[actions(t).index("GENEVE") + 1:]
    assert after[:4] == ["RECEIVED", "GENEVE", "6. lr_out_delivery", "25. ls_in_l2_lkup"]
    lkup = [d for n, a, d in got if a == "25. ls_in_l2_lkup"]
    assert (lkup[-1]["datapath"], lkup[-1]["outport"]) == ("lin2", "shop_web-1")
    assert t.path[:2] == ["pod:default/client", "ovn:lin1/lin1@default_client"]
    assert "tunnel:lin1/genev_sys_6081" in t.path and "tunnel:lin2/genev_sys_6081" in t.path
    assert nx.is_path(net.graph(dst="shop/web-1"), t.path)


def test_same_node_stays_on_the_switch() -> None:
    t = cnimodel.load(PLAN).trace("default/client", "shop/web-0", port=8080)
    assert t.disposition == "ACCEPTED"
    assert [d["outport"] for _, a, d in steps(t) if a == "25. ls_in_l2_lkup"] == ["shop_web-0"]
    assert not any(a.startswith("13.") or a == "GENEVE" for a in actions(t))


def test_policy_denied_at_the_destination_switch() -> None:
    t = cnimodel.load(PLAN).trace("default/client", "shop/db-0", port=5432)
    assert t.disposition == "DENIED_IN"
    assert t.hops[-1]["node"] == "lin2" and t.hops[-1]["steps"][-1]["action"] == "POLICY_DENIED"


def test_egress_through_the_gateway_router_with_snat() -> None:
    t = cnimodel.load(PLAN).trace("default/client", "8.8.8.8", port=443)
    assert t.disposition == "EXITS_NETWORK"
    got = steps(t)
    src_route = next(d for _, a, d in got if a == "13. lr_in_ip_routing")
    assert (src_route["match"], src_route["priority"], str(src_route["nextHop"])) == (
        "ip4.src == 10.129.0.0/23", 69, "100.64.0.3")  # lin1's node ID 3 → join IP 100.64.0.3
    snat = next(d for _, a, d in got if a == "3. lr_out_snat")
    assert (snat["datapath"], snat["before"], snat["after"]) == ("GR_lin1", "10.129.0.5", "10.0.0.11")
    assert str(t.trace.final.src) == "10.0.0.11"  # type: ignore[union-attr]


def test_own_node_ip_rerouted_to_the_management_port() -> None:
    t = cnimodel.load(PLAN).trace("default/client", "10.0.0.11", port=22)
    assert t.disposition == "ACCEPTED"
    policy = next(d for _, a, d in steps(t) if a == "15. lr_in_policy")
    assert (policy["priority"], str(policy["nextHop"])) == (1004, "10.129.0.2")
    assert [d["outport"] for _, a, d in steps(t) if a == "25. ls_in_l2_lkup"][-1] == "k8s-lin1"


def test_windows_pod_through_the_hybrid_overlay_both_ways() -> None:
    net = cnimodel.load(PLAN)
    t = net.trace("default/client", "shop/iis-0", port=80)
    assert t.disposition == "ACCEPTED"
    policy = next(d for _, a, d in steps(t) if a == "15. lr_in_policy")
    assert (policy["priority"], str(policy["nextHop"])) == (1002, "10.129.0.3")
    vxlan = next(d for _, a, d in steps(t) if a == "VXLAN" and "outerDst" in d)
    assert (vxlan["outerDst"], vxlan["vni"], vxlan["udpDstPort"]) == ("10.0.0.21", 4097, 4789)
    back = net.trace("default/winclient", "shop/web-0", port=8080)
    assert back.disposition == "ACCEPTED"
    assert "ovn:lin1/lin1@int-lin1" in back.path


def test_the_reply_from_outside_comes_back_through_the_gateway_router() -> None:
    """breth0 hands it to ext_lin1's localnet port, GR_lin1 routes the cluster subnets via the cluster router's
    join address 100.64.0.1 (a static /14: 14 × 3 + 1 = 43), the cluster router to the pod's switch."""
    from cnimodel.trace import trace

    net = cnimodel.load(PLAN)
    fwd, back = trace(net.cluster, "default/client", "8.8.8.8", port=443, both=True)
    assert fwd.disposition == "EXITS_NETWORK" and back.disposition == "ACCEPTED"
    got = [(s.action, s.detail) for h in back.hops for s in h.steps]
    assert ("UN-SNAT", "10.0.0.11", "10.129.0.5") in [(a, str(d.get("before")), str(d.get("after"))) for a, d in got]
    gr = next(d for a, d in got if a == "13. lr_in_ip_routing" and d["datapath"] == "GR_lin1")
    assert (gr["match"], gr["priority"], str(gr["nextHop"])) == ("ip4.dst == 10.128.0.0/14", 43, "100.64.0.1")
    assert "ovn:lin1/ovn_cluster_router@rtoj-ovn_cluster_router" in back.path


def test_geneve_step_counts_ovns_option() -> None:
    """OVN's GENEVE carries an 8-byte option (class 0x0102, type 0x80; ovn-architecture(7)) beyond bare GENEVE's
    50 bytes: 58, ovnkube's GeneveHeaderLengthIPv4 (pkg/types/const.go:181). The pods' MTU is ovnkube's mtu 1400
    (the example's config), so a 1400-byte packet crosses (1458 bytes on the 1500-byte underlay) and a 1401-byte
    one is dropped as it leaves the pod."""
    net = cnimodel.load(PLAN)
    t = net.trace("default/client", "shop/web-1", port=8080, size=1400)
    assert t.disposition == "ACCEPTED"
    geneve = next(d for _, a, d in steps(t) if a == "GENEVE" and "outerDst" in d)
    assert geneve["overhead"] == 58
    big = net.trace("default/client", "shop/web-1", port=8080, size=1401)
    assert big.disposition == "DENIED_OUT"
    drop = next(d for _, a, d in steps(big) if a == "MTU_EXCEEDED")
    assert (drop["mtu"], drop["size"]) == (1400, 1401)
