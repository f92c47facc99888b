"""Plan loading: YAML and JSON, several documents, kubectl List dumps, directories, Node objects, unmodelled
kinds, and configFile pointing at real flannel / CNI config files."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import yaml
from builders import FIXTURES, cluster_doc, load_docs, pod_doc, write_docs

from cnimodel.cluster import Cluster
from cnimodel.plan import PlanError, load_plan

N = IPv4Network
A = IPv4Address


def test_yaml_with_several_documents(tmp_path: Path) -> None:
    plan = load_docs(tmp_path, [cluster_doc(), pod_doc("a", "lin1"), pod_doc("b", "win1", namespace="web")])
    assert [n.name for n in plan.nodes] == ["master", "lin1", "win1", "win2"]
    assert [n.os for n in plan.nodes] == ["linux", "linux", "windows", "windows"]
    assert [p.key for p in plan.pods] == ["default/a", "web/b"]
    assert plan.cluster_cidr == N("10.244.0.0/16") and plan.service_cidr == N("10.96.0.0/12")
    assert plan.node_cidr_mask_size == 24  # the default
    assert plan.dns_service_ip == A("10.96.0.10")  # kubeadm: 10th address of the service range
    # the node's underlay subnet defaults to the one holding its IP
    assert {n.subnet for n in plan.nodes} == {"nodes"}
    assert plan.node("win1").windows_build == 20348
    assert plan.node("lin1").max_pods == 110


def test_json_file_single_object_and_list(tmp_path: Path) -> None:
    single = tmp_path / "cluster.json"
    single.write_text(json.dumps(cluster_doc()))
    plan = load_plan([single])
    assert len(plan.nodes) == 4
    listed = write_docs(tmp_path / "list.json", [cluster_doc(), pod_doc("a", "lin1")])
    plan = load_plan([listed])
    assert [p.key for p in plan.pods] == ["default/a"]


def test_yaml_and_json_give_the_same_plan(tmp_path: Path) -> None:
    docs = [cluster_doc(), pod_doc("a", "lin1", ip="10.244.1.9")]
    y = Cluster.build(load_plan([write_docs(tmp_path / "p.yaml", docs)]))
    j = Cluster.build(load_plan([write_docs(tmp_path / "p.json", docs)]))
    assert {n: a.pod_cidr for n, a in y.allocation.nodes.items()} == \
        {n: a.pod_cidr for n, a in j.allocation.nodes.items()}
    assert y.pod_ip("default/a") == j.pod_ip("default/a") == A("10.244.1.9")


def test_kubectl_dumps_directory() -> None:
    """`kubectl get nodes -o yaml` and `kubectl get pods -A -o json` dumps next to a ClusterPlan without nodes."""
    c = Cluster.build(load_plan([FIXTURES / "kubectl"]))
    plan = c.plan
    assert [n.name for n in plan.nodes] == ["master", "lin1", "win1", "win2"]
    win1 = plan.node("win1")
    assert win1.os == "windows"
    assert win1.windows_build == 17763  # node.kubernetes.io/windows-build 10.0.17763
    assert win1.max_pods == 30  # status.capacity.pods "30"
    assert plan.node("win2").windows_build == 20348
    assert plan.node("master").os == "linux"
    # the IPv4 InternalIP, not the IPv6 one listed first
    assert plan.node("lin1").ip == A("10.240.0.10")
    assert plan.node("win1").ip == A("10.240.0.20")
    assert plan.node("master").labels["node-role.kubernetes.io/control-plane"] == ""
    assert plan.node("master").taints[0]["key"] == "node-role.kubernetes.io/control-plane"
    # spec.podCIDR kept; win2 has none: kube-controller-manager gives it the first free index (3)
    cidrs = {n: a.pod_cidr for n, a in c.allocation.nodes.items()}
    assert cidrs == {"master": N("10.244.0.0/24"), "lin1": N("10.244.1.0/24"), "win1": N("10.244.2.0/24"),
                     "win2": N("10.244.3.0/24")}
    assert c.allocation.nodes["master"].cidr_source == "plan"
    # pods: hostNetwork takes the node IP; status.podIP kept; the others allocated around them
    assert c.pod_ip("kube-flannel/kube-flannel-ds-x7k2p") == A("10.240.0.4")
    assert c.pod_ip("kube-system/coredns-7db6d8ff4d-4xq9m") == A("10.244.1.7")
    assert c.pod_ip("default/client") == A("10.244.1.2")
    assert c.pod_ip("web/iis-0") == A("10.244.2.5")
    assert c.pod_ip("web/iis-1") == A("10.244.2.3")  # .1 HNS gateway, .2 cbr0_ep
    coredns = next(p for p in plan.pods if p.name.startswith("coredns"))
    assert [(p.port, p.protocol, p.name) for p in coredns.ports] == [
        (53, "UDP", "dns"), (53, "TCP", "dns-tcp"), (9153, "TCP", "metrics")]
    # Service and Namespace are kept for later engines; ServiceAccount is not modelled
    assert [o.key for o in plan.objects_of("Service")] == ["web/iis"]
    assert [ns.name for ns in plan.namespaces] == ["web"]


def test_unmodelled_kinds_one_warning_not_fatal() -> None:
    plan = load_plan([FIXTURES / "kubectl"])
    unmodelled = [w for w in plan.warnings if "not model" in w.message]
    assert len(unmodelled) == 1, [w.message for w in plan.warnings]
    msg = unmodelled[0].message
    assert "ClusterRoleBinding (1)" in msg
    listed = {part.split(" (")[0] for part in msg.split(": ", 1)[1].split(", ")}
    # not Service, Namespace, Pod, Node; nor ConfigMap, which may hold a plugin's config (cnimodel.discover), nor
    # ServiceAccount (kept: Calico selectors read its labels)
    assert listed == {"ClusterRoleBinding"}
    assert len(plan.objects_of("ServiceAccount")) == 2
    assert unmodelled[0].severity == "warning"


def test_list_kinds_other_than_list(tmp_path: Path) -> None:
    """kubectl prints `kind: List`; the API's typed lists (PodList, NodeList) hold items the same way."""
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump_all([
        cluster_doc(),
        {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "7"},
         "items": [pod_doc("a", "lin1"), pod_doc("b", "lin1")]},
    ]))
    assert [p.key for p in load_plan([path]).pods] == ["default/a", "default/b"]


