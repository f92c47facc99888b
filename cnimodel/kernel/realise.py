"""Build a Blueprint in the kernel with pyroute2, and take it down again.

Nothing is created outside the plan's own namespaces: veth pairs are made with both ends already in their
namespaces (the peer is created straight into its namespace), sysctls are written inside each namespace, and
the namespaces have no link to the host, so no packet can leave them. When anything fails — or the user
presses Ctrl-C — every namespace made so far is removed before the error goes on.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from ipaddress import IPv4Interface

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from cnimodel.kernel import nsutil
from cnimodel.kernel.blueprint import Blueprint, Bridge, End, Space, Vxlan
from cnimodel.kernel.naming import Names
from cnimodel.kernel.netlink import NUD_PERMANENT, add_args

STATE_TAG = "cnimodel-netns"
Progress = Callable[[str], None]


class RealiseError(RuntimeError):
    """A step of ``netns up`` the kernel refused: the message names the namespace, object and reason."""


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
            self.open.popitem(last=False)[1].close()
        return ipr

    def close(self) -> None:
        for ipr in self.open.values():
            ipr.close()
        self.open.clear()


def _index(ipr: IPRoute, ns: str, name: str) -> int:
    found = ipr.link_lookup(ifname=name)
    if not found:
        raise RealiseError(f"{ns}: device {name} is missing")
    return int(found[0])


def _settle(ipr: IPRoute, ns: str, name: str, mtu: int, addresses: tuple[IPv4Interface, ...],
            mac: str | None = None, master: str | None = None) -> None:
    """MTU, MAC, bridge master, addresses, and up."""
    i = _index(ipr, ns, name)
    args: dict[str, object] = {"mtu": mtu}
    if mac:
        args["address"] = mac
    if master:
        args["master"] = _index(ipr, ns, master)
    ipr.link("set", index=i, **args)
    for a in addresses:
        ipr.addr("add", index=i, address=str(a.ip), prefixlen=a.network.prefixlen)
    ipr.link("set", index=i, state="up")


def _step(what: str, fn: Callable[[], object]) -> None:
    try:
        fn()
    except NetlinkError as e:
        raise RealiseError(f"{what}: {e.args[1] if len(e.args) > 1 else e}") from None


def up(bp: Blueprint, progress: Progress | None = None) -> None:
    """Create every namespace, link, address, route, neighbour and FDB entry of ``bp``; on any failure (or
    KeyboardInterrupt) remove what was made and re-raise."""
    say = progress or (lambda _msg: None)
    created: list[str] = []
    handles = Handles()
    try:
        for space in bp.spaces:
            nsutil.create(space.name)
            created.append(space.name)
            nsutil.sysctl(space.name, _sysctls(space))
        say(f"{len(created)} namespaces")
        for b in bp.bridges:
            _bridge(handles, b)
        for v in bp.veths:
            _veth(handles, v.a, v.b)
        for x in bp.vxlans:
            _vxlan(handles, x)
        for space in bp.spaces:
            _tables(handles, space)
        _write_state(handles, bp)
        say(f"{len(bp.bridges)} bridges, {len(bp.veths)} veth pairs, {len(bp.vxlans)} VXLAN devices, "
            f"{sum(len(s.routes) for s in bp.spaces)} routes")
    except BaseException:
        handles.close()
        for name in reversed(created):
            nsutil.remove(name)
        raise
    handles.close()


def _bridge(handles: Handles, b: Bridge) -> None:
    ipr = handles(b.ns)
    _step(f"{b.ns}: bridge {b.name}", lambda: ipr.link("add", ifname=b.name, kind="bridge"))
    _step(f"{b.ns}: bridge {b.name} settings", lambda: _settle(ipr, b.ns, b.name, b.mtu, b.addresses, b.mac))


def _veth(handles: Handles, a: End, b: End) -> None:
    ipr = handles(a.ns)
    fd = os.open(os.path.join(nsutil.RUN_DIR, b.ns), os.O_RDONLY)
    try:
        _step(f"{a.ns}: veth {a.name} (peer {b.name} in {b.ns})",
              lambda: ipr.link("add", ifname=a.name, kind="veth", peer={"ifname": b.name, "net_ns_fd": fd}))
    finally:
        os.close(fd)
    _step(f"{a.ns}: {a.name} settings", lambda: _settle(ipr, a.ns, a.name, a.mtu, a.addresses, a.mac, a.master))
    peer = handles(b.ns)
    _step(f"{b.ns}: {b.name} settings", lambda: _settle(peer, b.ns, b.name, b.mtu, b.addresses, b.mac, b.master))


def _vxlan(handles: Handles, x: Vxlan) -> None:
    ipr = handles(x.ns)
    link = _index(ipr, x.ns, x.link)
    # flanneld's VTEP: no learning (entries come from the leases), local = node IP, bound to the uplink.
    _step(f"{x.ns}: VXLAN {x.name}", lambda: ipr.link("add", ifname=x.name, kind="vxlan", vxlan_id=x.vni,
                                                         vxlan_port=x.port, vxlan_local=str(x.local),
                                                         vxlan_link=link, vxlan_learning=0))
    _step(f"{x.ns}: {x.name} settings", lambda: _settle(ipr, x.ns, x.name, x.mtu, x.addresses, x.mac))


def _tables(handles: Handles, space: Space) -> None:
    ipr = handles(space.name)
    ipr.link("set", index=_index(ipr, space.name, "lo"), state="up")
    # Gateway-less routes first: a gateway must already be reachable when its route goes in.
    for r in sorted(space.routes, key=lambda r: r.via is not None):
        oif = _index(ipr, space.name, r.dev) if r.dev else None
        _step(f"{space.name}: route {r.dst} via {r.via} dev {r.dev}",
              lambda r=r, oif=oif: ipr.route("add", **add_args(r, oif)))
    for n in space.neighbors:
        i = _index(ipr, space.name, n.dev)
        _step(f"{space.name}: neighbour {n.ip} lladdr {n.mac} dev {n.dev}",
              lambda n=n, i=i: ipr.neigh("add", dst=str(n.ip), lladdr=n.mac, ifindex=i, state=NUD_PERMANENT))
    for e in space.fdb:
        i = _index(ipr, space.name, e.dev)
        _step(f"{space.name}: fdb {e.mac} dev {e.dev} dst {e.dst}",
              lambda e=e, i=i: ipr.fdb("add", ifindex=i, lladdr=e.mac, dst=str(e.dst), state=NUD_PERMANENT))


def _write_state(handles: Handles, bp: Blueprint) -> None:
    """Keep what ``verify`` needs to find the same pods on the underlay namespace's ``lo`` alias: it goes
    away with the namespaces, so nothing is left on the host."""
    ipr = handles(bp.names.underlay)
    alias = f"{STATE_TAG} plan={bp.names.plan} pods-per-node={bp.pods_per_node}"
    ipr.link("set", index=_index(ipr, bp.names.underlay, "lo"), ifalias=alias[:255])


def read_state(names: Names) -> dict[str, str] | None:
    """What ``up`` recorded (``plan``, ``pods-per-node``), or None when the plan is not up."""
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
