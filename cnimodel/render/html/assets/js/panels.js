// The detail panel: what a click on a node, a pod, a subnet or the router shows.

var ROUTE_COLUMNS = [
  {title: "destination", mono: true, get: function (r) { return r.dst; }},
  {title: "next hop", mono: true, get: function (r) { return r.type === "blackhole" ? "blackhole" : (r.via || "on-link"); }},
  {title: "device", get: function (r) { return r.dev; }},
  {title: "kind", get: function (r) { return r.kind; }},
  {title: "owner", get: function (r) { return r.owner; }},
  {title: "flags", get: function (r) {
    return [r.onlink ? "onlink" : "", r.scope !== "universe" ? "scope " + r.scope : "", r.src ? "src " + r.src : "",
      r.nextHopType || "", r.name ? "name " + r.name : ""].filter(Boolean).join(", ");
  }}
];

function select(id) {
  if (!id) return;
  S.selected = id;
  applyMarks();
  var panel = clear(document.getElementById("panel-node"));
  if (id === D.underlay.id) showRouter(panel);
  else if (id.indexOf("host:") === 0 && IDX.node[id] !== undefined) showNode(panel, D.nodes[IDX.node[id]]);
  else if (id.indexOf("pod:") === 0) showPod(panel, id.slice(4));
  else if (id.indexOf("subnet:") === 0) showSubnet(panel, id);
  else if (id === "internet") panel.appendChild(el("h2", {text: "the internet"}));
  showTab("node");
  var p = place(id);
  if (p && p.el && p.el.scrollIntoView && !isVisible(p.el)) p.el.scrollIntoView({block: "center", inline: "center"});
}

function isVisible(e) {
  var r = e.getBoundingClientRect(), c = document.getElementById("canvas").getBoundingClientRect();
  return r.top >= c.top && r.bottom <= c.bottom && r.left >= c.left && r.right <= c.right;
}

function nodeLink(name) {
  var id = "host:" + name;
  return el("button", {cls: "link", type: "button", text: name, onclick: function () { select(id); }});
}

function showRouter(panel) {
  var u = D.underlay;
  panel.appendChild(el("h2", {text: "underlay router " + u.name}));
  panel.appendChild(el("p", {cls: "note", text: "The underlay's route table: its connected subnets, the routes the " +
    "network plugin or cloud provider adds, and the way out."}));
  panel.appendChild(el("h3", {text: "routes"}));
  panel.appendChild(table(ROUTE_COLUMNS, fromRuns(D.pools.routes, u.routes)));
}

function showSubnet(panel, id) {
  var s = D.subnets.filter(function (x) { return x.id === id; })[0];
  if (!s) return;
  panel.appendChild(el("h2", {text: "subnet " + s.name}));
  panel.appendChild(kv([["CIDR", s.cidr], ["gateway", s.gateway], ["MTU", s.mtu],
    ["nodes", bandNodes(D.subnets.indexOf(s)).length]]));
}

function showNode(panel, node) {
  panel.appendChild(el("h2", null, [node.name + " ", el("span", {cls: "badge " + node.os, text: node.os})]));
  var det = node.detail >= 0 ? D.details[node.detail] : null;
  var labels = Object.keys(node.labels || {}).map(function (k) { return k + "=" + node.labels[k]; }).join(", ");
  var sub = D.subnets[node.subnet];
  var pol = det ? det.policy : null;
  panel.appendChild(kv([["IP", node.ip], ["subnet", sub ? sub.name + " " + sub.cidr : ""], ["pod CIDR", node.podCIDR],
    ["plugin", D.strings[node.plugin]], ["labels", labels], ["pods", node.pods.length],
    ["policy", pol ? (pol.enforced ? "enforced by " + pol.by + (pol.mechanism ? " (" + pol.mechanism + ")" : "") :
      "not enforced" + (pol.reason ? ": " + pol.reason : "")) : ""]]));
  if (!det) {
    panel.appendChild(el("p", {cls: "note"}, ["Per-node facts are embedded for " + D.plan.detailed + " of " +
      D.plan.nodes + " nodes (the detail limit is " + D.plan.detailLimit + "). See this node with ",
      el("code", {text: "cnimodel routes PLAN --node " + node.name}), ", or render again with ",
      el("code", {text: "--node " + node.name}), "."]));
    panel.appendChild(podTable(node));
    return;
  }
  (det.notes || []).forEach(function (n) { panel.appendChild(el("p", {cls: "note", text: n})); });
  var sections = [
    ["routes", function () { return table(ROUTE_COLUMNS, fromRuns(D.pools.routes, det.routes)); }],
    ["neighbours & FDB", function () { return neighbours(det); }],
    ["devices", function () { return devices(det); }],
    ["HNS", function () { return hnsObjects(node, det); }],
    ["NAT", function () { return natRules(det); }],
    ["overlay", function () { return overlay(det); }],
    ["LB rules", function () { return lbRules(det); }],
    ["pods", function () { return podTable(node); }]
  ];
  var body = el("div", {id: "node-section"});
  var bar = el("div", {cls: "subtabs"}), buttons = {};
  sections.forEach(function (s) {
    var b = el("button", {type: "button", "data-section": s[0], text: s[0], onclick: function () {
      bar.querySelectorAll("button").forEach(function (x) { x.classList.remove("on"); });
      b.classList.add("on");
      S.section = s[0];
      clear(body).appendChild(s[1]());
    }});
    buttons[s[0]] = b;
    bar.appendChild(b);
  });
  panel.appendChild(bar);
  panel.appendChild(body);
  var want = sections.filter(function (s) { return s[0] === S.section; })[0] || sections[0];
  buttons[want[0]].click();
}