def test_directory_recursive_sorted_and_non_plan_files_skipped() -> None:
    c = Cluster.build(load_plan([FIXTURES / "plandir"]))
    assert c.plan.network is not None and c.plan.network.plugin == "flannel"
    assert {n: str(a.pod_cidr) for n, a in c.allocation.nodes.items()} == {
        "n1": "10.244.0.0/24", "n2": "10.244.1.0/24"}
    # files in sorted path order: sub/more.yml (p3) before sub/pods.json (p1, p2)
    assert [p.name for p in c.plan.pods] == ["p3", "p1", "p2"]
    assert c.pod_ip("default/p3") == A("10.244.0.2")
    assert c.pod_ip("default/p1") == A("10.244.1.2")
    assert c.pod_ip("default/p2") == A("10.244.1.3")
    assert not any(s.endswith("notes.txt") for s in c.plan.sources)


def test_node_objects_join_spec_nodes(tmp_path: Path) -> None:
    """Node objects are an alternative to spec.nodes and may be mixed with it (spec.nodes come first)."""
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "extra", "labels": {"kubernetes.io/os": "windows",
                                                     "node.kubernetes.io/windows-build": "10.0.26100"}},
            "spec": {}, "status": {"addresses": [{"type": "InternalIP", "address": "10.240.0.40"}]}}
    c = Cluster.build(load_docs(tmp_path, [node, cluster_doc()]))
    assert [n.name for n in c.plan.nodes] == ["master", "lin1", "win1", "win2", "extra"]
    assert c.plan.node("extra").os == "windows" and c.plan.node("extra").windows_build == 26100
    assert c.allocation.nodes["extra"].pod_cidr == N("10.244.4.0/24")


