"""AdminNetworkPolicy and BaselineAdminNetworkPolicy as ovnkube's ACLs (tiers 1 and 3), and the proof that a real
ovn-northd and ovn-trace decide every flow as cnimodel's policy engine does — allowed, denied, passed on to a
NetworkPolicy, left to the baseline.

Upstream (ovn-org/ovn-kubernetes@6c366bb4, go-controller/pkg/ovn/controller/admin_network_policy/): priorities
30000 − 100 × ANP priority − rule index, the BANP 1750 − index (types.go:17-27, :99-133, :359-390); actions Allow
→ allow-related, Deny → drop, Pass → pass (utils.go:59-87); tiers 1 and 3 (libovsdb/util/acl.go:129-145); matches
``outport == @pg && ((ip4.src == $as))`` (admin_network_policy.go:245-303; utils.go:103-126).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ovnplans import config, needs_ovn, netpol, plan_doc, pod, write

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.export import schema_columns, to_transact
from cnimodel.plugins.ovn_kubernetes.tiers import flatten
from cnimodel.plugins.ovn_kubernetes.verify import VerifyReport, verify

ANP_API = "policy.networking.k8s.io/v1alpha1"
PODS = [pod("web-0", "lin1", "shop", {"app": "web"}, [{"containerPort": 8080}]),
        pod("db-0", "lin2", "shop", {"app": "db"}, [{"containerPort": 5432}]),
        pod("client", "lin1", "default", {"app": "client"}, [{"containerPort": 80}]),
        pod("monitor", "lin2", "ops", {"app": "monitor"}, [{"containerPort": 9090}])]
# lin1 10.128.0.0/23: web-0 .3, client .4; lin2 10.129.0.0/23: db-0 .3, monitor .4


def ns_sel(name: str) -> dict[str, Any]:
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


ANP = {"apiVersion": ANP_API, "kind": "AdminNetworkPolicy", "metadata": {"name": "shop-guard"},
       "spec": {"priority": 10, "subject": {"namespaces": ns_sel("shop")},
                "ingress": [
                    {"name": "ops-scrapes-web", "action": "Allow", "from": [{"namespaces": ns_sel("ops")}],
                     "ports": [{"portNumber": {"protocol": "TCP", "port": 8080}}]},
                    {"name": "default-to-netpol", "action": "Pass", "from": [{"namespaces": ns_sel("default")}]},
                    {"name": "deny-rest", "action": "Deny", "from": [{"namespaces": {}}]}],
                "egress": [{"name": "no-ops", "action": "Deny", "to": [{"namespaces": ns_sel("ops")}]}]}}
# A second ANP, below the first (priority 20 → ACLs at 28000), selecting every pod: its Deny from `default` must
# not reach shop's pods for what shop-guard passes (a Pass skips the rest of the admin tier, other ANPs included).
ANP2 = {"apiVersion": ANP_API, "kind": "AdminNetworkPolicy", "metadata": {"name": "no-default"},
        "spec": {"priority": 20, "subject": {"namespaces": {}},
                 "ingress": [{"name": "deny-default", "action": "Deny", "from": [{"namespaces": ns_sel("default")}]}]}}
BANP = {"apiVersion": ANP_API, "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
        "spec": {"subject": {"namespaces": {}},
                 "ingress": [{"name": "ops", "action": "Allow", "from": [{"namespaces": ns_sel("ops")}]},
                             {"name": "not-default", "action": "Deny", "from": [{"namespaces": ns_sel("default")}]}]}}
NETPOLS = [netpol("web-from-default", "shop", {"podSelector": {"matchLabels": {"app": "web"}},
                                               "ingress": [{"from": [{"namespaceSelector": ns_sel("default")}]}]}),
           netpol("db-from-web", "shop", {"podSelector": {"matchLabels": {"app": "db"}},
                                          "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]})]

# By hand, from the API's semantics (tier 1 in priority and rule order; Pass → NetworkPolicy; then the BANP):
EXPECTED = {
    ("default/client", "shop/web-0"): True,    # Pass (over no-default's Deny) → web-from-default allows
    ("default/client", "shop/db-0"): False,    # Pass → db-from-web isolates db-0
    ("default/client", "ops/monitor"): False,  # no-default's Deny (the BANP would deny too)
    ("ops/monitor", "shop/web-0"): True,       # ANP Allow on TCP 8080 (the NetworkPolicy would deny)
    ("ops/monitor", "shop/db-0"): False,       # 5432 is not 8080 → ANP deny-rest
    ("ops/monitor", "default/client"): True,   # BANP ops Allow
    ("shop/web-0", "shop/db-0"): False,        # ANP deny-rest (db-from-web would allow)
    ("shop/db-0", "shop/web-0"): False,        # ANP deny-rest
    ("shop/web-0", "ops/monitor"): False,      # ANP egress no-ops
    ("shop/db-0", "ops/monitor"): False,       # ANP egress no-ops
    ("shop/web-0", "default/client"): True,    # nothing decides
    ("shop/db-0", "default/client"): True,
}


def plan(tmp_path: Path, enabled: bool = True) -> Cluster:
    cfg = config(ovnkubernetesfeature={"enable-admin-network-policy": enabled})
    return Cluster.build(load_plan([write(tmp_path, [plan_doc(cfg=cfg), *PODS, ANP, ANP2, BANP, *NETPOLS])]))


def test_anp_and_banp_acls(tmp_path: Path) -> None:
    c = plan(tmp_path)
    nb = c.plugin.northbound(c)
    pgs = {g.name: g for g in nb.port_groups}
    anp = pgs[names.hash_for_ovn("default-network-controller:AdminNetworkPolicy:shop-guard")]
    assert anp.ports == ("shop_db-0", "shop_web-0")

    def aset(owner: str, name: str, direction: str, index: int) -> str:
        return names.hash_for_ovn(f"default-network-controller:{owner}:{name}:{direction}:{index}:v4")

    ops_in, def_in, all_in = (aset("AdminNetworkPolicy", "shop-guard", "Ingress", i) for i in range(3))
    ops_out = aset("AdminNetworkPolicy", "shop-guard", "Egress", 0)
    pg = anp.name
    # priority 10 → 30000 − 1000 = 29000, then one less per rule
    assert [(a.direction, a.priority, a.action, a.tier, a.match, a.name) for a in anp.acls] == [
        ("to-lport", 29000, "allow-related", 1, f"outport == @{pg} && ((ip4.src == ${ops_in})) && tcp && "
         "tcp.dst==8080", "ANP:shop-guard:Ingress:0"),
        ("to-lport", 28999, "pass", 1, f"outport == @{pg} && ((ip4.src == ${def_in}))", "ANP:shop-guard:Ingress:1"),
        ("to-lport", 28998, "drop", 1, f"outport == @{pg} && ((ip4.src == ${all_in}))", "ANP:shop-guard:Ingress:2"),
        ("from-lport", 29000, "drop", 1, f"inport == @{pg} && ((ip4.dst == ${ops_out}))",
         "ANP:shop-guard:Egress:0")]
    assert dict(anp.acls[3].options) == {"apply-after-lb": "true"}
    sets = {a.name: a.addresses for a in nb.address_sets}
    assert sets[ops_in] == ("10.129.0.4",) and sets[def_in] == ("10.128.0.4",)
    assert sets[all_in] == ("10.128.0.3", "10.128.0.4", "10.129.0.3", "10.129.0.4")
    banp = pgs[names.hash_for_ovn("default-network-controller:BaselineAdminNetworkPolicy:default")]
    assert len(banp.ports) == 4
    assert [(a.priority, a.action, a.tier, a.name) for a in banp.acls] == [
        (1750, "allow-related", 3, "BANP:default:Ingress:0"), (1749, "drop", 3, "BANP:default:Ingress:1")]


def test_tiers_onto_one_priority_order(tmp_path: Path) -> None:
    """OVN 23.03 has no tier column and no pass action: the pass becomes a negation in the tier-1 ACLs below it,
    the BANP moves below the NetworkPolicy default deny (1000)."""
    c = plan(tmp_path)
    nb = c.plugin.northbound(c)
    flat, notes = flatten(nb)
    acls = [a for g in flat.port_groups for a in g.acls]
    assert not [a for a in acls if a.action == "pass"] and notes
    anp = next(g for g in nb.port_groups if any(a.tier == 1 for a in g.acls))
    passed = anp.acls[1].match.split(" && ", 1)[1]  # without its port group (ovn-trace cannot negate one)
    deny = next(a for a in acls if a.name == "ANP:shop-guard:Ingress:2")
    assert deny.match == f"({anp.acls[2].match}) && !({passed})"
    other = next(a for a in acls if a.name == "ANP:no-default:Ingress:0")
    original = next(a for g in nb.port_groups for a in g.acls if a.name == "ANP:no-default:Ingress:0")
    assert other.priority == 30000 - 20 * 100  # below shop-guard's pass (28999)
    # shop-guard's pass, its port group spelled out as the pods both policies select
    assert other.match == f'({original.match}) && !(outport == {{"shop_db-0", "shop_web-0"}} && {passed})'
    allow = next(a for a in acls if a.name == "ANP:shop-guard:Ingress:0")
    assert allow.match == anp.acls[0].match  # above the pass: unchanged
    assert sorted(a.priority for a in acls if a.name and a.name.startswith("BANP:")) == [749, 750]
    assert max(a.priority for a in acls if a.name and a.name.startswith("BANP:")) < min(
        a.priority for a in acls if a.tier == 2)
    request, _ = to_transact(nb, schema_columns())
    rows = [op["row"] for op in request[1:] if op["table"] == "ACL"]
    assert all(r["action"] != "pass" for r in rows)


def test_disabled_writes_no_admin_acls(tmp_path: Path) -> None:
    c = plan(tmp_path, enabled=False)
    nb = c.plugin.northbound(c)
    assert not [a for g in nb.port_groups for a in g.acls if a.tier != 2]
    assert any("enable-admin-network-policy" in n for n in nb.notes)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> VerifyReport:
    c = plan(tmp_path_factory.mktemp("anp"))
    return verify(c, c.plugin)


@needs_ovn
def test_ovn_trace_decides_as_the_engine(report: VerifyReport) -> None:
    """Every pod pair traced through ovn-northd's flows; each verdict the one derived by hand above."""
    assert report.mismatches == [] and report.disagreements == []
    got = {(r.flow.src, r.flow.dst): r.trace.verdict for r in report.results if not r.flow.backend}
    for (src, dst), allowed in EXPECTED.items():
        assert got[(src, dst)] == ("delivered" if allowed else "dropped"), (src, dst)


