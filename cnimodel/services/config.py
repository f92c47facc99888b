"""kube-proxy settings from ``spec.kubeProxy`` (field names as in KubeProxyConfiguration where one exists).

```yaml
kubeProxy:
  mode: iptables                 # Linux nodes (only iptables is modelled); Windows nodes run winkernel
  clusterCIDR: 10.244.0.0/16     # default: spec.clusterCIDR
  detectLocalMode: ClusterCIDR   # or NodeCIDR
  healthzBindAddress: 0.0.0.0:10256
  featureGates: {WinDSR: true}
  iptables: {masqueradeAll: false, masqueradeBit: 14, localhostNodePorts: true, masqueradeRandomFully: true}
  winkernel:
    enableDSR: false
    dsrSupported: auto           # cnimodel: does HNS support DSR? auto = Windows build >= 17763
    sourceVip: {win1: 10.244.3.2}  # per node; default: the node's source-VIP HNS endpoint
    networkName: cbr0            # default: the node's (first) HNS network
    forwardHealthCheckVip: false
    rootHnsEndpointName: cbr0_ep # default: the node's host HNS endpoint
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from types import MappingProxyType
from typing import Any

from cnimodel.plan import Plan, Problems
from cnimodel.plan.fields import Fields, thaw
from cnimodel.services.model import IPAddress, IPNetwork, _ip, _net

DSR_MIN_BUILD = 17763  # Windows Server 2019: HNS DSR support (with the May 2020 update)
AFFINITY_MIN_BUILD = 20348  # Windows Server 2022: HNS 12, session affinity
LINUX_MODES = ("iptables",)


@dataclass(frozen=True)
class WinkernelConfig:
    enable_dsr: bool = False
    dsr_supported: bool | None = None  # None: decide from the node's Windows build
    source_vip: MappingProxyType[str, IPAddress] = field(default_factory=lambda: MappingProxyType({}))
    network_name: str | None = None
    forward_healthcheck_vip: bool = False
    root_hns_endpoint_name: str | None = None


@dataclass(frozen=True)
class KubeProxyConfig:
    """The settings the model uses; every field has kube-proxy's default."""

    mode: str = "iptables"
    cluster_cidrs: tuple[IPNetwork, ...] = ()
    detect_local_mode: str = "ClusterCIDR"
    healthz_port: int = 10256
    masquerade_all: bool = False
    masquerade_bit: int = 14
    localhost_node_ports: bool = True
    random_fully: bool = True
    feature_gates: MappingProxyType[str, bool] = field(default_factory=lambda: MappingProxyType({}))
    winkernel: WinkernelConfig = WinkernelConfig()

    @property
    def masquerade_mark(self) -> str:
        """Go's ``%#08x`` of 1 << masqueradeBit, as kube-proxy formats it: 0x00004000 for the default bit 14."""
        return f"0x{1 << self.masquerade_bit:08x}"

    def to_json(self) -> dict[str, Any]:
        w = self.winkernel
        return {
            "mode": self.mode, "clusterCIDR": ",".join(map(str, self.cluster_cidrs)),
            "detectLocalMode": self.detect_local_mode, "healthzPort": self.healthz_port,
            "masqueradeAll": self.masquerade_all, "masqueradeBit": self.masquerade_bit,
            "masqueradeMark": self.masquerade_mark, "localhostNodePorts": self.localhost_node_ports,
            "masqueradeRandomFully": self.random_fully, "featureGates": dict(self.feature_gates),
            "winkernel": {"enableDSR": w.enable_dsr, "dsrSupported": "auto" if w.dsr_supported is None
                          else w.dsr_supported, "sourceVip": {k: str(v) for k, v in w.source_vip.items()},
                          "networkName": w.network_name, "forwardHealthCheckVip": w.forward_healthcheck_vip,
                          "rootHnsEndpointName": w.root_hns_endpoint_name},
        }


