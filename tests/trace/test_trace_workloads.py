"""SRC/DST naming a workload: the trace follows its first pod in ordinal order (docs/workloads.md: StatefulSet
pods are name-0, name-1 …; Deployment pods name-<hash>-0 …), labels the end as netpol-analyzer labels
workloads (``ns/name[Kind]``) and names the other pods. ``cnimodel.plan.names.resolve_pods`` is the shared
reading of such names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnimodel.cli import cli
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.plan.names import natural_key, resolve_pods
from cnimodel.trace import EndpointError, trace

TOPO = Path(__file__).resolve().parents[2] / "topologies"
TALK = TOPO / "workloads-talk.yaml"


@pytest.fixture(scope="module")
def talk() -> Cluster:
    return Cluster.build(load_plan([TALK]))


def test_statefulset_source_is_its_ordinal_zero(talk: Cluster) -> None:
    # default/client is a StatefulSet of 2 (client-0, client-1); web/iis-… the Deployment's pods.
    (t,) = trace(talk, "default/client", "web/iis[Deployment]", port=80)
    assert t.disposition == "ACCEPTED"
    assert t.flow.src_label == "default/client[StatefulSet]" and t.flow.dst_label == "web/iis[Deployment]"
    assert t.flow.src_pods == ("default/client-0", "default/client-1")
    assert t.hops[0].node == "default/client-0"
    assert t.hops[-1].node.startswith("web/iis-") and t.hops[-1].node.endswith("-0")
    assert "default/client[StatefulSet] has 2 pods; traced default/client-0 (also: default/client-1)" in t.reason
    assert "web/iis[Deployment] has 2 pods" in t.reason


def test_a_service_of_the_same_name_wins_without_a_kind(talk: Cluster) -> None:
    # The plan has both a Service web/iis and a Deployment web/iis: the bare name is the Service (a Service is
    # what clients reach); [Deployment] picks the workload.
    (t,) = trace(talk, "default/client-0", "web/iis", port=80)
    assert t.flow.dst_label == "web/iis[Service]" and t.flow.dst_pods == ()


def test_a_pod_name_is_a_pod(talk: Cluster) -> None:
    (t,) = trace(talk, "default/client-1", "default/client-0", port=80)
    assert (t.flow.src_label, t.flow.dst_label) == ("default/client-1[Pod]", "default/client-0[Pod]")
    assert t.flow.src_pods == () and "has 2 pods" not in t.reason


def test_json_keeps_its_shape_and_adds_pod_lists() -> None:
    r = CliRunner().invoke(cli, ["trace", str(TALK), "default/client", "kube-system/win-logger", "-o", "json"])
    assert r.exit_code == 0, r.output
    flow = json.loads(r.output)["flow"]
    assert {"src", "dst", "protocol", "srcPort", "dstPort", "size", "srcName", "dstName"} <= set(flow)
    assert flow["dstName"] == "kube-system/win-logger[DaemonSet]"
    # a DaemonSet's pods are win-logger-<node>: win1 sorts before win2
    assert flow["dstPods"] == ["kube-system/win-logger-win1", "kube-system/win-logger-win2"]


def test_unknown_workload_says_what_exists(talk: Cluster) -> None:
    with pytest.raises(EndpointError, match=r"web/iis\[Deployment\]"):
        trace(talk, "default/client", "web/iiss", port=80)
    with pytest.raises(EndpointError, match="not a StatefulSet"):
        trace(talk, "default/client", "web/iis[StatefulSet]", port=80)


def test_resolve_pods_orders_ordinals_numerically(tmp_path: Path) -> None:
    p = tmp_path / "plan.yaml"
    p.write_text(TALK.read_text().replace("replicas: 2\n  serviceName", "replicas: 12\n  serviceName"))
    plan = load_plan([p])
    names = [x.name for x in resolve_pods(plan, "default/client")]
    assert len(names) == 12
    assert names[:3] == ["client-0", "client-1", "client-2"] and names[-2:] == ["client-10", "client-11"]
    assert natural_key("web-2") < natural_key("web-10")
    assert [x.name for x in resolve_pods(plan, "default/client-10")] == ["client-10"]
    with pytest.raises(EndpointError, match="no pod"):
        resolve_pods(plan, "default/nothing[Pod]")
