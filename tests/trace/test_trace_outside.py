"""An outside client sending straight to a plan address (a pod, a pod range, a ClusterIP) reaches the underlay,
whose table holds only its subnets and a default route when pod routes live on the hosts (flannel host-gw,
underlay.routes: host): the default route leads out of the network, so the packet is not delivered (NO_ROUTE)
and `cnimodel trace` exits 1, as ping does when no reply comes. An address outside the plan leaves as before
(EXITS_NETWORK, exit 0); with pod routes in the cloud route table (the 2018 talk) the client's packet reaches
the pod."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import cluster_doc, pod_doc, write_docs
from click.testing import CliRunner

from cnimodel.cli import cli
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.trace import trace

TOPO = Path(__file__).resolve().parents[2] / "topologies"
CLIENT = "203.0.113.7"  # TEST-NET-3: outside every range of the plan


def worked(tmp_path: Path) -> Path:
    # host-gw: master 10.244.0.0/24, lin1 .1, win1 .2, win2 .3; the pod on lin1 gets 10.244.1.2
    return write_docs(tmp_path / "plan.yaml", [cluster_doc(), pod_doc("a", "lin1")])


@pytest.mark.parametrize(("dst", "what"), [
    ("10.244.1.2", "pod default/a on node lin1"),
    ("10.244.2.9", "in node win1's pod range"),
    ("10.244.200.1", "in the cluster CIDR 10.244.0.0/16"),
    ("10.96.0.10", "in the service CIDR 10.96.0.0/12"),
])
def test_outside_client_to_a_plan_address_is_not_delivered(tmp_path: Path, dst: str, what: str) -> None:
    (t,) = trace(Cluster.build(load_plan([worked(tmp_path)])), CLIENT, dst, port=53)
    assert t.disposition == "NO_ROUTE" and t.reason.startswith("not delivered") and what in t.reason
    assert [h.node for h in t.hops] == ["internet", "underlay"]
    last = t.hops[-1].steps[-1]
    assert (last.type, last.action, last.detail["route"], last.detail["nextHopType"]) == (
        "dropped", "NO_ROUTE", "0.0.0.0/0", "Internet")
    assert t.final is None


def test_trace_exit_status_follows_delivery(tmp_path: Path) -> None:
    plan = str(worked(tmp_path))
    r = CliRunner().invoke(cli, ["trace", plan, CLIENT, "10.244.1.2", "-o", "json"])
    assert r.exit_code == 1 and json.loads(r.stdout)["disposition"] == "NO_ROUTE"
    r = CliRunner().invoke(cli, ["trace", plan, "lin1", "8.8.8.8", "-o", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["disposition"] == "EXITS_NETWORK"
    r = CliRunner().invoke(cli, ["trace", plan, "default/a", "8.8.8.8", "--both", "-o", "json"])
    assert r.exit_code == 0 and [t["disposition"] for t in json.loads(r.stdout)["traces"]] == [
        "EXITS_NETWORK", "ACCEPTED"]


def test_cloud_pod_routes_carry_the_outside_client_in(tmp_path: Path) -> None:
    """The talk's VNet route table sends 10.244.2.0/24 to win1 (VirtualAppliance): the packet arrives."""
    plan = tmp_path / "talk.yaml"
    plan.write_text((TOPO / "talk-l2bridge-cloud.yaml").read_text() + """
---
{apiVersion: v1, kind: Pod, metadata: {name: web}, spec: {nodeName: win1, containers: [{name: c,
  image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2019"}]}}
""")
    (t,) = trace(Cluster.build(load_plan([plan])), CLIENT, "default/web")
    assert t.disposition == "ACCEPTED"
    assert [h.node for h in t.hops] == ["internet", "vnet-routes", "win1", "default/web"]