@needs_ovn
def test_nbctl_script_writes_the_same_admin_acls(tmp_path: Path) -> None:
    """`ovn export -o nbctl` on the installed schema loads the same tier-mapped ACLs as the transact request:
    ovn-nbctl's listing of the ANP port group (priorities, actions, matches) is the same both ways."""
    from cnimodel.plugins.ovn_kubernetes.export import to_nbctl
    from cnimodel.plugins.ovn_kubernetes.harness import ControlPlane

    c = plan(tmp_path)
    nb = c.plugin.northbound(c)
    script, notes = to_nbctl(nb, schema_columns())
    assert any("no ACL tiers" in n for n in notes)
    request, _ = to_transact(nb, schema_columns())
    pg = names.hash_for_ovn("default-network-controller:AdminNetworkPolicy:shop-guard")
    listed = []
    for how in ("nbctl", "transact"):
        with ControlPlane() as cp:
            cp.run_script(script) if how == "nbctl" else cp.transact(request)
            listed.append(cp.nbctl("acl-list", pg))
    assert listed[0] == listed[1]
    lines = listed[0].splitlines()
    assert len(lines) == 3 and not any(" pass " in x for x in lines)  # the Pass is written as a negation
    assert any("29000" in x and "allow-related" in x for x in lines)
    assert any("28998" in x and "drop" in x and "!(" in x for x in lines)
