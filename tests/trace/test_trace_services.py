"""Traces through Services: the load-balancing decision (kube-proxy's iptables view on Linux), DNAT to a
backend, SNAT where kube-proxy masquerades, and the reply un-NATed — values derived by hand from
services-lb.md §3 (1/(n−i) probabilities, KUBE-MARK-MASQ for external NodePort traffic)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.trace import trace

TOPO = Path(__file__).resolve().parents[2] / "topologies"
pytest.importorskip("cnimodel.services.decide")


def detail(t, node, action):  # type: ignore[no-untyped-def]
    return next(s.detail for h in t.hops if h.node == node for s in h.steps if s.action == action)


@pytest.fixture(scope="module")
def default() -> Cluster:
    return Cluster.build(load_plan([TOPO / "default.yaml"]))


def test_clusterip_dnat_and_reply(default: Cluster) -> None:
    # web/iis: ClusterIP 10.96.0.100:80 → pods iis-0 (10.244.2.3) and iis-1 (10.244.3.3), half each.
    fwd, rev = trace(default, "default/client", "web/iis", port=80, both=True)
    assert fwd.disposition == "ACCEPTED"
    dnat = detail(fwd, "lin1", "DNAT")
    assert (dnat["before"], dnat["after"]) == ("10.96.0.100:80", "10.244.2.3:80")
    assert sorted((b["ip"], b["weight"]) for b in dnat["backends"]) == [("10.244.2.3", 0.5), ("10.244.3.3", 0.5)]
    assert fwd.hops[-1].node == "web/iis-0"
    # pod → ClusterIP from inside the cluster CIDR is not masqueraded: the backend sees the client pod
    assert fwd.final is not None and str(fwd.final.src) == "10.244.1.2"
    assert rev.disposition == "ACCEPTED"
    assert detail(rev, "lin1", "UN-DNAT")["after"] == "10.96.0.100"
    assert rev.final is not None and str(rev.final.src) == "10.96.0.100"


def test_backend_choice(default: Cluster) -> None:
    (t,) = trace(default, "default/client", "10.96.0.100", port=80, backend="10.244.3.3")
    assert t.disposition == "ACCEPTED" and t.hops[-1].node == "web/iis-1"
    (bad,) = trace(default, "default/client", "web/iis", port=80, backend="10.244.9.9")
    assert bad.disposition == "NO_ROUTE" and "10.244.2.3" in bad.reason


def test_nodeport_from_outside_is_masqueraded(tmp_path: Path) -> None:
    plan = tmp_path / "np.yaml"
    plan.write_text((TOPO / "default.yaml").read_text() + textwrap.dedent("""
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: iis-np, namespace: web}
        spec:
          type: NodePort
          selector: {app: iis}
          clusterIP: 10.96.0.101
          ports: [{port: 80, targetPort: 80, nodePort: 30080, protocol: TCP}]
        """))
    c = Cluster.build(load_plan([plan]))
    fwd, rev = trace(c, "203.0.113.7", "lin1:30080", both=True)
    assert fwd.disposition == "ACCEPTED"
    assert fwd.hops[0].node == "internet" and fwd.hops[1].node == "lin1"
    dnat = detail(fwd, "lin1", "DNAT")
    assert dnat["before"] == "10.240.0.10:30080" and dnat["after"].endswith(":80")
    # externalTrafficPolicy Cluster: KUBE-EXT marks for masquerade; the source becomes lin1's address
    # on the way to the (remote) backend, so the reply comes back through lin1.
    snat = detail(fwd, "lin1", "SNAT")
    assert (snat["before"], snat["after"]) == ("203.0.113.7", "10.240.0.10")
    # the reply is un-DNATed and un-SNATed at lin1 and leaves towards the client from the NodePort
    assert rev.disposition == "EXITS_NETWORK"
    assert detail(rev, "lin1", "UN-SNAT")["after"] == "203.0.113.7"
    assert rev.final is not None
    assert (str(rev.final.src), rev.final.sport, str(rev.final.dst)) == ("10.240.0.10", 30080, "203.0.113.7")


def test_service_without_endpoints_is_rejected(tmp_path: Path) -> None:
    plan = tmp_path / "empty.yaml"
    plan.write_text((TOPO / "default.yaml").read_text() + textwrap.dedent("""
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: nothing, namespace: web}
        spec: {selector: {app: none}, clusterIP: 10.96.0.102, ports: [{port: 80}]}
        """))
    c = Cluster.build(load_plan([plan]))
    (t,) = trace(c, "default/client", "web/nothing", port=80)
    assert t.disposition == "DENIED_OUT" and "no endpoints" in t.reason
