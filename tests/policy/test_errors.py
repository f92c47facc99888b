"""Bad policy input: a PlanError naming the file and the field path, every problem at once, CLI exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cnimodel.cli import cli
from cnimodel.plan import PlanError

from .conftest import build, e2e_model

BAD = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: bad, namespace: x}
spec:
  selector: "app == web"
  ingress:
  - action: Reject
  - action: Allow
    protocol: TCP
    destination: {ports: [99999]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad-k8s, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}, podSelector: {}}]
    ports: [{port: 80, endPort: 70}, {protocol: ICMP}, {port: "Not_A_Name"}]
"""


def problems(*docs: str) -> list[str]:
    with pytest.raises(PlanError) as e:
        build(e2e_model(), *docs)
    return [f"{p.origin.path}: {p.message}" for p in e.value.problems]


def test_every_problem_is_reported_with_its_field_path() -> None:
    got = problems(BAD)
    paths = [g.split(":", 1)[0] for g in got]
    assert paths == ["spec.selector", "spec.ingress[0].action", "spec.ingress[1].destination.ports[0]",
                     "spec.ingress[0].from[0]", "spec.ingress[0].ports[0].endPort", "spec.ingress[0].ports[1].protocol",
                     "spec.ingress[0].ports[2].port"]
    assert "malformed selector" in got[0] and "Reject" in got[1]


def test_except_outside_the_cidr_is_rejected() -> None:
    got = problems("""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8, 10.0.0.0/8]}}]}]
""")
    assert [g.split(":", 1)[0] for g in got] == ["spec.ingress[0].from[0].ipBlock.except[0]",
                                                 "spec.ingress[0].from[0].ipBlock.except[1]"]


def test_a_policy_in_an_unknown_tier_is_rejected() -> None:
    got = problems("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\n"
                   "spec: {tier: security, selector: all()}\n")
    assert got == ["spec.tier: no Tier named 'security'"]


def test_ports_need_a_port_protocol_in_calico() -> None:
    got = problems("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\n"
                   "spec: {ingress: [{action: Allow, destination: {ports: [80]}}]}\n")
    assert got == ["spec.ingress[0].destination.ports: ports need the rule's protocol to be TCP, UDP or SCTP"]


def test_cli_exits_2_and_names_the_file(tmp_path: Path) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text(BAD)
    res = CliRunner().invoke(cli, ["reach", str(plan)])
    assert res.exit_code == 2
    assert f"{plan} spec.selector: error: malformed selector" in res.output
    assert f"{plan} (document 2) spec.ingress[0].ports[0].endPort" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "80/ICMP"], "unknown protocol"),
    (["--port", "http"], "not a port number"),
    (["-o", "matrix"], "--port"),
    (["--from", "nope/x"], "--from 'nope/x': no pod or workload nope/x in the plan; no pod is in namespace 'nope'"),
    (["--from", "nope/x*"], "no pod matches"),
    (["--to", "2001:db8::/64"], "IPv6"),
    (["--explain", "-o", "csv"], "--explain"),
])
def test_cli_usage_problems_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    plan = tmp_path / "ok.yaml"
    plan.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: []}\n")
    res = CliRunner().invoke(cli, ["reach", str(plan), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output
