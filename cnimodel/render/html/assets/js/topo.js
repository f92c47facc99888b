// The drawing: the underlay router on top, a band per underlay subnet, in each band the nodes as cards
// (OS, addresses, bridge/vSwitch/VTEP, pods coloured by namespace) or, for big clusters, as small tiles.
// Bands collapse; past PAGE cards a band shows a button for more; the layout is a plain grid, so 5,000
// nodes cost 5,000 rectangles, not a force simulation.

var PAD = 12, BUS_X = 22, BAND_X = 40, CARD_W = 236, CARD_GAP = 10, TILE = 14, TILE_GAP = 3, PAGE = 200;
var POD_CHIPS = 10, POD_DOTS = 96, CHAR_W = 6.1;
var REG = {};          // vertex id -> {el, x, y, w, h}

function bandNodes(i) { return IDX.bySubnet[i] || []; }

function bandMode(i) {
  if (S.bandMode[i]) return S.bandMode[i];
  return S.mode;
}

function drawTopology() {
  var canvas = document.getElementById("canvas");
  var width = Math.max(520, (canvas.clientWidth - 20) / S.zoom);  // room for a vertical scrollbar
  REG = {};
  var svg = svgEl("svg", {id: "topo", role: "img", "aria-label": "Cluster topology"});
  var gBands = svgEl("g"), gTop = svgEl("g"), gPath = svgEl("g", {id: "path-layer"});
  svg.appendChild(gTop); svg.appendChild(gBands); svg.appendChild(gPath);
  var u = D.underlay;
  var router = svgEl("g", {cls: "router", "data-id": u.id, tabindex: 0});
  var rw = Math.max(150, u.name.length * 7.5 + 70);
  router.appendChild(svgEl("rect", {x: PAD, y: PAD, width: rw, height: 30, rx: 4}));
  router.appendChild(svgEl("text", {x: PAD + 10, y: PAD + 19, text: "router " + short(u.name, 28)}));
  router.appendChild(svgEl("title", {text: "underlay " + u.name + ": click for its route table"}));
  gTop.appendChild(router);
  REG[u.id] = {el: router, x: PAD, y: PAD, w: rw, h: 30};
  if (IDX.internet) {
    var inet = svgEl("g", {cls: "internet", "data-id": "internet"});
    inet.appendChild(svgEl("rect", {x: PAD + rw + 40, y: PAD, width: 90, height: 30, rx: 15}));
    inet.appendChild(svgEl("text", {x: PAD + rw + 58, y: PAD + 19, text: "internet"}));
    gTop.appendChild(inet);
    gTop.appendChild(svgEl("line", {cls: "bus", x1: PAD + rw, y1: PAD + 15, x2: PAD + rw + 40, y2: PAD + 15}));
    REG.internet = {el: inet, x: PAD + rw + 40, y: PAD, w: 90, h: 30};
  }
  var y = PAD + 30 + 20, lastBusY = PAD + 30;
  D.subnets.forEach(function (s, i) {
    var h = drawBand(gBands, s, i, y, width - BAND_X - PAD);
    gBands.insertBefore(svgEl("line", {cls: "bus", x1: BUS_X, y1: y + 17, x2: BAND_X, y2: y + 17}), gBands.firstChild);
    lastBusY = y + 17;
    y += h + 14;
  });
  if (IDX.bySubnet[-1]) {
    var h = drawBand(gBands, {id: "subnet:?", name: "(no subnet)", cidr: "", gateway: ""}, -1, y, width - BAND_X - PAD);
    y += h + 14;
  }
  gTop.appendChild(svgEl("line", {cls: "bus", x1: BUS_X, y1: PAD + 30, x2: BUS_X, y2: lastBusY}));
  svg.setAttribute("viewBox", "0 0 " + width + " " + (y + PAD));
  svg.setAttribute("width", Math.round(width * S.zoom));
  svg.setAttribute("height", Math.round((y + PAD) * S.zoom));
  svg.addEventListener("click", onCanvasClick);
  svg.addEventListener("keydown", function (e) { if (e.key === "Enter") onCanvasClick(e); });
  clear(canvas).appendChild(svg);
  applyMarks();
  drawPath();
}

