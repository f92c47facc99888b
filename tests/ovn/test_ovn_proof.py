"""The proof against real OVN: the export loads into an OVN_Northbound database (read back with ovn-nbctl and
compared with the model), ovn-northd compiles it, and ovn-trace delivers and drops what it should.

Expected trace facts: ovn-trace(8)'s output shape; pod→pod between nodes crosses the source node switch, the
cluster router and the destination node switch; a policy's default deny drops in the destination switch's
egress ACL stage (ls_out_acl: ``to-lport`` ACLs run as the packet leaves the switch for the port).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ovnplans import NODES, WINDOWS, build, hybrid_config, needs_ovn, netpol, plan_doc, pod, service, write

from cnimodel.plugins.ovn_kubernetes import names, tracing
from cnimodel.plugins.ovn_kubernetes.export import schema_columns, to_nbctl, to_transact
from cnimodel.plugins.ovn_kubernetes.harness import ControlPlane
from cnimodel.plugins.ovn_kubernetes.verify import verify

pytestmark = needs_ovn
EXAMPLE = Path(__file__).parents[2] / "topologies" / "ovn-kubernetes-hybrid.yaml"

DOCS = [pod("web-0", "lin1", "shop", {"app": "web"}, [{"containerPort": 8080}]),
        pod("db-0", "lin2", "shop", {"app": "db"}, [{"containerPort": 5432}]),
        pod("client", "lin1", "default", {"app": "client"}),
        netpol("db-from-web", "shop", {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                                       "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                                    "ports": [{"protocol": "TCP", "port": 5432}]}]}),
        service("db", "shop", [{"port": 5432}], selector={"app": "db"}, clusterIP="172.30.1.20")]
# hybrid overlay on: .3 is int-<node>. lin1 10.128.0.0/23: web-0 .4, client .5; lin2 10.129.0.0/23: db-0 .4


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    c = build(tmp_path_factory.mktemp("plan"), [plan_doc(nodes=NODES + WINDOWS, cfg=hybrid_config()), *DOCS,
                                                 pod("iis", "win1", "shop", {"app": "iis"})])
    top = c.plugin.northbound(c)
    request, _ = to_transact(top, schema_columns())
    with ControlPlane() as cp:
        cp.transact(request)
        cp.sync()
        cp.mirror_static_mac_bindings()
        yield c, top, cp


def test_read_back_matches_the_model(loaded) -> None:  # type: ignore[no-untyped-def]
    _, top, cp = loaded
    switches = set(cp.nbctl("--bare", "--columns=name", "list", "Logical_Switch").split())
    assert switches == {s.name for s in top.switches}
    routers = set(cp.nbctl("--bare", "--columns=name", "list", "Logical_Router").split())
    assert routers == {"ovn_cluster_router", "GR_lin1", "GR_lin2"}
    lsp = json.loads(cp.nbctl("--format=json", "--columns=name,addresses", "list", "Logical_Switch_Port"))
    got = {row[0]: row[1] for row in lsp["data"]}
    assert got["shop_db-0"] == "0a:58:0a:81:00:04 10.129.0.4"  # a one-element set prints as its element
    assert cp.nbctl("lr-route-list", "GR_lin1").count("100.64.0.1") == 2  # the cluster and hybrid subnets
    policies = cp.nbctl("lr-policy-list", "ovn_cluster_router")
    assert 'inport == "rtos-lin1" && ip4.dst == 10.0.0.11 /* lin1 */' in policies
    lbs = json.loads(cp.nbctl("--format=json", "--columns=name,vips", "list", "Load_Balancer"))["data"]
    assert lbs == [["Service_shop/db_TCP_cluster", ["map", [["172.30.1.20:5432", "10.129.0.4:5432"]]]]]
    pg = names.policy_port_group("shop", "db-from-web")
    assert "tcp.dst==5432" in cp.nbctl("acl-list", pg)


def trace(cp: ControlPlane, src_port: str, src_ip: str, dst_ip: str, eth_dst: str, port: int, dp: str):  # type: ignore[no-untyped-def]
    from ipaddress import IPv4Address

    flow = tracing.microflow(src_port, names.mac_of(IPv4Address(src_ip)), eth_dst, src_ip, dst_ip, "tcp", port)
    return tracing.parse(cp.trace(dp, flow))


def test_pod_to_pod_between_nodes(loaded) -> None:  # type: ignore[no-untyped-def]
    _, _, cp = loaded
    r = trace(cp, "shop_web-0", "10.128.0.4", "10.129.0.4", "0a:58:0a:80:00:01", 5432, "lin1")
    assert r.verdict == "delivered" and r.output == "shop_db-0"
    assert r.datapaths == ("lin1", "ovn_cluster_router", "lin2")
    assert any(s.name == "lr_in_ip_routing" and s.datapath == "ovn_cluster_router" for s in r.stages)


def test_policy_denied_flow_is_dropped_by_the_acl(loaded) -> None:  # type: ignore[no-untyped-def]
    _, _, cp = loaded
    r = trace(cp, "default_client", "10.128.0.5", "10.129.0.4", "0a:58:0a:80:00:01", 5432, "lin1")
    assert r.verdict == "dropped"
    assert r.last is not None and (r.last.datapath, r.last.name) == ("lin2", "ls_out_acl")
    # the same client on another port of db-0 is dropped too (only web may reach it)
    assert trace(cp, "default_client", "10.128.0.5", "10.129.0.4", "0a:58:0a:80:00:01", 80, "lin1").verdict == "dropped"


def test_same_node_stays_on_the_switch(loaded) -> None:  # type: ignore[no-untyped-def]
    _, _, cp = loaded
    r = trace(cp, "default_client", "10.128.0.5", "10.128.0.4", "0a:58:0a:80:00:04", 8080, "lin1")
    assert (r.verdict, r.output, r.datapaths) == ("delivered", "shop_web-0", ("lin1",))


def test_windows_pod_through_the_hybrid_overlay_port(loaded) -> None:  # type: ignore[no-untyped-def]
    """A Windows pod (10.132.0.3) is rerouted to the node's .3 and leaves OVN on int-lin1 toward br-ext."""
    _, _, cp = loaded
    r = trace(cp, "shop_web-0", "10.128.0.4", "10.132.0.3", "0a:58:0a:80:00:01", 80, "lin1")
    assert (r.verdict, r.output) == ("delivered", "int-lin1")
    assert any(s.name == "lr_in_policy" and s.priority == 1002 for s in r.stages)


