"""The failures the fuzz suite found (issue #22), each as the smallest mutation of an example plan that showed it.
Each used to end in an internal error; each must now be a refusal (exit 2) naming its field, or a run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import run

from cnimodel import examples


def _mutated(tmp_path: Path, name: str, change: Callable[[list[Any]], None]) -> str:
    docs = [d for d in yaml.safe_load_all(examples.path(name).read_text()) if d is not None]
    change(docs)
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs))
    return str(path)


def _spec(docs: list[Any]) -> dict[str, Any]:
    return next(d for d in docs if d.get("kind") == "ClusterPlan")["spec"]


def _first(kind: str) -> Callable[[list[Any]], dict[str, Any]]:
    return lambda docs: next(d for d in docs if d.get("kind") == kind)


def _refused(args: list[str], where: str) -> str:
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert "internal error" not in r.stderr
    assert where in r.stderr and "fix:" in r.stderr, r.stderr
    return r.stderr


def test_network_config_that_is_not_a_mapping(tmp_path: Path) -> None:
    plan = _mutated(tmp_path, "hybrid-vxlan-mismatch.yaml", lambda d: _spec(d)["network"].update(config="-"))
    err = _refused(["ipam", plan], "spec.network.config: error: expected a mapping of the plugin's own settings")
    assert "found str" in err


def test_cni_plugins_that_are_not_a_list(tmp_path: Path) -> None:
    # the calico CNI conf's plugins as a number: the plugin's reader met it (flannel_delegate_mtu iterated it)
    plan = _mutated(tmp_path, "canal-linux.yaml", lambda d: _spec(d)["network"]["cni"].update(plugins=17))
    _refused(["routes", plan], "spec.network: error: the flannel plugin cannot read its settings")


def test_a_policy_selector_whose_labels_are_a_string(tmp_path: Path) -> None:
    def change(docs: list[Any]) -> None:
        _first("NetworkPolicy")(docs)["spec"]["podSelector"]["matchLabels"] = "app=web"
    plan = _mutated(tmp_path, "canal-windows.yaml", change)
    _refused(["reach", plan], "spec.podSelector.matchLabels: error: expected a mapping, found a string")


def test_a_service_whose_cluster_ips_are_a_number(tmp_path: Path) -> None:
    plan = _mutated(tmp_path, "services-l2bridge.yaml", lambda d: _first("Service")(d)["spec"].update(clusterIPs=5))
    _refused(["lb", plan], "spec.clusterIPs: error: expected a list, found a number")


@pytest.mark.parametrize("field,value", [("sessionAffinityConfig", [1]), ("status", ["x"])])
def test_service_fields_that_are_lists_where_mappings_belong(tmp_path: Path, field: str, value: Any) -> None:
    def change(docs: list[Any]) -> None:
        svc = _first("Service")(docs)
        (svc if field == "status" else svc["spec"])[field] = value
    plan = _mutated(tmp_path, "services-l2bridge.yaml", change)
    path = field if field == "status" else f"spec.{field}"
    _refused(["lb", plan], f"{path}: error: expected a mapping, found a list")


def test_container_ports_that_are_a_boolean(tmp_path: Path) -> None:
    def change(docs: list[Any]) -> None:
        pod = _first("Pod")(docs)
        pod["spec"]["containers"][0]["ports"] = True
    plan = _mutated(tmp_path, "aks-azure-cni-podsubnet.yaml", change)
    _refused(["routes", plan], "spec.containers[0].ports: error: expected a list, found bool")


def test_windows_ipam_that_is_not_a_mapping(tmp_path: Path) -> None:
    def change(docs: list[Any]) -> None:
        _spec(docs)["network"]["cni"]["plugins"][0]["ipam"] = [{}]
    plan = _mutated(tmp_path, "aks-azure-cni-podsubnet.yaml", change)
    _refused(["lb", plan], "spec.network.cni.plugins[0].ipam: error: expected the IPAM settings (a mapping)")


def test_windows_dns_nameservers_that_are_a_number(tmp_path: Path) -> None:
    def change(docs: list[Any]) -> None:
        _spec(docs)["network"]["cni"]["plugins"][0]["dns"]["Nameservers"] = 33
    plan = _mutated(tmp_path, "aks-azure-cni-podsubnet.yaml", change)
    # read only when a Windows node's facts are asked: raised then, as the build's errors are
    _refused(["lb", plan], "spec.network.cni.plugins[0].dns.Nameservers: error: expected a list of strings")


def test_plan_infer_without_nodes_is_a_usage_error(tmp_path: Path) -> None:
    plan = _mutated(tmp_path, "kubenet-calico.yaml", lambda d: _first("ClusterPlan")(d).update(kind="true"))
    r = run("plan", "infer", plan)
    assert r.exit_code == 2 and "internal error" not in r.stderr
    assert "no Node objects and no ClusterPlan" in r.stderr


@pytest.mark.parametrize("template", [2147483648, "x"])
def test_a_daemonset_template_that_is_not_a_mapping(tmp_path: Path, template: Any) -> None:
    plan = _mutated(tmp_path, "workloads-talk.yaml", lambda d: _first("DaemonSet")(d)["spec"].update(
        template=template))
    _refused(["render", plan, "-o", "dot", "--out", "-"], "spec.template: error: expected a mapping")


def test_an_underlay_subnet_of_one_address(tmp_path: Path) -> None:
    def change(docs: list[Any]) -> None:
        _spec(docs)["underlay"]["subnets"][0]["cidr"] = "255.255.255.255/32"
    plan = _mutated(tmp_path, "canal-windows.yaml", change)
    _refused(["lookup", plan, "255.255.255.255", "--node", "underlay"],
             "spec.underlay.subnets[0].cidr: error: 255.255.255.255/32 holds one address")


@pytest.mark.parametrize("cidr", ["255.255.255.255/32", "10.96.0.0/30"])
def test_a_service_range_of_fewer_than_8_addresses(tmp_path: Path, cidr: str) -> None:
    # kube-apiserver refuses it (pkg/controlplane/services.go: "must be at least 8 IP addresses"); the DNS
    # address used to be taken as its 10th address, past the top of the address space for 255.255.255.255/32
    plan = _mutated(tmp_path, "linux-vxlan-directrouting.yaml", lambda d: _spec(d).update(serviceCIDR=cidr))
    err = _refused(["routes", plan, "-o", "hns"], f"spec.serviceCIDR: error: {cidr} holds")
    assert "fewer than 8 addresses" in err


def test_a_service_range_without_a_tenth_address_has_no_default_dns_ip(tmp_path: Path) -> None:
    plan = _mutated(tmp_path, "linux-vxlan-directrouting.yaml", lambda d: _spec(d).update(
        serviceCIDR="255.255.255.248/29"))
    r = run("ipam", plan)
    assert r.exit_code == 0 and "internal error" not in r.stderr, r.stderr


def test_a_dump_whose_one_service_sits_at_the_top_of_the_space(tmp_path: Path) -> None:
    """The Service range inferred from one ClusterIP is a /32: it has no 10th address to guess the DNS IP from
    (it was taken past 255.255.255.255)."""
    fixture = Path(__file__).parents[1] / "fixtures" / "dumps" / "flannel-hybrid.yaml"
    items = [i for d in yaml.safe_load_all(fixture.read_text()) if isinstance(d, dict)
             for i in (d.get("items") or [] if d.get("kind") == "List" else [d])]
    keep = [i for i in items if i.get("kind") != "Service" and not (
        i.get("kind") == "ConfigMap" and "kubeadm" in i["metadata"]["name"])]
    svc = next(i for i in items if i.get("kind") == "Service")
    svc["spec"]["clusterIP"] = "255.255.255.255"
    svc["spec"].pop("clusterIPs", None)
    path = tmp_path / "dump.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [*keep, svc]}))
    r = run("plan", "infer", str(path), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert "255.255.255.255/32" in r.stdout and "dnsServiceIP" not in r.stdout


def test_an_empty_node_name_is_refused(tmp_path: Path) -> None:
    """(test_fuzz_netns.py) hybrid-vxlan with win2's name emptied: `netns verify` and `trace` met a node no
    name can address. Kubernetes requires a node's metadata.name."""
    def change(docs: list[Any]) -> None:
        _spec(docs)["nodes"][3]["name"] = ""

    plan = _mutated(tmp_path, "hybrid-vxlan.yaml", change)
    for args in (["summary", plan], ["netns", "up", plan], ["trace", plan, "lin1", "8.8.8.8"]):
        _refused(args, "spec.nodes[3].name")


