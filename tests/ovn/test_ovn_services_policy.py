"""Services as OVN load balancers and NetworkPolicy as ACLs, against ovn-kubernetes' code.

Load balancers: pkg/ovn/controller/services/lb_config.go:134-228 (which configs are cluster-wide), :236-240
(names), :593-759 (per node), loadbalancer.go:339-392 (options). ACLs: base_network_controller_policy.go
(port groups, default deny), gress_policy.go:121-336 (matches), libovsdb/util/acl.go:263-328 (L4 matches).
"""

from __future__ import annotations

from pathlib import Path

from ovnplans import build, netpol, plan_doc, pod, service

from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.nbmodel import Northbound

WEB = [pod("web-0", "lin1", "shop", {"app": "web"}, [{"containerPort": 8080}]),
       pod("web-1", "lin2", "shop", {"app": "web"}, [{"containerPort": 8080}]),
       pod("db-0", "lin2", "shop", {"app": "db"}, [{"containerPort": 5432}]),
       pod("client", "lin1", "default", {"app": "client"})]
# lin1 10.128.0.0/23: web-0 .3, client .4; lin2 10.129.0.0/23: web-1 .3, db-0 .4


def nb(tmp_path: Path, docs: list) -> Northbound:
    c = build(tmp_path, docs)
    return c.plugin.northbound(c)


def test_cluster_ip_load_balancer(tmp_path: Path) -> None:
    svc = service("web", "shop", [{"name": "http", "port": 80, "targetPort": 8080}], selector={"app": "web"},
                  clusterIP="172.30.1.1")
    top = nb(tmp_path, [plan_doc(), *WEB, svc])
    lb = next(x for x in top.load_balancers if x.name == "Service_shop/web_TCP_cluster")
    assert lb.protocol == "tcp"
    assert dict(lb.vips) == {"172.30.1.1:80": "10.128.0.3:8080,10.129.0.3:8080"}
    assert dict(lb.options) == {"reject": "true", "event": "false", "skip_snat": "false",
                                "neighbor_responder": "none", "hairpin_snat_ip": "169.254.169.5 fd69::5"}
    assert dict(lb.external_ids) == {"k8s.ovn.org/kind": "Service", "k8s.ovn.org/owner": "shop/web"}
    group = next(g for g in top.load_balancer_groups if g.name == "clusterLBGroup")
    assert lb.name in group.load_balancers


def test_backends_sort_as_strings(tmp_path: Path) -> None:
    """getEligibleEndpointAddresses returns sets.List: string order, so 10.128.0.10 before 10.128.0.3."""
    pods = [pod(f"p{i}", "lin1", "default", {"app": "p"}) for i in range(9)]  # .3 … .11
    svc = service("p", "default", [{"port": 80}], selector={"app": "p"}, clusterIP="172.30.1.2")
    lb = next(x for x in nb(tmp_path, [plan_doc(), *pods, svc]).load_balancers if x.name.endswith("_cluster"))
    backends = dict(lb.vips)["172.30.1.2:80"].split(",")
    assert backends[:3] == ["10.128.0.10:80", "10.128.0.11:80", "10.128.0.3:80"]


def test_session_affinity(tmp_path: Path) -> None:
    """ClientIP with a timeout other than 10800 s: affinity_timeout; with 10800 (the API default): selection
    fields ip_src/ip_dst instead (loadbalancer.go:363-378)."""
    short = service("a", "default", [{"port": 80}], selector={"app": "client"}, clusterIP="172.30.1.3",
                    sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 300}})
    full = service("b", "default", [{"port": 80}], selector={"app": "client"}, clusterIP="172.30.1.4",
                   sessionAffinity="ClientIP")
    lbs = {x.name: x for x in nb(tmp_path, [plan_doc(), *WEB, short, full]).load_balancers}
    a, b = lbs["Service_default/a_TCP_cluster"], lbs["Service_default/b_TCP_cluster"]
    assert dict(a.options)["affinity_timeout"] == "300" and a.selection_fields == ()
    assert "affinity_timeout" not in dict(b.options) and set(b.selection_fields) == {"ip_src", "ip_dst"}


def test_no_endpoints_keeps_the_vip(tmp_path: Path) -> None:
    svc = service("none", "default", [{"port": 53, "protocol": "UDP"}], selector={"app": "nothing"},
                  clusterIP="172.30.1.5")
    lb = next(x for x in nb(tmp_path, [plan_doc(), svc]).load_balancers if x.name == "Service_default/none_UDP_cluster")
    assert dict(lb.vips) == {"172.30.1.5:53": ""} and dict(lb.options)["reject"] == "true"


