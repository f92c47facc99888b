"""Build a Blueprint in the kernel with pyroute2, and take it down again.

Nothing is created outside the plan's own namespaces: veth pairs are made with both ends already in their
namespaces (the peer is created straight into its namespace), sysctls are written inside each namespace, and
the namespaces have no link to the host, so no packet can leave them. When anything fails — or the user
presses Ctrl-C — every namespace made so far is removed before the error goes on.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Interface

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from cnimodel.encapsulation import KINDS
from cnimodel.kernel import interrupts, nsutil, rtnl
from cnimodel.kernel.blueprint import Blueprint, End, Space, Tunnel
from cnimodel.kernel.naming import Names
from cnimodel.kernel.netlink import add_args
from cnimodel.syntax import route_line

STATE_TAG = "cnimodel-netns"
KERNEL_CONFIG = {"vxlan": "VXLAN", "geneve": "GENEVE", "ipip": "NET_IPIP"}
Progress = Callable[[str], None]  # a stage done: one line saying what was made
Steps = Callable[[str, int, int], None]  # on the way: the stage, the steps done, the steps it has


def quiet(_stage: str, _done: int, _total: int) -> None:
    """Steps nobody shows (``up`` and ``verify`` without a ``steps`` callback)."""


class RealiseError(RuntimeError):
    """A step of ``netns up`` the kernel refused: the message names the namespace, object and reason."""


class KindUnsupported(RealiseError):
    """The running kernel has no devices of a tunnel kind the plan needs (geneve, ipip)."""


def _sysctls(space: Space) -> dict[str, str]:
    values = {
        # Redirects would let the kernel cache a shortcut the model does not have (the router forwarding a
        # packet back out of the bridge it came from, as a cloud route table does).
        "net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.default.send_redirects": "0",
        "net.ipv4.conf.all.accept_redirects": "0", "net.ipv4.conf.default.accept_redirects": "0",
        # Loose reverse-path filtering, the systemd default on most distributions.
        "net.ipv4.conf.all.rp_filter": "2", "net.ipv4.conf.default.rp_filter": "2",
        "net.ipv4.ip_forward": "1" if space.forward else "0",
    }
    if os.path.exists("/proc/sys/net/ipv6"):
        values |= {"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"}
    return values


class Handles:
    """Netlink sockets per namespace, a few kept open at a time (a plan may have thousands of namespaces)."""

    def __init__(self, keep: int = 8) -> None:
        self.keep = keep
        self.open: OrderedDict[str, IPRoute] = OrderedDict()

    def __call__(self, ns: str) -> IPRoute:
        ipr = self.open.pop(ns, None) or nsutil.ipr(ns)
        self.open[ns] = ipr
        while len(self.open) > self.keep:
            nsutil.close(self.open.popitem(last=False)[1])
        return ipr

    def close(self) -> None:
        while self.open:
            nsutil.close(self.open.popitem()[1])


@dataclass(frozen=True)
class LinkConf:
    """What a created link gets next: MTU, MAC, bridge master, addresses."""

    name: str
    mtu: int
    addresses: tuple[IPv4Interface, ...] = ()
    mac: str | None = None
    master: str | None = None
    bridge: bool = False


def _step(what: str, fn: Callable[[], object]) -> None:
    """One netlink request, run whole: an interrupt inside pyroute2's event loop would leave the loop broken (and
    noisy when it is collected), so it waits until the request is answered."""
    try:
        with interrupts.held():
            fn()
    except NetlinkError as e:
        raise RealiseError(f"{what}: {e.args[1] if len(e.args) > 1 else e}") from None


def _confs(bp: Blueprint) -> dict[str, list[LinkConf]]:
    """Every link's settings, by namespace: bridges first so that ports can join them."""
    out: dict[str, list[LinkConf]] = defaultdict(list)
    for b in bp.bridges:
        out[b.ns].append(LinkConf(b.name, b.mtu, b.addresses, b.mac, bridge=True))
    for v in bp.veths:
        for e in (v.a, v.b):
            out[e.ns].append(LinkConf(e.name, e.mtu, e.addresses, e.mac, e.master))
    for x in bp.tunnels:
        out[x.ns].append(LinkConf(x.name, x.mtu, x.addresses, x.mac))
    return out


