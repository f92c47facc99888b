"""``routes`` on an OVN node: the host's routes and, beside them, the logical routers' routes, policies and NAT
in ovn-nbctl's own listing shapes — checked line by line against the installed ovn-nbctl reading the exported
database."""

from __future__ import annotations

import json
from pathlib import Path

from builders import run
from ovnplans import needs_ovn

import cnimodel
from cnimodel.plugins.ovn_kubernetes.export import schema_columns, to_transact
from cnimodel.plugins.ovn_kubernetes.harness import ControlPlane
from cnimodel.plugins.ovn_kubernetes.routelists import nat_lines, policy_lines, route_lines

EXAMPLE = str(Path(__file__).parents[2] / "topologies" / "ovn-kubernetes-hybrid.yaml")


def test_routes_shows_the_logical_routers_beside_the_host() -> None:
    r = run("routes", EXAMPLE, "--node", "lin1")
    assert r.exit_code == 0
    out = r.stdout
    assert "$ ovn-nbctl lr-route-list ovn_cluster_router" in out and "$ ovn-nbctl lr-route-list GR_lin1" in out
    # lin1's pods leave through its gateway router: its subnet's source route to its join IP (node ID 3)
    assert "            10.129.0.0/23                100.64.0.3 src-ip" in out.splitlines()
    assert "GR_lin2" not in out  # another node's gateway router is not lin1's
    j = json.loads(run("routes", EXAMPLE, "--node", "lin1", "-o", "json").stdout)
    routers = {x["router"]: x for x in j["nodes"][0]["listings"]}
    assert {"prefix": "0.0.0.0/0", "nexthop": "10.0.0.1", "policy": "dst-ip", "outputPort": "rtoe-GR_lin1"} in \
        routers["GR_lin1"]["routes"]
    assert run("routes", EXAMPLE, "--node", "win1", "-o", "json").stdout.count('"listings"') == 0


@needs_ovn
def test_listings_are_ovn_nbctls() -> None:
    net = cnimodel.load(EXAMPLE)
    nb = net.cluster.plugin.northbound(net.cluster)
    request, _ = to_transact(nb, schema_columns())
    with ControlPlane() as cp:
        cp.transact(request)
        real = {(cmd, r): cp.nbctl(cmd, r).rstrip("\n").splitlines()
                for cmd in ("lr-route-list", "lr-policy-list", "lr-nat-list")
                for r in ("ovn_cluster_router", "GR_lin1")}
    cr, gr = nb.router("ovn_cluster_router"), nb.router("GR_lin1")
    assert cr is not None and gr is not None
    assert [x.rstrip() for x in real[("lr-route-list", "ovn_cluster_router")]] == route_lines(cr)
    assert [x.rstrip() for x in real[("lr-policy-list", "ovn_cluster_router")]] == policy_lines(cr)
    assert [x.rstrip() for x in real[("lr-route-list", "GR_lin1")]] == route_lines(gr)
    nat = [x.rstrip() for x in real[("lr-nat-list", "GR_lin1")]]
    mine = [x.rstrip() for x in nat_lines(gr)]
    assert nat[0] == mine[0] and sorted(nat[1:]) == sorted(mine[1:])  # ovn-nbctl's NAT order follows row UUIDs
