"""The one grammar of endpoint names (cnimodel/plan/names.py; docs/api.md, "Endpoint names"): each form read as
the table in the docs says, and every command and the API fail on a bad name with the one error type."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from builders import run

import cnimodel
from cnimodel.plan.names import parse_endpoint

TALK = str(Path(__file__).resolve().parents[1] / "topologies" / "workloads-talk.yaml")


@pytest.mark.parametrize(("word", "kind", "fields"), [
    ("web/iis", "object", {"namespace": "web", "name": "iis", "object_kind": None}),
    ("web/iis[deployment]", "object", {"namespace": "web", "name": "iis", "object_kind": "deployment"}),
    ("web/iis[pod]", "object", {"object_kind": "Pod"}),
    ("web/iis[SERVICE]", "object", {"object_kind": "Service"}),
    ("web/iis-*", "pattern", {"namespace": "web", "name": "iis-*"}),
    ("shop/d[b]", "pattern", {"namespace": "shop", "name": "d[b]"}),
    ("lin1", "node", {"name": "lin1"}),
    ("lin1[node]", "node", {"name": "lin1"}),
    ("win1:30080", "nodeport", {"name": "win1", "port": 30080}),
    ("10.244.2.3", "address", {"ip": IPv4Address("10.244.2.3")}),
    ("10.244.0.0/16", "range", {"network": IPv4Network("10.244.0.0/16")}),
    ("kube-system[Namespace]", "object", {"namespace": "", "name": "kube-system", "object_kind": "Namespace"}),
    ("db[statefulset]", "object", {"namespace": "default", "name": "db", "object_kind": "statefulset"}),
])
def test_each_form_reads_as_documented(word: str, kind: str, fields: dict[str, object]) -> None:
    e = parse_endpoint(word)
    assert e.kind == kind
    assert {k: getattr(e, k) for k in fields} == fields


@pytest.mark.parametrize("word", ["", "/web", "a/b/c", "web/[Pod]", "win1:http", "fe80::1", "lin1/x[Node]"])
def test_unreadable_names_raise_the_one_error(word: str) -> None:
    with pytest.raises(cnimodel.EndpointError):
        parse_endpoint(word)


def test_the_api_and_the_commands_share_the_error() -> None:
    net = cnimodel.load(TALK)
    for ask in (lambda: net.trace("default/nothing", "lin1"), lambda: net.reach("default/nothing", "web/iis"),
                lambda: net.graph(dst="nowhere"), lambda: net.routes("nowhere")):
        with pytest.raises(cnimodel.EndpointError):
            ask()
    assert issubclass(cnimodel.EndpointError, cnimodel.QuestionError)
    for args in (("trace", TALK, "default/nothing", "lin1"), ("reach", TALK, "--from", "default/nothing"),
                 ("lb", TALK, "--src", "default/nothing", "--dst", "10.96.0.100:80")):
        r = run(*args)
        assert r.exit_code == 2 and "default/nothing" in r.stderr and "Traceback" not in r.output
