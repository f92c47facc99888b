// Start: read the embedded data, index it, draw, and wire the header (search, mode, zoom) and the tabs.

var D = JSON.parse(document.getElementById("report-data").textContent);
var S = {mode: D.nodes.length <= 80 ? "detail" : "compact", bandMode: {}, bandPage: {}, zoom: 1, selected: null,
  matches: [], path: null, nsOnly: null, section: "routes"};
var IDX = {node: {}, bySubnet: {}, podNode: {}, podsByNs: {}, overrides: {}, internet: false};

function index() {
  D.nodes.forEach(function (n, i) {
    IDX.node[n.id] = i;
    (IDX.bySubnet[n.subnet] = IDX.bySubnet[n.subnet] || []).push(i);
    n.pods.forEach(function (p) {
      var ns = D.namespaces[p[1]], key = ns + "/" + p[0];
      IDX.podNode[key] = i;
      (IDX.podsByNs[ns] = IDX.podsByNs[ns] || []).push({key: key, name: p[0], cls: p[4], node: i});
    });
  });
  D.unscheduled.forEach(function (p) {
    var ns = D.namespaces[p[1]];
    (IDX.podsByNs[ns] = IDX.podsByNs[ns] || []).push({key: ns + "/" + p[0], name: p[0], cls: p[4], node: -1});
  });
  if (D.reach) D.reach.overrides.forEach(function (o) { IDX.overrides[o[0] + "\n" + o[1]] = o[2]; });
  D.traces.forEach(function (run) {
    run.traces.forEach(function (t) { if (t.path.indexOf("internet") >= 0) IDX.internet = true; });
  });
}

var TABS = [
  ["node", "Details", function () { return null; }],
  ["traces", "Traces", function () { return D.traces.length; }],
  ["reach", "Reachability", function () { return D.reach ? D.reach.namespaces.length + " ns" : null; }],
  ["findings", "Findings", function () { return D.findings ? D.findings.findings.length : null; }],
  ["search", "Search", function () { return null; }]
];

function buildTabs() {
  var nav = document.getElementById("tabs"), panels = document.getElementById("panels");
  TABS.forEach(function (t) {
    var count = t[2]();
    nav.appendChild(el("button", {type: "button", role: "tab", id: "tab-" + t[0], "data-tab": t[0],
      onclick: function () { showTab(t[0]); }}, [t[1], count !== null ? el("span", {cls: "count", text: String(count)}) : null]));
    panels.appendChild(el("div", {cls: "panel", id: "panel-" + t[0], role: "tabpanel"}));
  });
  overview(document.getElementById("panel-node"));
  showTraces(document.getElementById("panel-traces"));
  showReach(document.getElementById("panel-reach"));
  showFindings(document.getElementById("panel-findings"));
  document.getElementById("panel-search").appendChild(el("p", {cls: "note", text: "Type in the search box above."}));
}

function showTab(name) {
  TABS.forEach(function (t) {
    document.getElementById("tab-" + t[0]).classList.toggle("on", t[0] === name);
    document.getElementById("panel-" + t[0]).classList.toggle("on", t[0] === name);
  });
}

function overview(panel) {
  var p = D.plan;
  panel.appendChild(el("h2", {text: p.name}));
  panel.appendChild(el("p", {cls: "note", text: "Click the router, a subnet, a node or a pod to see its facts: " +
    "route table, neighbours and FDB, HNS objects, NAT, overlay and load-balancer rules."}));
  panel.appendChild(kv([["network plugin", p.plugin], ["nodes", p.nodes], ["pods", p.pods],
    ["namespaces", D.namespaces.length], ["subnets", D.subnets.length],
    ["nodes with facts", p.detailed + " of " + p.nodes + (p.detailed < p.nodes ? " (detail limit " + p.detailLimit + ")" : "")],
    ["unscheduled pods", D.unscheduled.length || ""], ["plan file", p.source]]));
}

