"""OVN's logical pipelines evaluated over the Northbound rows the model writes: which port a logical switch sends a
packet to, which route and policy a logical router applies, its next hop and SNAT — with the pipeline stages
ovn-trace prints for them, numbered as the installed OVN numbers its tables.

Stage numbers are OVN 23.03's (ovn-org/ovn@ba5710ed, northd/northd.h PIPELINE_STAGES; the table numbers are
those `ovn-sbctl lflow-list` and ovn-trace print for it, checked by tests/ovn against a real ovn-northd). The
router's route priorities follow northd.c's build_route_flow: prefix length × 3, plus 2 for a connected network
and 1 for a static route; a source-IP route adds nothing (ROUTE_PRIO_OFFSET_MULTIPLIER, _STATIC, _CONNECTED in
ovn-org/ovn northd/northd.c; the values are checked against ovn-trace's output in tests/ovn).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from cnimodel.net import PrefixTable
from cnimodel.plugins.ovn_kubernetes.nbmodel import LogicalRouter, LogicalSwitch, Northbound, RouterPort, SwitchPort

# (pipeline, table) of each stage the model names, as OVN 23.03 numbers them.
STAGES: dict[str, tuple[str, int]] = {
    "ls_in_check_port_sec": ("ingress", 0), "ls_in_acl": ("ingress", 8), "ls_in_lb": ("ingress", 12),
    "ls_in_hairpin": ("ingress", 16), "ls_in_acl_after_lb": ("ingress", 17),
    "ls_in_l2_lkup": ("ingress", 25),
    "ls_out_acl": ("egress", 4), "ls_out_apply_port_sec": ("egress", 9),
    "lr_in_admission": ("ingress", 0), "lr_in_dnat": ("ingress", 7), "lr_in_ip_routing": ("ingress", 13),
    "lr_in_policy": ("ingress", 15), "lr_in_arp_resolve": ("ingress", 17), "lr_in_gw_redirect": ("ingress", 20),
    "lr_out_snat": ("egress", 3), "lr_out_delivery": ("egress", 6),
}
ROUTE_MULTIPLIER, ROUTE_STATIC, ROUTE_CONNECTED = 3, 1, 2
_TERM = re.compile(r'^(inport|outport) == "([^"]+)"$|^ip4\.(src|dst) == ([0-9./]+)$')


def stage(name: str) -> str:
    """``25. ls_in_l2_lkup``: a stage as ovn-trace prints it."""
    return f"{STAGES[name][1]}. {name}"


@dataclass(frozen=True)
class Stage:
    """One table a packet matches, as a trace step: the step type, the stage, the datapath, what matched and what
    it did."""

    type: str
    name: str
    datapath: str
    detail: tuple[tuple[str, Any], ...] = ()

    def step(self) -> tuple[str, str, dict[str, Any]]:
        return (self.type, stage(self.name), {"datapath": self.datapath, "pipeline": STAGES[self.name][0],
                                             **dict(self.detail)})


@dataclass(frozen=True)
class RouteChoice:
    """A logical router's decision for one destination: the stages, the output port, the next hop (None: no
    route), the SNAT address (gateway routers)."""

    stages: tuple[Stage, ...]
    outport: str | None
    nexthop: IPv4Address | None
    snat: tuple[IPv4Address, str] | None = None
    reason: str = ""


def _matches(match: str, inport: str, src: IPv4Address | None, dst: IPv4Address) -> bool:
    """A router policy's match of the shapes ovnkube writes: ``&&`` of ``inport == "p"``, ``ip4.src == A[/n]``,
    ``ip4.dst == A[/n]`` (a trailing ``/* comment */`` ignored)."""
    text = re.sub(r"/\*.*?\*/", "", match).strip()
    for term in (t.strip() for t in text.split("&&")):
        m = _TERM.match(term)
        if m is None:
            return False
        if m.group(1) == "inport" and m.group(2) != inport:
            return False
        if m.group(1) == "outport":
            return False
        if m.group(3):
            addr = src if m.group(3) == "src" else dst
            if addr is None or addr not in IPv4Network(m.group(4), strict=False):
                return False
    return True


class Index:
    """The Northbound rows by name, and who is connected to whom."""

    def __init__(self, nb: Northbound) -> None:
        self.nb = nb
        self.switches: dict[str, LogicalSwitch] = {s.name: s for s in nb.switches}
        self.routers: dict[str, LogicalRouter] = {r.name: r for r in nb.routers}
        self.lsp: dict[str, tuple[str, SwitchPort]] = {p.name: (s.name, p) for s in nb.switches for p in s.ports}
        self.lrp: dict[str, tuple[str, RouterPort]] = {p.name: (r.name, p) for r in nb.routers for p in r.ports}
        self.peer: dict[str, str] = {}  # router port → the switch port patched to it, and back
        for name, (_, p) in self.lsp.items():
            rp = dict(p.options).get("router-port")
            if p.type == "router" and rp:
                self.peer[rp], self.peer[name] = name, rp
        self.static_macs = {IPv4Address(b.ip): b.mac for b in nb.static_mac_bindings}
        self._tables: dict[str, RouterTables] = {}

    @cached_property
    def by_ip(self) -> dict[IPv4Address, tuple[str, str]]:
        """Each address a switch port holds (``MAC IP`` addresses): its switch and port."""
        out: dict[IPv4Address, tuple[str, str]] = {}
        for s in self.nb.switches:
            for p in s.ports:
                for a in p.addresses:
                    parts = a.split()
                    for ip in parts[1:]:
                        out[IPv4Address(ip)] = (s.name, p.name)
        return out

    @cached_property
    def by_mac(self) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for s in self.nb.switches:
            for p in s.ports:
                for a in p.addresses:
                    if a not in ("router", "unknown", "dynamic"):
                        out.setdefault(a.split()[0], (s.name, p.name))
        return out

    def port_of(self, switch: str, ip: IPv4Address) -> str | None:
        """The port of ``switch`` an L2 lookup sends a packet for ``ip`` to: the port holding the address, or the
        one whose MAC a static binding gives it (the hybrid overlay's int-<node>)."""
        hit = self.by_ip.get(ip)
        if hit is not None and hit[0] == switch:
            return hit[1]
        mac = self.static_macs.get(ip)
        hit = self.by_mac.get(mac) if mac else None
        return hit[1] if hit is not None and hit[0] == switch else None

    def mac_for_port(self, port: str) -> str | None:
        """A switch port's MAC (its first address's), or its router port's."""
        rp = self.peer.get(port)
        if rp in self.lrp:
            return self.lrp[rp][1].mac
        p = self.lsp[port][1] if port in self.lsp else None
        first = next((a for a in p.addresses if a not in ("router", "unknown", "dynamic")), None) if p else None
        return first.split()[0] if first else None

    def tables(self, router: str) -> RouterTables:
        t = self._tables.get(router)
        if t is None:
            t = self._tables[router] = RouterTables(self.routers[router])
        return t

    def route(self, router: str, inport: str, src: IPv4Address | None, dst: IPv4Address) -> RouteChoice:
        """lr_in_ip_routing, lr_in_policy and lr_in_arp_resolve of ``router`` for a packet entering by ``inport``
        (``src`` stands for its source: ovnkube's source routes are per node subnet)."""
        t = self.tables(router)
        r = t.router
        best: tuple[int, str, str | None, IPv4Address | None] | None = None
        hit = t.connected.lookup(dst)
        if hit is not None:
            best = (hit[0].prefixlen * ROUTE_MULTIPLIER + ROUTE_CONNECTED, f"ip4.dst == {hit[0]}", hit[1], dst)
        for table, addr, ofs, field in ((t.dst, dst, ROUTE_STATIC, "dst"), (t.src, src, 0, "src")):
            found = table.lookup(addr) if addr is not None else None
            if found is None:
                continue
            prefix, sr = found
            prio = prefix.prefixlen * ROUTE_MULTIPLIER + ofs
            if best is None or prio > best[0]:
                nh = IPv4Address(sr.nexthop)
                best = (prio, f"ip4.{field} == {prefix}", sr.output_port or self._port_for(r, nh), nh)
        stages: list[Stage] = []
        if best is None:
            return RouteChoice((Stage("dropped", "lr_in_ip_routing", router, (("match", "no route"),)),), None,
                               None, reason=f"{router} has no route to {{dst}}")
        prio, match, outport, nh = best
        stages.append(Stage("routed", "lr_in_ip_routing", router, (("match", match), ("priority", prio),
                                                                    ("outport", outport), ("nextHop", nh))))
        for pol in t.policies_for(inport, src):
            if _matches(pol.match, inport, src, dst):
                detail: tuple[tuple[str, Any], ...] = (("match", pol.match), ("priority", pol.priority),
                                                      ("verdict", pol.action))
                if pol.action == "drop":
                    stages.append(Stage("dropped", "lr_in_policy", router, detail))
                    return RouteChoice(tuple(stages), None, None, reason=f"{router}'s policy {pol.match} drops it")
                if pol.action == "reroute" and pol.nexthops:
                    nh = IPv4Address(pol.nexthops[0])
                    outport = self._port_for(r, nh)
                    detail += (("nextHop", nh), ("outport", outport))
                stages.append(Stage("routed", "lr_in_policy", router, detail))
                break
        if outport is None or nh is None:
            return RouteChoice(tuple(stages), None, None, reason=f"{router}: no port reaches the next hop {nh}")
        mac = self.mac_for(outport, nh)
        stages.append(Stage("routed", "lr_in_arp_resolve", router, (("outport", outport), ("nextHop", nh),
                                                                     ("ethDst", mac or "unresolved (ARP)"))))
        snat = None
        if src is not None:
            found_nat = t.snat.lookup(src)
            if found_nat is not None:
                nat = found_nat[1]
                snat = (IPv4Address(nat.external_ip), f"{nat.type} {nat.logical_ip} → {nat.external_ip}")
        return RouteChoice(tuple(stages), outport, nh, snat)

    def _port_for(self, r: LogicalRouter, nh: IPv4Address) -> str | None:
        hit = self.tables(r.name).connected.lookup(nh)
        return hit[1] if hit is not None else None

    @cached_property
    def router_ips(self) -> dict[str, dict[IPv4Address, str]]:
        """Per switch: the addresses of the router ports patched to it, and which port holds each."""
        out: dict[str, dict[IPv4Address, str]] = {}
        for name, (switch, _) in self.lsp.items():
            rp = self.peer.get(name)
            if rp and rp in self.lrp:
                for n in self.lrp[rp][1].networks:
                    out.setdefault(switch, {})[IPv4Interface(n).ip] = rp
        return out

    def mac_for(self, outport: str, nh: IPv4Address) -> str | None:
        """lr_in_arp_resolve: the MAC of the next hop — a router port patched on the same switch, a switch port's
        address, a static binding; None when OVN must ARP for it (a physical gateway)."""
        sw = self.peer.get(outport)
        switch = self.lsp[sw][0] if sw in self.lsp else None
        if switch is not None:
            rp = self.router_ips.get(switch, {}).get(nh)
            if rp is not None:
                return self.lrp[rp][1].mac
            port = self.port_of(switch, nh)
            if port is not None:
                for a in self.lsp[port][1].addresses:
                    if a not in ("router", "unknown"):
                        return a.split()[0]
        return self.static_macs.get(nh)

    def peer_router_port(self, switch: str, nh: IPv4Address) -> str | None:
        """On a switch joining routers (``join``): the router port holding the next hop."""
        return self.router_ips.get(switch, {}).get(nh)


class RouterTables:
    """A router's routes and policies, indexed: connected networks, destination and source routes as
    longest-prefix tables, policies by the inport or the /32 source their match names, SNAT by logical range."""

    def __init__(self, r: LogicalRouter) -> None:
        self.router = r
        self.connected: PrefixTable[str] = PrefixTable(
            (IPv4Interface(n).network, p.name) for p in r.ports for n in p.networks)
        self.dst: PrefixTable[Any] = PrefixTable(
            (IPv4Network(s.ip_prefix, strict=False), s) for s in r.static_routes if s.policy != "src-ip")
        self.src: PrefixTable[Any] = PrefixTable(
            (IPv4Network(s.ip_prefix, strict=False), s) for s in r.static_routes if s.policy == "src-ip")
        self.snat: PrefixTable[Any] = PrefixTable(
            (IPv4Network(n.logical_ip, strict=False), n) for n in r.nat if n.type in ("snat", "dnat_and_snat"))
        self.by_inport: dict[str, list[Any]] = {}
        self.by_src: dict[IPv4Address, list[Any]] = {}
        self.rest: list[Any] = []
        for p in r.policies:
            inport = re.search(r'inport == "([^"]+)"', p.match)
            src = re.search(r"ip4\.src == ([0-9.]+)(?:/32)?(?![0-9./])", p.match)
            if inport:
                self.by_inport.setdefault(inport.group(1), []).append(p)
            elif src:
                self.by_src.setdefault(IPv4Address(src.group(1)), []).append(p)
            else:
                self.rest.append(p)

    def policies_for(self, inport: str, src: IPv4Address | None) -> list[Any]:
        """The policies that can match a packet from ``inport`` with source ``src``, highest priority first."""
        found = self.by_inport.get(inport, []) + (self.by_src.get(src, []) if src is not None else []) + self.rest
        return sorted(found, key=lambda p: (-p.priority, p.match))


__all__ = ["STAGES", "Index", "RouteChoice", "RouterTables", "Stage", "stage"]
