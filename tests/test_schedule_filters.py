"""The scheduler's filters, one rule at a time: tolerations against taints, node selector requirements,
node selector terms, the labels the kubelet puts on nodes, and bad placement input.

Expected values follow Kubernetes' documented rules (taint-and-toleration.md, assign-pod-node.md): an empty
toleration key with operator Exists tolerates every taint; an empty effect matches every effect; NotIn and
DoesNotExist match a node without the label; Gt/Lt compare integers; terms are ORed, expressions ANDed; an
empty term selects nothing.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path
from types import MappingProxyType

import pytest
from builders import at, cluster_doc, plan_errors

from cnimodel.plan import NodeSpec
from cnimodel.plan.errors import Origin, Problems
from cnimodel.plan.schedule import (
    DAEMON_TOLERATIONS,
    NodeTerm,
    Placement,
    Requirement,
    Scheduler,
    Taint,
    Toleration,
    node_labels,
    parse_placement,
)

CP = Taint("node-role.kubernetes.io/control-plane", "", "NoSchedule")
GPU = Taint("gpu", "a100", "NoExecute")


@pytest.mark.parametrize(("toleration", "taint", "tolerated"), [
    (Toleration("gpu", "Equal", "a100", "NoExecute"), GPU, True),
    (Toleration("gpu", "Equal", "v100", "NoExecute"), GPU, False),     # value differs
    (Toleration("gpu", "Exists", "", "NoExecute"), GPU, True),         # any value
    (Toleration("gpu", "Exists", "", ""), GPU, True),                  # empty effect: every effect
    (Toleration("gpu", "Exists", "", "NoSchedule"), GPU, False),       # effect differs
    (Toleration("", "Exists", "", ""), GPU, True),                     # empty key + Exists: everything
    (Toleration("", "Exists", "", ""), CP, True),
    (Toleration("", "Exists", "", "NoExecute"), CP, False),            # ... but only for its effect
    (Toleration("node-role.kubernetes.io/control-plane", "Exists", "", "NoSchedule"), CP, True),
    (Toleration("node-role.kubernetes.io/control-plane", "Equal", "", ""), CP, True),  # value "" == ""
    (Toleration("other", "Exists", "", ""), CP, False),
])
def test_toleration_rule(toleration: Toleration, taint: Taint, tolerated: bool) -> None:
    assert toleration.tolerates(taint) is tolerated


def test_prefer_no_schedule_never_filters() -> None:
    soft = Taint("spot", "true", "PreferNoSchedule")
    assert Placement().untolerated((soft,)) is None
    assert Placement().untolerated((soft, CP)) == CP


def test_admission_and_daemon_tolerations() -> None:
    """Every pod tolerates not-ready/unreachable NoExecute (DefaultTolerationSeconds); only DaemonSet pods
    tolerate the condition taints such as unschedulable:NoSchedule; nobody tolerates the control plane."""
    not_ready = Taint("node.kubernetes.io/not-ready", "", "NoExecute")
    cordoned = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
    assert Placement().untolerated((not_ready,)) is None
    assert Placement().untolerated((cordoned,)) == cordoned
    assert Placement().untolerated((cordoned,), DAEMON_TOLERATIONS) is None
    assert Placement().untolerated((CP,), DAEMON_TOLERATIONS) == CP


LABELS = {"kubernetes.io/os": "windows", "node.kubernetes.io/windows-build": "10.0.17763", "gen": "5"}


@pytest.mark.parametrize(("req", "matches"), [
    (Requirement("kubernetes.io/os", "In", ("linux", "windows")), True),
    (Requirement("kubernetes.io/os", "In", ("linux",)), False),
    (Requirement("kubernetes.io/os", "NotIn", ("linux",)), True),
    (Requirement("zone", "NotIn", ("a",)), True),          # absent label: NotIn holds
    (Requirement("zone", "In", ("a",)), False),
    (Requirement("gen", "Exists"), True),
    (Requirement("zone", "Exists"), False),
    (Requirement("zone", "DoesNotExist"), True),
    (Requirement("gen", "DoesNotExist"), False),
    (Requirement("gen", "Gt", ("4",)), True),
    (Requirement("gen", "Gt", ("5",)), False),             # strictly greater
    (Requirement("gen", "Lt", ("6",)), True),
    (Requirement("zone", "Gt", ("1",)), False),            # absent label never compares
    (Requirement("node.kubernetes.io/windows-build", "Gt", ("1",)), False),  # "10.0.17763" is no integer
])
def test_requirement_operators(req: Requirement, matches: bool) -> None:
    assert req.matches(LABELS) is matches


def test_terms_are_ored_expressions_anded_empty_term_selects_nothing() -> None:
    linux = Requirement("kubernetes.io/os", "In", ("linux",))
    win = Requirement("kubernetes.io/os", "In", ("windows",))
    old = Requirement("gen", "Lt", ("3",))
    assert not NodeTerm((win, old)).matches("n", LABELS)            # AND: gen 5 is not < 3
    assert Placement(terms=(NodeTerm((linux,)), NodeTerm((win,)))).selects("n", LABELS)  # OR
    assert not NodeTerm().matches("n", LABELS)
    by_name = NodeTerm(fields=(Requirement("metadata.name", "In", ("win1",)),))
    assert by_name.matches("win1", LABELS) and not by_name.matches("win2", LABELS)


def test_node_selector_and_affinity_must_both_hold() -> None:
    p = Placement((("kubernetes.io/os", "windows"),), (NodeTerm((Requirement("gen", "Gt", ("9",)),)),))
    assert not p.selects("n", LABELS)
    assert Placement((("kubernetes.io/os", "windows"),)).selects("n", LABELS)


def test_kubelet_labels_on_planned_nodes() -> None:
    """The kubelet labels a node with its OS (both label keys), architecture, hostname and, on Windows,
    node.kubernetes.io/windows-build as major.minor.build; the plan's own labels win."""
    win = NodeSpec("win1", "windows", IPv4Address("10.240.0.20"), "", windows_build=17763,
                   labels=MappingProxyType({"pool": "iis"}))
    labels = node_labels(win)
    assert labels["kubernetes.io/os"] == labels["beta.kubernetes.io/os"] == "windows"
    assert labels["node.kubernetes.io/windows-build"] == "10.0.17763"
    assert labels["kubernetes.io/hostname"] == "win1" and labels["pool"] == "iis"


