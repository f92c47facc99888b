"""Every class of bad input: a PlanError naming the file, the document, the field path, what is wrong and the
fix; all problems reported together; CLI exit 2 without a traceback (``--debug`` shows one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import FIXTURES, at, cluster_doc, plan_errors, pod_doc, run, run_process

from cnimodel.cluster import Cluster
from cnimodel.plan import PlanError, load_plan

BAD = FIXTURES / "bad"


def errors_of(name: str):
    with pytest.raises(PlanError) as info:
        Cluster.build(load_plan([BAD / name]))
    problems = info.value.problems
    assert all(p.origin.file == str(BAD / name) for p in problems), [p.origin.file for p in problems]
    assert all(p.hint for p in problems), [p.render() for p in problems if not p.hint]
    return problems


def test_malformed_cidrs_all_reported() -> None:
    ps = errors_of("cidrs.yaml")
    host_bits = at(ps, "spec.clusterCIDR")
    assert "host bits" in host_bits.message and "10.244.0.0/16" in host_bits.hint
    assert "prefix" in at(ps, "spec.serviceCIDR").message
    assert "banana/24" in at(ps, "spec.nodes[1].podCIDR").message
    n2 = at(ps, "spec.nodes[2].podCIDR")
    assert "host bits" in n2.message and "10.244.2.0/24" in n2.hint
    assert len(ps) == 4


def test_overlapping_ranges() -> None:
    ps = errors_of("overlaps.yaml")
    svc = at(ps, "spec.serviceCIDR")
    assert "10.244.0.0/16" in svc.message and "overlaps" in svc.message
    sub = at(ps, "spec.underlay.subnets[1].cidr")
    assert "10.240.0.0/24" in sub.message


def test_node_problems_all_reported() -> None:
    ps = errors_of("nodes.yaml")
    assert "duplicate node name 'a'" in at(ps, "spec.nodes[1].name").message
    assert "10.240.0.4" in at(ps, "spec.nodes[2].ip").message  # duplicate IP, names the first holder
    assert "'a'" in at(ps, "spec.nodes[2].ip").message
    assert "outside every underlay subnet" in at(ps, "spec.nodes[3].ip").message
    outside = at(ps, "spec.nodes[4].podCIDR")
    assert "outside the cluster CIDR" in outside.message and "10.244.0.0/16" in outside.message
    overlap = at(ps, "spec.nodes[6].podCIDR")
    assert "10.244.7.0/24" in overlap.message and "'e'" in overlap.message
    assert "gateway" in at(ps, "spec.nodes[7].ip").message
    assert "nowhere" in at(ps, "spec.nodes[8].subnet").message
    lost = [p for p in ps if p.origin.document == 1]
    assert lost and lost[0].origin.path == "spec.nodeName" and "'ghost'" in lost[0].message
    assert "one of the plan's nodes" in lost[0].hint
    assert len(ps) == 8


def test_pod_addresses_outside_or_reserved() -> None:
    ps = errors_of("pods.yaml")
    by_doc = {p.origin.document: p for p in ps}
    assert set(by_doc) == {1, 2, 3}
    assert all(p.origin.path == "status.podIP" for p in ps)
    assert "10.244.2.9" in by_doc[1].message and "outside" in by_doc[1].message
    assert "reserved" in by_doc[2].message and "gateway" in by_doc[2].message
    assert "reserved" in by_doc[3].message and "cbr0_ep" in by_doc[3].message


def test_duplicate_pods_and_pod_ips() -> None:
    ps = errors_of("pods-load.yaml")
    dup = [p for p in ps if p.origin.document == 2]
    assert dup and dup[0].origin.path == "metadata.name" and "default/web" in dup[0].message
    ip = [p for p in ps if p.origin.document == 3]
    assert ip and ip[0].origin.path == "status.podIP" and "default/web" in ip[0].message


def test_unknown_plugin_lists_installed() -> None:
    ps = errors_of("unknown-plugin.yaml")
    p = at(ps, "spec.network.plugin")
    assert "weave" in p.message
    assert "flannel" in p.hint and "win-bridge" in p.hint and "kubenet" in p.hint


def test_unknown_plugin_reported_with_other_errors(tmp_path: Path) -> None:
    """An unknown plugin does not hide the plan's other problems."""
    doc = cluster_doc(clusterCIDR="10.244.0.1/16", network={"plugin": "weave"})
    ps = plan_errors(tmp_path, [doc])
    assert {"spec.network.plugin", "spec.clusterCIDR"} <= {p.origin.path for p in ps}


def test_yaml_syntax_error_line_and_column() -> None:
    ps = errors_of("syntax.yaml")
    text = (BAD / "syntax.yaml").read_text().splitlines()
    line = next(i for i, s in enumerate(text, 1) if " : oops" in s)
    column = text[line - 1].index(" : oops") + 2  # 1-based column of the stray ':'
    assert len(ps) == 1
    assert ps[0].origin.path == f"line {line} column {column}"
    assert "YAML" in ps[0].message


