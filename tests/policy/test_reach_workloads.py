"""``cnimodel reach`` with workload names: ``--from ns/web`` stands for every pod of the Deployment web and is
reported as netpol-analyzer names workloads, ``shop/web[Deployment]``; the answer is what every pod pair
allows, with the distinct answers listed when the pods differ.

The shop (manifests only, so every pod is enforced): Deployment web (2 replicas, app=web), StatefulSet db
(3 replicas, app=db), a bare pod named ``db`` (app=tool) and a Deployment idle with 0 replicas. One policy
selects only the pod db-0 (by the ``statefulset.kubernetes.io/pod-name`` label the controller adds) and lets
in TCP 5432 from app=web. Expected answers, by hand:

- into db-0: only app=web on TCP 5432; into db-1, db-2 (no policy selects them): everything;
- web → db: 2 × 3 = 6 pairs, 2 allow TCP 5432 (to db-0), 4 allow everything → all allow TCP 5432;
- db → db: the 6 pairs of distinct pods: the 2 into db-0 allow nothing (db is not app=web), the other 4
  everything → all allow nothing, but the pods differ, so the line is listed without --all-pairs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cnimodel.cli import cli

HASH = re.compile(r"web-[bcdfghjklmnpqrstvwxz2456789]{10}-")  # a Deployment pod's generated name part


def _workload(kind: str, name: str, replicas: int, app: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                            "template": {"metadata": {"labels": {"app": app}},
                                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "shop"}, "spec": spec}


DOCS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    _workload("Deployment", "web", 2, "web"),
    _workload("StatefulSet", "db", 3, "db"),
    _workload("Deployment", "idle", 0, "idle"),
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "tool"}},
     "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "db-0", "namespace": "shop"},
     "spec": {"podSelector": {"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-0"}},
              "policyTypes": ["Ingress"],
              "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                           "ports": [{"protocol": "TCP", "port": 5432}]}]}},
]
ALL = {"ports": {"TCP": [[1, 65535]], "UDP": [[1, 65535]], "SCTP": [[1, 65535]]}, "other": True}
PG = {"ports": {"TCP": [[5432, 5432]], "UDP": [], "SCTP": []}, "other": False}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> str:
    import yaml

    path = tmp_path_factory.mktemp("shop") / "shop.yaml"
    path.write_text(yaml.safe_dump_all(DOCS, sort_keys=False))
    return str(path)


def reach(*args: str) -> Result:
    return CliRunner().invoke(cli, ["reach", *args], catch_exceptions=False)


def out(r: Result) -> str:
    assert r.exit_code == 0, r.output
    return HASH.sub("web-H-", r.stdout)


def test_a_deployment_to_a_statefulset_reports_what_every_pod_pair_allows(shop: str) -> None:
    assert out(reach(shop, "--from", "shop/web", "--to", "shop/db[StatefulSet]")) == (
        "shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432 (pods differ: shown is what all 6 pod pairs allow; "
        "All Connections for 4 (e.g. shop/web-H-0 => shop/db-1), TCP 5432 for 2 (e.g. shop/web-H-0 => shop/db-0))\n")


def test_pods_that_agree_give_a_plain_line(shop: str) -> None:
    assert out(reach(shop, "--from", "shop/db[StatefulSet]", "--to", "shop/web")) == \
        "shop/db[StatefulSet] => shop/web[Deployment] : All Connections\n"
    # One port: every pair allows TCP 5432, so nothing differs.
    assert out(reach(shop, "--from", "shop/web", "--to", "shop/db[StatefulSet]", "--port", "5432")) == \
        "shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432\n"


def test_a_pod_of_that_name_wins_over_the_workload(shop: str) -> None:
    assert out(reach(shop, "--from", "shop/db", "--to", "shop/web")) == \
        "shop/db[Pod] => shop/web[Deployment] : All Connections\n"
    assert out(reach(shop, "--from", "shop/db[Pod]", "--to", "shop/web[deployment]")) == \
        "shop/db[Pod] => shop/web[Deployment] : All Connections\n"


def test_a_workload_to_itself_leaves_out_self_pairs_and_lists_a_difference(shop: str) -> None:
    assert out(reach(shop, "--from", "shop/db[StatefulSet]", "--to", "shop/db[StatefulSet]")) == (
        "shop/db[StatefulSet] => shop/db[StatefulSet] : No Connections (pods differ: shown is what all 6 pod pairs "
        "allow; All Connections for 4 (e.g. shop/db-0 => shop/db-1), No Connections for 2 "
        "(e.g. shop/db-1 => shop/db-0))\n")


def test_a_one_pod_workload_to_itself_is_not_evaluated(shop: str, tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump_all([_workload("StatefulSet", "solo", 1, "solo")]))
    line = out(reach(str(path), "--from", "shop/solo", "--to", "shop/solo"))
    assert line.startswith("shop/solo[StatefulSet] => shop/solo[StatefulSet] : not evaluated (self:")


def test_json_names_workloads_and_lists_the_variants(shop: str) -> None:
    doc = json.loads(out(reach(shop, "--from", "shop/web", "--to", "shop/db[StatefulSet]", "-o", "json")))
    (c,) = doc["connections"]
    assert (c["src"], c["dst"]) == ("shop/web[Deployment]", "shop/db[StatefulSet]")
    assert (c["ports"], c["other"]) == (PG["ports"], PG["other"])
    assert c["variants"] == [{"pairs": 4, "src": "shop/web-H-0", "dst": "shop/db-1", **ALL},
                             {"pairs": 2, "src": "shop/web-H-0", "dst": "shop/db-0", **PG}]
    agree = json.loads(out(reach(shop, "--from", "shop/db[StatefulSet]", "--to", "shop/web", "-o", "json")))
    assert "variants" not in agree["connections"][0] and "note" not in agree["connections"][0]


def test_matrix_csv_and_dot_name_workloads(shop: str) -> None:
    args = ("--from", "shop/web", "--to", "shop/db[StatefulSet]")
    assert out(reach(shop, *args, "--port", "5432", "-o", "matrix")) == (
        "TCP/5432              shop/db[StatefulSet]\n"
        "shop/web[Deployment]  .\n")
    # TCP 80: db-0 lets web in on 5432 only, so not every pair allows it.
    assert out(reach(shop, *args, "--port", "80", "-o", "matrix")).splitlines()[1] == "shop/web[Deployment]  X"
    csv = out(reach(shop, *args, "--port", "5432", "-o", "csv")).splitlines()
    assert csv[1] == "shop/web[Deployment],shop/db[StatefulSet],TCP 5432,"
    dot = out(reach(shop, *args, "--port", "5432", "-o", "dot"))
    assert '"shop/web[Deployment]" -> "shop/db[StatefulSet]" [label="TCP 5432"' in dot


def test_explain_goes_pod_by_pod(shop: str) -> None:
    text = out(reach(shop, "--from", "shop/web", "--to", "shop/db[StatefulSet]", "--explain"))
    heads = [ln for ln in text.splitlines() if " => " in ln]
    assert heads == [f"shop/web-H-{i}[Pod] => shop/db-{j}[Pod] : {'TCP 5432' if j == 0 else 'All Connections'}"
                     for i in range(2) for j in range(3)]


def test_wildcards_still_name_pods(shop: str) -> None:
    lines = out(reach(shop, "--from", "shop/web-*", "--to", "shop/db-1")).splitlines()
    assert lines == [f"shop/web-H-{i}[Pod] => shop/db-1[Pod] : All Connections" for i in range(2)]
    # A bracket that is no kind is a wildcard's character class: shop/d[b] matches the bare pod shop/db.
    assert out(reach(shop, "--from", "shop/d[b]", "--to", "shop/web")) == \
        "shop/db[Pod] => shop/web[Deployment] : All Connections\n"


@pytest.mark.parametrize(("spec", "message"), [
    ("shop/nope", "--from 'shop/nope': no pod or workload shop/nope in the plan; shop holds "),
    ("shop/web[Job]", "--from 'shop/web[Job]': shop/web is shop/web[Deployment], not a Job"),
    ("shop/idle", "--from 'shop/idle': shop/idle[Deployment] has no pods"),
])
def test_names_that_stand_for_no_pod_exit_2(shop: str, spec: str, message: str) -> None:
    r = reach(shop, "--from", spec)
    assert r.exit_code == 2
    assert message in r.stderr and "Traceback" not in r.output


def test_a_host_network_daemonset_carries_its_pods_notes() -> None:
    """The talk's plan: node-exporter (hostNetwork) runs on master and lin1; client-0/1 run on lin1 and no
    policy exists. From lin1 the pods' own node reaches them (always allowed); from master a host address
    (no policy: allowed). Every pair allows everything, so nothing differs, but both notes are kept."""
    talk = str(Path(__file__).resolve().parents[2] / "topologies" / "workloads-talk.yaml")
    line = out(reach(talk, "--from", "kube-system/node-exporter", "--to", "default/client"))
    assert line.startswith("kube-system/node-exporter[DaemonSet] => default/client[StatefulSet] : All Connections "
                           "(from the destination pod's own node: always allowed")
    assert "kube-system/node-exporter-master[Pod] is a hostNetwork pod" in line and "pods differ" not in line


def test_workloads_flag_lists_one_line_per_workload_pair(shop: str) -> None:
    # The shop by hand: pods of web (2) and db (3) fold into one endpoint each; the bare pod db stays a pod;
    # idle has no pods. Each line is what the named-workload query (tested above) answers for that pair.
    got = out(reach(shop, "--workloads", "--to", "shop/*")).splitlines()
    ends = {tuple(line.split(" : ")[0].split(" => ")) for line in got}
    assert {e for pair in ends for e in pair} <= {"shop/web[Deployment]", "shop/db[StatefulSet]", "shop/db[Pod]",
                                                  "0.0.0.0-255.255.255.255[External]"}
    by_pair = {line.split(" : ")[0]: line for line in got}
    assert by_pair["shop/web[Deployment] => shop/db[StatefulSet]"] == out(
        reach(shop, "--from", "shop/web", "--to", "shop/db[StatefulSet]")).rstrip("\n")
    assert by_pair["shop/db[StatefulSet] => shop/db[StatefulSet]"] == out(
        reach(shop, "--from", "shop/db[StatefulSet]", "--to", "shop/db[StatefulSet]")).rstrip("\n")
    assert by_pair["shop/db[Pod] => shop/web[Deployment]"] == "shop/db[Pod] => shop/web[Deployment] : All Connections"
    assert "[Pod]" not in "".join(line.replace("shop/db[Pod]", "") for line in got)  # no workload pod listed alone


def test_workloads_flag_in_json(shop: str) -> None:
    doc = json.loads(reach(shop, "--workloads", "--from", "shop/web-*", "--to", "shop/db-*", "-o", "json").stdout)
    assert [(c["src"], c["dst"]) for c in doc["connections"]] == [("shop/web[Deployment]", "shop/db[StatefulSet]")]
    assert doc["connections"][0]["ports"] == PG["ports"] and len(doc["connections"][0]["variants"]) == 2


def test_a_workload_line_says_each_note_once() -> None:
    # workloads-talk: the DaemonSet node-exporter runs hostNetwork pods on lin1 and master; its pairs with
    # itself are (lin1, master) and (master, lin1), whose notes name the same two pods in turn.
    plan = str(Path(__file__).parents[2] / "topologies" / "workloads-talk.yaml")
    line = out(reach(plan, "--from", "kube-system/node-exporter[DaemonSet]",
                     "--to", "kube-system/node-exporter[DaemonSet]"))
    for pod in ("node-exporter-lin1", "node-exporter-master"):
        assert line.count(f"kube-system/{pod}[Pod] is a hostNetwork pod") == 1, line


@pytest.mark.parametrize("plan_name", ["workloads-talk.yaml", "canal-windows.yaml", "policy-calico-tiers.yaml"])
def test_workload_answers_equal_every_pod_pair_by_brute_force(plan_name: str) -> None:
    # groups.connection evaluates one pod per kind of pod; here every member pair is evaluated instead.
    from cnimodel.plan import load_plan
    from cnimodel.policy import Reachability
    from cnimodel.policy.connset import ConnSet
    from cnimodel.policy.groups import by_workload, connection

    r = Reachability.from_plan(load_plan([str(Path(__file__).parents[2] / "topologies" / plan_name)]))
    ends = [e for e in by_workload(r, r.everything()) if e.kind != "external"]
    for s in ends:
        for d in ends:
            got = connection(r, s, d)
            answers: dict[ConnSet, int] = {}
            for a in s.members or (s,):
                for b in d.members or (d,):
                    c = r.connection(a, b)
                    if c.conns is not None:
                        answers[c.conns] = answers.get(c.conns, 0) + 1
            if not answers:
                assert got.conns is None
                continue
            common = ConnSet.ALL
            for conns in answers:
                common = common & conns
            assert got.conns == common, (s.label, d.label)
            assert {(v.conns, v.pairs) for v in got.variants} == (set(answers.items()) if len(answers) > 1 else set())