def read_config(plan: Plan, problems: Problems) -> KubeProxyConfig:
    """``spec.kubeProxy`` checked, with each problem at its field path."""
    origin = plan.origin.at("spec.kubeProxy")
    f = Fields(thaw(plan.kube_proxy), origin, problems)
    mode = f.str("mode", default="iptables") or "iptables"
    if mode not in LINUX_MODES:
        problems.error(origin.at("mode"), f"kube-proxy mode {mode!r} is not modelled",
                       "use mode: iptables (Windows nodes always run winkernel)")
    cidrs = _cidrs(f, plan.cluster_cidr, problems)
    detect = f.str("detectLocalMode", default="ClusterCIDR", choices=("ClusterCIDR", "NodeCIDR")) or "ClusterCIDR"
    healthz = _port_of(f.str("healthzBindAddress", default="0.0.0.0:10256"), origin.at("healthzBindAddress"),
                       problems)
    ipt = f.sub("iptables")
    gates = f.raw("featureGates") or {}
    if not isinstance(gates, Mapping) or not all(isinstance(v, bool) for v in gates.values()):
        problems.error(origin.at("featureGates"), "expected a mapping of gate names to true/false",
                       "write e.g. `featureGates: {WinDSR: true}`")
        gates = {}
    win = _winkernel(f.sub("winkernel"), problems)
    if win.enable_dsr and gates.get("WinDSR") is False:
        problems.error(origin.at("featureGates.WinDSR"), "winkernel.enableDSR is set but the WinDSR feature gate "
                       "is off: kube-proxy exits with 'WinDSR feature gate not enabled'",
                       "turn WinDSR on (default on from v1.33) or enableDSR off")
    return KubeProxyConfig(
        mode=mode, cluster_cidrs=cidrs, detect_local_mode=detect, healthz_port=healthz,
        masquerade_all=ipt.bool("masqueradeAll"), masquerade_bit=ipt.int("masqueradeBit", default=14, lo=0, hi=31),
        localhost_node_ports=ipt.bool("localhostNodePorts", default=True),
        random_fully=ipt.bool("masqueradeRandomFully", default=True),
        feature_gates=MappingProxyType(dict(gates)), winkernel=win)


def _cidrs(f: Fields, default: IPv4Network | None, problems: Problems) -> tuple[IPNetwork, ...]:
    raw = f.raw("clusterCIDR")
    if raw is None:
        return (default,) if default is not None else ()
    out = []
    for part in str(raw).split(","):
        net = _net(part) if "/" in part else None
        if net is None:
            problems.error(f.origin.at("clusterCIDR"), f"{part.strip()!r} is not a CIDR",
                           "write it like 10.244.0.0/16 (comma-separated for dual-stack)")
        else:
            out.append(net)
    return tuple(out)


def _port_of(addr: str, origin: Any, problems: Problems) -> int:
    port = addr.rsplit(":", 1)[-1] if ":" in addr else ""
    if not port.isdigit() or not 0 < int(port) < 65536:
        problems.error(origin, f"{addr!r} has no port", "write it like 0.0.0.0:10256")
        return 10256
    return int(port)


def _winkernel(f: Fields, problems: Problems) -> WinkernelConfig:
    dsr = f.raw("dsrSupported", "auto")
    if dsr not in ("auto", True, False):
        problems.error(f.origin.at("dsrSupported"), f"expected auto, true or false, found {dsr!r}",
                       "write `dsrSupported: auto`, `true` or `false`")
        dsr = "auto"
    raw_vip = f.raw("sourceVip")
    vips: dict[str, IPAddress] = {}
    if isinstance(raw_vip, Mapping):
        for node, value in raw_vip.items():
            ip = _ip(value)
            if ip is None:
                problems.error(f.origin.at(f"sourceVip.{node}"), f"{value!r} is not an IP address",
                               "give the node's source VIP, an address of its pod subnet (flannel uses .2)")
            else:
                vips[str(node)] = ip
    elif raw_vip is not None:
        ip = _ip(raw_vip)
        if ip is None:
            problems.error(f.origin.at("sourceVip"), f"{raw_vip!r} is not an IP address",
                           "write the source VIP as an IPv4 address in the node's pod range, e.g. 10.244.2.2")
        else:
            vips["*"] = ip  # one value for every node, as a single kube-proxy config file would give
    return WinkernelConfig(
        enable_dsr=f.bool("enableDSR"), dsr_supported=None if dsr == "auto" else bool(dsr),
        source_vip=MappingProxyType(vips), network_name=f.str("networkName", default=None),
        forward_healthcheck_vip=f.bool("forwardHealthCheckVip"),
        root_hns_endpoint_name=f.str("rootHnsEndpointName", default=None))
