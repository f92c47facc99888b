"""Large selections are answered by class rows (cnimodel/policy/pairs.py) and written as produced
(cnimodel/render/policy_stream.py). Held here to the pair-by-pair answer — each pair walked by the engine on its
own, without the class matrix — and to the whole-answer renderers, on example plans with hostNetwork pods,
nodes, external ranges and pods of several classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnimodel import examples
from cnimodel.policy import Reachability
from cnimodel.policy.analysis import Connection
from cnimodel.policy.pairs import Pairs
from cnimodel.render import json_text, policy_json, policy_stream, policy_table, policy_txt

PLANS = ["workloads-talk.yaml", "services-overlay-dsr.yaml", "policy-k8s.yaml", "policy-calico-tiers.yaml"]
FIXTURES = Path(__file__).parent / "fixtures"
WORKLOAD_PLANS = ["workloads-talk.yaml", "shop"]


def _workload(kind: str, name: str, replicas: int) -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "serviceName": name,
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}


# A Deployment whose pods are alike, a StatefulSet one of whose pods a policy selects by its own name label (its
# pods differ), and a bare pod.
SHOP = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        _workload("Deployment", "web", 3), _workload("StatefulSet", "db", 3),
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tool", "namespace": "shop", "labels": {"app": "t"}},
         "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "db-0", "namespace": "shop"},
         "spec": {"podSelector": {"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-0"}},
                  "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                                          "ports": [{"protocol": "TCP", "port": 5432}]}]}}]


def _reach(name: str, tmp: Path | None = None) -> Reachability:
    from cnimodel.plan import load_plan

    if name == "shop" and tmp is not None:
        import yaml

        (tmp / "shop.yaml").write_text(yaml.safe_dump_all(SHOP, sort_keys=False))
        return Reachability.from_plan(load_plan([str(tmp / "shop.yaml")]))
    path = FIXTURES / name if (FIXTURES / name).exists() else examples.path(name)
    return Reachability.from_plan(load_plan([str(path)]))


def _pair_by_pair(r: Reachability, srcs, dsts, all_pairs: bool, port, keep_self: bool) -> list[Connection]:
    """What ``connections`` lists, asking ``connection`` (the engine's walk for the two classes) per pair."""
    from cnimodel.policy.connset import ConnSet

    restrict = ConnSet.ports(port[0], port[1], port[1]) if port else None
    out = []
    for s in srcs:
        for d in dsts:
            if s.kind == d.kind == "external":
                continue
            c = r.connection(s, d)
            if c.conns is None:
                if keep_self:
                    out.append(c)
                continue
            if restrict is not None:
                c = Connection(s, d, c.conns & restrict, c.note)
            if c.conns or all_pairs:
                out.append(c)
    return out


def _key(c: Connection) -> tuple[object, ...]:
    return c.src.label, c.dst.label, c.conns, c.note


@pytest.mark.parametrize("name", [*PLANS, "golden-a.yaml"])
@pytest.mark.parametrize(("all_pairs", "port", "keep_self"), [(False, None, False), (True, None, True),
                                                              (False, ("TCP", 80), False), (True, ("UDP", 53), False)])
def test_class_rows_answer_as_pair_by_pair(name: str, all_pairs: bool, port: tuple[str, int] | None,
                                           keep_self: bool) -> None:
    r = _reach(name)
    ends = r.everything() + [r.node(n) for n in r.u.nodes]
    pairs = Pairs(r, ends, ends, all_pairs=all_pairs, port=port, keep_self=keep_self)
    got = [_key(c) for c in pairs.connections()]
    assert got == [_key(c) for c in _pair_by_pair(r, ends, ends, all_pairs, port, keep_self)]


def test_the_plans_hold_what_rows_cannot_decide() -> None:
    """Host ends and self pairs split the rows: the plans above must hold hostNetwork pods and nodes."""
    ends = [e for name in PLANS for e in _reach(name).everything()]
    assert any(e.host_network for e in ends) and any(e.kind == "external" for e in ends)
    assert any(_reach(name).u.nodes for name in PLANS)


@pytest.mark.parametrize("name", PLANS)
def test_streamed_text_is_the_whole_answers_text(name: str) -> None:
    r = _reach(name)
    ends = r.everything() + [r.node(n) for n in r.u.nodes]
    pairs = Pairs(r, ends, ends, all_pairs=True, keep_self=True)
    conns = list(pairs.connections())
    for write, whole in ((policy_stream.txt, policy_txt.lines(conns)),
                         (policy_stream.csv_rows, policy_table.csv_text(conns)),
                         (policy_stream.md_rows, policy_table.md_text(conns)),
                         (policy_stream.json, json_text.dumps(policy_json.document(conns)) + "\n")):
        for answer in (pairs, conns):
            out: list[str] = []
            write(out.append, answer)
            assert "".join(out) == whole, write.__name__
    out = []
    policy_stream.json(out.append, [])
    assert "".join(out) == json_text.dumps(policy_json.document([])) + "\n"


def _wkey(c: Connection) -> tuple[object, ...]:
    return c.src.label, c.dst.label, c.conns, c.note, c.variants


@pytest.mark.parametrize("name", WORKLOAD_PLANS)
@pytest.mark.parametrize(("all_pairs", "port", "keep_self"), [(False, None, False), (True, None, True),
                                                              (False, ("TCP", 80), False)])
def test_workload_ends_by_class_rows_answer_as_pair_by_pair(name: str, all_pairs: bool,
                                                            port: tuple[str, int] | None, keep_self: bool,
                                                            tmp_path: Path) -> None:
    """Workload ends (reach --workloads): a workload of one class answers by row, the others pair by pair."""
    from cnimodel.policy import groups

    r = _reach(name, tmp_path)
    ends = groups.by_workload(r, r.everything() + [r.node(n) for n in r.u.nodes])
    pods = [m for e in ends for m in e.members]
    # a workload whose pods differ in class or are hostNetwork: decided pair by pair
    assert any(len({m.cls for m in e.members}) > 1 or any(m.is_host for m in e.members) for e in ends)
    # a workload and one of its own pods, as --from/--to can name them
    ends += pods[:2]
    assert any(e.members for e in ends)
    got = [_wkey(c) for c in Pairs(r, ends, ends, all_pairs=all_pairs, port=port, keep_self=keep_self,
                                   grouped=groups.connection).connections()]
    want = [_wkey(c) for s in ends for d in ends
            for c in groups.connections(r, [s], [d], all_pairs=all_pairs, port=port, keep_self=keep_self)]
    assert got == want


def test_a_workload_and_itself_as_every_pair_of_its_pods(tmp_path: Path) -> None:
    """A workload meeting itself is answered from one pair per pair of kinds of pod: the same answer, variants
    (counts and example pairs) and note as asking every pair of its pods, self pairs left out."""
    from cnimodel.policy import groups
    from cnimodel.policy.connset import ConnSet

    r = _reach("shop", tmp_path)
    ends = [e for e in groups.by_workload(r, r.pods()) if e.members]
    assert {len({m.cls for m in e.members}) for e in ends} == {1, 2}  # web alike, db's pods differ
    for w in ends:
        answers: dict[ConnSet, list[object]] = {}
        for s in w.members:
            for d in w.members:
                c = r.connection(s, d)
                if c.conns is not None:
                    slot = answers.setdefault(c.conns, [0, s.json_name, d.json_name])
                    slot[0] += 1  # type: ignore[operator]
        got = groups.connection(r, w, w)
        common = ConnSet.ALL
        for conns in answers:
            common = common & conns
        assert got.conns == common
        want = {(c, n, s, d) for c, (n, s, d) in answers.items()} if len(answers) > 1 else set()
        assert {(v.conns, v.pairs, v.src, v.dst) for v in got.variants} == want