def up(bp: Blueprint, progress: Progress | None = None, steps: Steps | None = None) -> None:
    """Create every namespace, link, address, route, neighbour and FDB entry of ``bp``; on any failure (or
    KeyboardInterrupt) remove what was made and re-raise. ``progress`` hears each stage done, ``steps`` each
    step on the way."""
    try:
        with interrupts.guarded():
            _up(bp, progress or (lambda _msg: None), steps or quiet)
    except BaseException:  # (also an interrupt landing just after the last step: up is all or nothing)
        _undo(Handles(), [s.name for s in bp.spaces])
        raise


def _up(bp: Blueprint, say: Progress, steps: Steps) -> None:
    created: list[str] = []
    handles = Handles()
    spaces = len(bp.spaces)
    try:
        for space in bp.spaces:
            steps("creating namespaces", len(created), spaces)
            created.append(space.name)  # recorded first: an interrupt in between still finds it to remove
            nsutil.create(space.name)
            nsutil.sysctl(space.name, _sysctls(space))
        say(f"{len(created)} namespaces")
        links = len(bp.bridges) + len(bp.veths) + len(bp.tunnels)
        for i, b in enumerate(bp.bridges):
            steps("creating links", i, links)
            ipr = handles(b.ns)
            _step(f"{b.ns}: bridge {b.name}", lambda ipr=ipr, b=b: ipr.link("add", ifname=b.name, kind="bridge"))
        for i, v in enumerate(bp.veths, start=len(bp.bridges)):
            steps("creating links", i, links)
            _veth(handles, v.a, v.b)
        for i, x in enumerate(bp.tunnels, start=len(bp.bridges) + len(bp.veths)):
            steps("creating links", i, links)
            _tunnel(handles, x)
        handles.close()
        for space in bp.spaces:
            if space.link_sysctls:  # the links exist now: their per-interface settings (proxy_arp …)
                nsutil.sysctl(space.name, space.link_sysctls)
        confs = _confs(bp)
        for i, space in enumerate(bp.spaces):
            steps("addresses, routes, neighbours", i, spaces)
            _configure(space, confs.get(space.name, []))
        if bp.policy:
            from cnimodel.kernel import filters

            steps(f"installing {bp.policy} rules", 0, len(bp.pods))
            filters.install(bp, bp.policy)
            say(f"policy verdicts installed as {bp.policy} rules in {len(bp.pods)} pods")
        _write_state(bp)
        say(f"{len(bp.bridges)} bridges, {len(bp.veths)} veth pairs, {_tunnel_counts(bp)}, "
            f"{sum(len(s.routes) for s in bp.spaces)} routes")
    except BaseException:
        _undo(handles, created)
        raise


def _undo(handles: Handles, created: list[str]) -> None:
    """Remove every namespace made so far, whatever else fails; a second interrupt waits until it is done."""
    interrupts.hold()
    try:
        handles.close()
        for name in reversed(created):
            with contextlib.suppress(OSError):  # (the error that stopped ``up`` is the one to report)
                nsutil.remove(name)
    finally:
        interrupts.drop()


def _veth(handles: Handles, a: End, b: End) -> None:
    ipr = handles(a.ns)
    fd = os.open(os.path.join(nsutil.RUN_DIR, b.ns), os.O_RDONLY)
    try:
        # The peer is created straight into its namespace: no end ever exists in the host's.
        _step(f"{a.ns}: veth {a.name} (peer {b.name} in {b.ns})",
              lambda: ipr.link("add", ifname=a.name, kind="veth", peer={"ifname": b.name, "net_ns_fd": fd}))
    finally:
        os.close(fd)


def _tunnel_counts(bp: Blueprint) -> str:
    """``2 VXLAN devices`` (said even when there are none), then any other kind's count."""
    counts = {"vxlan": 0} | {x.kind: 0 for x in bp.tunnels}
    for x in bp.tunnels:
        counts[x.kind] += 1
    return ", ".join(f"{n} {KINDS[kind].label} devices" for kind, n in counts.items())


def _tunnel(handles: Handles, x: Tunnel) -> None:
    ipr = handles(x.ns)
    with interrupts.held():
        found = ipr.link_lookup(ifname=x.link)
    label = KINDS[x.kind].label
    if not found:
        raise RealiseError(f"{x.ns}: {label} {x.name}: its underlay device {x.link} is missing")
    if x.kind == "vxlan":
        # flanneld's VTEP: no learning (entries come from the leases), local = node IP, bound to the uplink.
        args: dict[str, object] = {"vxlan_id": x.vni, "vxlan_port": x.port, "vxlan_local": str(x.local),
                                   "vxlan_link": found[0], "vxlan_learning": 0}
    elif x.kind == "geneve":  # point to point: the kernel's geneve has no local address and one remote
        args = {"geneve_id": x.vni, "geneve_port": x.port, "geneve_remote": str(x.remote)}
    else:  # ipip without a remote: any peer, the outer destination taken from each route's gateway
        args = {"ipip_link": found[0], **({"ipip_local": str(x.local)} if x.local is not None else {})}
    _step(f"{x.ns}: {label} {x.name}", lambda: _add_tunnel(ipr, x, args))


