"""``cnimodel render`` without a browser: DOT, SVG through the system ``dot``, Mermaid, the HTML file's
embedding (data escaping, the script's hash in the Content-Security-Policy, detail limits) and the options.

Expected values are derived by hand from the worked example (cni-plugins.md §10): host-gw delivers
client (lin1) → lin1 → win1 → web/iis-0 in four hops on one subnet; in the forwarding graph the packet goes from
client's bridge cni0 through lin1's route table to win1's NIC and table, then iis-0's vSwitch port (drawn as the
vSwitch cbr0).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
from pathlib import Path

import pytest
from builders import cluster_doc, pod_doc, run, write_docs
from hypothesis import given
from hypothesis import strategies as st
from rplans import EVIL_NODE, EVIL_NS, EVIL_POD, evil_plan, policy_plan, worked_plan

from cnimodel.render.html.page import script_json
from cnimodel.render.html.pool import Pool, decode_runs, encode_runs

TRACE = ["--trace", "default/client", "web/iis-0", "--port", "80"]


def embedded(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert m, "no embedded data"
    return json.loads(m.group(1))


def cluster_block(dot: str, host: str) -> str:
    """The text of the DOT cluster whose label starts with ``host``."""
    for block in re.findall(r"subgraph cluster_\d+ \{(.*?)\n  \}", dot, re.S):
        if f'label="{host} (' in block:
            return block
    raise AssertionError(f"no cluster for {host}")


def test_dot_has_a_cluster_per_node_with_its_pods_and_the_trace(tmp_path: Path) -> None:
    r = run("render", str(worked_plan(tmp_path)), "-o", "dot", *TRACE)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.count("subgraph cluster_") == 4
    assert '"pod:default/client"' in cluster_block(r.stdout, "lin1")
    assert '"pod:web/iis-0"' in cluster_block(r.stdout, "win1")
    fills = dict(re.findall(r'"pod:([^"]+)" \[[^\]]*fillcolor="(#[0-9a-f]{6})"', r.stdout))
    assert fills["web/iis-0"] == fills["web/iis-1"] != fills["default/client"]
    # forward and reply: six numbered edges each, through the forwarding graph's vertices
    forward = re.findall(r'"([^"]+)" -- "([^"]+)" \[dir=forward[^\]]*label="1\.(\d)"', r.stdout)
    assert forward == [("pod:default/client", "dev:lin1/cni0", "1"), ("dev:lin1/cni0", "table:lin1", "2"),
                       ("table:lin1", "nic:win1", "3"), ("nic:win1", "table:win1", "4"),
                       ("table:win1", "vswitch:win1/cbr0", "5"), ("vswitch:win1/cbr0", "pod:web/iis-0", "6")]
    assert len(re.findall(r'label="2\.\d"', r.stdout)) == 6


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed (.ci/run installs it)")
def test_svg_is_rendered_by_the_system_dot(tmp_path: Path) -> None:
    out = tmp_path / "worked.svg"
    r = run("render", str(worked_plan(tmp_path)), "-o", "svg", "--out", str(out), *TRACE)
    assert r.exit_code == 0, r.stderr
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    for title in ("lin1 (linux, 10.240.0.10)", "win1 (windows, 10.240.0.20)", "default/client", "web/iis-0"):
        assert title in texts
    assert {"1.1", "1.2", "1.3", "2.1", "2.2", "2.3"} <= set(texts)
    assert svg.count('stroke="#e8590c"') >= 3


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed (.ci/run installs it)")
def test_svg_of_markup_names_is_escaped_text(tmp_path: Path) -> None:
    r = run("render", str(evil_plan(tmp_path)), "-o", "svg")
    assert r.exit_code == 0, r.stderr
    assert "<script" not in r.stdout and "<img" not in r.stdout
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in r.stdout


def test_mermaid_writes_names_as_escape_codes(tmp_path: Path) -> None:
    r = run("render", str(evil_plan(tmp_path)), "-o", "mermaid")
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    assert text.startswith("flowchart TB\n")
    assert text.count("  subgraph ") == 3 and text.count("  end\n") == 3
    for raw in (EVIL_POD, EVIL_NS, EVIL_NODE, "<img", '">'):
        assert raw not in text
    assert "#60;script#62;window.__pwned=1#60;/script#62;" in text  # < is 60, > is 62
    ids = re.findall(r"^\s+(v\d+)[\[\(\{]", text, re.M)
    assert len(ids) == len(set(ids))  # each vertex declared once


def test_mermaid_marks_the_trace(tmp_path: Path) -> None:
    r = run("render", str(worked_plan(tmp_path)), "-o", "mermaid", *TRACE)
    assert r.exit_code == 0, r.stderr
    assert len(re.findall(r'==>\|"1\.\d"\|', r.stdout)) == 6
    assert "linkStyle" in r.stdout


def test_policy_view_has_a_cluster_per_namespace(tmp_path: Path) -> None:
    pytest.importorskip("cnimodel.policy")
    plan = str(policy_plan(tmp_path))
    r = run("render", plan, "-o", "dot", "--view", "policy")
    assert r.exit_code == 0, r.stderr
    labels = re.findall(r"subgraph cluster_\d+ \{\n    label=\"([^\"]+)\"", r.stdout)
    assert labels == ["back", "front", "kube-system", "other"]
    m = run("render", plan, "-o", "mermaid", "--view", "policy")
    assert m.exit_code == 0, m.stderr
    assert len(re.findall(r'-->\|"TCP 8080"\|', m.stdout)) == 4  # f1, f2 → b1, b2


def test_html_goes_to_a_named_file_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = worked_plan(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = run("render", str(plan), *TRACE)
    assert r.exit_code == 0, r.stderr
    out = tmp_path / "cnimodel-test.html"
    assert str(out) in r.stdout and out.exists()
    data = embedded(out.read_text())
    assert data["traces"][0]["traces"][0]["path"] == [
        "pod:default/client", "host:lin1", "host:win1", "pod:web/iis-0"]
    r = run("render", str(plan), "--out", "-")
    assert r.stdout.startswith("<!DOCTYPE html>")


def test_the_page_script_is_allowed_by_its_hash_and_nothing_else(tmp_path: Path) -> None:
    page = run("render", str(worked_plan(tmp_path)), "--out", "-").stdout
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing from a network


def test_detail_limit_keeps_named_and_traced_nodes(tmp_path: Path) -> None:
    nodes = [{"name": f"n{i:02d}", "os": "linux", "ip": f"10.240.0.{10 + i}"} for i in range(30)]
    plan = write_docs(tmp_path / "p30.yaml", [cluster_doc(nodes), pod_doc("a", "n25"), pod_doc("b", "n27")])
    r = run("render", str(plan), "--out", "-", "--detail-limit", "5", "--node", "n20",
            "--trace", "default/a", "default/b")
    assert r.exit_code == 0, r.stderr
    data = embedded(r.stdout)
    detailed = [n["name"] for n in data["nodes"] if n["detail"] >= 0]
    assert len(data["details"]) == 5 and set(detailed) == {"n20", "n25", "n27", "n00", "n01"}
    assert data["plan"]["detailed"] == 5
    # a host-gw node's table: a route to each of the 29 other nodes' pod CIDRs, pooled once for all nodes
    routes = data["pools"]["routes"]
    n00 = data["details"][data["nodes"][0]["detail"]]["routes"]
    assert sum(1 for i in decode_runs(n00) if routes[i]["kind"] == "pod-route") == 29
    assert len(routes) < 5 * 29


def test_trace_and_port_usage_errors(tmp_path: Path) -> None:
    plan = str(worked_plan(tmp_path))
    r = run("render", plan, "--port", "53")
    assert r.exit_code == 2 and "--trace" in r.stderr
    r = run("render", plan, "-o", "dot", *TRACE, *TRACE, "--port", "53")
    assert r.exit_code == 2 and "one --port for every --trace" in r.stderr
    r = run("render", plan, "-o", "dot", "--trace", "default/nope", "web/iis-0")
    assert r.exit_code == 2 and "default/nope" in r.stderr
    r = run("render", plan, "--node", "nope")
    assert r.exit_code == 2 and "no node named 'nope'" in r.stderr


def test_script_json_cannot_close_the_script_element() -> None:
    data = {"name": "</script><script>alert(1)</script>", "sep": "a\u2028b", "amp": "&lt;"}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == data


@given(st.lists(st.integers(min_value=0, max_value=50)))
def test_runs_round_trip(ids: list[int]) -> None:
    assert decode_runs(encode_runs(ids)) == ids


def test_pool_stores_each_row_once() -> None:
    p = Pool()
    a = p.runs([{"r": 1}, {"r": 2}, {"r": 3}])
    b = p.runs([{"r": 1}, {"r": 3}, {"r": 4}])
    assert a == [0, 3] and b == [0, 1, 2, 2]
    assert p.rows == [{"r": 1}, {"r": 2}, {"r": 3}, {"r": 4}]


def test_main_job_writes_the_report_of_the_embedded_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    r = run()
    assert r.exit_code == 0, r.stderr
    out = tmp_path / "cnimodel-hybrid-hostgw.html"
    assert f"HTML report: {out}" in r.stdout
    data = embedded(out.read_text())
    # topologies/default.yaml: master and lin1 on Linux, win1 and win2 on Windows, three pods
    assert [(n["name"], n["os"]) for n in data["nodes"]] == [
        ("master", "linux"), ("lin1", "linux"), ("win1", "windows"), ("win2", "windows")]
    assert data["plan"]["pods"] == 3