function neighbours(det) {
  var box = el("div");
  box.appendChild(el("h3", {text: "neighbours (ARP)"}));
  box.appendChild(table([
    {title: "IP", mono: true, get: function (n) { return n.ip; }}, {title: "MAC", mono: true, get: function (n) { return n.mac; }},
    {title: "device", get: function (n) { return n.dev; }}, {title: "state", get: function (n) { return n.state; }},
    {title: "owner", get: function (n) { return n.owner; }}], fromRuns(D.pools.neighbors, det.neighbors),
    {empty: "No static neighbour entries."}));
  box.appendChild(el("h3", {text: "bridge FDB"}));
  box.appendChild(table([
    {title: "MAC", mono: true, get: function (n) { return n.mac; }}, {title: "device", get: function (n) { return n.dev; }},
    {title: "remote", mono: true, get: function (n) { return n.dst; }}, {title: "state", get: function (n) { return n.state; }},
    {title: "owner", get: function (n) { return n.owner; }}], fromRuns(D.pools.fdb, det.fdb), {empty: "No FDB entries."}));
  return box;
}

function devices(det) {
  return table([
    {title: "name", get: function (d) { return d.name; }}, {title: "kind", get: function (d) { return d.kind; }},
    {title: "addresses", mono: true, get: function (d) { return d.addresses.join(", "); }},
    {title: "MTU", get: function (d) { return d.mtu; }}, {title: "MAC", mono: true, get: function (d) { return d.mac; }},
    {title: "more", get: function (d) {
      return [d.master ? "master " + d.master : "", d.vni !== null ? "VNI " + d.vni : "", d.port ? "port " + d.port : "",
        d.local ? "local " + d.local : "", d.underlayDev ? "via " + d.underlayDev : "", "owner " + d.owner].filter(Boolean).join(", ");
    }}], det.devices);
}

function hnsObjects(node, det) {
  if (node.os !== "windows") return el("p", {cls: "note", text: "HNS objects exist on Windows nodes; this node runs Linux."});
  var objs = fromRuns(D.pools.hns, det.hns).map(function (o) {
    if (o.PoliciesRef === undefined) return o;
    var full = {};
    Object.keys(o).forEach(function (k) { if (k !== "PoliciesRef") full[k] = o[k]; });
    full.Policies = D.pools.hnsPolicies[o.PoliciesRef];
    return full;
  });
  var box = el("div");
  box.appendChild(el("p", {cls: "note", text: objs.length + " HNS objects (HCN v2 JSON; the node's CNI uses HNS API v" + det.hnsApi + ")."}));
  box.appendChild(table([
    {title: "type", get: function (o) { return o.ObjectType || ""; }},
    {title: "name", get: function (o) { return o.Name || ""; }},
    {title: "role / kind", get: function (o) { return o.Role || o.Type || ""; }},
    {title: "address", mono: true, get: function (o) {
      return o.IpConfigurations ? o.IpConfigurations.map(function (c) { return c.IpAddress; }).join(", ") :
        (o.Ipams ? o.Ipams.map(function (i) { return i.Subnets.map(function (s) { return s.IpAddressPrefix; }).join(", "); }).join(", ") : "");
    }},
    {title: "policies", get: function (o) { return (o.Policies || []).map(function (p) { return p.Type; }).join(", "); }}
  ], objs));
  box.appendChild(el("h3", {text: "JSON"}));
  box.appendChild(pre(json(objs.slice(0, 200))));
  return box;
}

function natRules(det) {
  return table([
    {title: "table/chain", get: function (r) { return r.table + "/" + r.chain; }},
    {title: "source", mono: true, get: function (r) { return (r.srcNegate ? "! " : "") + (r.src || "any"); }},
    {title: "destination", mono: true, get: function (r) { return (r.dstNegate ? "! " : "") + (r.dst || "any"); }},
    {title: "action", get: function (r) { return r.action + (r.to ? " to " + r.to : "") + (r.randomFully ? " --random-fully" : ""); }},
    {title: "owner", get: function (r) { return r.owner; }}], fromRuns(D.pools.nat, det.nat), {empty: "No NAT rules modelled on this node."});
}

