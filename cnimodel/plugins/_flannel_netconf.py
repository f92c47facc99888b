"""flannel's net-conf.json with flannel's defaults, and the subnet leases of its etcd subnet manager
(with ``--kube-subnet-mgr`` the lease is the Node's podCIDR and none of this range arithmetic applies)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv4Network

from cnimodel.plan import Origin, Plan, Problems
from cnimodel.plan.fields import Fields, thaw

BACKENDS = ("host-gw", "vxlan")
MIN_MTU = 68  # the kernel's smallest IPv4 device MTU


@dataclass(frozen=True)
class NetConf:
    """flannel's net-conf.json, with flannel's defaults filled in."""

    network: IPv4Network
    backend: str
    subnet_len: int
    subnet_min: IPv4Network
    subnet_max: IPv4Network
    vni: int | None = None
    port: int | None = None
    direct_routing: bool = False
    mac_prefix: str = "0E-2A"
    name: str | None = None
    gbp: bool = False
    mtu: int | None = None  # Backend.MTU (Linux vxlan: the device MTU + 50); None: the uplink's


def read_net_conf(plan: Plan, problems: Problems, config: object = None, at: Origin | None = None) -> NetConf | None:
    """net-conf.json (``config``, default the plan's ``network.config``) with flannel's defaults."""
    assert plan.network is not None
    f = Fields(thaw(plan.network.config if config is None else config), at or plan.network.origin.at("config"),
               problems)
    network = f.cidr("Network", required=False) or plan.cluster_cidr
    if network is None:
        return None
    backend_f = f.sub("Backend")
    btype = backend_f.str("Type", default=None)
    plan_backend = plan.network.backend
    if btype and plan_backend and btype != plan_backend:
        problems.error(backend_f.origin.at("Type"), f"Backend.Type {btype!r} disagrees with network.backend "
                       f"{plan_backend!r}", "set one of them, or make them equal")
    backend = plan_backend or btype
    if backend is None:
        problems.error(plan.network.origin.at("backend"), "no backend: flannel's code default when Backend is "
                       "omitted is udp, which cnimodel does not model", "set `backend: host-gw` or `vxlan`")
        return None
    if backend not in BACKENDS:
        problems.error(plan.network.origin.at("backend"), f"flannel backend {backend!r} is not modelled",
                       f"use one of: {', '.join(BACKENDS)}")
        return None
    # flanneld decodes the whole file in either mode (ParseConfig), but checks the lease rules only for
    # its own (etcd) subnet manager (CheckNetworkConfig); with --kube-subnet-mgr they are never used.
    check = plan.network.subnet_manager == "etcd"
    given_len = f.int("SubnetLen", default=0, lo=0)
    smin = _ip4(f, "SubnetMin", problems)
    smax = _ip4(f, "SubnetMax", problems)
    subnet_len, subnet_min, subnet_max = _lease_rules(f, network, given_len, smin, smax, problems, check)
    return NetConf(network, backend, subnet_len, subnet_min, subnet_max,
                   vni=backend_f.int("VNI", default=None, lo=0, hi=16777215),
                   port=backend_f.int("Port", default=None, lo=0, hi=65535),
                   direct_routing=backend_f.bool("DirectRouting"),
                   mac_prefix=backend_f.str("MacPrefix", default="0E-2A"),
                   name=backend_f.str("Name", default=None), gbp=backend_f.bool("GBP"),
                   mtu=backend_f.int(_key(backend_f, "MTU"), default=None, lo=1, hi=65535))


def _key(f: Fields, name: str) -> str:
    """The key Go's encoding/json would match to ``name`` (case-insensitively; the exact spelling first)."""
    if name in f:
        return name
    return next((k for k in f.data if isinstance(k, str) and k.lower() == name.lower()), name)


def _ip4(f: Fields, name: str, problems: Problems) -> int:
    """SubnetMin/SubnetMax as flannel decodes them (ip.IP4: a plain address; 0 when absent or 0.0.0.0)."""
    value = f.raw(name)
    if value is None:
        return 0
    if isinstance(value, str):
        try:
            return int(IPv4Address(value.strip()))
        except (AddressValueError, ValueError):
            pass
    # flanneld exits at startup on anything but an address ("Invalid IP address format"), a CIDR included.
    addr = value.split("/")[0] if isinstance(value, str) else None
    fix = f"write the address alone: {addr}" if addr and addr != value else "write an IPv4 address like 10.244.1.0"
    problems.error(f.origin.at(name), f"{value!r} is not an IPv4 address: flanneld reads {name} as an address "
                   "and fails to start (\"Invalid IP address format\")", fix)
    return 0


def _lease_rules(f: Fields, network: IPv4Network, given_len: int, smin: int, smax: int, problems: Problems,
                 check: bool) -> tuple[int, IPv4Network, IPv4Network]:
    """SubnetLen, SubnetMin and SubnetMax with flannel's defaults and checks (CheckNetworkConfig, in this
    order). ``check`` false (kube subnet manager): defaults only, since flannel never reads them there."""
    subnet_len = given_len
    if given_len > 0:
        if given_len > 30 or given_len < network.prefixlen + 2:
            if check:
                msg, fix = (("SubnetLen must be less than /31", "use /30 or shorter") if given_len > 30 else
                            (f"Network {network} must hold at least four /{given_len} subnets",
                             f"use SubnetLen /{network.prefixlen + 2} or longer"))
                problems.error(f.origin.at("SubnetLen"), msg, fix)
            subnet_len = 0
    elif network.prefixlen > 28 and check:
        problems.error(f.origin.at("Network"), f"{network} is too small for flannel (longer than /28)",
                       "use a Network of /28 or shorter")
    if subnet_len == 0:
        if network.prefixlen > 28:  # too small for leases (refused above for etcd; unused with the kube manager)
            return network.prefixlen, network, network
        subnet_len = 24 if network.prefixlen <= 22 else network.prefixlen + 2
    size = 1 << (32 - subnet_len)
    base = int(network.network_address)
    mask = (0xFFFFFFFF << (32 - subnet_len)) & 0xFFFFFFFF
    out = []
    for label, value, default in (("SubnetMin", smin, base + size),
                                  ("SubnetMax", smax, base + network.num_addresses - size)):
        if value == 0:
            value = default
        elif check and IPv4Address(value) not in network:
            problems.error(f.origin.at(label), f"{IPv4Address(value)} is not in the range of Network {network}",
                           "pick an address inside Network")
            value = default
        elif value & mask != value:
            if check:
                problems.error(f.origin.at(label), f"{label} {IPv4Address(value)} is not on a SubnetLen boundary "
                               f"(/{subnet_len})", f"use {IPv4Address(value & mask)} or "
                               f"{IPv4Address((value & mask) + size)}, or change SubnetLen")
            value = default
        out.append(IPv4Network((value, subnet_len)))
    return subnet_len, out[0], out[1]


def etcd_leases(plan: Plan, conf: NetConf, problems: Problems) -> dict[str, tuple[IPv4Network, str]]:
    """flannel's etcd subnet manager, made deterministic: each node in plan order takes the lowest free
    lease from SubnetMin to SubnetMax (flannel picks at random among the first 100 free)."""
    size = 1 << (32 - conf.subnet_len)
    out: dict[str, tuple[IPv4Network, str]] = {}
    used: set[int] = set()
    for node in plan.nodes:
        if node.pod_cidr is not None:
            out[node.name] = (node.pod_cidr, "plan")
            used.add(int(node.pod_cidr.network_address))
    candidate = int(conf.subnet_min.network_address)
    last = int(conf.subnet_max.network_address)
    for node in plan.nodes:
        if node.pod_cidr is not None:
            continue
        while candidate <= last and candidate in used:
            candidate += size
        if candidate > last:
            problems.error(node.origin, f"failed to acquire subnet for node {node.name!r}: out of subnets "
                           f"({conf.subnet_min}..{conf.subnet_max})",
                           "widen Network, use a longer SubnetLen (smaller subnets, more of them), or move "
                           "SubnetMin/SubnetMax apart")
            continue
        used.add(candidate)
        out[node.name] = (IPv4Network((candidate, conf.subnet_len)), "flannel-etcd")
    return out
