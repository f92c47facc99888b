"""Policy verdicts in traces. Expected verdicts are worked out by hand from the policies written here and the
Kubernetes NetworkPolicy semantics (policy-semantics.md): a pod selected for a direction is isolated in it and
only what a rule allows passes; egress is judged against the backend after DNAT; ingress against the source
as it arrives; replies pass by connection state. Enforcement comes from the plan's plugins (cni-plugins.md:
flannel alone enforces nothing; Calico policy-only enforces with iptables on Linux, HNS ACLs on Windows)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnimodel.cli import cli
from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.policy import Reachability
from cnimodel.trace import trace

TOPO = Path(__file__).resolve().parents[2] / "topologies"

SHOP = """
apiVersion: cnimodel/v1
kind: ClusterPlan
metadata: {name: shop}
spec:
  clusterCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  network: {plugin: flannel, backend: host-gw}
  policy: {plugin: calico, config: {CALICO_NETWORKING_BACKEND: none}}
  underlay: {subnets: [{name: nodes, cidr: 10.240.0.0/24, gateway: 10.240.0.1}]}
  nodes:
    - {name: lin1, os: linux, ip: 10.240.0.10}
    - {name: lin2, os: linux, ip: 10.240.0.11}
---
{apiVersion: v1, kind: Namespace, metadata: {name: shop}}
---
{apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop, labels: {app: web}},
 spec: {nodeName: lin1, containers: [{name: c, image: nginx}]}}
---
{apiVersion: v1, kind: Pod, metadata: {name: other, namespace: shop, labels: {app: other}},
 spec: {nodeName: lin1, containers: [{name: c, image: nginx}]}}
---
{apiVersion: v1, kind: Pod, metadata: {name: db, namespace: shop, labels: {app: db}},
 spec: {nodeName: lin2, containers: [{name: c, image: postgres, ports: [{containerPort: 5432, name: pg}]}]}}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  type: NodePort
  selector: {app: db}
  clusterIP: 10.96.0.50
  ports: [{port: 5432, targetPort: pg, nodePort: 30432}]
---
# db takes web on its named port pg, and 203.0.113.0/24 on 5432.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: pg}]
  - from: [{ipBlock: {cidr: 203.0.113.0/24}}]
    ports: [{port: 5432}]
---
# web: no ingress at all; egress to db on 5432 and to the internet (not 10/8) on 443.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-lockdown, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
    ports: [{port: 5432}]
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
    ports: [{port: 443}]
