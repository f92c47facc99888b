"""The Calico CNI plugin's Linux data plane (projectcalico/calico cni-plugin), as canal runs it beside flannel.

Per pod (``DoNetworking`` in cni-plugin/pkg/dataplane/linux): a veth pair whose host end is named ``cali`` +
the first 11 hex digits of sha1("<namespace>.<pod>") with MAC ee:ee:ee:ee:ee:ee; both ends get the
configured MTU. Inside the pod, eth0 holds the pod address as a /32, a link route to 169.254.1.1 and the
default route via it; nothing answers for 169.254.1.1 but the host end's proxy ARP. On the host, one
``<podIP> dev cali… scope link`` route per pod and the sysctls the plugin writes on the host end
(route_localnet, proxy_arp, proxy_delay, forwarding). No bridge: the host routes every packet, and felix
filters it on the pod's cali interface.

Addresses come from host-local over the node's podCIDR (``"subnet": "usePodCidr"``): .1 is host-local's
gateway, kept out of the range although nothing holds it, so the first pod is .2.

MTU: the conf's ``mtu`` when non-zero; else the file felix writes (/var/lib/calico/mtu): the smallest MTU of
the host's up interfaces matching FELIX_MTUIFACEPATTERN, less the overhead of Calico's own encapsulation —
none in canal, where flannel encapsulates — so the host MTU, 1460 when no interface matches.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Any

from cnimodel.dataplane import Device, Route
from cnimodel.ipam import PodRange, host_local_range
from cnimodel.net import host
from cnimodel.plan import NodeSpec, Origin, Plan, Problems
from cnimodel.plan.fields import Fields, thaw

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

TYPE = "calico"
OWNER = "calico"
VETH_PREFIX = "cali"  # FELIX_INTERFACEPREFIX's first entry; the CNI binary does not see calico-node's env
HOST_SIDE_MAC = "ee:ee:ee:ee:ee:ee"
GATEWAY = IPv4Address("169.254.1.1")
# felix's MTUIfacePattern default, and findHostMTU's answer when no interface matches it
MTU_IFACE_PATTERN = r"^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)"
NO_MATCH_MTU = 1460
HOST_GATEWAY_NOTE = "host-local's gateway, unused: no bridge holds it, pods route via 169.254.1.1"
# Chained plugins whose effect the model leaves out without a word when nothing in the plan uses them.
QUIET_CHAINED = {"portmap": "hostPort", "bandwidth": ""}


@dataclass(frozen=True)
class CalicoConf:
    """The calico plugin's conf as the model uses it. ``mtu`` None: /var/lib/calico/mtu decides."""

    name: str
    mtu: int | None
    allow_ip_forwarding: bool
    mtu_pattern: re.Pattern[str]
    chained: tuple[str, ...] = ()
    ipam: str = "host-local"  # or calico-ipam (policy.config.ipam agrees: Calico IPAM blocks replace the podCIDR)