def test_json_syntax_error_line_and_column() -> None:
    ps = errors_of("syntax.json")
    text = (BAD / "syntax.json").read_text().splitlines()
    line = next(i for i, s in enumerate(text, 1) if "10.244.0.0/16" in s)
    column = text[line - 1].index("10.244") + 1 + len("10.244")  # the second '.' ends the number
    assert ps[0].origin.path == f"line {line} column {column}"
    assert "JSON" in ps[0].message


def test_missing_cluster_plan_names_the_file() -> None:
    ps = errors_of("no-cluster.yaml")
    assert "ClusterPlan" in ps[0].message and "kind: ClusterPlan" in ps[0].hint


def test_cluster_cidr_exhausted() -> None:
    ps = errors_of("cidr-exhausted.yaml")
    # /23 at /24: maxCIDRs = 1 << (24 - 23) = 2, so n2 and n3 get none
    assert [p.origin.path for p in ps] == ["spec.nodes[2]", "spec.nodes[3]"]
    assert "10.244.0.0/23" in ps[0].message and "2" in ps[0].message
    assert "clusterCIDR" in ps[0].hint


def test_max_pods_exceeded() -> None:
    ps = errors_of("max-pods.yaml")
    assert len(ps) == 1
    assert ps[0].origin.document == 3 and ps[0].origin.path == "spec.nodeName"  # the third pod
    assert "maxPods" in ps[0].message and "2" in ps[0].message


def test_pod_range_exhausted_linux_and_windows() -> None:
    ps = errors_of("range-exhausted.yaml")
    # documents: 0 ClusterPlan, 1-14 pods l0..l13 on n0, 15-27 pods w0..w12 on w0
    assert sorted(p.origin.document for p in ps) == [14, 27]
    assert {p.origin.path for p in ps} == {"spec.nodeName"}
    linux = next(p for p in ps if p.origin.document == 14)
    windows = next(p for p in ps if p.origin.document == 27)
    assert "13 usable" in linux.message   # /28 host-local: .2-.14
    assert "12 usable" in windows.message  # l2bridge: .3-.14


def test_flannel_subnet_len_errors(tmp_path: Path) -> None:
    etcd = {"plugin": "flannel", "backend": "host-gw", "subnetManager": "etcd"}
    ps = plan_errors(tmp_path, [cluster_doc(network={**etcd, "config": {"Network": "10.244.0.0/16",
                                                                          "SubnetLen": 31}})])
    assert "/31" in at(ps, "spec.network.config.SubnetLen").message
    ps = plan_errors(tmp_path, [cluster_doc(network={**etcd, "config": {"Network": "10.244.0.0/16",
                                                                          "SubnetLen": 17}})])
    assert "four" in at(ps, "spec.network.config.SubnetLen").message
    ps = plan_errors(tmp_path, [cluster_doc(clusterCIDR="10.244.0.0/29", nodeCIDRMaskSize=30,
                                            network={**etcd, "config": {"Network": "10.244.0.0/29"}})])
    assert "/28" in at(ps, "spec.network.config.Network").hint


def test_missing_required_fields(tmp_path: Path) -> None:
    doc = cluster_doc(nodes=[{"os": "linux", "ip": "10.240.0.9"}, {"name": "x"}])
    del doc["spec"]["underlay"]
    doc["spec"]["network"] = {"backend": "host-gw"}
    ps = plan_errors(tmp_path, [doc])
    paths = {p.origin.path for p in ps}
    assert {"spec.nodes[0].name", "spec.nodes[1].ip", "spec.network.plugin"} <= paths
    assert any(p.startswith("spec.underlay") for p in paths)


def test_node_os_and_windows_build(tmp_path: Path) -> None:
    ps = plan_errors(tmp_path, [cluster_doc(nodes=[{"name": "x", "os": "macos", "ip": "10.240.0.9"},
                                                   {"name": "y", "ip": "10.240.0.8", "windowsBuild": 20348}])])
    assert "'macos'" in at(ps, "spec.nodes[0].os").message
    assert "linux" in at(ps, "spec.nodes[0].os").hint
    assert at(ps, "spec.nodes[1].windowsBuild")


