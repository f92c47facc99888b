"""Trace walks checked against paths derived by hand from the reference (cni-plugins.md §3.6–3.10, §10;
services-lb.md §2.4 (g); origin.md's cloud route table)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnimodel.cli import cli
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.trace import EndpointError, trace

ROOT = Path(__file__).resolve().parents[2]
TOPO = ROOT / "topologies"


def build(path: Path) -> Cluster:
    return Cluster.build(load_plan([path]))


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "plan.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def steps(t, node):  # type: ignore[no-untyped-def]
    return [(s.type, s.action) for h in t.hops if h.node == node for s in h.steps]


def detail(t, node, action):  # type: ignore[no-untyped-def]
    return next(s.detail for h in t.hops if h.node == node for s in h.steps if s.action == action)


@pytest.fixture(scope="module")
def default() -> Cluster:
    return build(TOPO / "default.yaml")


def test_hostgw_pod_to_pod_across_nodes(default: Cluster) -> None:
    # client on lin1 (10.244.1.2) to iis-0 on win1 (10.244.2.3): lin1 routes 10.244.2.0/24 via win1's IP.
    (t,) = trace(default, "default/client", "web/iis-0", port=80)
    assert t.disposition == "ACCEPTED"
    assert [h.node for h in t.hops] == ["default/client", "lin1", "win1", "web/iis-0"]
    assert detail(t, "default/client", "FORWARDED")["nextHop"] == "10.244.1.1"
    assert detail(t, "lin1", "FORWARDED")["route"] == "10.244.2.0/24 via 10.240.0.20 dev eth0"
    assert t.final is not None and (str(t.final.src), str(t.final.dst)) == ("10.244.1.2", "10.244.2.3")


def test_reply_walks_back(default: Cluster) -> None:
    _fwd, rev = trace(default, "default/client", "web/iis-0", both=True)
    assert rev.direction == "reverse" and rev.disposition == "ACCEPTED"
    assert [h.node for h in rev.hops] == ["web/iis-0", "win1", "lin1", "default/client"]
    # win1's NetRoute for lin1's pods: 10.244.1.0/24 via 10.240.0.10 on the management vNIC.
    assert detail(rev, "win1", "FORWARDED")["route"] == "10.244.1.0/24 via 10.240.0.10 dev vEthernet (Ethernet)"


def test_same_node_is_bridged_not_routed(tmp_path: Path) -> None:
    plan = write(tmp_path, """
        apiVersion: cnimodel/v1
        kind: ClusterPlan
        metadata: {name: one}
        spec:
          clusterCIDR: 10.244.0.0/16
          serviceCIDR: 10.96.0.0/12
          network: {plugin: flannel, backend: host-gw}
          underlay: {subnets: [{name: n, cidr: 10.240.0.0/24}]}
          nodes: [{name: a, ip: 10.240.0.4}]
        ---
        {apiVersion: v1, kind: Pod, metadata: {name: p1}, spec: {nodeName: a, containers: [{name: c, image: x}]}}
        ---
        {apiVersion: v1, kind: Pod, metadata: {name: p2}, spec: {nodeName: a, containers: [{name: c, image: x}]}}
        """)
    (t,) = trace(build(plan), "default/p1", "default/p2")
    assert t.disposition == "ACCEPTED"
    assert [h.node for h in t.hops] == ["default/p1", "a", "default/p2"]
    assert ("routed", "FORWARDED") not in steps(t, "a")  # the cni0 bridge delivers, no route lookup


def test_linux_pod_to_internet_is_masqueraded_and_the_reply_unmasqueraded(default: Cluster) -> None:
    # FLANNEL-POSTRTG: -s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE → source becomes eth0's 10.240.0.10.
    fwd, rev = trace(default, "default/client", "93.184.216.34", port=443, both=True)
    assert fwd.disposition == "EXITS_NETWORK"
    snat = detail(fwd, "lin1", "SNAT")
    assert (snat["before"], snat["after"]) == ("10.244.1.2", "10.240.0.10")
    assert "MASQUERADE" in snat["rule"] and "! -d 224.0.0.0/4" in snat["rule"]
    assert rev.disposition == "ACCEPTED"
    assert detail(rev, "lin1", "UN-SNAT")["after"] == "10.244.1.2"
    assert rev.hops[-1].node == "default/client"


def test_windows_outboundnat_snat_and_exception(default: Cluster) -> None:
    # OutBoundNAT exceptions [10.244.0.0/16, 10.96.0.0/12, 10.240.0.0/24]: outside → SNAT to the node IP.
    (out,) = trace(default, "web/iis-0", "93.184.216.34", port=443)
    snat = detail(out, "win1", "SNAT")
    assert (snat["before"], snat["after"]) == ("10.244.2.3", "10.240.0.20")
    (inside,) = trace(default, "web/iis-0", "default/client")
    assert detail(inside, "win1", "NO_SNAT")["exception"] == "10.244.0.0/16"
    assert inside.disposition == "ACCEPTED"


def test_windows_icmp_through_outboundnat_is_dropped(default: Cluster) -> None:
    (t,) = trace(default, "web/iis-0", "8.8.8.8", proto="icmp")
    assert t.disposition == "DENIED_OUT"
    assert "ICMP" in t.reason
    (ok,) = trace(default, "web/iis-0", "default/client", proto="icmp")  # pod → pod ping works
    assert ok.disposition == "ACCEPTED"


def test_mtu_drop(default: Cluster) -> None:
    (t,) = trace(default, "default/client", "web/iis-0", size=1501)  # host-gw: pod MTU = uplink 1500
    assert t.disposition == "DENIED_OUT" and "1500" in t.reason
    (ok,) = trace(default, "default/client", "web/iis-0", size=1500)
    assert ok.disposition == "ACCEPTED"


def test_cloud_route_table_path(tmp_path: Path) -> None:
    # The 2018 talk: hosts hold no pod routes; lin1 sends via its gateway, the VNet route table sends
    # 10.244.2.0/24 to 10.240.0.20 (VirtualAppliance), win1 delivers on its L2Bridge network.
    src = (TOPO / "talk-l2bridge-cloud.yaml").read_text()
    pods = """