def _nodes() -> list[NodeSpec]:
    return [NodeSpec("master", "linux", IPv4Address("10.240.0.4"), "", max_pods=1,
                     taints=(MappingProxyType({"key": CP.key, "effect": "NoSchedule"}),)),
            NodeSpec("lin1", "linux", IPv4Address("10.240.0.10"), "", max_pods=1),
            NodeSpec("win1", "windows", IPv4Address("10.240.0.20"), "", windows_build=17763)]


def test_explain_uses_the_scheduler_wording() -> None:
    """kube-scheduler's FitError: "0/N nodes are available: " then "<count> <reason>" entries sorted as strings;
    each node counts under its first failing filter (TaintToleration, NodeAffinity, NodePorts, Fit)."""
    s = Scheduler(_nodes())
    s.take(1, frozenset())  # lin1 is now full (maxPods 1)
    linux = Placement((("kubernetes.io/os", "linux"),))
    assert s.explain(linux, frozenset()) == (
        "0/3 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.")
    assert s.eligible(linux) == (1,)


def test_host_ports_take_a_node_once() -> None:
    s = Scheduler(_nodes())
    port = frozenset({(80, "TCP")})
    assert s.spread(3, (2,), port) == [2]          # one pod per node with the same host port
    assert "didn't have free ports" in s.explain(None, port, only=[2])
    assert s.spread(1, (2,), frozenset({(80, "UDP")})) == [2]  # another protocol is another port


@pytest.mark.parametrize(("spec", "path", "words"), [
    ({"tolerations": [{"operator": "Equal", "value": "x"}]}, "spec.tolerations[0].operator", "without a key"),
    ({"tolerations": [{"key": "k", "operator": "Exists", "value": "x"}]}, "spec.tolerations[0].value", "no value"),
    ({"tolerations": [{"key": "k", "effect": "NoRun"}]}, "spec.tolerations[0].effect", "unknown value"),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}},
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", "at least one"),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["new"]}]}]}}}},
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
     ".matchExpressions[0].values", "integer"),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "gen", "operator": "Near", "values": ["1"]}]}]}}}},
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
     ".matchExpressions[0].operator", "unknown value"),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.labels", "operator": "In", "values": ["a"]}]}]}}}},
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
     ".matchFields[0].key", "metadata.name"),
])
def test_bad_placement_is_reported_where_it_is(spec: dict, path: str, words: str) -> None:
    problems = Problems()
    parse_placement(spec, Origin("p.yaml", 0, "spec"), problems)
    found = at(problems.errors, path)
    assert words in found.message + found.hint


def test_bad_placement_in_a_plan_is_a_plan_error(tmp_path: Path) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}],
                    "containers": [{"name": "c", "image": "busybox"}]}}
    problems = plan_errors(tmp_path, [cluster_doc(), pod])
    assert at(problems, "spec.tolerations[0].value").origin.document == 1


def test_no_placement_fields_no_placement() -> None:
    assert parse_placement({"containers": []}, Origin("p"), Problems()) is None