function overlay(det) {
  var box = el("div");
  box.appendChild(el("h3", {text: "VTEPs"}));
  box.appendChild(table([
    {title: "device", get: function (v) { return v.dev; }}, {title: "VNI", get: function (v) { return v.vni; }},
    {title: "UDP port", get: function (v) { return v.port; }}, {title: "MAC", mono: true, get: function (v) { return v.mac; }},
    {title: "local", mono: true, get: function (v) { return v.local; }}, {title: "MTU", get: function (v) { return v.mtu; }},
    {title: "state", get: function (v) { return (v.up ? "up" : "down") + (v.reason ? ": " + v.reason : ""); }}], det.vteps,
    {empty: "No VTEP: this node does not encapsulate."}));
  box.appendChild(el("h3", {text: "encapsulation per peer"}));
  box.appendChild(table([
    {title: "peer", get: function (e) { return e.peer; }}, {title: "inner dst", mono: true, get: function (e) { return e.dst; }},
    {title: "outer", mono: true, get: function (e) { return e.outerSrc + " \u2192 " + e.outerDst; }},
    {title: "VNI/port", get: function (e) { return e.vni + "/" + e.dstPort; }},
    {title: "MTU", get: function (e) { return e.innerMtu + " in " + e.outerMtu; }},
    {title: "mismatch", get: function (e) { return e.mismatch.join("; "); }}], fromRuns(D.pools.encaps, det.encaps),
    {empty: "No encapsulated hops.", hit: function (e) { return e.mismatch.length > 0; }}));
  return box;
}

function lbRules(det) {
  var lb = det.lb;
  if (!lb) return el("p", {cls: "note", text: "No load-balancer rules: the plan has no Services, or cnimodel.services is not installed."});
  var rows = D.pools.lbRows || [], box = el("div");
  box.appendChild(el("p", {cls: "note", text: "kube-proxy " + lb.proxy + " on this node."}));
  box.appendChild(table([
    {title: "service port", get: function (p) { return p.servicePort; }},
    {title: "protocol/port", get: function (p) { return p.protocol + " " + p.port; }},
    {title: "endpoints", mono: true, get: function (p) { return p.endpoints.join(", "); }},
    {title: "local", mono: true, get: function (p) { return p.local.join(", "); }}], fromRuns(rows, lb.servicePorts)));
  if (lb.os === "linux") {
    box.appendChild(el("h3", {text: "iptables (kube-proxy)"}));
    box.appendChild(pre(fromRuns(D.pools.lbLines || [], lb.lines).join("\n")));
  } else {
    box.appendChild(el("h3", {text: "VFP-style rules"}));
    box.appendChild(table([
      {title: "layer/group", get: function (r) { return r.layer + "/" + r.group; }},
      {title: "rule", get: function (r) { return r.rule; }},
      {title: "conditions", mono: true, get: function (r) { return JSON.stringify(r.conditions); }},
      {title: "action", mono: true, get: function (r) { return JSON.stringify(r.action); }}], fromRuns(rows, lb.vfp)));
    box.appendChild(el("h3", {text: "HNS load balancers"}));
    box.appendChild(pre(json(fromRuns(rows, lb.loadBalancers).slice(0, 200))));
  }
  (lb.notes || []).forEach(function (n) { box.appendChild(el("p", {cls: "note", text: n})); });
  return box;
}

function podTable(node) {
  return table([
    {title: "pod", get: function (p) { return podLink(D.namespaces[p[1]] + "/" + p[0]); }},
    {title: "IP", mono: true, get: function (p) { return p[2]; }},
    {title: "", get: function (p) { return p[3] ? "hostNetwork" : ""; }}], node.pods, {empty: "No pods on this node."});
}

function podLink(key) {
  return el("button", {cls: "link", type: "button", text: key, onclick: function () { select("pod:" + key); }});
}

function showPod(panel, key) {
  var ni = IDX.podNode[key];
  var node = ni !== undefined ? D.nodes[ni] : null;
  var row = node ? node.pods.filter(function (p) { return D.namespaces[p[1]] + "/" + p[0] === key; })[0] : null;
  if (!row) { panel.appendChild(el("h2", {text: key})); panel.appendChild(el("p", {cls: "note", text: "Not drawn."})); return; }
  var sw = el("span", {cls: "swatch"});
  sw.style.background = nsColor(row[1], false);
  panel.appendChild(el("h2", {text: key}));
  var labels = D.podLabels[key] ? Object.keys(D.podLabels[key]).map(function (k) { return k + "=" + D.podLabels[key][k]; }).join(", ") : "";
  panel.appendChild(kv([["namespace", el("span", null, [sw, " ", D.namespaces[row[1]]])], ["name", row[0]],
    ["IP", row[2]], ["node", nodeLink(node.name)], ["network", row[3] ? "hostNetwork (the node's address)" : "pod network"],
    ["labels", labels]]));
  var reach = reachFromPod(key, row);
  if (reach) panel.appendChild(reach);
}