def test_beta_os_label_alone(tmp_path: Path) -> None:
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "old", "labels": {"beta.kubernetes.io/os": "windows"}},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.240.0.41"}]}}
    plan = load_docs(tmp_path, [cluster_doc(nodes=[]), node])
    assert plan.node("old").os == "windows"


def test_config_file_net_conf_json(tmp_path: Path) -> None:
    """configFile: a real net-conf.json, read as flanneld reads it; the backend comes from Backend.Type."""
    conf = FIXTURES / "configs" / "net-conf.json"
    doc = cluster_doc(network={"plugin": "flannel", "configFile": str(conf)})
    c = Cluster.build(load_docs(tmp_path, [doc]))
    assert c.plan.network is not None
    assert c.plan.network.config["Network"] == "10.244.0.0/16"
    assert c.plan.network.config["Backend"]["Type"] == "host-gw"
    assert c.plan.network.cni is None
    lin1 = {(str(r.dst), str(r.via)) for r in c.facts("lin1").routes if r.kind == "pod-route"}
    assert lin1 == {("10.244.0.0/24", "10.240.0.4"), ("10.244.2.0/24", "10.240.0.20"),
                    ("10.244.3.0/24", "10.240.0.30")}


def test_config_file_relative_to_plan_and_etcd_settings(tmp_path: Path) -> None:
    """A relative configFile is found next to the plan file; its SubnetLen drives etcd-mode leases."""
    (tmp_path / "flannel").mkdir()
    (tmp_path / "flannel" / "net-conf.json").write_text((FIXTURES / "configs" / "net-conf-etcd.json").read_text())
    doc = cluster_doc(clusterCIDR="10.50.0.0/16",
                      network={"plugin": "flannel", "subnetManager": "etcd", "configFile": "flannel/net-conf.json"})
    c = Cluster.build(load_docs(tmp_path, [doc]))
    # SubnetLen 26: size 64; SubnetMin skips the first subnet → 10.50.0.64/26, then .128, .192, 10.50.1.0
    assert [str(c.allocation.nodes[n].pod_cidr) for n in ("master", "lin1", "win1", "win2")] == [
        "10.50.0.64/26", "10.50.0.128/26", "10.50.0.192/26", "10.50.1.0/26"]


def test_config_file_cni_conf_flannel_delegate(tmp_path: Path) -> None:
    """configFile: the SDN l2bridge cni.conf (type flannel, delegate win-bridge, HNS v1 policies, Go-style
    capitalised Name/Value keys)."""
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw",
                               "configFile": str(FIXTURES / "configs" / "cni-l2bridge.conf")})
    c = Cluster.build(load_docs(tmp_path, [doc, pod_doc("w", "win1")]))
    assert c.plan.network is not None and c.plan.network.cni is not None
    ep = next(e for e in c.facts("win1").hns_endpoints if e.role == "pod")
    types = [p.type for p in ep.policies]
    # conf policies in order, then ipMasqNetwork's OutBoundNAT: the conf's list lacks 10.244.0.0/16
    assert types == ["OutBoundNAT", "SDNRoute", "SDNRoute", "OutBoundNAT"]
    assert list(ep.policies[3].settings["Exceptions"]) == ["10.244.0.0/16"]
    assert c.facts("win1").hns_api == 1


