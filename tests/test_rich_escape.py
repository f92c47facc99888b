"""Text printed through rich shows user-provided text literally: a file path or name holding ``[red]``,
``[/bold]`` or ``ns/name[Deployment]`` is neither styled, swallowed nor (for an unmatched closing tag) a crash.

rich reads ``[word]`` starting with a lower-case letter, ``#``, ``/`` or ``@`` as markup, so ``[red]`` would
vanish and ``[/x]`` raise MarkupError; ``[Deployment]`` happens to survive, but only by that accident.
"""

from __future__ import annotations

from pathlib import Path

from builders import cluster_doc, run, write_docs
from rich.console import Console

from cnimodel.plan import Origin, Problem
from cnimodel.render import text


def _nowhere() -> dict[str, object]:
    """A Deployment no node accepts (no node has kubernetes.io/os: plan9): an ``unschedulable`` warning."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nowhere", "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "x"}},
                     "template": {"metadata": {"labels": {"app": "x"}},
                                  "spec": {"nodeSelector": {"kubernetes.io/os": "plan9"},
                                           "containers": [{"name": "c", "image": "busybox"}]}}}}


def test_a_warning_from_a_file_under_a_bracketed_directory_prints_literally(tmp_path: Path) -> None:
    path = write_docs(tmp_path / "[red]plans" / "plan.yaml", [cluster_doc(), _nowhere()])
    r = run("ipam", str(path))
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if "warning: unschedulable" in ln]  # not the Pending pod's row
    assert len(lines) == 1
    assert f"{tmp_path}/[red]plans/plan.yaml" in lines[0]
    assert "default/nowhere[Deployment]" in lines[0]


def test_a_warning_holding_markup_and_a_closing_tag_prints_literally() -> None:
    console = Console(record=True, width=300, color_system=None)
    msg = "image [bold]x[/bold] of web/iis[Deployment] [/oops] [red]"
    cluster = type("C", (), {"warnings": [Problem(Origin("[red]plan.yaml"), msg, "fix [red]it", "warning")]})()
    text.warnings(console, cluster)  # type: ignore[arg-type]
    out = console.export_text()
    assert "[red]plan.yaml" in out and msg in out and "fix [red]it" in out


def test_the_summary_names_a_bracketed_plan_path_literally(tmp_path: Path) -> None:
    path = write_docs(tmp_path / "[bold]x" / "plan.yaml", [cluster_doc()])
    r = run("summary", str(path))
    assert r.exit_code == 0, r.output
    assert f"({tmp_path}/[bold]x/plan.yaml)" in r.output.splitlines()[0]


def test_a_node_named_with_brackets_prints_literally(tmp_path: Path) -> None:
    """Node names are not checked against Kubernetes' DNS rules, so a plan may hold ``lin[red]1``."""
    import copy

    from builders import WORKED_NODES

    nodes = copy.deepcopy(WORKED_NODES)
    nodes[1]["name"] = "lin[red]1"
    path = write_docs(tmp_path / "plan.yaml", [cluster_doc(nodes)])
    routes = run("routes", str(path), "--node", "lin[red]1")
    assert routes.exit_code == 0 and routes.output.startswith("lin[red]1 (linux, 10.240.0.10)")
    found = run("lookup", str(path), "--node", "lin[red]1", "10.244.0.5")
    assert found.output.startswith("lin[red]1: 10.244.0.5 matches 10.244.0.0/24")


def test_table_cells_print_names_literally(tmp_path: Path) -> None:
    """Node, pod and namespace names reach rich tables (ipam, routes): a ``[red]`` in them stays text, and an
    unmatched ``[/x]`` does not crash the table."""
    from builders import pod_doc

    doc = cluster_doc()
    doc["spec"]["nodes"][1]["name"] = "lin[red]1"
    pod = pod_doc("a[/x]b", "lin[red]1")
    path = write_docs(tmp_path / "plan.yaml", [doc, pod])
    r = run("ipam", str(path))
    assert r.exit_code == 0, r.output
    assert "lin[red]1" in r.output and "default/a[/x]b" in r.output
    r = run("routes", str(path), "--node", "lin[red]1")
    assert r.exit_code == 0, r.output
    assert "lin[red]1" in r.output
