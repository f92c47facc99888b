"""Plugin settings where they really live: ConfigMaps and DaemonSet flags of the manifests users install
(issue #16 §2). The manifests under fixtures/manifests are written by hand in the shape upstream ships them;
expected values come from flannel's and Calico's code as cited, not from cnimodel's output."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from builders import FIXTURES, cluster_doc, run, write_docs

from cnimodel.cluster import Cluster
from cnimodel.plan import PlanError, load_plan

MANIFESTS = FIXTURES / "manifests"
FLANNEL = MANIFESTS / "kube-flannel.yml"
FLANNEL_WINDOWS = MANIFESTS / "flannel-overlay-windows.yml"
CANAL = MANIFESTS / "canal.yaml"
NODES = [{"name": "lin0", "os": "linux", "ip": "10.240.0.4"}, {"name": "lin1", "os": "linux", "ip": "10.240.0.10"}]
WIN = {"name": "win1", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 20348}


def _plan(tmp_path: Path, nodes: list[dict] | None = None, **network: object) -> Path:
    """A ClusterPlan that names the plugin and nothing of its config: the manifests must say the rest."""
    return write_docs(tmp_path / "cluster.yaml", [cluster_doc(nodes or NODES, network={"plugin": "flannel",
                                                                                        **network})])


def _build(*paths: Path | str) -> Cluster:
    return Cluster.build(load_plan(list(paths)))


def _variant(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    out = tmp_path / source.name
    out.write_text(text.replace(old, new))
    return out


def test_flannel_config_from_its_configmap_and_flags_from_its_daemonset(tmp_path: Path) -> None:
    c = _build(_plan(tmp_path), FLANNEL)
    net = c.plan.network
    assert net is not None
    # net-conf.json of kube-flannel-cfg: Backend vxlan with no VNI/Port, so flannel's Linux defaults VNI 1 and
    # UDP 8472 (flannel pkg/backend/vxlan: defaultVNI 1, the kernel's default port 8472): device flannel.1
    vtep = c.plugin.vtep("lin0")  # type: ignore[attr-defined]
    assert (vtep.dev, vtep.vni, vtep.port) == ("flannel.1", 1, 8472)
    assert dict(net.args or {}) == {"ip-masq": True, "kube-subnet-mgr": True}
    sources = dict(net.sources)
    assert sources["config"] == f"net-conf.json from ConfigMap kube-flannel/kube-flannel-cfg in {FLANNEL} (document 5)"
    assert sources["cni"].startswith("cni-conf.json from ConfigMap kube-flannel/kube-flannel-cfg")
    assert sources["args"] == (f"--ip-masq --kube-subnet-mgr from DaemonSet kube-flannel/kube-flannel-ds in {FLANNEL} "
                               "(document 6) container kube-flannel")
    # --ip-masq: flannel's masquerade chain on each Linux node
    assert c.facts("lin0").nat
    r = run("summary", str(tmp_path / "cluster.yaml"), str(FLANNEL))
    assert r.exit_code == 0, r.stderr
    assert "network config: net-conf.json from ConfigMap kube-flannel/kube-flannel-cfg" in r.stdout


def test_flanneld_without_ip_masq_masquerades_nothing(tmp_path: Path) -> None:
    manifest = _variant(tmp_path, FLANNEL, "        - --ip-masq\n", "")
    c = _build(_plan(tmp_path), manifest)
    assert dict(c.plan.network.args or {}) == {"kube-subnet-mgr": True}  # type: ignore[union-attr]
    assert not c.facts("lin0").nat


def test_flanneld_without_kube_subnet_mgr_leases_from_etcd(tmp_path: Path) -> None:
    manifest = _variant(tmp_path, FLANNEL, "        - --kube-subnet-mgr\n", "")
    c = _build(_plan(tmp_path), manifest)
    assert c.plan.network.subnet_manager == "etcd"  # type: ignore[union-attr]
    # etcd leases: SubnetLen 24 and SubnetMin = Network + one /24 (flannel CheckNetworkConfig defaults), so the
    # first node takes 10.244.1.0/24, not kube-controller-manager's 10.244.0.0/24
    got = {n: a.pod_cidr for n, a in c.allocation.nodes.items()}
    assert got == {"lin0": IPv4Network("10.244.1.0/24"), "lin1": IPv4Network("10.244.2.0/24")}


def test_flags_from_the_environment_and_the_command_line_wins(tmp_path: Path) -> None:
    env_only = _variant(tmp_path, FLANNEL, "        - --ip-masq\n        - --kube-subnet-mgr\n",
                        "        - --kube-subnet-mgr\n")
    env_only.write_text(env_only.read_text().replace(
        "        - name: EVENT_QUEUE_DEPTH\n", "        - name: FLANNELD_IP_MASQ\n          value: \"true\"\n"
        "        - name: EVENT_QUEUE_DEPTH\n"))
    assert _build(_plan(tmp_path), env_only).plan.network.args["ip-masq"] is True  # type: ignore[index,union-attr]
    both = env_only.read_text().replace("        - --kube-subnet-mgr\n",
                                        "        - --kube-subnet-mgr\n        - --ip-masq=false\n")
    env_only.write_text(both)
    assert _build(_plan(tmp_path), env_only).plan.network.args["ip-masq"] is False  # type: ignore[index,union-attr]


def test_windows_nodes_read_their_own_configmap(tmp_path: Path) -> None:
    c = _build(_plan(tmp_path, [*NODES, WIN]), FLANNEL, FLANNEL_WINDOWS)
    net = c.plan.network
    assert net is not None and net.windows_cni is not None
    assert net.windows_cni["delegate"]["type"] == "sdnoverlay"
    assert dict(net.sources)["windows_cni"].startswith(
        "cni-conf-containerd.json from ConfigMap kube-flannel/kube-flannel-windows-cfg")
    assert "sdnoverlay" in c.plugin.describe(c.node("win1"))
    # both node kinds read kube-flannel-cfg's net-conf.json: the Windows overlay runs VNI 4096 while Linux keeps
    # flannel's default VNI 1, so check reports the mismatch (the sig-windows guide says to set VNI 4096)
    r = run("check", str(tmp_path / "cluster.yaml"), str(FLANNEL), str(FLANNEL_WINDOWS), "-o", "json")
    assert "CNI-OVL-001" in {f["code"] for f in json.loads(r.stdout)["findings"]}


def test_canal_configmap_filled_as_install_cni_fills_it(tmp_path: Path) -> None:
    plan = write_docs(tmp_path / "cluster.yaml", [cluster_doc(NODES, network={"plugin": "flannel"},
                                                              policy={"plugin": "calico"})])
    c = _build(plan, CANAL)
    net = c.plan.network
    assert net is not None and net.cni is not None
    calico = net.cni["plugins"][0]
    # install-cni: __CNI_MTU__ ← CNI_MTU, which canal.yaml sets from veth_mtu ("0"), text-replaced into a number;
    # __KUBECONFIG_FILEPATH__ ← CNINetDir + "/calico-kubeconfig" (install.go)
    assert calico["mtu"] == 0 and calico["kubernetes"]["kubeconfig"] == "/etc/cni/net.d/calico-kubeconfig"
    assert calico["ipam"]["subnet"] == "usePodCidr"
    assert dict(net.args or {}) == {"ip-masq": True, "kube-subnet-mgr": True}
    assert dict(c.plan.policy.config) == {"CALICO_NETWORKING_BACKEND": "none"}


def test_canal_without_a_daemonset_uses_veth_mtu(tmp_path: Path) -> None:
    only_cm = tmp_path / "canal-config.yaml"
    text = CANAL.read_text()
    only_cm.write_text(text[:text.index("---\napiVersion: apiextensions")].replace('veth_mtu: "0"', 'veth_mtu: "1410"'))
    c = _build(_plan(tmp_path), only_cm)
    assert c.plan.network.cni["plugins"][0]["mtu"] == 1410  # type: ignore[index,union-attr]


def test_two_configmaps_for_one_setting_are_named(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        _build(_plan(tmp_path), FLANNEL, CANAL)
    msg = "\n".join(p.render() for p in info.value.problems)
    assert "two ConfigMaps hold the network config: kube-flannel/kube-flannel-cfg key net-conf.json" in msg
    assert "kube-flannel/kube-flannel-cfg" in msg and "kube-system/canal-config" in msg


def test_the_plans_own_config_wins_and_a_differing_configmap_is_named(tmp_path: Path) -> None:
    plan = _plan(tmp_path, config={"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}})
    c = _build(plan, FLANNEL)
    assert c.plugin.vtep("lin0") is None  # host-gw: the plan's own net-conf  # type: ignore[attr-defined]
    assert any("differs" in w.message and "kube-flannel-cfg" in w.message for w in c.warnings)


def test_config_file_naming_a_manifest(tmp_path: Path) -> None:
    c = _build(_plan(tmp_path, configFile=str(FLANNEL)))
    assert dict(c.plan.network.sources)["config"].startswith("net-conf.json from ConfigMap kube-flannel/")  # type: ignore[union-attr]
    both = tmp_path / "both.yaml"
    both.write_text(FLANNEL.read_text() + CANAL.read_text())
    with pytest.raises(PlanError) as info:
        _build(_plan(tmp_path, configFile=str(both)))
    p = info.value.problems[0]
    assert p.origin.path == "spec.network.configFile" and "2 candidates" in p.message
    assert f"{both}#kube-flannel/kube-flannel-cfg/net-conf.json" in p.hint
    picked = _build(_plan(tmp_path, configFile=f"{both}#kube-system/canal-config/net-conf.json"))
    assert "canal-config" in dict(picked.plan.network.sources)["config"]  # type: ignore[union-attr]


def test_config_file_naming_a_manifest_without_the_key(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        _build(_plan(tmp_path, configFile=str(FLANNEL_WINDOWS)))
    p = info.value.problems[0]
    assert "holds no ConfigMap key this field reads (net-conf.json)" in p.message
    assert "kube-flannel/kube-flannel-windows-cfg (keys: cni-conf-containerd.json)" in p.message


@pytest.mark.parametrize(("old", "new", "char", "where"), [
    ("  net-conf.json: |\n    {\n", "  net-conf.json: |\n    \ufeff{\n", "U+FEFF ZERO WIDTH NO-BREAK SPACE",
     "line 1 column 1"),
    ('      "Network": "10.244.0.0/16",', '      "Network":\u00a0"10.244.0.0/16",', "U+00A0 NO-BREAK SPACE",
     "line 2 column 13"),
])
def test_json_a_strict_parser_refuses_is_named(tmp_path: Path, old: str, new: str, char: str, where: str) -> None:
    manifest = _variant(tmp_path, FLANNEL, old, new)
    r = run("ipam", str(_plan(tmp_path)), str(manifest))
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert f"{manifest} (document 5) data.net-conf.json {where}: error:" in r.stderr and char in r.stderr
    assert "fix:" in r.stderr


def test_placeholders_left_in_a_standalone_config(tmp_path: Path) -> None:
    conflist = tmp_path / "10-canal.conflist"
    conflist.write_text('{"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [{"type": "calico",\n'
                        '  "mtu": __CNI_MTU__, "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"},\n'
                        '  "ipam": {"type": "host-local", "subnet": "usePodCidr"}}]}')
    plan = _plan(tmp_path, config={"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}},
                 cniConfigFile=str(conflist))
    with pytest.raises(PlanError) as info:
        _build(plan)
    errors = [p for p in info.value.problems if "__CNI_MTU__" in p.message]
    assert len(errors) == 1 and errors[0].origin.path == "plugins[0].mtu" and "refuses" in errors[0].message
    warned = [p for p in info.value.warnings if "__KUBECONFIG_FILEPATH__" in p.message]
    assert len(warned) == 1 and warned[0].origin.path == "plugins[0].kubernetes.kubeconfig"


def test_windows_nodes_do_not_load_the_linux_nodes_conflist() -> None:
    """canal's conflist (calico chained with portmap, a Linux-only plugin) is the Linux nodes' conf: the Windows
    nodes of canal-windows.yaml keep flannel's default win-overlay conf, so their pods get endpoints."""
    from cnimodel import examples

    c = _build(examples.path("canal-windows.yaml"))
    assert c.plan.network is not None and c.plan.network.cni["plugins"][0]["type"] == "calico"
    notes = c.facts("win1").notes
    assert not any("ADD fails" in n for n in notes)
    assert [e.ip for e in c.facts("win1").hns_endpoints if e.role == "pod"]
