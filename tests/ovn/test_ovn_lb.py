"""Services as OVN load balancers: ``cnimodel lb`` in ovn-nbctl lb-list's shape (checked against the installed
ovn-nbctl's own listing of the exported database) and the trace's load-balancing step.

Hand-derived: node IDs from 2 in plan order (master 2, lin1 3, lin2 4), so GR_lin2's join address is 100.64.0.4
(lb_force_snat_ip=router_ip SNATs what its load balancer takes from outside to it); a pod's packet meets its node
switch's load balancers (ls_in_lb, table 12), one from another node the gateway router's (lr_in_dnat, table 7);
hairpin_snat_ip 169.254.169.5 (the masquerade subnet's .5); the shop/db Service has ClientIP affinity with the
API's 10800 s, so selection_fields ip_dst,ip_src (lb_config.go:787-818).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from builders import run
from ovnplans import needs_ovn

import cnimodel
from cnimodel.plugins.ovn_kubernetes.export import schema_columns, to_transact
from cnimodel.plugins.ovn_kubernetes.harness import ControlPlane
from cnimodel.trace import Trace, trace

EXAMPLE = str(Path(__file__).parents[2] / "topologies" / "ovn-kubernetes-hybrid.yaml")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def blocks(text: str) -> list[str]:
    """lb-list's rows grouped per load balancer, the UUID blanked."""
    out: list[str] = []
    for line in text.splitlines():
        if UUID.match(line):
            out.append(UUID.sub("U" * 36, line.rstrip()))
        elif line.startswith(" " * 40) and out:
            out[-1] += "\n" + line.rstrip()
    return out


def test_lb_json_lists_the_nodes_load_balancers() -> None:
    r = run("lb", EXAMPLE, "--node", "lin1", "-o", "json")
    assert r.exit_code == 0, r.stderr
    node = json.loads(r.stdout)["nodes"][0]
    assert node["proxy"] == "plugin"
    lbs = {lb["name"]: lb for lb in node["loadBalancers"]}
    assert set(lbs) == {"Service_shop/web_TCP_cluster", "Service_shop/db_TCP_cluster",
                        "Service_shop/iis_TCP_node_router+switch_lin1"}
    assert lbs["Service_shop/web_TCP_cluster"]["vips"] == {"172.30.10.10:80": ["10.129.0.4:8080", "10.130.0.4:8080"]}
    assert lbs["Service_shop/db_TCP_cluster"]["selectionFields"] == ["ip_dst", "ip_src"]
    assert lbs["Service_shop/web_TCP_cluster"]["options"]["hairpin_snat_ip"] == "169.254.169.5 fd69::5"
    assert lbs["Service_shop/iis_TCP_node_router+switch_lin1"]["vips"]["10.0.0.11:30080"] == ["10.132.0.3:80"]


@needs_ovn
def test_lb_text_is_ovn_nbctl_lb_lists_shape() -> None:
    net = cnimodel.load(EXAMPLE)
    request, _ = to_transact(net.cluster.plugin.northbound(net.cluster), schema_columns())
    with ControlPlane() as cp:
        cp.transact(request)
        real = blocks(cp.nbctl("lb-list"))
    r = run("lb", EXAMPLE, "--node", "lin1")
    assert r.exit_code == 0
    head = "UUID                                    LB                  PROTO      VIP                  IPs"
    assert head in r.stdout.splitlines()
    mine = blocks(r.stdout)
    assert len(mine) == 3 and all(b in real for b in mine)


def traced(src: str, dst: str, port: int, backend: str) -> Trace:
    return trace(cnimodel.load(EXAMPLE).cluster, src, dst, port=port, backend=backend)[0]


def test_trace_to_a_clusterip_is_balanced_by_the_node_switch() -> None:
    t = traced("default/client", "shop/web", 80, "10.130.0.4")
    assert t.disposition == "ACCEPTED"
    dnat = next(s.detail for h in t.hops for s in h.steps if s.action == "DNAT")
    assert (dnat["via"], dnat["after"]) == ("12. ls_in_lb on lin1", "10.130.0.4:8080")
    assert t.path[-1] == "pod:shop/web-1"


def test_nodeport_from_another_node_through_the_gateway_router() -> None:
    t = cnimodel.load(EXAMPLE).trace("default/client", "lin2:30080")
    assert t.disposition == "ACCEPTED"
    got = [(h["node"], s["action"], s["detail"]) for h in t.hops for s in h["steps"]]
    dnat = next((n, d) for n, a, d in got if a == "DNAT")
    assert (dnat[0], dnat[1]["via"], dnat[1]["after"]) == ("lin2", "7. lr_in_dnat on GR_lin2", "10.132.0.3:80")
    snat = [d for n, a, d in got if a == "SNAT" and n == "lin2"]
    assert snat and snat[0]["after"] == "100.64.0.4"
    assert t.path[-1] == "pod:shop/iis-0"


def test_hairpin_is_snatted_to_the_hairpin_ip() -> None:
    t = traced("shop/web-0", "shop/web", 80, "10.129.0.4")
    assert t.disposition == "ACCEPTED"
    snat = next(s.detail for h in t.hops for s in h.steps if s.action == "SNAT")
    assert snat["after"] == "169.254.169.5"


def test_the_python_api_lists_the_ovn_load_balancers_frontends() -> None:
    """net.lb on an OVN node lists the OVN load balancers' frontends, read from the plan's own Services:
    shop/web 172.30.10.10:80 (its two pods), shop/db 172.30.10.20:5432, shop/iis 172.30.10.30:80 and NodePort
    30080 (its Windows pod)."""
    import cnimodel
    from cnimodel.examples import path

    net = cnimodel.load(str(path("ovn-kubernetes-hybrid.yaml")))
    rows = {(r["service"], r["frontend"], tuple(r["vips"]), r["port"]): sorted(r["backends"]) for r in net.lb("lin1")}
    # web-0 is lin1's first pod, web-1 lin2's: the first address after .1 router, .2 ovn-k8s-mp0 and .3 the
    # hybrid-overlay port of each node's host subnet (10.129.0.0/23 and 10.130.0.0/23)
    assert rows[("shop/web", "clusterIP", ("172.30.10.10",), 80)] == ["10.129.0.4", "10.130.0.4"]
    assert ("shop/db", "clusterIP", ("172.30.10.20",), 5432) in rows
    assert ("shop/iis", "clusterIP", ("172.30.10.30",), 80) in rows
    assert ("shop/iis", "nodePort", (), 30080) in rows