def test_egress_through_the_gateway_router(loaded) -> None:  # type: ignore[no-untyped-def]
    """A pod to the internet: the src-ip route to GR_lin1's join IP, the join switch, the GR's default route via
    the underlay gateway 10.0.0.1 out rtoe-GR_lin1, and ext_lin1's localnet port breth0_lin1 — where ovn-trace
    stops at ARP for 10.0.0.1 (a chassis learns it; the harness does not invent it)."""
    _, _, cp = loaded
    r = trace(cp, "shop_web-0", "10.128.0.4", "8.8.8.8", "0a:58:0a:80:00:01", 443, "lin1")
    assert r.datapaths == ("lin1", "ovn_cluster_router", "join", "GR_lin1", "ext_lin1")
    assert r.verdict == "neighbour-resolution" and ("breth0_lin1", "localnet") in r.outputs
    route = next(s for s in r.stages if s.datapath == "GR_lin1" and s.name == "lr_in_ip_routing")
    assert "reg0 = 10.0.0.1;" in route.actions and 'outport = "rtoe-GR_lin1";' in route.actions


def test_node_ip_goes_to_the_management_port(loaded) -> None:  # type: ignore[no-untyped-def]
    """The 1004 policy reroutes a pod's traffic to its own node's IP to ovn-k8s-mp0 (k8s-lin1)."""
    _, _, cp = loaded
    r = trace(cp, "shop_web-0", "10.128.0.4", "10.0.0.11", "0a:58:0a:80:00:01", 10250, "lin1")
    assert (r.verdict, r.output, r.datapaths) == ("delivered", "k8s-lin1", ("lin1", "ovn_cluster_router", "lin1"))
    assert any(s.name == "lr_in_policy" and s.priority == 1004 for s in r.stages)


def test_every_pair_agrees_with_the_policy_engine(tmp_path: Path) -> None:
    """All pod pairs of the example plan: ovn-trace delivers exactly what cnimodel's policy engine allows."""
    from cnimodel.cluster import Cluster
    from cnimodel.plan import load_plan

    c = Cluster.build(load_plan([EXAMPLE]))
    report = verify(c, c.plugin)
    assert report.total_pairs == 20
    assert len([r for r in report.results if r.flow.policy_allows is not None]) == 20
    assert not report.disagreements
    verdicts = {(r.flow.src, r.flow.dst): r.trace.verdict for r in report.results}
    assert verdicts[("default/client", "shop/db-0")] == "dropped"
    assert verdicts[("shop/web-0", "shop/db-0")] == "delivered"


def test_nbctl_script_and_ovsdb_client_load(tmp_path: Path) -> None:
    """The ovn-nbctl script and the transact request (through ovsdb-client transact) load into an empty
    Northbound database and give the same switches, ports and ACLs."""
    c = build(tmp_path, [plan_doc(), *DOCS])
    top = c.plugin.northbound(c)
    script, _ = to_nbctl(top, schema_columns())
    request, _ = to_transact(top, schema_columns())
    shown = []
    for how in ("nbctl", "client"):
        with ControlPlane() as cp:
            if how == "nbctl":
                cp.run_script(script)
            else:
                req = write(tmp_path, [], "unused.yaml").with_name("req.json")
                req.write_text(json.dumps(request))
                subprocess.run(["ovsdb-client", "transact", cp.nb, req.read_text()], check=True, capture_output=True)
            shown.append((cp.nbctl("--bare", "--columns=name", "list", "Logical_Switch_Port").split(),
                          cp.nbctl("acl-list", names.policy_port_group("shop", "db-from-web"))))
    assert sorted(shown[0][0]) == sorted(shown[1][0]) and shown[0][1] == shown[1][1]
    assert "shop_db-0" in shown[0][0]
