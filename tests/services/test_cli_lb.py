"""``cnimodel lb``: formats, filters and exit codes (2 for an unknown node or Service)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from lbplans import cluster_doc, web_example
from test_naming import recipe

from cnimodel.cli import cli

TOPO = Path(__file__).resolve().parents[2] / "topologies"


def plan(tmp_path: Path, backend: str = "host-gw") -> str:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump_all([cluster_doc(backend), *web_example()], sort_keys=False))
    return str(path)


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["lb", *args], catch_exceptions=False)


def test_iptables_save_of_a_linux_node(tmp_path: Path) -> None:
    r = run(plan(tmp_path), "--node", "lin1", "-o", "iptables")
    assert r.exit_code == 0
    h = recipe("ns1/web:httptcp")
    assert f"-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns1/web:http\" -m tcp --dport 30080 -j KUBE-EXT-{h}" \
        in r.output
    assert r.output.count("COMMIT") == 3 and "*nat" in r.output
    restore = run(plan(tmp_path), "--node", "lin1", "-o", "iptables", "--iptables-form", "restore")
    assert "--probability 0.3333333333" in restore.output


def test_hns_json_of_a_windows_node(tmp_path: Path) -> None:
    r = run(plan(tmp_path), "--node", "win1", "-o", "hns")
    objs = json.loads(r.output)["win1"]
    assert {o["ObjectType"] for o in objs} == {"Network", "Endpoint", "LoadBalancer"}


def test_json_has_services_and_both_views(tmp_path: Path) -> None:
    body = json.loads(run(plan(tmp_path), "-o", "json").output)
    assert [s["service"] for s in body["services"]] == ["ns1/web"]
    views = {n["node"]: n for n in body["nodes"]}
    assert views["win1"]["proxy"] == "winkernel" and views["lin1"]["proxy"] == "iptables"
    assert views["win1"]["servicePorts"][0]["loadBalancers"][1]["portFlags"] == 18
    assert views["lin1"]["servicePorts"][0]["chains"]["svc"] == "KUBE-SVC-" + recipe("ns1/web:httptcp")
    assert views["win1"]["vfp"] and body["kubeProxy"]["masqueradeMark"] == "0x00004000"


def test_vfp_and_text(tmp_path: Path) -> None:
    assert "LB_HOST_*_10.96.0.10_80_8080_6" in run(plan(tmp_path), "--node", "win1", "-o", "vfp").output
    out = run(plan(tmp_path)).output
    assert "KUBE-SVC-" + recipe("ns1/web:httptcp") in out and "LocalRoutedVIP|VipExternalIP" in out


def test_decision(tmp_path: Path) -> None:
    r = run(plan(tmp_path), "--node", "lin1", "--dst", "10.96.0.10:80/tcp", "-o", "json")
    d = json.loads(r.output)
    assert d["disposition"] == "LOAD_BALANCED" and len(d["backends"]) == 3


def test_bad_input_exits_2(tmp_path: Path) -> None:
    p = plan(tmp_path)
    for args, text in ((["--node", "nope"], "no node named 'nope'"),
                       (["--service", "ns1/nope"], "no Service named 'ns1/nope'"),
                       (["--service", "web"], "NAMESPACE/NAME"),
                       (["--node", "lin1", "-o", "hns"], "Windows nodes"),
                       (["--node", "win1", "-o", "iptables"], "Linux nodes"),
                       (["--dst", "10.96.0.10:80"], "--dst needs --node"),
                       (["--node", "lin1", "--dst", "nope"], "VIP:PORT")):
        r = CliRunner().invoke(cli, ["lb", p, *args])
        assert r.exit_code == 2, args
        assert text in r.output, (args, r.output)


def test_shipped_services_topologies_load() -> None:
    for path in sorted(TOPO.glob("services-*.yaml")):
        r = run(str(path), "-o", "json")
        assert r.exit_code == 0, path
        assert json.loads(r.output)["services"], path
