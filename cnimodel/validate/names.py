"""Names and labels the API server would reject (k8s.io/apimachinery/pkg/util/validation, and the name rule
each kind's validation picks in kubernetes pkg/apis/core/validation and pkg/apis/apps/validation):

- a Service's name is a DNS-1035 label: ``[a-z]([-a-z0-9]*[a-z0-9])?``, at most 63 characters (it becomes a
  DNS name and an environment variable prefix);
- a Namespace's name is a DNS-1123 label: ``[a-z0-9]([-a-z0-9]*[a-z0-9])?``, at most 63;
- Pods, Nodes, workloads and NetworkPolicies are DNS-1123 subdomains: labels joined by dots, at most 253;
- a label key is an optional DNS-1123 subdomain prefix and ``/``, then a name of at most 63 characters,
  ``([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]``; a label value is empty or such a name.

A plan written by hand can hold any of these; the model reads them, but the cluster would never hold them.
Pods a workload made are judged at the workload (their names and labels come from it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache

from cnimodel.plan import Origin
from cnimodel.validate.context import Context, node_obj
from cnimodel.validate.registry import Hit, check

_LABEL1123 = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS1123_LABEL = re.compile(_LABEL1123)
DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL1123}(\.{_LABEL1123})*")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_OBJECT_RULES = {"Service": "DNS-1035 label", "NetworkPolicy": "DNS-1123 subdomain"}
SHOWN = 50  # findings shown one by one; one more sums up the rest

RULES = {  # rule -> (pattern, longest, what it allows)
    "DNS-1035 label": (DNS1035_LABEL, 63, "lower-case letters, digits and '-', starting with a letter and "
                       "ending with a letter or digit, at most 63 characters"),
    "DNS-1123 label": (DNS1123_LABEL, 63, "lower-case letters, digits and '-', starting and ending with a "
                       "letter or digit, at most 63 characters"),
    "DNS-1123 subdomain": (DNS1123_SUBDOMAIN, 253, "lower-case letters, digits, '-' and '.', each part between "
                           "dots starting and ending with a letter or digit, at most 253 characters"),
}


def name_ok(name: str, rule: str) -> bool:
    pattern, longest, _ = RULES[rule]
    return len(name) <= longest and pattern.fullmatch(name) is not None


def suggest(name: str, rule: str) -> str:
    """A name of the rule close to ``name``: lower case, other characters as '-', trimmed."""
    _, longest, _ = RULES[rule]
    keep = "a-z0-9." if rule == "DNS-1123 subdomain" else "a-z0-9"
    text = re.sub(f"[^{keep}-]+", "-", name.lower())
    if rule == "DNS-1035 label":
        text = re.sub("^[^a-z]+", "", text)
    text = re.sub(r"[-.]*\.[-.]*", ".", text).strip("-.")[:longest].rstrip("-.")
    return text or ("x" if rule == "DNS-1035 label" else "0")


@cache  # the same few labels on thousands of pods
def label_problem(key: str, value: str) -> str | None:
    """Why the API server would refuse the label ``key: value``, or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or not name_ok(prefix, "DNS-1123 subdomain")):
        return f"the key's prefix {prefix!r} is not a DNS-1123 subdomain"
    if not name or len(name) > 63 or QUALIFIED_NAME.fullmatch(name) is None:
        return (f"the key's name {name!r} must be 1-63 characters: letters, digits, '-', '_' and '.', starting "
                "and ending with a letter or digit")
    if value and (len(value) > 63 or QUALIFIED_NAME.fullmatch(value) is None):
        return (f"the value {value!r} must be at most 63 characters: letters, digits, '-', '_' and '.', starting "
                "and ending with a letter or digit")
    return None


@check("CNI-NAME-001", "error", "names", "A name or label the API server would reject",
       "k8s.io/apimachinery util/validation (IsDNS1035Label, IsDNS1123Label, IsDNS1123Subdomain, "
       "IsQualifiedName, IsValidLabelValue) and each kind's name rule in kubernetes pkg/apis/*/validation",
       needs_cluster=False)
