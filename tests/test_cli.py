"""Every foundation command and output format, with the JSON keys the issue's contract names:

ipam   {"nodes": [{"name","os","podCIDRs","gateway","reserved"}], "pods": [{"namespace","name","node","ip"}],
        "capacity": {...}}
routes {"nodes": [{"name","os","routes": [{"dst","via","dev","onlink","scope","kind","owner"}], "neighbors",
        "fdb","hns"}], "underlay": [{"name","routes"}]}
"""

from __future__ import annotations

import json
from pathlib import Path

from builders import run, run_process

from cnimodel import examples

NODE_KEYS = {"name", "os", "podCIDRs", "gateway", "reserved"}
POD_KEYS = {"namespace", "name", "node", "ip"}
ROUTE_KEYS = {"dst", "via", "dev", "onlink", "scope", "kind", "owner"}
FACT_KEYS = {"name", "os", "routes", "neighbors", "fdb", "hns"}


def test_no_arguments_runs_the_main_job_on_the_embedded_plan() -> None:
    r = run_process()
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "hybrid-hostgw" in out
    for name in ("master", "lin1", "win1", "win2"):
        assert name in out
    # the computed allocation and routes, not only names: §10 pod CIDRs and lin1's route to win1
    for cidr in ("10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"):
        assert cidr in out
    assert "10.240.0.20" in out and "cbr0_ep" in out
    assert "Traceback" not in r.stderr


def test_summary_of_a_given_plan(worked: Path) -> None:
    r = run("summary", str(worked))
    assert r.exit_code == 0, r.stderr
    assert "4 nodes" in r.stdout and "4 pods" in r.stdout


def test_topologies_lists_the_shipped_plans() -> None:
    r = run("topologies")
    assert r.exit_code == 0
    names = [line.split("\t")[0] for line in r.stdout.splitlines()]
    assert {"default.yaml", "talk-l2bridge-cloud.yaml"} <= set(names)
    for line in r.stdout.splitlines():
        assert Path(line.split("\t")[1]).is_file()


def test_version() -> None:
    r = run("--version")
    assert r.exit_code == 0 and "version" in r.stdout


def test_ipam_json_contract(worked: Path) -> None:
    r = run("ipam", str(worked), "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"nodes", "pods", "capacity"} <= set(data)
    assert all(set(n) >= NODE_KEYS for n in data["nodes"])
    assert all(set(p) >= POD_KEYS for p in data["pods"])
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["lin1"]["podCIDRs"] == ["10.244.1.0/24"]
    assert nodes["lin1"]["gateway"] == "10.244.1.1" and nodes["win1"]["gateway"] == "10.244.2.2"
    assert {x["ip"] for x in nodes["win1"]["reserved"]} == {"10.244.2.0", "10.244.2.1", "10.244.2.2",
                                                            "10.244.2.255"}
    assert all(set(x) == {"ip", "reason"} for x in nodes["win1"]["reserved"])
    pods = {(p["namespace"], p["name"]): p for p in data["pods"]}
    assert (pods[("default", "a")]["node"], pods[("default", "a")]["ip"]) == ("lin1", "10.244.1.2")
    assert (pods[("web", "w-1")]["node"], pods[("web", "w-1")]["ip"]) == ("win1", "10.244.2.4")
    assert data["capacity"]["maxNodes"] == 256


def test_ipam_text(worked: Path) -> None:
    r = run("ipam", str(worked))
    assert r.exit_code == 0, r.stderr
    assert "10.244.2.3" in r.stdout and "256" in r.stdout
    assert "cbr0_ep" in r.stdout  # the collision warning / reserved reason


def test_routes_json_contract(worked: Path) -> None:
    r = run("routes", str(worked), "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"nodes", "underlay"}
    assert [n["name"] for n in data["nodes"]] == ["master", "lin1", "win1", "win2"]
    for n in data["nodes"]:
        assert set(n) >= FACT_KEYS
        assert n["routes"] and all(set(x) >= ROUTE_KEYS for x in n["routes"])
        assert isinstance(n["neighbors"], list) and isinstance(n["fdb"], list)
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["lin1"]["hns"] == [] and nodes["win1"]["hns"]
    lin1 = {(x["dst"], x["via"], x["dev"]) for x in nodes["lin1"]["routes"] if x["kind"] == "pod-route"}
    assert ("10.244.2.0/24", "10.240.0.20", "eth0") in lin1
    [underlay] = data["underlay"]
    assert set(underlay) >= {"name", "routes"} and underlay["name"] == "underlay"
    assert all(set(x) >= ROUTE_KEYS for x in underlay["routes"])


def test_routes_json_one_node(worked: Path) -> None:
    data = json.loads(run("routes", str(worked), "--node", "win2", "--node", "lin1", "-o", "json").stdout)
    assert [n["name"] for n in data["nodes"]] == ["win2", "lin1"]


def test_routes_text(worked: Path) -> None:
    r = run("routes", str(worked))
    assert r.exit_code == 0, r.stderr
    for text in ("lin1", "10.244.2.0/24", "10.240.0.20", "vEthernet (Ethernet)", "underlay"):
        assert text in r.stdout
    one = run("routes", str(worked), "--node", "lin1")
    assert "win2 (" not in one.stdout and "lin1 (" in one.stdout


def test_routes_hns_every_windows_node(worked: Path) -> None:
    data = json.loads(run("routes", str(worked), "-o", "hns").stdout)
    assert set(data) == {"win1", "win2"}
    assert {o["ObjectType"] for o in data["win2"]} == {"Network", "Endpoint"}


def test_routes_unknown_node(worked: Path) -> None:
    r = run("routes", str(worked), "--node", "win9")
    assert r.exit_code == 2 and "win9" in r.stderr and "Traceback" not in r.stderr


def test_graph_formats(worked: Path) -> None:
    assert json.loads(run("graph", str(worked)).stdout)["nodes"]
    assert run("graph", str(worked), "-o", "dot").stdout.startswith("graph ")


def test_talk_topology_runs_every_command() -> None:
    talk = str(examples.path("talk-l2bridge-cloud.yaml"))
    for args in (["summary", talk], ["ipam", talk, "-o", "json"], ["routes", talk, "-o", "json"],
                 ["routes", talk, "-o", "ip"], ["routes", talk, "-o", "hns", "--hns-api", "1"],
                 ["lookup", talk, "--node", "lin1", "10.244.2.5"], ["graph", talk, "-o", "dot"]):
        r = run(*args)
        assert r.exit_code == 0, (args, r.stderr)


def test_a_large_plans_summary_leaves_the_route_tables_out(tmp_path: Path) -> None:
    """51 nodes, host-gw: 51 tables of 50 peer routes would be 2,550 rows; the summary says how to list one."""
    from builders import cluster_doc, write_docs

    nodes = [{"name": f"n{i:02d}", "os": "linux", "ip": f"10.240.0.{10 + i}"} for i in range(51)]
    plan = write_docs(tmp_path / "big.yaml", [cluster_doc(nodes)])
    r = run("summary", str(plan))
    assert r.exit_code == 0, r.stderr
    assert "51 nodes: their route tables are left out of the summary" in r.stdout
    assert "cnimodel routes PLAN --node NAME" in r.stdout
    assert r.stdout.count("destination") == 1  # the underlay's table only: no node's
    small = write_docs(tmp_path / "small.yaml", [cluster_doc(nodes[:50])])
    r = run("summary", str(small))
    assert r.stdout.count("destination") == 51  # one route table per node, and the underlay's
