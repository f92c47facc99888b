"""Names that are rich markup (``[/]``, ``[/bold]``) print literally in every text renderer (issue #22): the
services-l2bridge example with its ``web`` namespace renamed ``[/bold]web`` and its Service ``iis`` renamed
``iis[/]``. An unmatched closing tag used to raise MarkupError in ``lb --dst`` and ``trace``."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import run

from cnimodel import examples


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> str:
    text = examples.path("services-l2bridge.yaml").read_text()
    assert "namespace: web}" in text and "{name: iis, namespace: web}" in text
    text = text.replace("{name: iis, namespace: web}", "{name: 'iis[/]', namespace: web}")
    text = text.replace("namespace: web", "namespace: '[/bold]web'")
    path = Path(tmp_path_factory.mktemp("markup")) / "plan.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("args", [
    ["lb"], ["lb", "-o", "vfp"], ["lb", "--dst", "10.96.0.100:80", "--node", "lin1"],
    ["lb", "--dst", "10.96.0.100:80", "--node", "win1"], ["summary"], ["check"], ["reach"], ["ipam"],
])
def test_markup_in_names_prints_literally(plan: str, args: list[str]) -> None:
    r = run(*args, plan)
    assert r.exit_code in (0, 1), r.output
    assert "[/bold]web/" in r.stdout  # the namespace as written, brackets and all


def test_a_trace_to_a_pod_in_a_markup_namespace(plan: str) -> None:
    r = run("trace", plan, "default/api-0", "10.96.0.100", "--port", "80")
    assert r.exit_code == 0, r.output
    # by hand: the Service's ClusterIP 10.96.0.100 balances to its two pods in [/bold]web
    assert "delivered to [/bold]web/iis-" in r.stdout


def test_the_service_name_is_a_finding_not_a_crash(plan: str) -> None:
    r = run("check", plan)
    assert "'iis[/]' is not a DNS-1035 label" in r.stdout
