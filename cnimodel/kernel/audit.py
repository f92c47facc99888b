"""Compare a live Linux host (or network namespace) with the model's node: routes of the main table,
permanent neighbours, and the FDB entries of VXLAN devices — what is missing, extra or different.

On a real node the kernel's device names are the model's (``eth0``, ``cni0``, ``flannel.1``). In a namespace
``netns up`` built, Windows device names are mapped (``vEthernet (Ethernet)`` → ``vEth-Ethernet``) and an
emulated Windows node is compared with its emulation (see blueprint.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from ipaddress import IPv4Address

from cnimodel.audit.model import AuditReport, Difference
from cnimodel.cluster import Cluster
from cnimodel.dataplane import FdbEntry, Neighbor, Route
from cnimodel.kernel import nsutil
from cnimodel.kernel.blueprint import Space, node_space
from cnimodel.kernel.netlink import link_names, read_fdb, read_neighbors, read_routes, scope_of
from cnimodel.syntax import route_line


def _route_view(r: Route, model: bool) -> tuple[object, ...]:
    """The fields compared: gateway, device, onlink, scope, protocol (and source when the model gives one)."""
    scope = scope_of(r) if model else r.scope
    return r.via, r.dev, r.onlink, scope, r.proto, r.type


def diff_routes(expect: Iterable[Route], live: Iterable[Route]) -> list[Difference]:
    want = {r.dst: r for r in expect}
    have = {r.dst: r for r in live}
    out = []
    for dst, w in want.items():
        h = have.get(dst)
        shown = route_line(replace(w, scope=scope_of(w)))
        if h is None:
            out.append(Difference("missing", "route", str(dst), shown, ""))
        elif _route_view(w, True) != _route_view(h, False) or (w.src is not None and w.src != h.src):
            out.append(Difference("different", "route", str(dst), shown, route_line(h)))
    out += [Difference("extra", "route", str(dst), "", route_line(h)) for dst, h in have.items() if dst not in want]
    return out


def diff_neighbors(expect: Iterable[Neighbor], live: Iterable[Neighbor]) -> list[Difference]:
    want = {(n.ip, n.dev): n for n in expect}
    have = {(n.ip, n.dev): n for n in live}
    out = []
    for k, w in want.items():
        h = have.get(k)
        line = f"{w.ip} dev {w.dev} lladdr {w.mac}"
        if h is None:
            out.append(Difference("missing", "neighbor", f"{w.ip} dev {w.dev}", line, ""))
        elif h.mac.lower() != w.mac.lower():
            out.append(Difference("different", "neighbor", f"{w.ip} dev {w.dev}", line,
                                  f"{h.ip} dev {h.dev} lladdr {h.mac}"))
    out += [Difference("extra", "neighbor", f"{h.ip} dev {h.dev}", "", f"{h.ip} dev {h.dev} lladdr {h.mac}")
            for k, h in have.items() if k not in want]
    return out


def diff_fdb(expect: Iterable[FdbEntry], live: Iterable[FdbEntry]) -> list[Difference]:
    want = {(e.mac.lower(), e.dev): e.dst for e in expect}
    have: dict[tuple[str, str], IPv4Address] = {(e.mac.lower(), e.dev): e.dst for e in live}
    out = []
    for (mac, dev), dst in want.items():
        got = have.get((mac, dev))
        if got is None:
            out.append(Difference("missing", "fdb", f"{mac} dev {dev}", f"{mac} dev {dev} dst {dst}", ""))
        elif got != dst:
            out.append(Difference("different", "fdb", f"{mac} dev {dev}", f"{mac} dev {dev} dst {dst}",
                                  f"{mac} dev {dev} dst {got}"))
    out += [Difference("extra", "fdb", f"{mac} dev {dev}", "", f"{mac} dev {dev} dst {dst}")
            for (mac, dev), dst in have.items() if (mac, dev) not in want]
    return out


def audit(cluster: Cluster, node: str, netns: str | None = None, space: Space | None = None) -> AuditReport:
    """Read ``netns`` (None: this host) with pyroute2 and compare it with node ``node`` of the model."""
    space = space or node_space(cluster, node)
    vxlans = {k for m, k in space.devices.items() if _is_vxlan(cluster, node, m)}
    ipr = nsutil.ipr(netns)
    try:
        names = link_names(ipr)
        routes = read_routes(ipr, names)
        neighbors = read_neighbors(ipr, names)
        fdb = read_fdb(ipr, names, vxlans)
    finally:
        ipr.close()
    report = AuditReport(node, checked={"routes": len(space.expect), "neighbors": len(space.neighbors),
                                        "fdb": len(space.fdb)}, netns=netns)
    report.differences = (diff_routes(space.expect, routes) + diff_neighbors(space.neighbors, neighbors)
                          + diff_fdb(space.fdb, fdb))
    return report


def _is_vxlan(cluster: Cluster, node: str, model_name: str) -> bool:
    facts = cluster.facts(node)
    d = facts.device(model_name)
    return (d is not None and d.kind == "vxlan") or any(v.dev == model_name for v in facts.vteps)