"""
DENY_ALL = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: web}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""
ISOLATED_BY = "no rule allows it: isolated by NetworkPolicy {} (the end of tier default denies what no rule allowed)"


def policy_steps(t):  # type: ignore[no-untyped-def]
    """(hop, action, detail) of every policy step, in walk order."""
    return [(h.node, s.action, s.detail) for h in t.hops for s in h.steps if s.action.startswith("POLICY_")]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    p = tmp_path_factory.mktemp("shop") / "plan.yaml"
    p.write_text(SHOP)
    return Cluster.build(load_plan([p]))


def test_allowed_steps_name_the_rules(shop: Cluster) -> None:
    (t,) = trace(shop, "shop/web", "shop/db", port=5432)
    assert t.disposition == "ACCEPTED"
    (n1, a1, egress), (n2, a2, ingress) = policy_steps(t)
    assert (n1, a1, egress["direction"]) == ("lin1", "POLICY_ALLOWED", "egress")  # web runs on lin1
    assert (egress["policy"], egress["rule"]) == ("NetworkPolicy shop/web-lockdown", "egress rule 1")
    assert egress["mechanism"] == "iptables" and egress["enforcedBy"] == "calico-felix"
    assert (n2, a2, ingress["direction"]) == ("lin2", "POLICY_ALLOWED", "ingress")  # db runs on lin2
    assert (ingress["policy"], ingress["rule"]) == ("NetworkPolicy shop/db-ingress", "ingress rule 1")
    assert ingress["reason"].endswith(": Allow") and "pg (named)" in ingress["reason"]


def test_egress_deny_ends_the_walk_at_the_source_node(shop: Cluster) -> None:
    # web's egress allows db:5432 and the internet on 443 only; other:80 is neither.
    (t,) = trace(shop, "shop/web", "shop/other", port=80)
    assert t.disposition == "DENIED_OUT"
    ((node, action, d),) = policy_steps(t)
    assert (node, action, d["peer"]) == ("lin1", "POLICY_DENIED", "shop/other[Pod]")
    assert d["reason"] == ISOLATED_BY.format("shop/web-lockdown")
    assert ISOLATED_BY.format("shop/web-lockdown") in t.reason and t.final is None
    assert t.hops[-1].node == "lin1"  # nothing reached other's side


def test_ingress_deny_at_the_destination_node(shop: Cluster) -> None:
    # other is selected by no policy (egress open); db takes only web and 203.0.113.0/24.
    (t,) = trace(shop, "shop/other", "shop/db", port=5432)
    assert t.disposition == "DENIED_IN"
    (_, a1, e), (n2, a2, i) = policy_steps(t)
    assert (a1, e["reason"]) == ("POLICY_ALLOWED", "no policy selects shop/other[Pod] for egress: not isolated")
    assert (n2, a2, i["reason"]) == ("lin2", "POLICY_DENIED", ISOLATED_BY.format("shop/db-ingress"))
    assert t.hops[-1].node == "lin2"


def test_reach_explain_uses_the_same_words(shop: Cluster, tmp_path: Path) -> None:
    (t,) = trace(shop, "shop/other", "shop/db", port=5432)
    p = tmp_path / "plan.yaml"
    p.write_text(SHOP)
    r = CliRunner().invoke(cli, ["reach", str(p), "--from", "shop/other", "--to", "shop/db", "--port", "5432",
                                 "--explain", "-o", "json"])
    assert r.exit_code == 0, r.output
    ingress = json.loads(r.output)["connections"][0]["explain"]["ingress"]["steps"][0]["reason"]
    assert policy_steps(t)[-1][2]["reason"] == ingress


def test_policy_judges_the_backend_after_dnat(shop: Cluster) -> None:
    # To the VIP 10.96.0.50 web's egress would be denied (10/8 is excepted and 5432 is not 443); to the
    # backend pod db it is allowed by egress rule 1.
    (t,) = trace(shop, "shop/web", "10.96.0.50", port=5432)
    assert t.disposition == "ACCEPTED"
    (_, _, egress), _ = policy_steps(t)
    assert egress["peer"] == "shop/db[Pod]" and egress["rule"] == "egress rule 1"


def test_ipblock_for_external_traffic(shop: Cluster) -> None:
    (ok,) = trace(shop, "shop/web", "93.184.216.34", port=443)
    assert ok.disposition == "EXITS_NETWORK"
    assert policy_steps(ok)[0][2]["rule"] == "egress rule 2"
    (no,) = trace(shop, "shop/web", "93.184.216.34", port=80)
    assert no.disposition == "DENIED_OUT" and policy_steps(no)[0][2]["peer"] == "93.184.216.34[External]"


def test_ingress_sees_the_source_as_it_arrives(shop: Cluster) -> None:
    # External client → NodePort (ETP Cluster: kube-proxy masquerades). On lin2 the backend is local: the SNAT
    # happens on the way out, after the filter, so policy sees 203.0.113.9 and ingress rule 2 allows it.
    (local,) = trace(shop, "203.0.113.9", "lin2:30432")
    assert local.disposition == "ACCEPTED"
    ((_, _, d),) = policy_steps(local)
    assert (d["peer"], d["rule"]) == ("203.0.113.9[External]", "ingress rule 2")
    assert "before lin2's own SNAT" in d["note"]
    # Through lin1 the packet reaches lin2 already masqueraded to lin1's address: no rule takes a node.
    (remote,) = trace(shop, "203.0.113.9", "lin1:30432")
    assert remote.disposition == "DENIED_IN"
    ((node, _, d),) = policy_steps(remote)
    assert (node, d["peer"]) == ("lin2", "lin1[Node]")


def test_reply_passes_by_connection_state(shop: Cluster) -> None:
    # web takes no ingress at all, yet db's reply reaches it: conntrack, not policy, lets replies in.
    (new,) = trace(shop, "shop/db", "shop/web", port=80)
    assert new.disposition == "DENIED_IN"
    _, rev = trace(shop, "shop/web", "shop/db", port=5432, both=True)
    assert rev.disposition == "ACCEPTED"
    assert [(n, a, d["direction"]) for n, a, d in policy_steps(rev)] == [
        ("lin2", "POLICY_ESTABLISHED", "egress"), ("lin1", "POLICY_ESTABLISHED", "ingress")]
    assert "conntrack" in policy_steps(rev)[0][2]["reason"]


def test_not_enforced_on_plain_flannel(tmp_path: Path) -> None:
    # default.yaml runs flannel host-gw alone: nothing enforces policy, so deny-all in web changes nothing.
    p = tmp_path / "plan.yaml"
    p.write_text((TOPO / "default.yaml").read_text() + DENY_ALL)
    (t,) = trace(Cluster.build(load_plan([p])), "default/client", "web/iis-0", port=80)
    assert t.disposition == "ACCEPTED"
    steps = policy_steps(t)
    assert [(n, a, d["direction"]) for n, a, d in steps] == [
        ("lin1", "POLICY_NOT_ENFORCED", "egress"), ("win1", "POLICY_NOT_ENFORCED", "ingress")]
    assert all("does not enforce NetworkPolicy" in d["reason"] and "no policy plugin" in d["reason"]
               for _, _, d in steps)


def test_no_policy_objects_no_policy_steps() -> None:
    (t,) = trace(Cluster.build(load_plan([TOPO / "default.yaml"])), "default/client", "web/iis-0")
    assert policy_steps(t) == []


def test_calico_for_windows_hns_acl(tmp_path: Path) -> None:
    # canal-windows: iis-0 (win1) takes ingress from app=client only, enforced by felix as HNS ACLs.
    extra = tmp_path / "extra.yaml"
    extra.write_text(textwrap.dedent("""
        {apiVersion: v1, kind: Pod, metadata: {name: intruder, namespace: default, labels: {app: x}},
         spec: {nodeName: lin1, containers: [{name: c, image: curl}]}}
        """))
    c = Cluster.build(load_plan([TOPO / "canal-windows.yaml", extra]))
    (ok,) = trace(c, "default/client", "default/iis-0")
    assert ok.disposition == "ACCEPTED"
    node, action, d = policy_steps(ok)[-1]
    assert (node, action, d["mechanism"]) == ("win1", "POLICY_ALLOWED", "HNS ACL")
    assert (d["policy"], d["rule"]) == ("NetworkPolicy default/iis-from-client", "ingress rule 1")
    (no,) = trace(c, "default/intruder", "default/iis-0")
    assert no.disposition == "DENIED_IN"
    node, action, d = policy_steps(no)[-1]
    assert (node, action, d["mechanism"]) == ("win1", "POLICY_DENIED", "HNS ACL")
    assert d["reason"] == ISOLATED_BY.format("default/iis-from-client")


def test_calico_tier_deny_names_policy_and_rule() -> None:
    # policy-calico-tiers: db is quarantined; security.quarantine passes only monitoring, then rule 2 denies.
    (t,) = trace(Cluster.build(load_plan([TOPO / "policy-calico-tiers.yaml"])), "shop/web", "shop/db", port=5432)
    assert t.disposition == "DENIED_IN"
    d = policy_steps(t)[-1][2]
    assert (d["policy"], d["rule"]) == ("GlobalNetworkPolicy security.quarantine (order 10)", "ingress rule 2")
    assert d["reason"].startswith("tier security → GlobalNetworkPolicy security.quarantine (order 10) → ingress "
                                  "rule 2 [all traffic]: Deny")


def test_policy_calico_windows_node_not_enforced() -> None:
    # The same plan's Windows node: KUBE_NETWORK does not match flannel's network, so felix enforces nothing.
    (t,) = trace(Cluster.build(load_plan([TOPO / "policy-calico-tiers.yaml"])), "shop/web", "shop/iis", port=80)
    assert t.disposition == "ACCEPTED"
    node, action, d = policy_steps(t)[-1]
    assert (node, action) == ("win1", "POLICY_NOT_ENFORCED") and "KUBE_NETWORK" in d["reason"]


def test_cli_exit_and_json(tmp_path: Path) -> None:
    p = tmp_path / "plan.yaml"
    p.write_text(SHOP)
    r = CliRunner().invoke(cli, ["trace", str(p), "shop/other", "shop/db", "--port", "5432", "-o", "json"])
    assert r.exit_code == 1
    body = json.loads(r.output)
    assert body["disposition"] == "DENIED_IN" and body["delivered"] is None
    step = body["hops"][-1]["steps"][-1]
    assert (step["type"], step["action"]) == ("filtered", "POLICY_DENIED")
    assert {"direction", "subject", "peer", "reason", "decidedBy"} <= set(step["detail"])
    r = CliRunner().invoke(cli, ["trace", str(p), "shop/other", "shop/db", "--port", "5432"])
    assert r.exit_code == 1 and "POLICY_DENIED" in r.output and "DENIED_IN" in r.output


def test_reachability_is_built_once_per_cluster(shop: Cluster) -> None:
    assert Reachability.from_cluster(shop) is Reachability.from_cluster(shop)
    r = Reachability.from_cluster(shop)
    web, db = r.resolve("shop/web")[0], r.resolve("shop/db")[0]
    assert r.connection(web, db).conns is not None and r.connection(web, db).conns.text() == "TCP 5432"


def test_without_policy_only_routing_decides(shop: Cluster, tmp_path: Path) -> None:
    # The kernel check (cnimodel/kernel/compare.py) asks for routing and NAT only and applies policy itself.
    (t,) = trace(shop, "shop/other", "shop/db", port=5432, policy=False)
    assert t.disposition == "ACCEPTED" and policy_steps(t) == []
    p = tmp_path / "plan.yaml"
    p.write_text(SHOP)
    r = CliRunner().invoke(cli, ["trace", str(p), "shop/other", "shop/db", "--port", "5432", "--no-policy"])
    assert r.exit_code == 0 and "POLICY" not in r.output
