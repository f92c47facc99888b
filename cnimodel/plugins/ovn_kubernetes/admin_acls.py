"""AdminNetworkPolicy and BaselineAdminNetworkPolicy as ovnkube writes them — a view of cnimodel's policy engine.

Cited from ovn-org/ovn-kubernetes@6c366bb4 under go-controller/pkg/ (docs/ovn-kubernetes.md §5): per ANP (and for
the BANP) one port group of the subject pods' ports (ovn/controller/admin_network_policy/utils.go:28-41); per rule
one address set of the peers' addresses — pod IPs (hostNetwork pods left out), node IPs, networks as CIDRs
(admin_network_policy.go:331-407; types.go:239-277, :334-342) — and one ACL per protocol of the rule's ports
(admin_network_policy.go:245-303): ``outport == @pg && ((ip4.src == $set))`` for ingress (to-lport),
``inport == @pg && ((ip4.dst == $set))`` for egress (from-lport, apply-after-lb; libovsdb/util/acl.go:48-57,
:147-161; utils.go:103-126). Priorities: an ANP's rules start at 30000 − 100 × its priority and go down by one per
rule; the BANP's at 1750 (types.go:17-27, :99-133, :359-390); ovnkube refuses ANP priorities above 99
(admin_network_policy.go:104-115). Actions Allow → allow-related, Deny → drop, Pass → pass (utils.go:59-87);
tier 1 for ANP ACLs, tier 3 for the BANP's (libovsdb/util/acl.go:129-145; types/const.go:97-103). ACL names
``ANP:<name>:<Ingress|Egress>:<index>`` and ``BANP:…`` (libovsdb/util/acl.go:80-87).
"""

from __future__ import annotations

from typing import Any

from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.acls import DIRECTIONS, PolicyView, acl_ids, l4_matches
from cnimodel.plugins.ovn_kubernetes.nbmodel import Acl, AddressSet, PortGroup, kv
from cnimodel.policy.model import Policy, PolicyRule

ANP_FLOW_START_PRIORITY = 30000  # types.go:23
ANP_MAX_RULES_PER_OBJECT = 100  # types.go:24
ANP_MAX_PRIORITY = 99  # types.go:25 (ovnkSupportedPriorityUpperBound)
BANP_FLOW_PRIORITY = 1750  # types.go:26
ANP_TIER, NP_TIER, BANP_TIER = 1, 2, 3  # types/const.go:99-103
ACTIONS = {"Allow": "allow-related", "Deny": "drop", "Pass": "pass"}  # utils.go:59-87
OWNER = {"AdminNetworkPolicy": ("AdminNetworkPolicy", "ANP", ANP_TIER),
         "BaselineAdminNetworkPolicy": ("BaselineAdminNetworkPolicy", "BANP", BANP_TIER)}


def rule_priority(p: Policy, index: int) -> int:
    """The ACL priority of a rule (types.go:105, :117, :374): ANP 30000 − 100 × priority − index, BANP 1750 − index."""
    if p.kind == "BaselineAdminNetworkPolicy":
        return BANP_FLOW_PRIORITY - index
    return ANP_FLOW_START_PRIORITY - int(p.order or 0) * ANP_MAX_RULES_PER_OBJECT - index


def port_group_name(p: Policy) -> str:
    """GetANPPortGroupDbIDs (utils.go:28-41): owner AdminNetworkPolicy or BaselineAdminNetworkPolicy, the name."""
    return names.hash_for_ovn(names.primary_id(OWNER[p.kind][0], p.name))


def address_set_name(p: Policy, title: str, index: int) -> str:
    """GetANPPeerAddrSetDbIDs (utils.go:89-101) with the IP family (ops/db_object_types.go:62-80)."""
    return names.hash_for_ovn(names.primary_id(OWNER[p.kind][0], p.name, title, str(index), "v4"))


