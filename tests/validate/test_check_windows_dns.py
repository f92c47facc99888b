"""CNI-WIN-008/009 and the runtime's dns capability (docs/windows-cni.md): a conf declaring `capabilities: {dns:
true}` gets kubelet's pod DNS in runtimeConfig.dns (libcni injectRuntimeConfig; containerd cniNamespaceOpts), and
win-bridge, win-overlay, sdnbridge and sdnoverlay put it on the endpoint; wincni has no such field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_overlay_linux import plan_doc
from vplans import cluster_doc, hits, pod_doc

WIN = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
ROUTE_V2 = {"Name": "EndpointPolicy", "Value": {"Type": "SDNRoute", "Settings": {"DestinationPrefix": "10.96.0.0/12",
                                                                                 "NeedEncap": True}}}


def win_pod() -> dict[str, Any]:
    return pod_doc("w", "win1", containers=[{"name": "c", "image": WIN}])


def flannel(delegate: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"cniVersion": "0.2.0", "name": "cbr0", "type": "flannel", **top, "delegate": delegate}


def test_dns_check_counts_the_runtime_capability(tmp_path: Path) -> None:
    """CNI-WIN-008 fires on a conf without dns, and not when the conf declares the runtime's dns capability."""
    bare = flannel({"type": "win-bridge", "ApiVersion": 2})
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw", "cni": bare})
    assert len(hits(tmp_path, [doc, win_pod()], "CNI-WIN-008")) == 1
    with_dns = {**bare, "capabilities": {"dns": True}}
    doc = cluster_doc(network={"plugin": "flannel", "backend": "host-gw", "cni": with_dns})
    assert not hits(tmp_path, [doc, win_pod()], "CNI-WIN-008")
    assert not hits(tmp_path, [doc, win_pod()], "CNI-WIN-009")  # the runtime gives the cluster DNS itself
    sdn = flannel({"type": "sdnoverlay", "AdditionalArgs": [ROUTE_V2]}, name="flannel.4096",
                  capabilities={"portMappings": True, "dns": True})
    doc = plan_doc()
    doc["spec"]["network"]["cni"] = sdn
    assert not hits(tmp_path, [doc, win_pod()], "CNI-WIN-008")
    # wincni does not read runtimeConfig.dns: its conf without dns leaves the pods without a server
    wincni = {"cniVersion": "0.2.0", "name": "l2bridge", "type": "wincni.exe", "capabilities": {"dns": True},
              "ipam": {"subnet": "10.244.2.0/24", "routes": [{"GW": "10.244.2.2"}]}}
    doc = cluster_doc(network={"plugin": "win-bridge", "config": wincni})
    assert len(hits(tmp_path, [doc, win_pod()], "CNI-WIN-008")) == 1