function onCanvasClick(e) {
  var t = e.target.closest ? e.target.closest("[data-act],[data-id]") : null;
  if (!t) return;
  var act = t.getAttribute("data-act");
  if (act) {
    var band = Number(t.getAttribute("data-band"));
    if (act === "collapse") S.bandMode[band] = bandMode(band) === "collapsed" ? S.mode : "collapsed";
    else if (act === "mode") S.bandMode[band] = bandMode(band) === "detail" ? "compact" : "detail";
    else if (act === "more") S.bandPage[band] = (S.bandPage[band] || PAGE) + PAGE;
    drawTopology();
    return;
  }
  select(t.getAttribute("data-id"));
}

function drawBand(parent, s, i, y, w) {
  var nodes = bandNodes(i);
  var mode = bandMode(i);
  var g = svgEl("g", {cls: "band", "data-band": i});
  parent.appendChild(g);
  var bg = svgEl("rect", {cls: "band-bg", x: BAND_X, y: y, width: w, rx: 6});
  g.appendChild(bg);
  var lin = 0; nodes.forEach(function (n) { if (D.nodes[n].os === "linux") lin++; });
  var tg = svgEl("g", {cls: "toggle", "data-act": "collapse", "data-band": i, tabindex: 0});
  tg.appendChild(svgEl("rect", {x: BAND_X + 8, y: y + 8, width: 18, height: 18, rx: 3}));
  tg.appendChild(svgEl("text", {x: BAND_X + 13, y: y + 21, text: mode === "collapsed" ? "+" : "\u2212"}));
  tg.appendChild(svgEl("title", {text: mode === "collapsed" ? "Expand" : "Collapse"}));
  g.appendChild(tg);
  var title = svgEl("text", {cls: "band-title", x: BAND_X + 34, y: y + 16, "data-id": s.id},
    ["subnet " + short(s.name, 40) + "  " + s.cidr]);
  g.appendChild(title);
  g.appendChild(svgEl("text", {cls: "band-sub", x: BAND_X + 34, y: y + 29,
    text: (s.gateway ? "gateway " + s.gateway + " \u00b7 " : "") + nodes.length + " nodes (" + lin + " Linux, " +
      (nodes.length - lin) + " Windows)"}));
  REG[s.id] = {el: title, x: BAND_X, y: y, w: w, h: 34};
  if (nodes.length) {
    var mt = svgEl("g", {cls: "toggle", "data-act": "mode", "data-band": i, tabindex: 0});
    mt.appendChild(svgEl("rect", {x: BAND_X + w - 78, y: y + 8, width: 70, height: 18, rx: 3}));
    mt.appendChild(svgEl("text", {x: BAND_X + w - 70, y: y + 21, text: mode === "detail" ? "as tiles" : "as cards"}));
    g.appendChild(mt);
  }
  var h = 36;
  if (mode === "collapsed") {
    nodes.forEach(function (n) { REG[D.nodes[n].id] = {el: title, x: BAND_X, y: y, w: w, h: 34, hidden: true}; });
  } else if (mode === "compact") {
    h += drawTiles(g, nodes, BAND_X + 10, y + 38, w - 20) + 8;
  } else {
    h += drawCards(g, nodes, i, BAND_X + 10, y + 38, w - 20) + 8;
  }
  bg.setAttribute("height", h);
  return h;
}

function drawTiles(g, nodes, x0, y0, w) {
  var per = Math.max(1, Math.floor((w + TILE_GAP) / (TILE + TILE_GAP)));
  nodes.forEach(function (n, k) {
    var node = D.nodes[n];
    var x = x0 + (k % per) * (TILE + TILE_GAP), y = y0 + Math.floor(k / per) * (TILE + TILE_GAP);
    var r = svgEl("rect", {cls: "tile " + node.os, x: x, y: y, width: TILE, height: TILE, rx: 2, "data-id": node.id},
      svgEl("title", {text: node.name + " (" + node.os + ", " + node.ip + ", " + node.pods.length + " pods)"}));
    g.appendChild(r);
    REG[node.id] = {el: r, x: x, y: y, w: TILE, h: TILE};
  });
  return Math.ceil(nodes.length / per) * (TILE + TILE_GAP);
}