def _ports(rule: PolicyRule, raw: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The rule's ports in NetworkPolicy's shape (newAdminNetworkPolicyPort, types.go:183-193), and named ports."""
    out, named = [], []
    for item in raw.get("ports") or ():
        item = item or {}
        if "namedPort" in item:
            named.append(str(item["namedPort"]))
        elif "portNumber" in item:
            d = item["portNumber"] or {}
            out.append({"protocol": d.get("protocol") or "TCP", "port": d.get("port")})
        elif "portRange" in item:
            d = item["portRange"] or {}
            out.append({"protocol": d.get("protocol") or "TCP", "port": d.get("start"), "endPort": d.get("end")})
    return out, named


def admin_policy(view: PolicyView, p: Policy, raw_spec: dict[str, Any]) -> None:
    """Lays one ANP or the BANP out as its port group, address sets and ACLs (into ``view.out``)."""
    owner, prefix, tier = OWNER[p.kind]
    if p.kind == "AdminNetworkPolicy" and (p.order or 0) > ANP_MAX_PRIORITY:
        view.out.notes.append(f"{p.title}: ovnkube supports ANP priorities 0-99 only and writes no ACLs for it "
                              "(admin_network_policy.go:104-115); cnimodel's engine still applies it")
        return
    pg = port_group_name(p)
    acls: list[Acl] = []
    for direction, (title, acl_dir, port_field, addr_dir, _) in DIRECTIONS.items():
        raw_rules = raw_spec.get(direction) or []
        for rule in p.rules(direction) or ():
            raw = raw_rules[rule.index] if rule.index < len(raw_rules) else {}
            peers = (rule.src if direction == "ingress" else rule.dst) or ()
            if any(x.endpoint is None and x.nets is None and x.nodes is None for x in peers):
                view.out.notes.append(f"{p.title} {rule.label}: a peer ovnkube does not know; the view leaves the "
                                      "rule out (cnimodel's engine fails it closed)")
                continue
            idx: list[int] = []
            for x in peers:
                if x.endpoint is not None:
                    idx += [i for i in view.members(x.endpoint) if i not in idx]
            addresses = {str(view.r.u.workloads[i].ip) for i in idx if view.r.u.workloads[i].ip is not None}
            for x in peers:
                addresses.update(str(n) for n in x.nets or ())
                if x.nodes is not None:
                    addresses.update(str(n.ip) for n in view.r.plan.nodes if x.nodes.matches(n.labels))
            aset = address_set_name(p, title, rule.index)
            view.out.address_sets[aset] = AddressSet(aset, tuple(sorted(addresses)), acl_ids(owner, (
                ("k8s.ovn.org/name", p.name), ("direction", title), ("gress-index", str(rule.index)),
                ("ip-family", "v4"))), f"peers of {p.title} {rule.label}")
            ports, named = _ports(rule, raw or {})
            if named:
                view.out.notes.append(f"{p.title} {rule.label}: named port(s) {', '.join(named)} — ovnkube matches "
                                      "each peer pod's IP and port (GetL3L4MatchesFromNamedPorts); the view leaves "
                                      "those ACLs out, cnimodel's engine resolves the names")
            lport = f"{port_field} == @{pg}"
            l3 = f"((ip4.{addr_dir} == ${aset}))"
            opts = kv({"apply-after-lb": "true"}) if direction == "egress" else ()
            for proto, l4 in l4_matches(ports).items():
                if l4 == "None" and named:
                    continue  # named ports only: no protocol-less ACL (admin_network_policy.go:266-269)
                ids = acl_ids(owner, (("k8s.ovn.org/name", p.name), ("direction", title),
                                      ("gress-index", str(rule.index)), ("port-policy-protocol", proto)))
                acls.append(Acl(acl_dir, rule_priority(p, rule.index),
                                f"{lport} && {l3}" if l4 == "None" else f"{lport} && {l3} && {l4}",
                                ACTIONS[rule.action], f"{prefix}:{p.name}:{title}:{rule.index}"[:63], opts, ids,
                                tier=tier, reason=f"{p.title} {rule.label}: {rule.action} {rule.text}"))
    subject = tuple(sorted(port for i in view.members(p.subject)
                           if (port := view.ports_of.get(view.r.u.workloads[i].key))))
    view.out.port_groups.append(PortGroup(pg, subject, tuple(acls), kv({
        "k8s.ovn.org/owner-controller": names.CONTROLLER, "k8s.ovn.org/owner-type": owner,
        "k8s.ovn.org/name": p.name, "k8s.ovn.org/id": names.primary_id(owner, p.name)}),
        reason=f"pods {p.title} selects"))


def add_admin_policies(view: PolicyView, enabled: bool) -> None:
    """Every ANP and the BANP of the plan, when ovnkube runs with ``enable-admin-network-policy`` (off by default,
    pkg/config/config.go:411, :1019-1023; the controller starts only then, ovn/default_network_controller.go:460)."""
    admin = [p for p in view.r.policies.policies if p.kind in OWNER]
    if not admin:
        return
    if not enabled:
        view.out.notes.append(f"{len(admin)} AdminNetworkPolicy/BaselineAdminNetworkPolicy object(s), but ovnkube "
                              "runs without enable-admin-network-policy ([ovnkubernetesfeature], off by default): "
                              "it writes no ACLs for them, while cnimodel's engine applies them")
        return
    objects = {(o.kind, o.name): o for o in view.r.plan.objects if o.kind in OWNER}
    for p in admin:
        obj = objects.get((p.kind, p.name))
        if obj is not None:
            admin_policy(view, p, obj.body.get("spec") or {})
