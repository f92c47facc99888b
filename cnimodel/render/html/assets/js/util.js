// Helpers. Every string from the plan reaches the page through textContent or setAttribute on a
// harmless attribute: never innerHTML, never an event-handler or URL attribute.

var SVGNS = "http://www.w3.org/2000/svg";

function el(tag, attrs, children) {
  var e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

function svgEl(tag, attrs, children) {
  var e = document.createElementNS(SVGNS, tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

function setAttrs(e, attrs) {
  if (!attrs) return;
  Object.keys(attrs).forEach(function (k) {
    var v = attrs[k];
    if (v === null || v === undefined || v === false) return;
    if (k === "text") e.textContent = String(v);
    else if (k === "cls") e.setAttribute("class", v);
    else if (k === "onclick") e.addEventListener("click", v);
    else if (/^on/i.test(k) || k === "href" || k === "src" || k === "style") throw new Error("unsafe attribute " + k);
    else e.setAttribute(k, String(v));
  });
}

function append(e, children) {
  if (children === null || children === undefined) return;
  if (!Array.isArray(children)) children = [children];
  children.forEach(function (c) {
    if (c === null || c === undefined || c === false) return;
    e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  });
}

function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

// A stable colour per namespace index: hues spread by the golden angle.
function nsColor(i, light) {
  var h = (i * 137.508 + 200) % 360;
  return light ? "hsl(" + h.toFixed(1) + ",70%,90%)" : "hsl(" + h.toFixed(1) + ",60%,45%)";
}

function short(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

// Pooled rows: runs is [first, count, first, count, ...] into pool.
function fromRuns(pool, runs) {
  var out = [];
  if (!runs) return out;
  for (var i = 0; i < runs.length; i += 2) {
    for (var k = 0; k < runs[i + 1]; k++) out.push(pool[runs[i] + k]);
  }
  return out;
}

function kv(pairs) {
  var dl = el("dl", {cls: "kv"});
  pairs.forEach(function (p) {
    if (p[1] === null || p[1] === undefined || p[1] === "") return;
    dl.appendChild(el("dt", {text: p[0]}));
    dl.appendChild(el("dd", null, p[1] instanceof Node ? p[1] : String(p[1])));
  });
  return dl;
}

// A table of rows with a filter box and a cap on rows drawn at once (route tables of 5,000 routes).
function table(columns, rows, opts) {
  opts = opts || {};
  var cap = opts.cap || 500;
  var wrap = el("div", {cls: "table-wrap"});
  var input = rows.length > 12 ? el("input", {cls: "filter", type: "search", placeholder: "Filter " + rows.length + " rows"}) : null;
  var body = el("div");
  function draw() {
    var q = input ? input.value.trim().toLowerCase() : "";
    var shown = q ? rows.filter(function (r) {
      return columns.some(function (c) { return String(c.get(r) === null ? "" : c.get(r)).toLowerCase().indexOf(q) >= 0; });
    }) : rows;
    var t = el("table", {cls: "grid"});
    t.appendChild(el("thead", null, el("tr", null, columns.map(function (c) { return el("th", {text: c.title}); }))));
    var tb = el("tbody");
    shown.slice(0, cap).forEach(function (r) {
      var tr = el("tr", {cls: opts.hit && opts.hit(r) ? "hit" : null});
      columns.forEach(function (c) {
        var v = c.get(r);
        tr.appendChild(el("td", {cls: c.mono ? "mono" : null}, v instanceof Node ? v : (v === null || v === undefined ? "" : String(v))));
      });
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    clear(body).appendChild(t);
    if (shown.length > cap) {
      body.appendChild(el("p", {cls: "note"}, [shown.length - cap + " more rows; ",
        el("button", {cls: "link", type: "button", text: "show all", onclick: function () { cap = shown.length; draw(); }})]));
    }
    if (!shown.length) body.appendChild(el("p", {cls: "note", text: rows.length ? "No row matches." : (opts.empty || "None.")}));
  }
  if (input) { input.addEventListener("input", draw); wrap.appendChild(input); }
  wrap.appendChild(body);
  draw();
  return wrap;
}

function pre(text) { return el("pre", {text: text}); }

function json(v) { return JSON.stringify(v, null, 2); }

function debounce(fn, ms) {
  var t = null;
  return function () { var a = arguments; clearTimeout(t); t = setTimeout(function () { fn.apply(null, a); }, ms); };
}
