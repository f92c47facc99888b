// Traces: each --trace run with its forward trace and reply; the chosen one is drawn as a highlighted path
// through the drawing, and its hops are listed with their typed steps (Batfish's shape).

var GOOD = {ACCEPTED: 1, DELIVERED_TO_SUBNET: 1, EXITS_NETWORK: 1};

function currentTrace() {
  if (!S.path) return null;
  var run = D.traces[S.path.run];
  return run ? run.traces[S.path.trace] || null : null;
}

function showTraces(panel) {
  clear(panel);
  if (!D.traces.length) {
    panel.appendChild(el("p", {cls: "note"}, ["No traces in this report. Add ",
      el("code", {text: "--trace SRC DST --port N"}), " to ", el("code", {text: "cnimodel render"}),
      " (SRC and DST as for cnimodel trace: ns/pod, a node, a Service, NODE:NODEPORT or an IP)."]));
    return;
  }
  D.traces.forEach(function (run, ri) {
    run.traces.forEach(function (t, ti) {
      var on = S.path && S.path.run === ri && S.path.trace === ti;
      var f = t.flow;
      var card = el("div", {cls: "trace-run" + (on ? " on" : ""), "data-trace": ri + "." + ti, tabindex: 0}, [
        el("div", null, [el("span", {cls: "badge " + (GOOD[t.disposition] ? "ok" : "bad"), text: t.disposition}),
          el("strong", {text: (t.direction === "reverse" ? "reply " : "") + f.srcName + " \u2192 " + f.dstName})]),
        el("div", {cls: "flow", text: f.protocol + " " + f.src + ":" + f.srcPort + " \u2192 " + f.dst + (f.dstPort !== null ? ":" + f.dstPort : "")}),
        el("div", {cls: "note", text: t.reason})]);
      card.addEventListener("click", function () { selectTrace(ri, ti); });
      card.addEventListener("keydown", function (e) { if (e.key === "Enter") selectTrace(ri, ti); });
      panel.appendChild(card);
      if (on) panel.appendChild(hopList(t));
    });
  });
}

function hopList(t) {
  var ol = el("ol", {cls: "hops"});
  t.hops.forEach(function (h, k) {
    var where = el("button", {cls: "link where", type: "button", text: h.node, onclick: function () { select(t.path[k]); }});
    var steps = el("ul", {cls: "steps"});
    h.steps.forEach(function (s) {
      var detail = Object.keys(s.detail).map(function (key) {
        var v = s.detail[key];
        return key + "=" + (typeof v === "object" ? JSON.stringify(v) : String(v));
      }).join("  ");
      steps.appendChild(el("li", null, [el("span", {cls: "step-type", text: s.type}),
        el("span", {cls: "step-action", text: s.action}), el("span", {cls: "step-detail", text: detail})]));
    });
    ol.appendChild(el("li", {"data-hop": k}, [where, " ", el("span", {cls: "note", text: "(" + h.kind + ")"}), steps]));
  });
  return ol;
}

function selectTrace(ri, ti) {
  S.path = {run: ri, trace: ti};
  applyMarks();
  drawPath();
  showTraces(document.getElementById("panel-traces"));
  showTab("traces");
}

// The places a trace passes, in order; consecutive hops drawn at one place (a pod shown by its node in
// tile mode) share it, and the place keeps the numbers of its hops.
function pathPlaces(t) {
  var out = [];
  t.path.forEach(function (id, k) {
    var p = place(id);
    if (!p) return;
    if (out.length && out[out.length - 1].p === p) out[out.length - 1].hops.push(k + 1);
    else out.push({p: p, hops: [k + 1]});
  });
  return out;
}

function markPath() {
  var t = currentTrace();
  if (!t) return;
  pathPlaces(t).forEach(function (x) { if (x.p.el) x.p.el.classList.add("on-path"); });
}

function drawPath() {
  var layer = document.getElementById("path-layer");
  if (!layer) return;
  clear(layer);
  var t = currentTrace();
  if (!t) return;
  var places = pathPlaces(t);
  var pts = places.map(function (x) { return [x.p.x + x.p.w / 2, x.p.y + x.p.h / 2]; });
  if (pts.length > 1) {
    layer.appendChild(svgEl("polyline", {cls: "path-line" + (t.direction === "reverse" ? " reply" : ""),
      points: pts.map(function (q) { return q[0].toFixed(1) + "," + q[1].toFixed(1); }).join(" ")}));
  }
  pts.forEach(function (q, k) {
    var hops = places[k].hops, g = svgEl("g", {cls: "path-num"});
    g.appendChild(svgEl("circle", {cx: q[0], cy: q[1], r: 8}));
    g.appendChild(svgEl("text", {x: q[0], y: q[1] + 3.5, "text-anchor": "middle", text: String(hops[0])}));
    g.appendChild(svgEl("title", {text: "hop " + hops.join(", ") + ": " + hops.map(function (h) { return t.hops[h - 1].node; }).join(", ")}));
    layer.appendChild(g);
  });
  markPath();
}
