"""flannel's Backend.MTU, derived by hand from flannel-io/flannel@cdf76059:

- Linux vxlan: ``parseVXLANConfig`` defaults MTU to the external interface's and decodes Backend's ``mtu``
  (encoding/json: any letter case) — pkg/backend/vxlan/vxlan.go:124, :168; the device gets MTU − 50
  (device.go:63) and the network reports MTU − 50 (vxlan_network.go:256), which flanneld writes as FLANNEL_MTU
  (main.go:477, pkg/subnet/subnet.go:89); the flannel CNI hands FLANNEL_MTU to the bridge delegate unless the
  delegate has its own ``mtu`` (flannel-io/cni-plugin@092e6d26:flannel_linux.go:97), so cni0 and the pods
  carry it.
- Windows vxlan: the backend's config has no MTU field (vxlan_windows.go:89) and MTU() is the interface's − 50
  (vxlan_network_windows.go:86): Backend.MTU has no effect there.
- host-gw: the lease MTU is the interface's (pkg/backend/hostgw/hostgw.go:60).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import build_docs, cluster_doc, plan_errors, pod_doc, run, write_docs

from cnimodel.cluster import Cluster
from cnimodel.plan import load_plan
from cnimodel.validate import CheckOptions, validate

LINUX = [{"name": "lin1", "os": "linux", "ip": "10.240.0.10"}, {"name": "lin2", "os": "linux", "ip": "10.240.0.11"}]


def vxlan(nodes: list[dict[str, Any]] | None = None, backend: str = "vxlan", cni: Any = None, **b: Any) -> dict:
    net: dict[str, Any] = {"plugin": "flannel", "backend": backend,
                           "config": {"Network": "10.244.0.0/16", "Backend": {"Type": backend, **b}}}
    if cni is not None:
        net["cni"] = cni
    return cluster_doc(LINUX if nodes is None else nodes, network=net)


def mtus(tmp_path: Path, doc: dict[str, Any], node: str = "lin1") -> dict[str, int]:
    f = build_docs(tmp_path, [doc, pod_doc("a", "lin1"), pod_doc("b", "lin2")]).facts(node)
    return {d.name: d.mtu for d in f.devices} | {"vtep": f.vteps[0].mtu if f.vteps else 0}


@pytest.mark.parametrize("key", ["MTU", "mtu", "Mtu"])
def test_backend_mtu_sets_the_vxlan_device_and_flannel_mtu(tmp_path: Path, key: str) -> None:
    assert mtus(tmp_path, vxlan(**{key: 1400})) == {"eth0": 1500, "cni0": 1350, "flannel.1": 1350, "vtep": 1350}


def test_without_it_the_uplink_mtu_less_50(tmp_path: Path) -> None:
    assert mtus(tmp_path, vxlan()) == {"eth0": 1500, "cni0": 1450, "flannel.1": 1450, "vtep": 1450}


def test_pods_carry_flannel_mtu(tmp_path: Path) -> None:
    path = str(write_docs(tmp_path / "p.yaml", [vxlan(MTU=1400), pod_doc("a", "lin1"), pod_doc("b", "lin2")]))
    t = json.loads(run("trace", path, "default/b", "default/a", "--size", "1351", "-o", "json").output)
    assert t["disposition"] == "DENIED_OUT" and "pod interface MTU 1350" in t["reason"]
    t = json.loads(run("trace", path, "default/b", "default/a", "--size", "1350", "-o", "json").output)
    assert t["disposition"] == "ACCEPTED"
    r = run("routes", path, "--node", "lin1", "-o", "json")
    vtep = json.loads(r.output)["nodes"][0]["encapsulation"]["vteps"][0]
    assert (vtep["mtu"], vtep["underlayMtu"]) == (1350, 1500)


def test_the_delegates_own_mtu_wins_for_cni0(tmp_path: Path) -> None:
    cni = {"name": "cbr0", "cniVersion": "0.3.1",
           "plugins": [{"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True, "mtu": 1300}},
                       {"type": "portmap", "capabilities": {"portMappings": True}}]}
    assert mtus(tmp_path, vxlan(cni=cni))["cni0"] == 1300


def test_host_gw_does_not_read_it(tmp_path: Path) -> None:
    doc = vxlan(backend="host-gw", MTU=1400)
    c = build_docs(tmp_path, [doc])
    assert {d.name: d.mtu for d in c.facts("lin1").devices} == {"eth0": 1500, "cni0": 1500}
    assert any(w.origin.path == "spec.network.config.Backend.MTU" and "host-gw" in w.message for w in c.warnings)


def test_windows_does_not_read_it(tmp_path: Path) -> None:
    doc = cluster_doc(network={"plugin": "flannel", "backend": "vxlan", "config": {
        "Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "VNI": 4096, "Port": 4789, "MTU": 1400}}})
    c = build_docs(tmp_path, [doc])
    assert c.plugin.vtep("win1").mtu == 1450 and c.plugin.vtep("lin1").mtu == 1350
    assert any("Windows" in w.message and w.origin.path == "spec.network.config.Backend.MTU" for w in c.warnings)


def test_an_mtu_leaving_less_than_68_is_refused(tmp_path: Path) -> None:
    problems = plan_errors(tmp_path, [vxlan(MTU=117)])
    p = next(p for p in problems if p.origin.path == "spec.network.config.Backend.MTU")
    assert "67" in p.message and "68" in p.message
    build_docs(tmp_path, [vxlan(MTU=118)])  # 118 − 50 = 68: the kernel's minimum


def test_an_mtu_above_the_underlay_is_cni_ovl_003(tmp_path: Path) -> None:
    plan = load_plan([write_docs(tmp_path / "p.yaml", [vxlan(MTU=9000)])])
    found = [f for f in validate(plan, Cluster.build(plan), CheckOptions(), codes={"CNI-OVL-003"}).findings]
    assert len(found) == 1 and "MTU 8950 over an underlay of MTU 1500" in found[0].message