function drawCards(g, nodes, band, x0, y0, w) {
  var per = Math.max(1, Math.floor((w + CARD_GAP) / (CARD_W + CARD_GAP)));
  var limit = S.bandPage[band] || PAGE;
  var shown = nodes.slice(0, limit);
  var y = y0, rowH = 0;
  shown.forEach(function (n, k) {
    if (k && k % per === 0) { y += rowH + CARD_GAP; rowH = 0; }
    var x = x0 + (k % per) * (CARD_W + CARD_GAP);
    rowH = Math.max(rowH, drawCard(g, D.nodes[n], x, y));
  });
  y += rowH;
  nodes.slice(limit).forEach(function (n) {
    REG[D.nodes[n].id] = {el: null, x: x0, y: y, w: 10, h: 10, hidden: true};
  });
  if (nodes.length > limit) {
    var more = svgEl("g", {cls: "toggle", "data-act": "more", "data-band": band, tabindex: 0});
    more.appendChild(svgEl("rect", {x: x0, y: y + 8, width: 250, height: 20, rx: 3}));
    more.appendChild(svgEl("text", {x: x0 + 8, y: y + 22,
      text: "show " + Math.min(PAGE, nodes.length - limit) + " more of " + (nodes.length - limit) + " nodes"}));
    g.appendChild(more);
    y += 32;
  }
  return y - y0;
}

// tunnel devices by kind, and how their chip starts (a VXLAN device is the VTEP people know)
var TUNNEL_CHIP = {vxlan: "VTEP ", geneve: "GENEVE ", ipip: "IPIP "};

function chipsOf(node) {
  var det = node.detail >= 0 ? D.details[node.detail] : null;
  if (!det) return null;
  var chips = [];
  det.devices.forEach(function (d) {
    if (d.kind === "bridge") chips.push({cls: "bridge", text: "bridge " + d.name});
    else if (TUNNEL_CHIP[d.kind]) chips.push({cls: "vtep", text: TUNNEL_CHIP[d.kind] + d.name + (d.vni !== null ? " VNI " + d.vni : "")});
  });
  det.vswitches.forEach(function (v) { chips.push({cls: "vswitch", text: "vSwitch " + v.name + " (" + v.type + ")"}); });
  det.vteps.forEach(function (v) {
    if (!det.devices.some(function (d) { return TUNNEL_CHIP[d.kind] && d.name === v.dev; })) {
      chips.push({cls: "vtep", text: "VTEP VNI " + v.vni + " :" + v.port});
    }
  });
  if (!chips.length && det.devices.length) chips.push({cls: "", text: det.devices[0].kind + " " + det.devices[0].name});
  return chips;
}