function legend() {
  var box = clear(document.getElementById("legend"));
  ["linux", "windows"].forEach(function (os) {
    var sw = el("span", {cls: "swatch"});
    sw.style.background = os === "linux" ? "var(--linux)" : "var(--windows)";
    box.appendChild(el("span", {cls: "item"}, [sw, os + " node"]));
  });
  var path = el("span", {cls: "swatch"});
  path.style.background = "var(--path)";
  box.appendChild(el("span", {cls: "item"}, [path, "trace path"]));
  D.namespaces.slice(0, 60).forEach(function (ns, i) {
    var sw = el("span", {cls: "swatch"});
    sw.style.background = nsColor(i, false);
    var item = el("span", {cls: "item" + (S.nsOnly !== null && S.nsOnly !== i ? " dim" : ""), title: "namespace " + ns +
      " (click to show only its pods)", "data-legend-ns": i}, [sw, short(ns, 30)]);
    item.addEventListener("click", function () { S.nsOnly = S.nsOnly === i ? null : i; legend(); applyMarks(); });
    box.appendChild(item);
  });
  if (D.namespaces.length > 60) box.appendChild(el("span", {cls: "note", text: "+" + (D.namespaces.length - 60) + " namespaces"}));
}

function search(q) {
  q = q.trim().toLowerCase();
  var panel = clear(document.getElementById("panel-search"));
  S.matches = [];
  var results = [];
  if (q) {
    D.nodes.forEach(function (n) {
      if (n.name.toLowerCase().indexOf(q) >= 0 || n.ip === q || (n.podCIDR || "").indexOf(q) === 0) results.push([n.id, n.name, "node"]);
      n.pods.forEach(function (p) {
        var key = D.namespaces[p[1]] + "/" + p[0];
        if (key.toLowerCase().indexOf(q) >= 0 || p[2] === q) results.push(["pod:" + key, key, "pod on " + n.name]);
      });
    });
  }
  S.matches = results.slice(0, 5000).map(function (r) { return r[0]; });
  document.getElementById("search-count").textContent = q ? results.length + " found" : "";
  if (q && results.length <= 50) {
    results.forEach(function (r) {
      if (r[0].indexOf("host:") === 0) {
        var band = D.nodes[IDX.node[r[0]]].subnet;
        if (bandMode(band) === "collapsed") S.bandMode[band] = S.mode;
      }
    });
  }
  drawTopology();
  if (!q) { panel.appendChild(el("p", {cls: "note", text: "Type in the search box above."})); return; }
  var ul = el("ul", {cls: "results"});
  results.slice(0, 200).forEach(function (r) {
    ul.appendChild(el("li", null, [el("button", {cls: "link", type: "button", text: r[1], onclick: function () { select(r[0]); }}),
      " ", el("span", {cls: "note", text: r[2]})]));
  });
  panel.appendChild(el("p", {cls: "note", text: results.length + " matches" + (results.length > 200 ? " (first 200 listed)" : "")}));
  panel.appendChild(ul);
  showTab("search");
}

function start() {
  index();
  document.getElementById("title").textContent = D.plan.name;
  document.getElementById("stats").textContent = D.plan.nodes + " nodes \u00b7 " + D.plan.pods + " pods \u00b7 " +
    D.namespaces.length + " namespaces \u00b7 " + D.plan.plugin;
  if (D.unenforced) {  // policies some nodes ignore: said at the top, not only among the findings
    var banner = el("p", {cls: "note warning", id: "unenforced", text: "warning: " + D.unenforced.text});
    document.getElementById("stats").insertAdjacentElement("afterend", banner);
  }
  var mode = document.getElementById("mode");
  function modeText() { mode.textContent = S.mode === "detail" ? "tiles" : "cards"; }
  modeText();
  mode.addEventListener("click", function () { S.mode = S.mode === "detail" ? "compact" : "detail"; S.bandMode = {}; modeText(); drawTopology(); });
  document.getElementById("zoom-in").addEventListener("click", function () { S.zoom = Math.min(3, S.zoom * 1.25); drawTopology(); });
  document.getElementById("zoom-out").addEventListener("click", function () { S.zoom = Math.max(0.3, S.zoom / 1.25); drawTopology(); });
  document.getElementById("search").addEventListener("input", debounce(function (e) { search(e.target.value); }, 200));
  window.addEventListener("resize", debounce(drawTopology, 200));
  buildTabs();
  legend();
  if (D.traces.length && D.traces[0].traces.length) { S.path = {run: 0, trace: 0}; showTraces(document.getElementById("panel-traces")); showTab("traces"); }
  else showTab("node");
  drawTopology();
  document.documentElement.setAttribute("data-ready", String(Math.round(performance.now())));
}

start();