def plugin_conf(cni: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The calico plugin's conf when the CNI config is one (a conf of type calico, or a conflist whose first
    plugin is), else None."""
    if cni is None:
        return None
    plugins = cni.get("plugins")
    first = plugins[0] if isinstance(plugins, tuple | list) and plugins else cni
    return first if isinstance(first, Mapping) and first.get("type") == TYPE else None


def veth_name(namespace: str, pod: str, prefix: str = VETH_PREFIX) -> str:
    """The host end of a pod's veth: ``VethNameForWorkload`` — prefix + the first 11 hex digits of
    sha1("<namespace>.<pod>") (15 characters with ``cali``, the kernel's limit)."""
    return prefix + hashlib.sha1(f"{namespace}.{pod}".encode()).hexdigest()[:11]


def read_conf(plan: Plan, problems: Problems) -> CalicoConf | None:
    """The plan's calico CNI conf, checked; None when the plan's CNI is not the calico plugin."""
    assert plan.network is not None
    cni = plan.network.cni
    conf = plugin_conf(cni)
    if conf is None or cni is None:
        return None
    at = plan.network.origin.at("cni")
    is_list = isinstance(cni.get("plugins"), tuple | list)
    f = Fields(thaw(conf), at.at("plugins[0]") if is_list else at, problems)
    mtu = f.int("mtu", default=0, lo=0, hi=65535)
    ipam = f.sub("ipam")
    ipam_type = _ipam_type(plan, ipam, problems)
    if ipam_type == "host-local":
        _check_subnet(ipam, problems)
    if ipam.raw("routes"):
        problems.warn(ipam.origin.at("routes"), "custom pod routes are not modelled: the model gives each pod only "
                      "the default route via 169.254.1.1", "leave ipam.routes out")
    device = f.str("device_type", default="")
    if device not in ("", "veth"):
        problems.warn(f.origin.at("device_type"), f"device_type {device!r} is not modelled: the model builds a "
                      "veth pair per pod", "leave device_type out")
    forwarding = f.sub("container_settings").bool("allow_ip_forwarding")
    pattern = _mtu_pattern(plan, problems)
    chained = tuple(str(p.get("type")) for p in (cni.get("plugins") or ())[1:] if isinstance(p, Mapping))
    _chained_warning(plan, chained, at, problems)
    if plan.policy.plugin != "calico":
        problems.warn(plan.network.origin.at("cni"), "the calico CNI plugin needs calico-node on every Linux node "
                      "(it reads /var/lib/calico/nodename), and felix there enforces policy: the plan has no "
                      "Calico policy layer", "add `policy: {plugin: calico}` (canal runs both)")
    name = str(cni.get("name") or conf.get("name") or "k8s-pod-network")
    return CalicoConf(name, mtu or None, forwarding, pattern, chained, ipam_type)


def _ipam_type(plan: Plan, ipam: Fields, problems: Problems) -> str:
    """The conf's IPAM, which must be the one the plan allocates with: host-local over the podCIDR, or Calico
    IPAM when ``policy.config.ipam`` says calico-ipam (the policy layer's allocation replaces flannel's)."""
    given = ipam.str("type", default="")
    if given not in ("host-local", "calico-ipam"):
        problems.warn(ipam.origin.at("type"), f"ipam type {given!r} is not modelled for the calico CNI: the model "
                      "hands out addresses as host-local over the node's podCIDR",
                      'use the canal manifest\'s ipam: {"type": "host-local", "subnet": "usePodCidr"}')
        given = "host-local"
    raw = plan.policy.config.get("ipam", "host-local") if plan.policy.plugin == "calico" else "host-local"
    planned = raw.get("type") if isinstance(raw, Mapping) else raw
    if planned in ("host-local", "calico-ipam") and planned != given:
        problems.error(ipam.origin.at("type"), f"the calico CNI's ipam is {given}, but the plan allocates with "
                       f"{planned} (policy.config.ipam): the plugin would hand out {given} addresses",
                       f"make them agree: set policy.config.ipam to {given}, or the conf's ipam type to {planned}")
    return given


def _check_subnet(ipam: Fields, problems: Problems) -> None:
    """``usePodCidr`` (any case) is the node's podCIDR; anything else would give every node one subnet."""
    ranges = ipam.raw("ranges")
    subnets: list[tuple[Origin, Any]] = []
    if "subnet" in ipam:
        subnets.append((ipam.origin.at("subnet"), ipam.raw("subnet")))
    for i, rset in enumerate(ranges if isinstance(ranges, tuple | list) else ()):
        for j, r in enumerate(rset if isinstance(rset, tuple | list) else ()):
            if isinstance(r, Mapping):
                subnets.append((ipam.origin.at(f"ranges[{i}][{j}].subnet"), r.get("subnet")))
    for origin, subnet in subnets:
        if not (isinstance(subnet, str) and subnet.lower() == "usepodcidr"):
            problems.warn(origin, f"subnet {subnet!r} is not modelled: the model gives each node host-local over its "
                          "own podCIDR, as \"usePodCidr\" does", "write \"subnet\": \"usePodCidr\"")


def _mtu_pattern(plan: Plan, problems: Problems) -> re.Pattern[str]:
    """felix's MTU interface pattern (policy.config FELIX_MTUIFACEPATTERN, else felix's default)."""
    text = plan.policy.config.get("FELIX_MTUIFACEPATTERN") if plan.policy.plugin == "calico" else None
    if isinstance(text, str):
        try:
            return re.compile(text)
        except re.error as e:
            problems.error(plan.policy.origin.at("config.FELIX_MTUIFACEPATTERN"), f"{text!r} is not a regular "
                           f"expression: {e}", "write a regex matching the host's uplink names, e.g. ^eth")
    return re.compile(MTU_IFACE_PATTERN)


def _chained_warning(plan: Plan, chained: tuple[str, ...], at: Origin, problems: Problems) -> None:
    uses_host_port = any(p.host_port for pod in plan.pods for p in pod.ports if not pod.host_network)
    shown = [t for t in chained if t not in QUIET_CHAINED or (t == "portmap" and uses_host_port)]
    if shown:
        problems.warn(at.at("plugins"), f"chained plugin(s) {', '.join(shown)} after calico are not modelled"
                      + (" (portmap's hostPort DNAT included)" if "portmap" in shown else ""),
                      "nothing to change: routes, addresses and policy do not depend on them")


def pod_mtu(conf: CalicoConf, node: NodeSpec, uplink_mtu: int) -> int:
    """The pods' MTU: the conf's, else what felix writes to /var/lib/calico/mtu (the host MTU: Calico itself
    encapsulates nothing beside flannel)."""
    if conf.mtu is not None:
        return conf.mtu
    return uplink_mtu if conf.mtu_pattern.search(node.ext_interface) else NO_MATCH_MTU


def pod_range(pod_cidr: IPv4Network, ipam: str = "host-local") -> PodRange:
    """host-local over the node's podCIDR, the pods' default gateway 169.254.1.1. With calico-ipam only the
    gateway counts (Calico IPAM builds the range over its blocks and reserves nothing here on Linux)."""
    if ipam == "calico-ipam":
        return PodRange(pod_cidr, GATEWAY, pod_cidr.network_address, pod_cidr.broadcast_address, (), ipam)
    rng = host_local_range(pod_cidr, pod_gateway=GATEWAY)
    gw = host(pod_cidr, 1)
    return replace(rng, reserved=tuple((ip, HOST_GATEWAY_NOTE if ip == gw else why) for ip, why in rng.reserved))


def host_sysctls(dev: str) -> tuple[tuple[str, str], ...]:
    """What the plugin writes on a pod's host end, in its order (configureSysctls, IPv4)."""
    return ((f"net.ipv4.conf.{dev}.route_localnet", "1"), (f"net.ipv4.neigh.{dev}.proxy_delay", "0"),
            (f"net.ipv4.conf.{dev}.proxy_arp", "1"), (f"net.ipv4.conf.{dev}.forwarding", "1"))


def workloads(cluster: Cluster, node: NodeSpec, mtu: int) -> tuple[list[Device], list[Route]]:
    """The node's pod veths (host ends) and their /32 routes, in pod order."""
    devices: list[Device] = []
    routes: list[Route] = []
    for a in cluster.allocation.pods_on(node.name):
        if a.pod.host_network:
            continue
        dev = veth_name(a.pod.namespace, a.pod.name)
        devices.append(Device(dev, "veth", mtu=mtu, mac=HOST_SIDE_MAC, owner=OWNER, sysctls=host_sysctls(dev)))
        routes.append(Route(IPv4Network((int(a.ip), 32)), dev=dev, scope="link", kind="host", owner=OWNER))
    return devices, routes


def pod_note(conf: CalicoConf, mtu: int) -> str:
    forwarding = "1" if conf.allow_ip_forwarding else "0"
    return (f"calico CNI, inside each pod: eth0 <podIP>/32 (MTU {mtu}), {GATEWAY} dev eth0 scope link, default via "
            f"{GATEWAY} dev eth0; the host end (MAC {HOST_SIDE_MAC}) answers ARP for {GATEWAY} by proxy_arp; "
            f"net.ipv4.ip_forward={forwarding} in the pod")


__all__ = ["CalicoConf", "plugin_conf", "pod_range", "read_conf", "veth_name", "workloads"]