def test_node_port_per_node(tmp_path: Path) -> None:
    """NodePort: one load balancer per node on its switch and gateway router, the node IP as VIP
    (node_router+switch_<node> when both sides' rules are equal)."""
    svc = service("web", "shop", [{"port": 80, "targetPort": 8080, "nodePort": 30080}], selector={"app": "web"},
                  clusterIP="172.30.1.6", type="NodePort")
    top = nb(tmp_path, [plan_doc(), *WEB, svc])
    lb = next(x for x in top.load_balancers if x.name == "Service_shop/web_TCP_node_router+switch_lin1")
    assert dict(lb.vips) == {"10.0.0.11:30080": "10.128.0.3:8080,10.129.0.3:8080"}
    sw, gr = top.switch("lin1"), top.router("GR_lin1")
    assert sw is not None and gr is not None
    assert lb.name in sw.load_balancers and lb.name in gr.load_balancers
    assert "Service_shop/web_TCP_cluster" in {x.name for x in top.load_balancers}  # the ClusterIP stays shared


def test_policy_port_groups_and_acls(tmp_path: Path) -> None:
    pol = netpol("db-from-web", "shop", {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                                         "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                                      "ports": [{"protocol": "TCP", "port": 5432}]}]})
    top = nb(tmp_path, [plan_doc(), *WEB, pol])
    pgs = {g.name: g for g in top.port_groups}
    pg = pgs[names.hash_for_ovn("default-network-controller:NetworkPolicy:shop:db-from-web")]
    assert pg.ports == ("shop_db-0",)
    # the peer's address set: key "<ns>_<selector string>" (pod_selector_address_set.go:660-712), IP family v4
    key = "shop_LS{ML:{app: web,},}"
    aset = names.hash_for_ovn(f"default-network-controller:PodSelector:{key}:v4")
    assert [(a.direction, a.priority, a.match, a.action, a.name) for a in pg.acls] == [
        ("to-lport", 1001, f"ip4.src == {{${aset}}} && tcp && tcp.dst==5432 && outport == @{pg.name}",
         "allow-related", "NP:shop:db-from-web:Ingress:0")]
    assert {a.name: a.addresses for a in top.address_sets}[aset] == ("10.128.0.3", "10.129.0.3")
    deny = pgs[names.hash_for_ovn("default-network-controller:NetpolNamespace:shop:Ingress")]
    assert deny.ports == ("shop_db-0",)
    assert [(a.direction, a.priority, a.match, a.action) for a in deny.acls] == [
        ("to-lport", 1000, f"outport == @{deny.name}", "drop"),
        ("to-lport", 1001, f"outport == @{deny.name} && (arp || nd)", "allow")]


def test_egress_ip_block_and_ports(tmp_path: Path) -> None:
    """Egress: from-lport on inport with apply-after-lb; an ipBlock with except; several ports of one protocol
    in braces, a range as lo<=tcp.dst<=hi (acl.go:288-308; gress_policy.go:165-194)."""
    pol = netpol("out", "default", {
        "podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}}],
                    "ports": [{"port": 80}, {"port": 443}, {"port": 8000, "endPort": 8100}]}]})
    top = nb(tmp_path, [plan_doc(), *WEB, pol])
    pg = next(g for g in top.port_groups if g.name == names.policy_port_group("default", "out"))
    [acl] = pg.acls
    assert acl.direction == "from-lport" and dict(acl.options) == {"apply-after-lb": "true"}
    assert acl.match == ("ip4.dst == 192.168.0.0/16 && ip4.dst != {192.168.1.0/24} && "
                         f"tcp && (tcp.dst=={{80,443}} || 8000<=tcp.dst<=8100) && inport == @{pg.name}")


def test_namespace_selector_uses_namespace_address_sets(tmp_path: Path) -> None:
    """A peer with only a namespaceSelector: each matching namespace's address set (useNamespaceAddrSet,
    base_network_controller_policy.go:1120-1125; gress_policy.go:200-224)."""
    pol = netpol("any-ns", "shop", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]})
    top = nb(tmp_path, [plan_doc(), *WEB, pol])
    pg = next(g for g in top.port_groups if g.name == names.policy_port_group("shop", "any-ns"))
    sets = sorted(names.hash_for_ovn(f"default-network-controller:Namespace:{ns}:v4") for ns in ("default", "shop"))
    assert pg.acls[0].match == f"ip4.src == {{${sets[0]}, ${sets[1]}}} && outport == @{pg.name}"


def test_named_port_is_reported(tmp_path: Path) -> None:
    """ovnkube reads a named port as port 0 (gress_policy.go:103-113): every port of the protocol; said so."""
    pol = netpol("named", "shop", {"podSelector": {"matchLabels": {"app": "web"}},
                                   "ingress": [{"ports": [{"port": "http"}]}]})
    top = nb(tmp_path, [plan_doc(), *WEB, pol])
    pg = next(g for g in top.port_groups if g.name == names.policy_port_group("shop", "named"))
    assert pg.acls[0].match == f"ip4 && tcp && outport == @{pg.name}"
    assert any("named port 'http'" in n for n in top.notes)