def invalid_names(ctx: Context) -> Iterator[Hit]:
    hits = [h for h in (*_name_hits(ctx), *_label_hits(ctx)) if h is not None]
    if len(hits) <= SHOWN:
        yield from hits
        return
    yield from hits[:SHOWN - 1]
    rest = hits[SHOWN - 1:]
    if rest:
        yield Hit(f"{len(rest):,} more like the above, e.g. {rest[0].message}", rest[0].fix,
                  tuple(o for h in rest[:20] for o in h.objects), tuple(o for h in rest[:5] for o in h.at))


def _name_hit(kind: str, obj: str, name: str, rule: str, origin: Origin, path: str) -> Hit | None:
    if name_ok(name, rule):  # (150,000 pods: the object's name and field path are built only for a finding)
        return None
    return Hit(f"{kind} name {name!r} is not a {rule}: {RULES[rule][2]}; the API server refuses it",
               f"rename it, e.g. {suggest(name, rule)!r}", (obj,), (origin.at(path),))


def _name_hits(ctx: Context) -> Iterator[Hit | None]:
    plan = ctx.plan
    for n in plan.nodes:
        yield _name_hit("Node", node_obj(n.name), n.name, "DNS-1123 subdomain", n.origin, n.paths.get("name", "name"))
    # each namespace once, where it is first written
    namespaces: dict[str, tuple[Origin, str]] = {ns.name: (ns.origin, "metadata.name") for ns in plan.namespaces}
    for p in plan.pods:
        if p.namespace not in namespaces:
            namespaces[p.namespace] = (p.origin, "metadata.namespace")
    for o in plan.objects:
        if o.namespace and o.namespace not in namespaces:
            namespaces[o.namespace] = (o.origin, "metadata.namespace")
    for ns, (origin, path) in namespaces.items():
        yield _name_hit("Namespace", f"{ns}[Namespace]", ns, "DNS-1123 label", origin, path)
    made = {w.ref for w in plan.workloads}
    for w in plan.workloads:
        yield _name_hit(w.kind, str(w.ref), w.name, "DNS-1123 subdomain", w.origin, "metadata.name")
    for p in plan.pods:
        if p.owner not in made and not name_ok(p.name, "DNS-1123 subdomain"):
            yield _name_hit("Pod", f"{p.key}[Pod]", p.name, "DNS-1123 subdomain", p.origin, "metadata.name")
    for o in plan.objects:
        rule = _OBJECT_RULES.get(o.kind)
        if rule is not None:
            yield _name_hit(o.kind, f"{o.key}[{o.kind}]", o.name, rule, o.origin, "metadata.name")


def _labels_hit(kind: str, obj: str, labels: Mapping[str, str], origin: Origin, path: str) -> Hit | None:
    bad = [(k, why) for k, v in labels.items() if (why := label_problem(k, v)) is not None]
    if not bad:
        return None
    said = "; ".join(f"{k}: {why}" for k, why in bad[:3]) + (f" (and {len(bad) - 3} more)" if len(bad) > 3 else "")
    return Hit(f"{kind} {obj} has labels the API server refuses — {said}",
               "fix the labels (selectors that use them must change with them)", (obj,), (origin.at(path),))


def _label_hits(ctx: Context) -> Iterator[Hit | None]:
    plan = ctx.plan
    for n in plan.nodes:
        yield _labels_hit("Node", node_obj(n.name), n.labels, n.origin, n.paths.get("labels", "labels"))
    for ns in plan.namespaces:
        yield _labels_hit("Namespace", f"{ns.name}[Namespace]", ns.labels, ns.origin, "metadata.labels")
    made = {w.ref for w in plan.workloads}
    for w in plan.workloads:
        yield _labels_hit(w.kind, str(w.ref), w.template.labels, w.origin, "spec.template.metadata.labels")
    valid: set[tuple[str, str]] = set()  # label pairs found valid: a pod whose every pair is here passes at C speed
    for p in plan.pods:
        if p.owner in made or not p.labels or valid.issuperset(p.labels.items()):
            continue
        if any(label_problem(k, v) for k, v in p.labels.items()):
            yield _labels_hit("Pod", f"{p.key}[Pod]", p.labels, p.origin, "metadata.labels")
        else:
            valid.update(p.labels.items())
