"""The HTML report in headless Chromium: it draws with no console error, a click on a node shows its routes,
a trace is highlighted, names holding markup are shown as text and never run, and the reachability matrix
and findings are there.

Expected values come from the worked example (cni-plugins.md §10): node CIDRs handed out in node order from
10.244.0.0/16 at /24 (master .0, lin1 .1, win1 .2, win2 .3); flannel host-gw puts a route to each other
node's pod CIDR via that node's IP; the first pod on a Linux node takes .2, on a Windows node .3.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from browser import Browser, browser  # noqa: F401  (the fixture)
from rplans import EVIL_LABEL, EVIL_NODE, EVIL_NS, EVIL_POD, evil_plan, policy_plan, worked_plan

from cnimodel.cluster import Cluster
from cnimodel.overview import Options, TraceRun, overview
from cnimodel.plan import load_plan
from cnimodel.render.html import collect, page
from cnimodel.trace import trace

ROOT = Path(__file__).resolve().parents[2]


def report(plan: Path, out: Path, traces: list[tuple[str, str, int]] = (), **options: object) -> Path:  # type: ignore[assignment]
    cluster = Cluster.build(load_plan([plan]))
    runs = [TraceRun(s, d, p, trace(cluster, s, d, port=p, both=True)) for s, d, p in traces]
    out.write_text(page(collect(overview(cluster, runs, Options(**options)))), encoding="utf-8")  # type: ignore[arg-type]
    return out


def rows(b: Browser, css: str) -> list[list[str]]:
    return b.js("return Array.from(document.querySelectorAll(arguments[0])).map(function (tr) {"
                " return Array.from(tr.cells).map(function (c) { return c.textContent; }); });", css)


@pytest.fixture(scope="module")
def worked_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("worked")
    return report(worked_plan(d), d / "worked.html", [("default/client", "web/iis-0", 80)])


def test_report_draws_without_console_errors(browser: Browser, worked_html: Path) -> None:  # noqa: F811
    browser.open(worked_html)
    assert browser.errors() == []
    cards = browser.js("return Array.from(document.querySelectorAll('g.card')).map(function (g) { return"
                       " [g.getAttribute('data-id'), g.classList.contains('windows') ? 'windows' : 'linux']; });")
    assert sorted(cards) == [["host:lin1", "linux"], ["host:master", "linux"], ["host:win1", "windows"],
                             ["host:win2", "windows"]]
    # the bridge on Linux nodes and the HNS L2Bridge vSwitch on Windows nodes (cni-plugins.md §10)
    chips = browser.js("return Array.from(document.querySelectorAll('[data-id=\"host:lin1\"] .chip text,"
                       " [data-id=\"host:win1\"] .chip text')).map(function (t) { return t.textContent; });")
    assert "bridge cni0" in chips and "vSwitch cbr0 (L2Bridge)" in chips
    # nothing was fetched: the page is whole
    assert browser.js("return performance.getEntriesByType('resource').length") == 0
    browser.screenshot("report-overview.png")


def test_clicking_a_node_shows_its_routes(browser: Browser, worked_html: Path) -> None:  # noqa: F811
    browser.open(worked_html)
    browser.by_id("host:lin1").click()
    assert browser.find("#panel-node h2").text.startswith("lin1")
    got = {(r[0], r[1], r[2]) for r in rows(browser, "#node-section table.grid tbody tr")}
    assert {("10.244.0.0/24", "10.240.0.4", "eth0"), ("10.244.2.0/24", "10.240.0.20", "eth0"),
            ("10.244.3.0/24", "10.240.0.30", "eth0"), ("10.244.1.0/24", "on-link", "cni0"),
            ("0.0.0.0/0", "10.240.0.1", "eth0")} <= got
    assert browser.errors() == []
    browser.screenshot("report-node-routes.png")
    browser.by_id("host:win1").click()
    browser.find("#panel-node .subtabs button[data-section='HNS']").click()
    hns = rows(browser, "#node-section table.grid tbody tr")
    assert hns[0][:3] == ["Network", "cbr0", "L2Bridge"]
    assert any(r[1] == "cbr0_ep" and r[3] == "10.244.2.2" for r in hns)  # the host endpoint holds .2


def test_trace_path_is_highlighted(browser: Browser, worked_html: Path) -> None:  # noqa: F811
    browser.open(worked_html)
    # the first trace is chosen on load: client on lin1 → lin1 routes to win1 (host-gw, one subnet) → iis-0
    on_path = browser.js("return Array.from(document.querySelectorAll('#topo .on-path'))"
                         ".map(function (e) { return e.getAttribute('data-id'); });")
    assert sorted(on_path) == ["host:lin1", "host:win1", "pod:default/client", "pod:web/iis-0"]
    line = browser.find("#path-layer polyline")
    assert len(line.get_attribute("points").split()) == 4
    hops = browser.js("return Array.from(document.querySelectorAll('ol.hops > li .where'))"
                      ".map(function (e) { return e.textContent; });")
    assert hops == ["default/client", "lin1", "win1", "web/iis-0"]
    assert "route=10.244.2.0/24 via 10.240.0.20 dev eth0" in browser.find("ol.hops").text
    browser.screenshot("report-trace.png")
    browser.find("[data-trace='0.1']").click()  # the reply, drawn dashed
    assert "reply" in browser.find("#path-layer polyline").get_attribute("class")
    hops = browser.js("return Array.from(document.querySelectorAll('ol.hops > li .where'))"
                      ".map(function (e) { return e.textContent; });")
    assert hops[0] == "web/iis-0" and hops[-1] == "default/client"
    assert browser.errors() == []


def test_names_with_markup_are_shown_as_text(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    html = report(evil_plan(tmp_path), tmp_path / "evil.html")
    browser.open(html)
    assert browser.js("return typeof window.__pwned") == "undefined"
    assert browser.js("return document.querySelectorAll('img').length") == 0
    assert browser.js("return document.scripts.length") == 2  # the page's data and its one script
    key = f"{EVIL_NS}/{EVIL_POD}"
    pod = browser.by_id(f"pod:{key}")
    assert browser.js("return arguments[0].querySelector('title').textContent", pod) == f"{key} 10.244.1.2"
    pod.click()
    assert browser.find("#panel-node h2").text == key
    assert f"app={EVIL_LABEL}" in browser.find("#panel-node dl").text
    browser.by_id(f"host:{EVIL_NODE}").click()
    assert browser.find("#panel-node h2").text.startswith(EVIL_NODE)
    assert f"evil={EVIL_LABEL}" in browser.find("#panel-node dl").text
    search = browser.find("#search")
    search.send_keys("pwned")
    browser.driver.implicitly_wait(0)
    listed = browser.js("return new Promise(function (done) { setTimeout(function () { done(Array.from("
                        "document.querySelectorAll('#panel-search .results button')).map(function (b) {"
                        " return b.textContent; })); }, 600); });")
    assert listed == [EVIL_NODE, key]
    assert browser.js("return typeof window.__pwned") == "undefined"
    assert browser.errors() == []  # a blocked inline handler would log a CSP violation here
    browser.screenshot("report-escaping.png")


def test_reachability_matrix_and_drill_down(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    pytest.importorskip("cnimodel.policy")
    browser.open(report(policy_plan(tmp_path), tmp_path / "policy.html"))
    browser.find("#tab-reach").click()
    names = ["back", "front", "kube-system", "other"]
    assert [e.text for e in browser.find_all("#ns-matrix tbody th")] == names

    def cell(src: str, dst: str) -> tuple[str, str]:
        td = browser.find(f"#ns-matrix td[data-cell='{names.index(src)},{names.index(dst)}']")
        return td.text, td.get_attribute("title")

    assert cell("front", "back")[0] == "~" and "TCP 8080" in cell("front", "back")[1]
    assert cell("other", "back")[0] == "X"
    assert cell("back", "back")[0] == "X"       # b1 and b2 admit only namespace front
    assert cell("back", "front")[0] == "."
    assert cell("other", "other")[0] == "-"     # one pod: no pair
    assert cell("kube-system", "back")[0] == "~"
    browser.find(f"#ns-matrix td[data-cell='{names.index('kube-system')},{names.index('back')}']").click()
    drill = rows(browser, "#pod-matrix tbody tr")
    # the hostNetwork agent reaches b1 on its own node (ingress from the local node is exempt), not b2 on lin2
    assert drill == [["agent", ".", "X"]]
    assert browser.errors() == []
    browser.screenshot("report-reach.png")


def test_findings_panel(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    pytest.importorskip("cnimodel.validate")
    # docs/checks.md: nodes on two subnets with host-gw and no cloud routes have no route to each other's pods
    browser.open(report(ROOT / "topologies" / "check-hybrid-mistakes.yaml", tmp_path / "findings.html"))
    browser.find("#tab-findings").click()
    codes = [e.text for e in browser.find_all("#panel-findings .finding strong")]
    assert "CNI-ROUTE-001" in codes
    browser.find("#panel-findings .finding .objects button").click()  # an object of a finding selects it
    assert browser.find("#panel-node h2").text.split()[0] in ("lin1", "lin2", "win1", "win2")
    assert browser.errors() == []
    browser.screenshot("report-findings.png")


def test_load_balancer_rules_of_a_windows_node(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    pytest.importorskip("cnimodel.services")
    # services-l2bridge: web/iis selects iis-0 on win1 and iis-1 on win2, the first pods there (.3 on Windows)
    browser.open(report(ROOT / "topologies" / "services-l2bridge.yaml", tmp_path / "lb.html"))
    browser.by_id("host:win1").click()
    browser.find("#panel-node .subtabs button[data-section='LB rules']").click()
    ports = {r[0]: r for r in rows(browser, "#node-section table.grid tbody tr") if r[0].startswith("web/")}
    assert ports["web/iis"][1:4] == ["TCP 80", "10.244.2.3, 10.244.3.3", "10.244.2.3"]
    assert browser.errors() == []
    browser.screenshot("report-lb.png")


def _gen_plan() -> object:
    spec = importlib.util.spec_from_file_location("gen_plan", ROOT / "tools" / "gen_plan.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_500_nodes_are_tiles_with_search_and_collapse(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    docs = _gen_plan().generate(500, 2000)  # type: ignore[attr-defined]
    plan = tmp_path / "p500.json"
    flat = docs[:-1] + docs[-1]["items"] if docs[-1]["kind"] == "List" else docs  # pods come in a List
    plan.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": flat}))
    browser.open(report(plan, tmp_path / "p500.html", reach=False))
    assert browser.errors() == []
    assert len(browser.find_all("#topo rect.tile")) == 500
    browser.find("#search").send_keys("node00321")
    found = browser.js("return new Promise(function (done) { setTimeout(function () {"
                       " done(document.getElementById('search-count').textContent); }, 600); });")
    assert found == "1 found"
    tile = browser.by_id("host:node00321")
    assert "match" in tile.get_attribute("class")
    tile.click()
    # gen_plan: /24s from 10.0.0.0/11 in node order, node IPs from 10.128.0.2: node00000 is 10.0.0.0/24 via .2
    got = {(r[0], r[1]) for r in rows(browser, "#node-section table.grid tbody tr")}
    assert ("10.0.0.0/24", "10.128.0.2") in got and len(got) >= 500
    browser.screenshot("report-500.png")
    browser.find("[data-act='collapse']").click()
    assert len(browser.find_all("#topo rect.tile")) == 0


def test_policies_no_node_enforces_are_said_at_the_top(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    """A NetworkPolicy on plain flannel host-gw (which enforces none, with no policy plugin): the report says so
    under its title; the worked example without policies says nothing."""
    from builders import cluster_doc, pod_doc, write_docs

    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-all"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    plan = write_docs(tmp_path / "p.yaml", [cluster_doc(), pod_doc("client", "lin1"), deny])
    browser.open(report(plan, tmp_path / "p.html"))
    assert browser.errors() == []
    text = browser.js("var e = document.getElementById('unenforced'); return e ? e.textContent : null;")
    assert text.startswith("warning: 1 policy in the plan, but no node enforces it")
    browser.open(report(worked_plan(tmp_path), tmp_path / "w.html"))
    assert browser.js("return document.getElementById('unenforced')") is None