---
{apiVersion: v1, kind: Pod, metadata: {name: web}, spec: {nodeName: win1, containers: [{name: c,
  image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2019"}]}}
---
{apiVersion: v1, kind: Pod, metadata: {name: cli}, spec: {nodeName: lin1, containers: [{name: c, image: curl}]}}
"""
    plan = tmp_path / "talk.yaml"
    plan.write_text(src + pods)
    (t,) = trace(build(plan), "default/cli", "default/web")
    assert t.disposition == "ACCEPTED"
    assert [h.node for h in t.hops] == ["default/cli", "lin1", "vnet-routes", "win1", "default/web"]
    assert detail(t, "lin1", "FORWARDED")["route"] == "0.0.0.0/0 via 10.240.0.1 dev eth0"
    u = detail(t, "vnet-routes", "FORWARDED")
    assert (u["route"], u["nextHopType"], u["nextHop"], u["name"]) == (
        "10.244.2.0/24", "VirtualAppliance", "10.240.0.20", "win1")


def test_vxlan_encapsulation_and_decap() -> None:
    c = build(TOPO / "hybrid-vxlan.yaml")
    (t,) = trace(c, "default/client", "default/iis-0")
    assert t.disposition == "ACCEPTED"
    enc = detail(t, "lin1", "VXLAN")
    # Hybrid clusters run VNI 4096 on UDP 4789 everywhere; outer IPs are the node IPs.
    assert (enc["vni"], enc["udpDstPort"], enc["outerSrc"], enc["outerDst"]) == (4096, 4789, "10.240.0.10",
                                                                              "10.240.0.20")
    assert detail(t, "lin1", "FORWARDED")["route"] == "10.244.2.0/24 via 10.244.2.0 dev flannel.4096 onlink"
    assert ("decapsulated", "VXLAN") in steps(t, "win1")
    (big,) = trace(c, "default/client", "default/iis-0", size=1451)  # overlay MTU 1500 − 50
    assert big.disposition == "DENIED_OUT" and "1450" in big.reason


def test_vni_port_mismatch_breaks_the_path() -> None:
    c = build(TOPO / "hybrid-vxlan-mismatch.yaml")
    (t,) = trace(c, "lin1", "10.244.2.5")
    assert t.disposition == "NEIGHBOR_UNREACHABLE"
    assert "VNI 1" in t.reason and "4096" in t.reason and "8472" in t.reason and "4789" in t.reason


def test_unknown_endpoint(default: Cluster) -> None:
    with pytest.raises(EndpointError):
        trace(default, "default/nope", "web/iis-0")


def test_cli_json_and_exit_codes() -> None:
    r = CliRunner().invoke(cli, ["trace", str(TOPO / "default.yaml"), "default/client", "web/iis-0", "-o", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert set(body) >= {"flow", "disposition", "hops"}
    assert body["flow"]["src"] == "10.244.1.2" and body["flow"]["dstPort"] == 80
    assert {"type", "action", "detail"} <= set(body["hops"][1]["steps"][0])
    r = CliRunner().invoke(cli, ["trace", str(TOPO / "default.yaml"), "web/iis-0", "8.8.8.8", "--proto", "icmp"])
    assert r.exit_code == 1 and "DENIED_OUT" in r.output
    r = CliRunner().invoke(cli, ["trace", str(TOPO / "default.yaml"), "nosuch", "web/iis-0"])
    assert r.exit_code == 2 and "Traceback" not in r.output
