"""The example plan through the CLI: ipam, routes, check, ovn export, ovn verify — and the commands a plugin
contributes through the cnimodel.commands entry-point group."""

from __future__ import annotations

import json
from pathlib import Path

from builders import run, run_process
from ovnplans import needs_ovn, plan_doc, write

EXAMPLE = str(Path(__file__).parents[2] / "topologies" / "ovn-kubernetes-hybrid.yaml")


def test_ipam_routes_check_on_the_example() -> None:
    ipam = run("ipam", EXAMPLE, "-o", "json")
    assert ipam.exit_code == 0
    pods = {f"{p['namespace']}/{p['name']}": p["ip"] for p in json.loads(ipam.stdout)["pods"]}
    # lin1 10.129.0.0/23 (the allocator's second subnet), hybrid overlay .3: pods from .4; win1 10.132.0.0/23 from .3
    assert (pods["shop/web-0"], pods["default/client"], pods["shop/iis-0"]) == ("10.129.0.4", "10.129.0.5",
                                                                                "10.132.0.3")
    routes = run("routes", EXAMPLE, "--node", "lin1", "-o", "ip")
    assert routes.exit_code == 0
    assert "10.128.0.0/14 via 10.129.0.1 dev ovn-k8s-mp0" in routes.stdout
    assert "10.132.0.0/14 via 10.129.0.3 dev ovn-k8s-mp0" in routes.stdout
    check = run("check", EXAMPLE)
    assert check.exit_code == 0, check.stdout


def test_export_formats() -> None:
    script = run("ovn", "export", EXAMPLE)
    assert script.exit_code == 0
    assert script.stdout.startswith("#!/bin/sh") and "lsp-add lin1 shop_web-0" in script.stdout
    request = json.loads(run("ovn", "export", EXAMPLE, "-o", "json").stdout)
    assert request[0] == "OVN_Northbound" and all(op["op"] == "insert" for op in request[1:])


def test_export_refuses_another_plugin(tmp_path: Path) -> None:
    flannel = plan_doc(network={"plugin": "flannel", "backend": "vxlan",
                                "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}},
                       clusterCIDR="10.244.0.0/16")
    r = run("ovn", "export", str(write(tmp_path, [flannel])))
    assert r.exit_code == 2 and "not ovn-kubernetes" in r.stderr


@needs_ovn
def test_verify_in_a_process() -> None:
    """As a user runs it: the installed entry point, a real OVN, nothing left running."""
    p = run_process("ovn", "verify", EXAMPLE, "-o", "json")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["compared"] is True and report["pairs"] == 20
    # and per OVN node: its own IP, another node's, an external address; one flow per cluster-wide Service VIP (web,
    # db; iis's only endpoint is a Windows pod outside cluster-subnets: a per-node load balancer)
    assert report["traced"] == 20 + 2 * 3 + 2
    assert report["policyDisagreements"] == 0 and report["mismatches"] == 0
    dropped = [(f["src"], f["dst"]) for f in report["flows"] if f["verdict"] == "dropped" and not f["backend"]]
    assert dropped == [("default/client", "shop/db-0")]  # db-from-web: only the web pods reach the database


@needs_ovn
def test_verify_text_compares_with_cnimodels_trace() -> None:
    r = run("ovn", "verify", EXAMPLE)
    assert r.exit_code == 0
    assert "0 flow(s) where ovn-trace and cnimodel's trace differ" in r.stdout
    assert "cnimodel trace" in r.stdout.splitlines()[1]