def test_config_file_cni_conflist(tmp_path: Path) -> None:
    """configFile: a conflist whose flannel entry delegates to win-bridge (HCN v2 policies)."""
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw",
                               "configFile": str(FIXTURES / "configs" / "cni-l2bridge.conflist")})
    c = Cluster.build(load_docs(tmp_path, [doc, pod_doc("w", "win1")]))
    f = c.facts("win1")
    assert f.hns_api == 2
    # the HNS network is named by the conflist's top-level name
    assert [n.name for n in f.hns_networks] == ["cbr0"]
    ep = next(e for e in f.hns_endpoints if e.role == "pod")
    assert ep.network == "cbr0"
    # 10.244.0.0/16 is already an exception verbatim: no second OutBoundNAT
    assert [p.type for p in ep.policies] == ["OutBoundNAT", "SDNRoute"]


def test_inline_config_overrides_config_file(tmp_path: Path) -> None:
    doc = cluster_doc(network={"plugin": "flannel", "configFile": str(FIXTURES / "configs" / "net-conf.json"),
                               "config": {"Backend": {"Type": "host-gw", "Name": "l2net"}}})
    plan = load_docs(tmp_path, [doc])
    assert plan.network is not None
    assert plan.network.config["Network"] == "10.244.0.0/16"
    assert plan.network.config["Backend"]["Name"] == "l2net"


def test_embedded_default_plan_loads() -> None:
    from cnimodel import examples

    c = Cluster.build(load_plan([examples.path("default.yaml")]))
    assert [n.name for n in c.plan.nodes] == ["master", "lin1", "win1", "win2"]


def etcd_plan_dir(tmp_path: Path, config_file: str) -> Path:
    """A plan directory as users keep it: the ClusterPlan, flannel's own net-conf.json (the fixture, a real
    kube-flannel-cfg shape with SubnetLen 26), and pods."""
    doc = cluster_doc(clusterCIDR="10.50.0.0/16",
                      network={"plugin": "flannel", "subnetManager": "etcd", "configFile": config_file})
    write_docs(tmp_path / "plan.yaml", [doc])
    write_docs(tmp_path / "pods.yaml", [pod_doc("a", "lin1")])
    conf = tmp_path / config_file
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text((FIXTURES / "configs" / "net-conf-etcd.json").read_text())
    return tmp_path


def test_directory_with_the_referenced_net_conf(tmp_path: Path) -> None:
    """net-conf.json sorts before plan.yaml and has no kind: it is read as flannel reads it, not as a plan
    document; no error, no warning about it."""
    plan = load_plan([etcd_plan_dir(tmp_path, "net-conf.json")])
    c = Cluster.build(plan)
    # SubnetLen 26 from the file; SubnetMin skips the first /26 → 10.50.0.64/26, then 10.50.0.128/26
    assert str(c.allocation.nodes["master"].pod_cidr) == "10.50.0.64/26"
    assert str(c.allocation.nodes["lin1"].pod_cidr) == "10.50.0.128/26"
    assert c.pod_ip("default/a") == A("10.50.0.130")
    assert [Path(s).name for s in plan.sources] == ["plan.yaml", "pods.yaml"]
    assert not any("net-conf" in w.origin.file for w in plan.warnings)


def test_directory_with_the_referenced_config_in_a_subdirectory(tmp_path: Path) -> None:
    plan = load_plan([etcd_plan_dir(tmp_path, "flannel/net-conf.json")])
    assert plan.network is not None and plan.network.config["SubnetLen"] == 26
    assert [Path(s).name for s in plan.sources] == ["plan.yaml", "pods.yaml"]


def test_unreferenced_configs_in_a_directory_are_skipped_with_a_warning(tmp_path: Path) -> None:
    write_docs(tmp_path / "plan.yaml", [cluster_doc()])
    (tmp_path / "net-conf.json").write_text((FIXTURES / "configs" / "net-conf.json").read_text())
    (tmp_path / "10-flannel.json").write_text((FIXTURES / "configs" / "cni-l2bridge.conflist").read_text())
    plan = load_plan([tmp_path])
    skipped = {Path(w.origin.file).name: w for w in plan.warnings if "skipped" in w.message}
    assert set(skipped) == {"net-conf.json", "10-flannel.json"}
    assert "a flannel net-conf.json" in skipped["net-conf.json"].message
    assert "a CNI config" in skipped["10-flannel.json"].message
    assert "configFile" in skipped["net-conf.json"].hint
    assert [Path(s).name for s in plan.sources] == ["plan.yaml"]