def _add_tunnel(ipr: IPRoute, x: Tunnel, args: dict[str, object]) -> None:
    try:
        ipr.link("add", ifname=x.name, kind=x.kind, **args)
    except NetlinkError as e:
        if e.code in (errno.EOPNOTSUPP, errno.EAFNOSUPPORT) or "Unknown device type" in str(e):
            raise KindUnsupported(f"{x.ns}: {KINDS[x.kind].label} {x.name}: this kernel has no {x.kind} devices "
                               f"(CONFIG_{KERNEL_CONFIG[x.kind]} is not set or its module is not loaded)") from None
        raise


def _configure(space: Space, confs: list[LinkConf]) -> None:
    """One batch per namespace, in order: links (bridges first) with MTU, MAC, master and up; addresses;
    routes without a gateway, then with one (a gateway must be reachable when its route goes in);
    neighbours; FDB entries."""
    with rtnl.Rtnl(space.name) as nl:
        index = {name: i for i, name in nl.links().items()}

        def idx(name: str) -> int:
            if name not in index:
                raise RealiseError(f"{space.name}: device {name} is missing")
            return index[name]

        reqs = [rtnl.set_link(idx("lo"), "lo up")]
        for c in confs:
            reqs.append(rtnl.set_link(idx(c.name), f"{c.name} mtu {c.mtu}", mtu=c.mtu, mac=c.mac,
                                      master=idx(c.master) if c.master else None))
        for c in confs:
            reqs += [rtnl.add_address(idx(c.name), a.ip, a.network.prefixlen, f"address {a} on {c.name}")
                     for a in c.addresses]
        for r in sorted(space.routes, key=lambda r: r.via is not None):
            args = add_args(r, idx(r.dev) if r.dev else None)
            reqs.append(rtnl.add_route(r.dst, f"route {route_line(r)}", via=r.via, oif=args.get("oif"),
                                       proto=args["proto"], scope=args.get("scope", 0), type_=args["type"],
                                       onlink=r.onlink, src=r.src))
        reqs += [rtnl.add_neighbor(idx(n.dev), n.ip, n.mac, f"neighbour {n.ip} lladdr {n.mac} dev {n.dev}")
                 for n in space.neighbors]
        reqs += [rtnl.add_fdb(idx(e.dev), e.mac, e.dst, f"fdb {e.mac} dev {e.dev} dst {e.dst}") for e in space.fdb]
        for a in nl.run(reqs):
            if a.error:
                raise RealiseError(f"{space.name}: {a.request.what}: {a.message}")


def _write_state(bp: Blueprint) -> None:
    """Keep what ``verify`` needs to find the same pods on the underlay namespace's ``lo`` alias: it goes
    away with the namespaces, so nothing is left on the host."""
    ipr = nsutil.ipr(bp.names.underlay)
    try:
        alias = f"{STATE_TAG} plan={bp.names.plan} pods-per-node={bp.pods_per_node} policy={bp.policy or 'none'}"
        with interrupts.held():
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], ifalias=alias[:255])
    finally:
        nsutil.close(ipr)


def read_state(names: Names) -> dict[str, str] | None:
    """What ``up`` recorded (``plan``, ``pods-per-node``, ``policy``), or None when the plan is not up."""
    if not nsutil.exists(names.underlay):
        return None
    ipr = nsutil.ipr(names.underlay)
    try:
        lo = ipr.get_links(ifname="lo")[0]
        alias = lo.get_attr("IFLA_IFALIAS") or ""
    finally:
        ipr.close()
    if not alias.startswith(STATE_TAG):
        return {}
    return dict(part.split("=", 1) for part in alias.split()[1:] if "=" in part)


def down(names: Names) -> list[str]:
    """Remove every namespace of the plan (their links go with them); returns the names removed."""
    gone = []
    for name in nsutil.names(names.prefix + "-"):
        if nsutil.remove(name):
            gone.append(name)
    return gone
