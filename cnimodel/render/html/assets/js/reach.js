// Reachability: namespaces × namespaces, each cell the distinct connections between their pods; a click
// drills down to the pods of the two namespaces (read from the class × class matrix the engine computed).

var DRILL = 40;

function cellState(ids) {
  if (!ids.length) return {cls: "self", mark: "-", title: "no pair of distinct pods"};
  var conns = ids.map(function (i) { return D.reach.conns[i]; });
  var all = conns.every(function (c) { return c.all; }), none = conns.every(function (c) { return c.none; });
  return {cls: all ? "all" : none ? "none" : "some", mark: all ? "." : none ? "X" : "~",
    title: conns.map(function (c) { return c.text; }).join(" | ")};
}

function pairConn(a, b) {
  if (a.key === b.key) return -1;
  var o = IDX.overrides[a.key + "\n" + b.key];
  if (o !== undefined) return o;
  if (!D.reach.matrix || a.cls < 0 || b.cls < 0) return null;
  return D.reach.matrix[a.cls][b.cls];
}

function showReach(panel) {
  clear(panel);
  var r = D.reach;
  if (!r) {
    panel.appendChild(el("p", {cls: "note", text: "Reachability is not in this report (rendered with --no-reach, or " +
      "cnimodel.policy is not installed). cnimodel reach PLAN answers it on the command line."}));
    return;
  }
  panel.appendChild(el("p", {cls: "note", text: "Rows are sources, columns destinations. \u201c.\u201d every pair may " +
    "open anything, \u201cX\u201d nothing is allowed, \u201c~\u201d some connections or some pairs; hover for the " +
    "connections, click to see the pods. " + r.classes + " policy classes of pods."}));
  (r.warnings || []).forEach(function (w) { panel.appendChild(el("p", {cls: "note", text: "warning: " + w})); });
  if (!r.cells) {
    panel.appendChild(el("p", {cls: "note", text: r.namespaces.length + " namespaces: over the matrix limit of " +
      r.limits.namespaces + "; use cnimodel reach PLAN --from NS/* --to NS/*."}));
    return;
  }
  var t = el("table", {cls: "matrix", id: "ns-matrix"});
  var head = el("tr", null, el("th"));
  r.namespaces.forEach(function (ns) { head.appendChild(el("th", {text: short(ns, 24), title: ns})); });
  t.appendChild(el("thead", null, head));
  var tb = el("tbody");
  var drill = el("div", {id: "drill"});
  r.namespaces.forEach(function (a, i) {
    var tr = el("tr", null, el("th", {text: short(a, 24), title: a}));
    r.namespaces.forEach(function (b, j) {
      var st = cellState(r.cells[i][j]);
      var td = el("td", {cls: st.cls, title: a + " \u2192 " + b + ": " + st.title, text: st.mark, "data-cell": i + "," + j});
      td.addEventListener("click", function () {
        t.querySelectorAll("td.on").forEach(function (x) { x.classList.remove("on"); });
        td.classList.add("on");
        drillDown(drill, a, b);
      });
      tr.appendChild(td);
    });
    tb.appendChild(tr);
  });
  t.appendChild(tb);
  panel.appendChild(el("div", {cls: "matrix-wrap"}, t));
  panel.appendChild(drill);
}

function drillDown(box, a, b) {
  clear(box);
  box.appendChild(el("h3", {text: a + " \u2192 " + b}));
  if (!D.reach.matrix) {
    box.appendChild(el("p", {cls: "note", text: "The pod-level matrix is not embedded (" + D.reach.classes +
      " classes, over the limit of " + D.reach.limits.classes + "); use cnimodel reach PLAN --from '" + a + "/*' --to '" + b + "/*'."}));
    return;
  }
  var filter = el("input", {cls: "filter", type: "search", placeholder: "Filter pods by name"});
  var out = el("div");
  box.appendChild(filter);
  box.appendChild(out);
  function draw() {
    var q = filter.value.trim().toLowerCase();
    function pick(ns) {
      return (IDX.podsByNs[ns] || []).filter(function (p) { return !q || p.key.toLowerCase().indexOf(q) >= 0; });
    }
    var src = pick(a), dst = pick(b);
    clear(out);
    if (src.length > DRILL || dst.length > DRILL) {
      out.appendChild(el("p", {cls: "note", text: "Showing the first " + DRILL + " of " + src.length + " \u00d7 " +
        dst.length + " pods; filter to narrow."}));
    }
    var t = el("table", {cls: "matrix", id: "pod-matrix"});
    var head = el("tr", null, el("th"));
    dst.slice(0, DRILL).forEach(function (p) { head.appendChild(el("th", {text: short(p.name, 24), title: p.key})); });
    t.appendChild(el("thead", null, head));
    var tb = el("tbody");
    src.slice(0, DRILL).forEach(function (s) {
      var tr = el("tr", null, el("th", {text: short(s.name, 24), title: s.key}));
      dst.slice(0, DRILL).forEach(function (d) {
        var c = pairConn(s, d);
        var st = c === -1 || c === null ? {cls: "self", mark: "-", title: c === -1 ? "not evaluated (the same pod or node)" : "unknown"} : cellState([c]);
        tr.appendChild(el("td", {cls: st.cls, text: st.mark, title: s.key + " \u2192 " + d.key + ": " + st.title}));
      });
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    out.appendChild(t);
  }
  filter.addEventListener("input", debounce(draw, 150));
  draw();
}

// In the pod panel: what this pod may open to each namespace.
function reachFromPod(key, row) {
  var r = D.reach;
  if (!r || !r.matrix || row[4] < 0) return null;
  var me = {key: key, cls: row[4]};
  var rows = r.namespaces.map(function (ns) {
    var ids = {};
    (IDX.podsByNs[ns] || []).forEach(function (p) { var c = pairConn(me, p); if (c !== null && c >= 0) ids[c] = 1; });
    return {ns: ns, st: cellState(Object.keys(ids).map(Number))};
  });
  var box = el("div");
  box.appendChild(el("h3", {text: "may open, per destination namespace"}));
  box.appendChild(table([{title: "namespace", get: function (x) { return x.ns; }},
    {title: "", get: function (x) { return x.st.mark; }},
    {title: "connections", get: function (x) { return x.st.title; }}], rows));
  return box;
}