def test_a_manifest_without_kind_in_a_directory_is_still_an_error(tmp_path: Path) -> None:
    """Only files that look like CNI/flannel configs are skipped; a manifest that lost its kind is reported."""
    write_docs(tmp_path / "plan.yaml", [cluster_doc()])
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump({"metadata": {"name": "p"}, "spec": {"nodeName": "lin1"}}))
    ps = plan_errors_of(lambda: load_plan([tmp_path]))
    assert [(Path(p.origin.file).name, p.origin.path, p.message) for p in ps] == [("pod.yaml", "kind", "is required")]


def test_a_net_conf_named_as_a_plan_file_says_how_to_use_it(tmp_path: Path) -> None:
    write_docs(tmp_path / "plan.yaml", [cluster_doc()])
    conf = tmp_path / "net-conf.json"
    conf.write_text((FIXTURES / "configs" / "net-conf.json").read_text())
    ps = plan_errors_of(lambda: load_plan([tmp_path / "plan.yaml", conf]))
    assert len(ps) == 1 and ps[0].origin.path == "kind"
    assert "looks like a flannel net-conf.json" in ps[0].hint and "configFile" in ps[0].hint


def plan_errors_of(load) -> list:
    try:
        load()
    except PlanError as e:
        return [p for p in e.problems if p.severity == "error"]
    raise AssertionError("the plan loaded without errors")


def test_pod_ips_read_alike_on_both_readers(tmp_path: Path) -> None:
    # Pods of the usual shape are read inline; a podIP the inline reader cannot take sends the pod to the
    # checked reader, which must read it the same or locate the problem.
    for good in ("10.244.1.7", " 10.244.1.7"):  # the checked reader trims the text
        plan = load_docs(tmp_path, [cluster_doc(), pod_doc("a", "lin1", ip=good)])
        assert plan.pods[0].ip == A("10.244.1.7")
    for bad in ("10.244.1.07", "10.244.1", "fd00::7", 183763207):
        try:
            load_docs(tmp_path, [cluster_doc(), pod_doc("a", "lin1", ip=bad)])  # type: ignore[arg-type]
        except PlanError as e:
            assert [p.origin.path for p in e.problems] == ["status.podIP"], bad
        else:
            raise AssertionError(f"podIP {bad!r} was accepted")


def test_fast_and_checked_pod_readers_agree() -> None:
    # the inline reader builds Pods and Origins without their dataclass __init__: every field must be there
    # and the value equal to what the checked reader builds
    from dataclasses import fields

    from cnimodel.plan import Problems
    from cnimodel.plan.errors import Origin
    from cnimodel.plan.kube import _pod_checked, _pod_fast
    from cnimodel.plan.model import Pod

    doc = pod_doc("web-0", "lin1", namespace="shop", ip="10.244.1.9")
    doc["metadata"]["labels"] = {"app": "web"}
    doc["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    origin = Origin("plan.yaml", 2).at("items[4]")
    assert origin == Origin("plan.yaml", 2, "items[4]") and hash(origin) == hash(Origin("plan.yaml", 2, "items[4]"))
    fast, checked = _pod_fast(doc, origin), _pod_checked(doc, origin, Problems())
    assert fast is not None and fast == checked
    assert fast.__dict__.keys() == {f.name for f in fields(Pod)} | {"key"}  # key: the cached property's value
    assert fast.key == checked.key == "shop/web-0"
    assert fast.ip == A("10.244.1.9") and dict(fast.labels) == {"app": "web"} and fast.ports[0].port == 8080