def test_trace_takes_a_pod_key_the_endpoint_grammar_refuses(tmp_path: Path) -> None:
    """(test_fuzz_netns.py, test_fuzz_ovn.py) default.yaml with iis-1's namespace `web[/]`: `trace` by the pod's
    own key reaches it, as `netns verify` and `ovn verify` trace every pod by its key."""
    def change(docs: list[Any]) -> None:
        next(d for d in docs if d.get("kind") == "Pod" and d["metadata"]["name"] == "iis-1")["metadata"][
            "namespace"] = "web[/]"

    plan = _mutated(tmp_path, "default.yaml", change)
    r = run("trace", plan, "web[/]/iis-1", "default/client", "-o", "json")
    assert r.exit_code == 0, r.output
    assert '"web[/]/iis-1[Pod]"' in r.stdout and "ACCEPTED" in r.stdout


def test_namespace_names_are_printable_ascii_and_stay_distinct() -> None:
    """(test_fuzz_netns.py) pyroute2 and the mount calls take ASCII names: a pod name beyond ASCII gets a name of
    printable ASCII with a hash tail, distinct from a pod whose name reads the same after the replacement."""
    from cnimodel.kernel.naming import NETNS_MAX, Names

    names = Names("p")
    odd, plain = names.pod("default/web-0-ünï"), names.pod("default/web-0-_n_")
    assert odd.isascii() and odd.isprintable() and "/" not in odd and odd != plain
    assert names.pod("default/web-0") == f"{names.prefix}-p-default_web-0"  # ordinary names are kept as they are
    assert len(names.pod("default/" + "名" * 300).encode()) <= NETNS_MAX
