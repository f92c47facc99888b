"""CNI-OVL-008: pods whose MTU exceeds the overlay device's. Derived from projectcalico/calico@87c15906 and
flannel-io/flannel@cdf76059 by hand: canal's veth_mtu "0" makes the calico plugin read /var/lib/calico/mtu,
where felix writes the host MTU when Calico itself encapsulates nothing (felix/dataplane/linux/
int_dataplane.go:1796) — 1500 on a 1500 uplink — while flannel.1 is 1500 − 50 = 1450 (pkg/backend/vxlan/
device.go:63)."""

from __future__ import annotations

from builders import canal_cni
from vplans import cluster_doc, hits, pod_doc

LINUX = [{"name": "lin1", "os": "linux", "ip": "10.240.0.10"}, {"name": "lin2", "os": "linux", "ip": "10.240.0.11"}]
POLICY = {"plugin": "calico", "config": {"CALICO_NETWORKING_BACKEND": "none"}}


def plan(cni: dict | None, **backend: object) -> list[dict]:
    net: dict = {"plugin": "flannel", "backend": "vxlan",
                 "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", **backend}}}
    if cni is not None:
        net["cni"] = cni
    return [cluster_doc(LINUX, network=net, policy=POLICY), pod_doc("a", "lin1"), pod_doc("b", "lin2")]


def test_ovl008_canal_with_the_manifest_default_mtu(tmp_path):
    found = hits(tmp_path, plan(canal_cni(mtu=0)), "CNI-OVL-008")
    assert len(found) == 1
    f = found[0]
    assert "2 Linux node(s) (lin1, lin2) give pods MTU 1500" in f.message and "flannel.1 at MTU 1450" in f.message
    assert "1451–1500" in f.message and "MTU 1450" in f.fix and "veth_mtu" in f.fix
    assert f.severity == "warning"


def test_ovl008_quiet_when_pods_fit(tmp_path):
    assert not hits(tmp_path, plan(canal_cni(mtu=1450)), "CNI-OVL-008")
    assert not hits(tmp_path, plan(None), "CNI-OVL-008")  # the bridge CNI: cni0 at FLANNEL_MTU
    assert not hits(tmp_path, plan(canal_cni(mtu=0), MTU=1550), "CNI-OVL-008")  # flannel.1 at 1500


def test_ovl008_also_for_a_bridge_delegate_given_a_larger_mtu(tmp_path):
    cni = {"name": "cbr0", "cniVersion": "0.3.1",
           "plugins": [{"type": "flannel", "delegate": {"isDefaultGateway": True, "mtu": 1500}}]}
    found = hits(tmp_path, plan(cni), "CNI-OVL-008")
    assert len(found) == 1 and "give pods MTU 1500" in found[0].message
