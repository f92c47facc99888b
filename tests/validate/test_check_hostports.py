"""CNI-WIN-018: a hostPort has no effect where the CNI gives the pod's HNS endpoint no PortMapping.
win-bridge maps hostPorts (ApplyPortMappingPolicy, containernetworking/plugins@3d27709f
plugins/main/windows/win-bridge/win-bridge_windows.go:90); win-overlay never calls it (win-overlay_windows.go),
so on flannel vxlan's Windows nodes the port is not forwarded and does not take the VXLAN port either."""

from __future__ import annotations

from vplans import VXLAN_4096, cluster_doc, hits, pod_doc


def web(node: str, name: str = "web", port: int = 8080, proto: str = "TCP") -> dict:
    return pod_doc(name, node, containers=[{"name": "c", "image": "x", "ports": [
        {"containerPort": 80, "hostPort": port, "protocol": proto}]}])


def test_win018_on_win_overlay(tmp_path):
    found = hits(tmp_path, [cluster_doc(network=VXLAN_4096), web("win1"), web("win2", "api")], "CNI-WIN-018")
    assert len(found) == 1
    f = found[0]
    assert f.severity == "warning" and f.concept == "windows"
    assert f.objects == ("default/web[Pod]", "default/api[Pod]", "win1[Node]", "win2[Node]")
    assert "8080/TCP" in f.message and "PortMapping" in f.message and "win-overlay" in f.message
    assert f.locations[0].path.endswith("spec.containers")


def test_win018_silent_where_the_cni_maps_host_ports(tmp_path):
    assert not hits(tmp_path, [cluster_doc(), web("win1")], "CNI-WIN-018")  # host-gw: win-bridge maps it
    azure = cluster_doc(clusterCIDR=None, network={"plugin": "azure-cni"})
    assert not hits(tmp_path, [azure, web("win1")], "CNI-WIN-018")
    assert not hits(tmp_path, [cluster_doc(network=VXLAN_4096), web("lin1")], "CNI-WIN-018")  # Linux: portmap
    assert not hits(tmp_path, [cluster_doc(network=VXLAN_4096), pod_doc("p", "win1")], "CNI-WIN-018")


def test_ovl007_not_on_windows_nodes_that_map_no_host_port(tmp_path):
    docs = [cluster_doc(network=VXLAN_4096), web("win1", port=4789, proto="UDP")]
    assert not hits(tmp_path, docs, "CNI-OVL-007")
    assert len(hits(tmp_path, docs, "CNI-WIN-018")) == 1
