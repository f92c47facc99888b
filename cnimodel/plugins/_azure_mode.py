"""Which Azure CNI mode a plan runs, read from the azure-vnet conf exactly as the plugin reads it.

azure-vnet chooses its IPAM in ``NetPlugin.Add`` (Azure/azure-container-networking@cbd7560:
cni/network/network.go:542-590): with ``multiTenancy`` it asks CNS for the pod's network containers (SWIFT v1
multitenancy, not modelled); otherwise ``ipam.type`` ``azure-cns`` selects the CNS invoker and anything else
the legacy invoker, which runs the IPAM plugin ``ipam.type`` names (azure-vnet-ipam in every shipped conf;
cni/network/invoker_azure.go:65). The CNS invoker treats ``ipam.mode`` ``v4overlay``, ``dualStackOverlay``
or ``overlay`` as overlay (cni/network/invoker_cns.go:267, the names in cni/util/const.go:16-18); any other
CNS conf is SWIFT, pods on VNet addresses of a pod subnet (the dynamic pod-subnet mode, shipped as
cni/azure-linux-swift.conflist with ``executionMode: v4swift``). ``executionMode: baremetal`` hands the pod to
the DNC-RC agent instead (network.go:510, not modelled). ``mode`` (transparent, bridge, tunnel …) decides only
the Linux data path, never the addressing; Windows always builds an L2Bridge network
(network/network_windows.go:227).

So, from the conf: node subnet (azure-vnet-ipam), overlay (azure-cns + an overlay ipam.mode) or pod subnet
(azure-cns otherwise). Without a conf the plan's own ``networkPluginMode`` (overlay) and ``podSubnet`` say it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cnimodel.plan import Origin, Problems
from cnimodel.plugins._hns import ci_get

Mode = Literal["node-subnet", "overlay", "pod-subnet"]
OVERLAY_IPAM_MODES = ("v4overlay", "dualStackOverlay", "overlay")  # cni/util/const.go:16-18
CNS, VNET_IPAM = "azure-cns", "azure-vnet-ipam"
PHRASE = {"node-subnet": "node-subnet mode (pods take secondary IPs of their node's VNet subnet)",
          "overlay": "overlay (pods take a private /24 per node from the pod CIDR)",
          "pod-subnet": "pod-subnet mode (dynamic IP allocation: pods take VNet addresses of a pod subnet)"}
AKS_FLAGS = {"node-subnet": "leave networkPluginMode and podSubnet out",
             "overlay": "set `networkPluginMode: overlay` (AKS --network-plugin-mode overlay)",
             "pod-subnet": "set `podSubnet: <the pods' underlay subnet>` (AKS --pod-subnet-id)"}


@dataclass(frozen=True)
class AzureMode:
    """The mode and the conf fields behind it; ``v4swift`` is ``executionMode: v4swift`` (Windows SNATs Azure
    DNS and IMDS per endpoint in pod-subnet mode then)."""

    mode: Mode
    source: str  # a phrase naming what decided it
    v4swift: bool = False


def conf_path(cni: Mapping[str, Any] | None) -> str:
    """The field path of the azure-vnet conf inside ``network.cni`` (a conflist entry or the conf itself)."""
    plugins = cni.get("plugins") if cni is not None else None
    if isinstance(plugins, tuple | list):
        for i, c in enumerate(plugins):
            if isinstance(c, Mapping) and c.get("type") == "azure-vnet":
                return f"cni.plugins[{i}]"
    return "cni"


def from_conf(conf: Mapping[str, Any], origin: Origin, problems: Problems) -> AzureMode:
    """The mode azure-vnet runs with this conf; what it does that the model does not is a warning."""
    ipam = ci_get(conf, "ipam") or {}
    ipam = ipam if isinstance(ipam, Mapping) else {}
    ipam_type = str(ci_get(ipam, "type", "") or "")
    ipam_mode = str(ci_get(ipam, "mode", "") or "")
    execution = str(ci_get(conf, "executionMode", "") or "")
    if ci_get(conf, "multiTenancy") is True:
        problems.warn(origin.at("multiTenancy"), "multiTenancy (SWIFT v1: CNS hands each pod its own network "
                      "container) is not modelled; the pods are modelled from `ipam` as if it were off",
                      "leave multiTenancy out, or expect the model's pod addresses to differ")
    if execution == "baremetal":
        problems.warn(origin.at("executionMode"), "executionMode baremetal (the DNC-RC node agent plumbs each "
                      "pod) is not modelled; the pods are modelled from `ipam`", "leave executionMode out")
    if ipam_type == CNS:
        if ipam_mode in OVERLAY_IPAM_MODES:
            if ipam_mode == "dualStackOverlay":
                problems.warn(origin.at("ipam.mode"), "dualStackOverlay: the pods' IPv6 addresses are not "
                              "modelled (cnimodel models IPv4)", "")
            return AzureMode("overlay", f"ipam {{type: {CNS}, mode: {ipam_mode}}}")
        if ipam_mode:
            problems.warn(origin.at("ipam.mode"), f"ipam.mode {ipam_mode!r} is not an overlay mode azure-vnet "
                          f"knows ({', '.join(OVERLAY_IPAM_MODES)}): it runs as SWIFT, pods on a pod subnet",
                          "write `mode: overlay` for Azure CNI Overlay")
        return AzureMode("pod-subnet", f"ipam {{type: {CNS}}} without an overlay mode", execution == "v4swift")
    if ipam_type != VNET_IPAM:
        what = f"the IPAM plugin {ipam_type!r}" if ipam_type else "no IPAM plugin (ipam.type is empty)"
        problems.warn(origin.at("ipam.type"), f"azure-vnet hands addressing to {what}; only {VNET_IPAM} and "
                      f"{CNS} are modelled: modelled as {VNET_IPAM}", f"set ipam.type to {VNET_IPAM} or {CNS}")
    if ipam_mode:
        problems.warn(origin.at("ipam.mode"), f"ipam.mode {ipam_mode!r} has no effect: azure-vnet reads it only "
                      f"with ipam.type {CNS} (cni/network/invoker_cns.go)",
                      f"for Azure CNI Overlay set ipam {{type: {CNS}, mode: overlay}}")
    return AzureMode("node-subnet", f"ipam {{type: {ipam_type or VNET_IPAM}}}")


def decide(conf: Mapping[str, Any] | None, conf_origin: Origin, plan_mode: str | None, pod_subnet: str | None,
           config_origin: Origin, problems: Problems) -> AzureMode:
    """The conf's mode when there is an azure-vnet conf (warning where the plan's own settings say another),
    else the plan's."""
    planned: Mode = "overlay" if plan_mode == "overlay" else "pod-subnet" if pod_subnet else "node-subnet"
    if conf is None:  # AKS ships pod-subnet confs with executionMode v4swift (cni/azure-*-swift.conflist)
        return AzureMode(planned, "networkPluginMode: overlay" if planned == "overlay" else
                         f"podSubnet: {pod_subnet}" if planned == "pod-subnet" else "no azure-vnet conf given",
                         planned == "pod-subnet")
    got = from_conf(conf, conf_origin, problems)
    if got.mode != planned and not (got.mode == "pod-subnet" and pod_subnet is None):  # that one is an error
        field = "networkPluginMode" if "overlay" in (planned, got.mode) else "podSubnet"
        problems.warn(config_origin.at(field), f"the plan describes {PHRASE[planned]}, but its CNI conf "
                      f"({got.source}) makes azure-vnet run in {PHRASE[got.mode]}: modelled as {got.mode}",
                      f"make the plan agree with the conf: {AKS_FLAGS[got.mode]}")
    return got


__all__ = ["AzureMode", "Mode", "conf_path", "decide", "from_conf"]
