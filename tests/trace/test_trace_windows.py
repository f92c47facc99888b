"""Windows behaviours the trace models, each from the reference: local NodePort access from the node itself
is not supported (services-lb.md §4.2); DSR replies are rewritten at the backend's port and go straight back
(services-lb.md §2.4 (c), (e)), non-DSR overlay replies return through the load-balancing node's SourceVIP
SNAT (§2.4 (b)); HNS does not support SCTP (§4.2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.trace import trace

TOPO = Path(__file__).resolve().parents[2] / "topologies"
pytest.importorskip("cnimodel.services.decide")


def actions(t, node):  # type: ignore[no-untyped-def]
    return [s.action for h in t.hops if h.node == node for s in h.steps]


def detail(t, node, action):  # type: ignore[no-untyped-def]
    return next(s.detail for h in t.hops if h.node == node for s in h.steps if s.action == action)


@pytest.fixture(scope="module")
def l2bridge() -> Cluster:
    return Cluster.build(load_plan([TOPO / "services-l2bridge.yaml"]))


def test_windows_node_to_its_own_nodeport_is_not_supported(l2bridge: Cluster) -> None:
    # web/iis-np is a NodePort 30080 Service; win1 asks its own address on that port.
    (t,) = trace(l2bridge, "win1", "win1:30080")
    assert t.disposition == "DENIED_OUT"
    assert "not supported on Windows" in t.reason and "services-lb.md §4.2" in t.reason
    assert actions(t, "win1")[-1] == "LOCAL_NODEPORT_UNSUPPORTED" and t.final is None


def test_linux_node_to_its_own_nodeport_works(l2bridge: Cluster) -> None:
    # Linux kube-proxy handles it (KUBE-NODEPORTS from OUTPUT, masqueraded): no such limit.
    (t,) = trace(l2bridge, "lin1", "lin1:30080")
    assert t.disposition == "ACCEPTED"


def test_windows_node_to_another_nodes_nodeport_is_not_local(l2bridge: Cluster) -> None:
    (t,) = trace(l2bridge, "win1", "win2:30080")
    assert t.disposition == "ACCEPTED"
    assert all(s.action != "LOCAL_NODEPORT_UNSUPPORTED" for h in t.hops for s in h.steps)


def _overlay(tmp_path: Path, dsr: bool) -> Cluster:
    text = (TOPO / "services-overlay-dsr.yaml").read_text()
    if not dsr:
        text = text.replace("enableDSR: true", "enableDSR: false")
    p = tmp_path / "plan.yaml"
    p.write_text(text)
    return Cluster.build(load_plan([p]))


def test_dsr_reply_is_rewritten_at_the_backend(tmp_path: Path) -> None:
    # iis-0 (win1, 10.244.2.3) → ClusterIP 10.96.0.200:80, backend iis-1 on win2 (10.244.3.3). With DSR the LB
    # runs at iis-0's port without SNAT; the reply leaves iis-1's port already from the VIP.
    fwd, rev = trace(_overlay(tmp_path, True), "default/iis-0", "default/iis", backend="10.244.3.3", both=True)
    assert fwd.disposition == rev.disposition == "ACCEPTED"
    assert "SNAT" not in actions(fwd, "win1")
    assert fwd.final is not None and str(fwd.final.src) == "10.244.2.3"  # the backend sees the client pod
    assert "UN-DNAT" in actions(rev, "win2") and "UN-DNAT" not in actions(rev, "win1")
    assert detail(rev, "win2", "UN-DNAT")["after"] == "10.96.0.200"
    vxlan = [w for w in rev.wires if w.encap is not None]
    assert [str(w.src) for w in vxlan] == ["10.96.0.200"]  # the VIP is the inner source on the underlay


def test_non_dsr_reply_returns_through_the_lb_node(tmp_path: Path) -> None:
    # Without DSR, overlay SNATs to win1's SourceVIP (.2 of its pod subnet: 10.244.2.2) so the reply comes back
    # to win1, where both translations are undone.
    fwd, rev = trace(_overlay(tmp_path, False), "default/iis-0", "default/iis", backend="10.244.3.3", both=True)
    assert fwd.disposition == rev.disposition == "ACCEPTED"
    assert fwd.final is not None and str(fwd.final.src) == "10.244.2.2"
    assert {"UN-SNAT", "UN-DNAT"} <= set(actions(rev, "win1")) and "UN-DNAT" not in actions(rev, "win2")


def test_sctp_is_dropped_at_a_windows_port() -> None:
    c = Cluster.build(load_plan([TOPO / "default.yaml"]))
    (into,) = trace(c, "default/client", "web/iis-0", proto="sctp")  # Linux → Windows pod
    assert into.disposition == "DENIED_IN" and actions(into, "win1")[-1] == "SCTP_UNSUPPORTED"
    (out,) = trace(c, "web/iis-0", "default/client", proto="sctp")  # Windows pod → Linux
    assert out.disposition == "DENIED_OUT" and "SCTP_UNSUPPORTED" in actions(out, "win1")
    (tcp,) = trace(c, "web/iis-0", "default/client", proto="tcp")
    assert tcp.disposition == "ACCEPTED"