def test_config_file_unreadable_or_invalid(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"Network": ')
    ps = plan_errors(tmp_path, [cluster_doc(network={"plugin": "flannel", "configFile": "missing.json"})])
    assert "missing.json" in at(ps, "spec.network.configFile").message
    ps = plan_errors(tmp_path, [cluster_doc(network={"plugin": "flannel", "configFile": "broken.json"})])
    # the error is in the config file itself, at the end of its text: line 1, column 13
    p = at(ps, "line 1 column 13")
    assert p.origin.file == str(tmp_path / "broken.json")
    assert "broken.json (spec.network.configFile) is not valid JSON: Expecting value" in p.message


def test_wrong_api_version_and_two_cluster_plans(tmp_path: Path) -> None:
    one = cluster_doc()
    two = cluster_doc()
    one["apiVersion"] = "cnimodel/v2"
    ps = plan_errors(tmp_path, [one, two])
    assert "cnimodel/v1" in at(ps, "apiVersion").hint
    assert any(p.origin.document == 1 and "second ClusterPlan" in p.message for p in ps)


def test_pod_in_kubectl_list_names_the_item(tmp_path: Path) -> None:
    docs = [cluster_doc(), {"apiVersion": "v1", "kind": "List",
                            "items": [pod_doc("ok", "lin1"), pod_doc("lost", "nowhere")]}]
    ps = plan_errors(tmp_path, docs)
    assert ps[0].origin.document == 1 and ps[0].origin.path == "items[1].spec.nodeName"


BAD_FILES = {
    "cidrs.yaml": ["spec.clusterCIDR", "spec.serviceCIDR", "spec.nodes[1].podCIDR", "spec.nodes[2].podCIDR"],
    "overlaps.yaml": ["spec.serviceCIDR", "spec.underlay.subnets[1].cidr"],
    "nodes.yaml": ["spec.nodes[1].name", "spec.nodes[2].ip", "spec.nodes[3].ip", "spec.nodes[4].podCIDR",
                   "spec.nodes[6].podCIDR", "spec.nodes[7].ip", "spec.nodes[8].subnet",
                   "(document 2) spec.nodeName"],
    "pods.yaml": ["(document 2) status.podIP", "(document 3) status.podIP", "(document 4) status.podIP"],
    "pods-load.yaml": ["(document 3) metadata.name", "(document 4) status.podIP"],
    "syntax.yaml": ["line 7 column"],
    "syntax.json": ["line 4 column"],
    "no-cluster.yaml": ["ClusterPlan"],
    "unknown-plugin.yaml": ["spec.network.plugin"],
    "cidr-exhausted.yaml": ["spec.nodes[2]", "spec.nodes[3]"],
    "max-pods.yaml": ["(document 4) spec.nodeName"],
    "range-exhausted.yaml": ["(document 15) spec.nodeName", "(document 28) spec.nodeName"],
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_cli_exit_2_every_error_no_traceback(name: str) -> None:
    path = str(BAD / name)
    for command in (["ipam", path], ["routes", path, "-o", "json"], ["summary", path]):
        r = run(*command)
        assert r.exit_code == 2, (command, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        assert r.stdout == ""
        for where in BAD_FILES[name]:
            assert f"{path}" in r.stderr
            assert where in r.stderr, (where, r.stderr)
        assert "fix:" in r.stderr
        assert "error(s) in the plan" in r.stderr


def test_cli_real_process_exit_2_and_debug_traceback() -> None:
    path = str(BAD / "nodes.yaml")
    r = run_process("ipam", path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "spec.nodes[3].ip" in r.stderr and "fix:" in r.stderr
    d = run_process("--debug", "ipam", path)
    assert d.returncode == 2
    assert "Traceback (most recent call last)" in d.stderr
    assert "PlanError" in d.stderr


def test_cli_missing_file_exit_2() -> None:
    r = run("ipam", "/nonexistent/plan.yaml")
    assert r.exit_code == 2
    assert "/nonexistent/plan.yaml" in r.stderr and "Traceback" not in r.stderr


def test_node_object_problems_point_into_the_object(tmp_path: Path) -> None:
    """A Node object's fields live at metadata.name, spec.podCIDR and status.addresses[i].address."""
    nodes = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a"}, "spec": {"podCIDR": "10.245.0.0/24"},
         "status": {"addresses": [{"type": "Hostname", "address": "a"},
                                  {"type": "InternalIP", "address": "10.240.0.4"}]}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "b"},
         "status": {"addresses": [{"type": "InternalIP", "address": "10.250.0.4"}]}}]}
    ps = plan_errors(tmp_path, [cluster_doc(nodes=[{"name": "a", "ip": "10.240.0.4"}]), nodes])
    paths = {p.origin.path for p in ps if p.origin.document == 1}
    assert paths == {"items[0].metadata.name", "items[0].status.addresses[1].address", "items[0].spec.podCIDR",
                     "items[1].status.addresses[0].address"}


def test_node_on_a_reserved_address_of_its_named_subnet(tmp_path: Path) -> None:
    ps = plan_errors(tmp_path, [cluster_doc(nodes=[{"name": "a", "ip": "10.240.0.255", "subnet": "nodes"},
                                                   {"name": "b", "ip": "10.240.1.5", "subnet": "nodes"}])])
    assert "broadcast" in at(ps, "spec.nodes[0].ip").message
    assert "outside its subnet nodes" in at(ps, "spec.nodes[1].ip").message
