// Findings of cnimodel check (code, severity, objects, message, fix, reference) and the plan's warnings.

function drawn(id) {
  return IDX.node[id] !== undefined || (id.indexOf("pod:") === 0 && IDX.podNode[id.slice(4)] !== undefined);
}

function showFindings(panel) {
  clear(panel);
  var f = D.findings;
  if (!f) {
    panel.appendChild(el("p", {cls: "note", text: "Findings are not in this report (rendered with --no-checks, or " +
      "cnimodel.validate is not installed). cnimodel check PLAN runs the checks."}));
  } else {
    var s = f.summary;
    panel.appendChild(el("p", null, [el("span", {cls: "badge error", text: s.error + " errors"}),
      el("span", {cls: "badge warning", text: s.warning + " warnings"}), el("span", {cls: "badge info", text: s.info + " info"}),
      el("span", {cls: "note", text: " from " + s.checks + " checks"})]));
    if (!f.findings.length) panel.appendChild(el("p", {cls: "note", text: "No findings: every check passed."}));
    f.findings.forEach(function (x) {
      var objs = el("div", {cls: "objects"});
      x.objects.forEach(function (o, k) {
        var target = x.targets.filter(function (t) { return t === "host:" + o.replace(/\[Node\]$/, "") || t === "pod:" + o.replace(/\[Pod\]$/, ""); })[0];
        objs.appendChild(target && drawn(target) ? el("button", {cls: "link", type: "button", text: o, onclick: function () {
          select(target); }}) : el("code", {text: o}));
        if (k < x.objects.length - 1) objs.appendChild(document.createTextNode(", "));
      });
      panel.appendChild(el("div", {cls: "finding " + x.severity}, [
        el("div", null, [el("span", {cls: "badge " + x.severity, text: x.severity}), el("strong", {text: x.code + " "}),
          el("span", {text: x.title})]),
        el("div", {cls: "msg", text: x.message}), objs,
        x.fix ? el("div", {cls: "fix", text: "fix: " + x.fix}) : null,
        el("div", {cls: "ref", text: [x.reference].concat(x.locations.map(function (l) {
          return l.file + (l.path ? " " + l.path : ""); })).filter(Boolean).join(" \u00b7 ")})]));
    });
  }
  if (D.warnings.length) {
    panel.appendChild(el("h3", {text: "plan warnings"}));
    panel.appendChild(pre(D.warnings.join("\n")));
  }
}
