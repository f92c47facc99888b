"""The Python front door (docs/api.md): its examples run as doctests, and its answers equal the CLI's."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest
from builders import cluster_doc, pod_doc, run, write_docs

import cnimodel
from cnimodel import api, table

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", [api, table])
def test_module_doctests(module: object) -> None:
    failed, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert tried and not failed


def test_docs_api_md_runs() -> None:
    failed, tried = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False,
                                     optionflags=doctest.ELLIPSIS)
    assert tried > 20 and not failed


def test_answers_equal_the_cli(tmp_path: Path) -> None:
    plan = write_docs(tmp_path / "p.yaml", [cluster_doc(), pod_doc("a", "lin1"), pod_doc("b", "win1")])
    net = cnimodel.load(plan)
    cli_routes = json.loads(run("routes", str(plan), "--node", "win1", "-o", "json").stdout)["nodes"][0]["routes"]
    assert net.routes("win1").to_json() == cli_routes
    cli_trace = json.loads(run("trace", str(plan), "default/a", "default/b", "-o", "json").stdout)
    assert net.trace("default/a", "default/b").to_json() == {k: v for k, v in cli_trace.items() if k != "unenforced"}
    cli_lookup = json.loads(run("lookup", str(plan), "10.244.2.3", "--node", "lin1", "-o", "json").stdout)
    assert net.lookup("lin1", "10.244.2.3").route == cli_lookup["route"]


def test_objects_in_memory_and_files_merge(tmp_path: Path) -> None:
    plan = write_docs(tmp_path / "p.yaml", [cluster_doc()])
    net = cnimodel.load(plan, [pod_doc("a", "lin1"), pod_doc("b", "lin1")], pod_doc("c", "win1"))
    assert sorted(net.pods().column("name")) == ["a", "b", "c"]
    with pytest.raises(cnimodel.PlanError) as info:
        cnimodel.load(plan, pod_doc("a", "lin1"), pod_doc("a", "win1"))
    assert "Pod default/a is given twice" in str(info.value)


def test_one_error_type(tmp_path: Path) -> None:
    net = cnimodel.load(cnimodel.example("default.yaml"))
    for ask in (lambda: net.routes("nope"), lambda: net.trace("default/nope", "web/iis-0"),
                lambda: net.reach("default/nope", "web/iis-0"), lambda: cnimodel.load(tmp_path / "missing.yaml")):
        with pytest.raises(cnimodel.Error):
            ask()
    assert issubclass(cnimodel.PlanError, cnimodel.Error) and issubclass(cnimodel.QuestionError, cnimodel.Error)


def test_lb_on_a_linux_node_lists_kube_proxys_backends() -> None:
    """default.yaml: web/iis (clusterIP 10.96.0.100 as written, port 80) selects iis-0 on win1 and iis-1 on win2,
    whose L2Bridge pod ranges start at .3 (.2 is the bridge's host endpoint): lin1's kube-proxy balances over both."""
    net = cnimodel.load(cnimodel.example("default.yaml"))
    assert list(net.lb("lin1")) == [{"node": "lin1", "service": "web/iis", "protocol": "TCP", "frontend": "clusterIP",
                                     "vips": ["10.96.0.100"], "port": 80, "backends": ["10.244.2.3", "10.244.3.3"]}]
