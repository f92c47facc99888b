"""ovn verify compares each ovn-trace answer with cnimodel's own trace of the same flow (verdict, output port,
datapaths, the stages cnimodel names with their table numbers and priorities) — on the example plan every flow
agrees; and a walk that differs is reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from ovnplans import needs_ovn

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.plugins.ovn_kubernetes.compare import mismatches
from cnimodel.plugins.ovn_kubernetes.verify import VerifyReport, verify

pytestmark = needs_ovn
EXAMPLE = Path(__file__).parents[2] / "topologies" / "ovn-kubernetes-hybrid.yaml"


@pytest.fixture(scope="module")
def report() -> VerifyReport:
    c = Cluster.build(load_plan([EXAMPLE]))
    return verify(c, c.plugin)


def by_flow(report: VerifyReport, src: str, dst: str):  # type: ignore[no-untyped-def]
    return next(r for r in report.results if (r.flow.src, r.flow.dst) == (src, dst))


def test_zero_mismatches_on_the_example(report: VerifyReport) -> None:
    assert len(report.results) == 20 + 6 + 2
    assert all(r.mine is not None for r in report.results)
    assert report.mismatches == []


def test_service_flows_are_new_connections_to_a_chosen_backend(report: VerifyReport) -> None:
    """Through each cluster-wide VIP (ovn-trace --ct=new --lb-dst): the load balancer's backend is reached through
    the cluster router even on the client's own node, and the database's policy drops a client that is no web pod."""
    flows = {r.flow.dst: r for r in report.results if r.flow.backend}
    assert set(flows) == {"shop/web", "shop/db"}
    db = flows["shop/db"]
    assert (db.trace.verdict, db.mine.disposition) == ("dropped", "DENIED_IN")  # type: ignore[union-attr]
    web = flows["shop/web"]
    assert web.trace.output == web.mine.output == "shop_web-0"  # type: ignore[union-attr]
    assert "ovn_cluster_router" in web.trace.datapaths


def test_the_stages_compared_are_ovn_traces(report: VerifyReport) -> None:
    """The priorities cnimodel computes (northd's 23 × 3 + 2 for a connected /23, the 1002 hybrid reroute) are
    the ones ovn-trace printed for the same datapath and table."""
    r = by_flow(report, "default/client", "shop/web-1")
    assert ("ovn_cluster_router", 13, "lr_in_ip_routing", 71) in r.mine.stages  # type: ignore[union-attr]
    assert any((s.datapath, s.table, s.name, s.priority) == ("ovn_cluster_router", 13, "lr_in_ip_routing", 71)
               for s in r.trace.stages)
    w = by_flow(report, "default/client", "shop/iis-0")
    assert ("ovn_cluster_router", 15, "lr_in_policy", 1002) in w.mine.stages  # type: ignore[union-attr]
    assert (w.trace.output, w.mine.output) == ("int-lin1", "int-lin1")  # type: ignore[union-attr]


def test_exits_agree_with_ovn_traces_neighbour_resolution(report: VerifyReport) -> None:
    r = by_flow(report, "shop/web-0", "203.0.113.10")
    assert r.trace.verdict == "neighbour-resolution"
    assert (r.mine.verdict, r.mine.output) == ("exits", "breth0_lin1")  # type: ignore[union-attr]
    assert r.trace.datapaths == ("lin1", "ovn_cluster_router", "join", "GR_lin1", "ext_lin1")


def test_a_walk_that_differs_is_reported(report: VerifyReport) -> None:
    r = by_flow(report, "default/client", "shop/web-1")
    assert r.mine is not None
    other_port = replace(r.mine, output="shop_web-0")
    assert any("cnimodel: delivered to shop_web-0" in m for m in mismatches(other_port, r.trace))
    other_prio = replace(r.mine, stages=(("ovn_cluster_router", 13, "lr_in_ip_routing", 70),))
    assert mismatches(other_prio, r.trace) == [
        "stage 13. lr_in_ip_routing on ovn_cluster_router at priority 70: not in ovn-trace's output"]
    denied = by_flow(report, "default/client", "shop/db-0")
    assert mismatches(replace(denied.mine, verdict="delivered", output="shop_db-0"), denied.trace)  # type: ignore[arg-type]


def test_a_sample_reads_only_the_datapaths_it_crosses() -> None:
    """A sampled run (10 of the 20 pairs and one more flow) removes the other datapaths' logical flows before
    ovn-trace reads them, and still agrees flow by flow."""
    c = Cluster.build(load_plan([EXAMPLE]))
    r = verify(c, c.plugin, limit=10, seed=1)
    assert len(r.results) == 10 and r.total_pairs == 20
    assert r.mismatches == [] and not r.disagreements
    assert any("the part of the Northbound the sample crosses" in n for n in r.notes)


def test_what_the_subset_leaves_out_drops_what_crosses_it() -> None:
    """The subset keeps a kept node's switch and its routing exactly; a flow to a node it left out is dropped by
    ovn-trace, so a wrong prediction of the datapaths shows as a mismatch, never as a silent pass."""
    from cnimodel.plugins.ovn_kubernetes.export import schema_columns, to_transact
    from cnimodel.plugins.ovn_kubernetes.harness import ControlPlane
    from cnimodel.plugins.ovn_kubernetes.subset import subset
    from cnimodel.plugins.ovn_kubernetes.tracing import parse
    from cnimodel.plugins.ovn_kubernetes.verify import sample_flows

    c = Cluster.build(load_plan([EXAMPLE]))
    flows = {(f.src, f.dst): f for f in sample_flows(c, c.plugin, 500)[0]}
    same, cross = flows[("default/client", "shop/web-0")], flows[("default/client", "shop/web-1")]
    out = flows[("shop/web-0", "203.0.113.10")]  # the first pod of lin1 in plan order
    part = subset(c.plugin.northbound(c), {"lin1", "ovn_cluster_router", "join", "GR_lin1", "ext_lin1"})
    assert {s.name for s in part.switches} == {"join", "lin1", "ext_lin1"}
    assert {r.name for r in part.routers} == {"ovn_cluster_router", "GR_lin1"}
    cr = part.router("ovn_cluster_router")
    assert cr is not None and {p.name for p in cr.ports} == {"rtoj-ovn_cluster_router", "rtos-lin1"}
    request, _ = to_transact(part, schema_columns())
    with ControlPlane() as cp:
        cp.transact(request)
        cp.sync()
        assert parse(cp.trace(same.datapath, same.microflow)).output == "shop_web-0"
        assert parse(cp.trace(out.datapath, out.microflow)).datapaths[-1] == "ext_lin1"
        assert parse(cp.trace(cross.datapath, cross.microflow)).verdict == "dropped"  # lin2 is not loaded


def test_geneve_flows_carry_the_keys_ovn_northd_assigned(report: VerifyReport) -> None:
    """A flow between chassis names the datapath and egress port in its GENEVE key (ovn-architecture(7): VNI = the
    datapath's key); verify reads their keys from the Southbound database: every such flow crosses in the cluster
    router's datapath, so one VNI, and each destination node's cr-rtos port has its own key."""
    cross = [r for r in report.results if r.mine and r.mine.tunnel]
    same = by_flow(report, "default/client", "shop/web-0")
    assert cross and same.tunnel_key is None and same.mine is not None and same.mine.tunnel is None
    assert {r.mine.tunnel[0] for r in cross} == {"ovn_cluster_router"}  # type: ignore[index,union-attr]
    assert len({r.tunnel_key[0] for r in cross}) == 1  # type: ignore[index]
    by_port = {r.mine.tunnel[1]: r.tunnel_key[1] for r in cross}  # type: ignore[index,union-attr]
    assert set(by_port) == {"cr-rtos-lin1", "cr-rtos-lin2"} and len(set(by_port.values())) == 2
