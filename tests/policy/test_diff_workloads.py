"""``cnimodel diff --workloads``: workloads matched by name across two plans. Expectations by hand:

Plan A — namespace shop: Deployment web (2 replicas, app=web), Deployment api (1 replica, app=api), and a
policy admitting into app=api only TCP 8080 from app=web.
Plan B — web's pod template gains a label (its pods get new names: a new template hash) and 3 replicas;
the policy now admits TCP 8080 and TCP 9090; a bare pod tool (app=tool) is added.

- web => api: TCP 8080 → TCP 8080,9090: changed (the pod-level diff instead shows web's old pods removed and
  its new pods added, because their names changed);
- tool => api: nothing (policy isolates api) → nothing: no line; tool => web, web => tool, api => tool, and
  tool to and from the outside: added, info "… shop/tool[Pod] added";
- web => web, api => web, web/api => the outside: All Connections in both plans: no line.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from cnimodel.cli import cli


def _deploy(name: str, replicas: int, app: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    labels = {"app": app, **(extra or {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}


def _policy(*ports: int) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                  "ports": [{"protocol": "TCP", "port": p} for p in ports]}]}}


NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
TOOL = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tool", "namespace": "shop", "labels": {"app": "tool"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
A = [NS, _deploy("web", 2, "web"), _deploy("api", 1, "api"), _policy(8080)]
B = [NS, _deploy("web", 3, "web", {"version": "2"}), _deploy("api", 1, "api"), _policy(8080, 9090), TOOL]


def run(tmp_path: Path, *args: str) -> str:
    for name, docs in (("a.yaml", A), ("b.yaml", B)):
        (tmp_path / name).write_text(yaml.safe_dump_all(copy.deepcopy(docs), sort_keys=False))
    res = CliRunner().invoke(cli, ["diff", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), *args],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.stdout


def test_workload_diff_by_hand(tmp_path: Path) -> None:
    assert run(tmp_path, "--workloads").splitlines() == [
        "diff-type: added, source: shop/api[Deployment], destination: shop/tool[Pod], dir1: No Connections, "
        "dir2: All Connections, workloads-diff-info: destination shop/tool[Pod] added",
        "diff-type: added, source: shop/tool[Pod], destination: shop/web[Deployment], dir1: No Connections, "
        "dir2: All Connections, workloads-diff-info: source shop/tool[Pod] added",
        "diff-type: added, source: shop/tool[Pod], destination: 0.0.0.0-255.255.255.255[External], "
        "dir1: No Connections, dir2: All Connections, workloads-diff-info: source shop/tool[Pod] added",
        "diff-type: changed, source: shop/web[Deployment], destination: shop/api[Deployment], dir1: TCP 8080, "
        "dir2: TCP 8080,9090",
        "diff-type: added, source: shop/web[Deployment], destination: shop/tool[Pod], dir1: No Connections, "
        "dir2: All Connections, workloads-diff-info: destination shop/tool[Pod] added",
        "diff-type: added, source: 0.0.0.0-255.255.255.255[External], destination: shop/tool[Pod], "
        "dir1: No Connections, dir2: All Connections, workloads-diff-info: destination shop/tool[Pod] added",
    ]


def test_pod_diff_sees_renamed_pods(tmp_path: Path) -> None:
    # the same change pod by pod: web's pods have new names, so they show as removed and added
    out = run(tmp_path)
    assert "removed" in out and "shop/web-" in out and "[Deployment]" not in out


def test_workload_diff_json(tmp_path: Path) -> None:
    doc = json.loads(run(tmp_path, "--workloads", "-o", "json"))
    changed = [d for d in doc["diffs"] if d["diff_type"] == "changed"]
    assert [(d["src"], d["dst"]) for d in changed] == [("shop/web[Deployment]", "shop/api[Deployment]")]
    assert changed[0]["after"]["ports"]["TCP"] == [[8080, 8080], [9090, 9090]]


def test_answers_shared_by_pod_kinds_equal_each_pairs_own() -> None:
    # _Answers works a pair out once per pair of pod kinds; every pair of ends must get what connection()
    # gives it alone (workloads-talk has hostNetwork DaemonSets, whose pods' nodes count).
    from cnimodel.plan import load_plan
    from cnimodel.policy import Reachability
    from cnimodel.policy.connset import ConnSet
    from cnimodel.policy.diff_workloads import _Answers
    from cnimodel.policy.groups import by_workload, connection

    for name in ("workloads-talk.yaml", "canal-windows.yaml"):
        r = Reachability.from_plan(load_plan([str(Path(__file__).parents[2] / "topologies" / name)]))
        ends = by_workload(r, r.everything())
        shared = _Answers(r)
        for s in ends:
            for d in ends:
                alone = connection(r, s, d).conns
                assert shared(s, d) == (ConnSet.NONE if alone is None else alone), (name, s.label, d.label)
