"""Golden tests of the CLI formats. The golden files were written by hand from the semantics, for
fixtures/golden-a.yaml (and golden-b.yaml for diff):

* shop/db admits shop/web on its named port pg (5432) only.
* shop/web admits pods of team=ops namespaces on TCP 9090, and addresses outside 10.0.0.0/8 on its named
  port http (8080); every pod here is inside 10.0.0.0/8, so the ipBlock admits none of them.
* ops/prom may send to pods of any namespace on TCP 8080 and 9090, and to anyone on UDP 53.
* The ipBlock cuts the address space into 0.0.0.0-9.255.255.255, 10.0.0.0/8 and 11.0.0.0-255.255.255.255.
* B drops db-from-web (so shop/db is open), adds 9091 to web's ops rule (no change: prom may only send 8080
  and 9090) and adds shop/cache (10.0.1.30, inside 10.0.0.0/8, so web stays closed to it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnimodel.cli import cli

FIX = Path(__file__).parent / "fixtures"
A, B = str(FIX / "golden-a.yaml"), str(FIX / "golden-b.yaml")


def run(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def golden(name: str) -> str:
    return (FIX / "golden" / name).read_text()


@pytest.mark.parametrize(("args", "name"), [
    (("reach", A), "reach.txt"),
    (("reach", A, "--from", "*/*", "--to", "*/*", "--all-pairs"), "reach-all-pairs-pods.txt"),
    (("reach", A, "--from", "shop/web", "-o", "csv"), "reach-from-web.csv"),
    (("reach", A, "--from", "shop/web", "-o", "md"), "reach-from-web.md"),
    (("reach", A, "--from", "shop/web", "-o", "dot"), "reach-from-web.dot"),
    (("reach", A, "-o", "matrix", "--port", "8080"), "matrix-8080.txt"),
    (("reach", A, "--from", "8.8.8.8", "--to", "shop/web", "--explain"), "explain-external-to-web.txt"),
    (("diff", A, B), "diff.txt"),
    (("diff", A, B, "-o", "md"), "diff.md"),
])
def test_text_formats(args: tuple[str, ...], name: str) -> None:
    assert run(*args) == golden(name)


def test_json_format() -> None:
    assert json.loads(run("reach", A, "--from", "ops/prom", "-o", "json")) == json.loads(golden("reach-from-prom.json"))


def test_port_filter_keeps_the_line_shape() -> None:
    assert run("reach", A, "--to", "shop/web", "--port", "8080") == (
        "0.0.0.0-9.255.255.255[External] => shop/web[Pod] : TCP 8080\n"
        "11.0.0.0-255.255.255.255[External] => shop/web[Pod] : TCP 8080\n")


def test_diff_json() -> None:
    doc = json.loads(run("diff", A, B, "-o", "json"))
    assert len(doc["diffs"]) == 16
    changed = [d for d in doc["diffs"] if d["diff_type"] == "changed"]
    assert changed == [{"diff_type": "changed", "src": "shop/web", "dst": "shop/db",
                        "before": {"ports": {"TCP": [[5432, 5432]], "UDP": [], "SCTP": []}, "other": False},
                        "after": {"ports": {"TCP": [[1, 65535]], "UDP": [[1, 65535]], "SCTP": [[1, 65535]]},
                                  "other": True},
                        "info": ""}]


def test_explicit_self_pair_is_reported_not_evaluated() -> None:
    out = run("reach", A, "--from", "shop/web", "--to", "shop/web")
    assert out.startswith("shop/web[Pod] => shop/web[Pod] : not evaluated (self: a pod reaching itself is undefined")
    doc = json.loads(run("reach", A, "--from", "shop/web", "--to", "shop/web", "-o", "json"))
    assert doc["connections"][0]["ports"] is None and "undefined" in doc["connections"][0]["note"]


def test_explain_json_carries_the_hops() -> None:
    doc = json.loads(run("reach", A, "--from", "shop/web", "--to", "shop/db", "--explain", "-o", "json"))
    ingress = doc["connections"][0]["explain"]["ingress"]
    assert ingress["selected_by"] == ["NetworkPolicy shop/db-from-web"]
    allowed = [s for s in ingress["steps"] if s["allowed"]]
    assert allowed[0]["ports"]["TCP"] == [[5432, 5432]]
    assert allowed[0]["hops"] == [{"tier": "default", "policy": "NetworkPolicy shop/db-from-web",
                                   "rule": "ingress rule 1", "action": "Allow"}]