function drawCard(g, node, x, y) {
  var c = svgEl("g", {cls: "card " + node.os, "data-id": node.id, tabindex: 0});
  g.appendChild(c);
  var frame = svgEl("rect", {cls: "frame", x: x, y: y, width: CARD_W, rx: 5});
  c.appendChild(frame);
  c.appendChild(svgEl("title", {text: node.name + " \u2014 " + D.strings[node.plugin]}));
  var osw = node.os.length * 6.4 + 14;
  c.appendChild(svgEl("text", {cls: "name", x: x + 8, y: y + 16, text: short(node.name, Math.floor((CARD_W - osw - 22) / 7.4))}));
  c.appendChild(svgEl("rect", {cls: "os-bg " + node.os, x: x + CARD_W - osw - 6, y: y + 5, width: osw, height: 15, rx: 7}));
  c.appendChild(svgEl("text", {cls: "os", x: x + CARD_W - 6 - osw / 2, y: y + 16, "text-anchor": "middle", text: node.os}));
  c.appendChild(svgEl("text", {cls: "sub", x: x + 8, y: y + 31, text: node.ip + (node.podCIDR ? " \u00b7 pods " + node.podCIDR : "")}));
  var cy = y + 40;
  var chips = chipsOf(node);
  if (chips === null) {
    c.appendChild(svgEl("text", {cls: "more", x: x + 8, y: cy + 10, text: "devices: over the detail limit"}));
    cy += 18;
  } else {
    var cx = x + 8;
    chips.forEach(function (ch) {
      var label = short(ch.text, 34);
      var cw = Math.min(CARD_W - 16, label.length * CHAR_W + 10);
      if (cx + cw > x + CARD_W - 8) { cx = x + 8; cy += 20; }
      var cg = svgEl("g", {cls: "chip " + ch.cls});
      cg.appendChild(svgEl("rect", {x: cx, y: cy, width: cw, height: 16, rx: 3}));
      cg.appendChild(svgEl("text", {x: cx + 5, y: cy + 12, text: label}));
      cg.appendChild(svgEl("title", {text: ch.text}));
      c.appendChild(cg);
      cx += cw + 4;
    });
    cy += chips.length ? 22 : 0;
  }
  var pods = node.pods, pw = (CARD_W - 20) / 2;
  pods.slice(0, pods.length > POD_CHIPS + 2 ? POD_CHIPS : POD_CHIPS + 2).forEach(function (p, k) {
    var px = x + 8 + (k % 2) * (pw + 4), py = cy + Math.floor(k / 2) * 19;
    var key = D.namespaces[p[1]] + "/" + p[0], id = "pod:" + key;
    var pg = svgEl("g", {cls: "pod" + (p[3] ? " hostnet" : ""), "data-id": id, "data-ns": p[1], tabindex: 0});
    pg.appendChild(svgEl("rect", {x: px, y: py, width: pw, height: 16, rx: 8, fill: nsColor(p[1], true)}));
    pg.appendChild(svgEl("circle", {cx: px + 8, cy: py + 8, r: 4, fill: nsColor(p[1], false)}));
    pg.appendChild(svgEl("text", {x: px + 16, y: py + 12, text: short(p[0], 16)}));
    pg.appendChild(svgEl("title", {text: key + " " + p[2] + (p[3] ? " (hostNetwork)" : "")}));
    c.appendChild(pg);
    REG[id] = {el: pg, x: px, y: py, w: pw, h: 16};
  });
  var chipRows = Math.ceil(Math.min(pods.length, pods.length > POD_CHIPS + 2 ? POD_CHIPS : POD_CHIPS + 2) / 2);
  cy += chipRows * 19;
  if (pods.length > POD_CHIPS + 2) {
    var rest = pods.slice(POD_CHIPS), per = Math.floor((CARD_W - 16) / 9);
    rest.slice(0, POD_DOTS).forEach(function (p, k) {
      c.appendChild(svgEl("rect", {x: x + 8 + (k % per) * 9, y: cy + Math.floor(k / per) * 9, width: 7, height: 7,
        rx: 1, fill: nsColor(p[1], false), "data-ns": p[1]}));
    });
    cy += Math.ceil(Math.min(rest.length, POD_DOTS) / per) * 9 + 2;
    c.appendChild(svgEl("text", {cls: "more", x: x + 8, y: cy + 10,
      text: pods.length + " pods (" + (pods.length - POD_CHIPS) + " as dots" + (rest.length > POD_DOTS ? ", " + (rest.length - POD_DOTS) + " not drawn" : "") + ")"}));
    cy += 14;
  } else if (!pods.length) {
    c.appendChild(svgEl("text", {cls: "more", x: x + 8, y: cy + 10, text: "no pods"}));
    cy += 14;
  }
  var h = cy - y + 6;
  frame.setAttribute("height", h);
  REG[node.id] = {el: c, x: x, y: y, w: CARD_W, h: h};
  return h;
}

// Where a vertex is drawn; a pod that is not drawn on its own is shown by its node.
function place(id) {
  if (REG[id] && !REG[id].hidden) return REG[id];
  if (id.indexOf("pod:") === 0 && IDX.podNode[id.slice(4)] !== undefined) {
    var n = D.nodes[IDX.podNode[id.slice(4)]];
    if (n) return REG[n.id] || null;
  }
  return REG[id] || null;
}

function applyMarks() {
  var svg = document.getElementById("topo");
  if (!svg) return;
  svg.querySelectorAll(".selected,.match,.on-path,.dim").forEach(function (e) {
    e.classList.remove("selected", "match", "on-path", "dim");
  });
  S.matches.forEach(function (id) { var p = place(id); if (p && p.el) p.el.classList.add("match"); });
  if (S.selected) { var p = place(S.selected); if (p && p.el) p.el.classList.add("selected"); }
  if (S.nsOnly !== null) {
    svg.querySelectorAll("[data-ns]").forEach(function (e) {
      if (Number(e.getAttribute("data-ns")) !== S.nsOnly) e.classList.add("dim");
    });
  }
  markPath();
}
