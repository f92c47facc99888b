"""Linux state people paste (`ip -j route show table all`, `ip -j neigh`, `bridge -j fdb`, `iptables-save`) read
into facts and compared with the model's node, entry by entry and kube-proxy rule by kube-proxy rule."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from cnimodel.audit.model import Difference, Fix, InputError
from cnimodel.dataplane import FdbEntry, Neighbor, NodeFacts, Route
from cnimodel.syntax import route_line

ROUTE_TYPES = {"unicast": "unicast", "blackhole": "blackhole", "unreachable": "blackhole", "prohibit": "blackhole"}
SCOPES = {"global": "universe", "universe": "universe", "link": "link", "host": "host"}


def _v6(*values: Any) -> bool:
    return any(isinstance(v, str) and ":" in v for v in values)


def _items(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]


def _address(path: str, value: Any, where: str, what: str) -> IPv4Address:
    if not isinstance(value, str):
        raise InputError(path, f"expected an address, found {type(value).__name__} {value!r:.40}",
                         f"capture `{what}` again", where)
    try:
        return IPv4Address(value)
    except ValueError as e:
        raise InputError(path, f"not an IPv4 address: {e}", f"capture `{what}` again", where) from None


def read_routes(path: str, data: Any) -> tuple[list[Route], int]:
    """The IPv4 main table as Route facts, and how many other entries (other tables, IPv6, local) were passed by."""
    out, other = [], 0
    for i, r in enumerate(_items(data)):
        if not isinstance(r, dict) or "dst" not in r:
            raise InputError(path, "an entry without `dst`: not `ip -j route` output", "capture `ip -j route show "
                             "table all` again", f"[{i}]")
        kind = ROUTE_TYPES.get(r.get("type", "unicast"))
        if r.get("table", "main") != "main" or kind is None or _v6(r["dst"], r.get("gateway"), r.get("prefsrc")):
            other += 1
            continue
        try:
            dst = IPv4Network("0.0.0.0/0" if r["dst"] == "default" else r["dst"])
            via = IPv4Address(r["gateway"]) if r.get("gateway") else None
            src = IPv4Address(r["prefsrc"]) if r.get("prefsrc") else None
        except ValueError as e:
            raise InputError(path, f"not an IPv4 route: {e}", "capture `ip -j route show table all` again",
                             f"[{i}]") from None
        if not isinstance(r.get("dev"), str | None):
            raise InputError(path, f"a device name that is not a string: {r['dev']!r:.40}",
                             "capture `ip -j route show table all` again", f"[{i}].dev")
        proto = r.get("protocol")
        out.append(Route(dst, via=via, dev=r.get("dev"), onlink="onlink" in r.get("flags", []),
                         scope=SCOPES.get(r.get("scope", "global"), "universe"),  # type: ignore[arg-type]
                         owner="live", src=src, proto=None if proto in (None, "boot") else str(proto),
                         type=kind))  # type: ignore[arg-type]
    return out, other


def read_neighbors(path: str, data: Any) -> list[Neighbor]:
    out = []
    for i, n in enumerate(_items(data)):
        if not isinstance(n, dict) or "dst" not in n:
            raise InputError(path, "an entry without `dst`: not `ip -j neigh` output", "capture `ip -j neigh` again",
                             f"[{i}]")
        state = n.get("state") or []
        if not isinstance(state, list | str) or "PERMANENT" not in state or "lladdr" not in n or _v6(n["dst"]):
            continue
        out.append(Neighbor(_address(path, n["dst"], f"[{i}].dst", "ip -j neigh"), str(n["lladdr"]).lower(),
                            str(n.get("dev", ""))))
    return out


def read_fdb(path: str, data: Any) -> list[FdbEntry]:
    out = []
    for i, e in enumerate(_items(data)):
        if not isinstance(e, dict) or "mac" not in e:
            raise InputError(path, "an entry without `mac`: not `bridge -j fdb` output", "capture `bridge -j fdb` "
                             "again", f"[{i}]")
        if "dst" in e and not _v6(e["dst"]):
            out.append(FdbEntry(str(e["mac"]).lower(), str(e.get("ifname", e.get("dev", ""))),
                                _address(path, e["dst"], f"[{i}].dst", "bridge -j fdb")))
    return out


def belongs(routes: list[Route], node_ip: IPv4Address) -> bool:
    """Whether a route table is the node's: one of its routes has the node's address as source, or a connected
    subnet holds it."""
    return any(r.src == node_ip or (r.via is None and r.dst.prefixlen and node_ip in r.dst) for r in routes)


def _scope(r: Route) -> str:
    """The scope the kernel gives a model route: a gateway-less unicast route is `scope link` (as `ip route add`)."""
    return "link" if r.via is None and r.type == "unicast" and r.scope == "universe" else r.scope


def _same(want: Route, have: Route) -> bool:
    if (want.via, want.dev, want.onlink, _scope(want), want.type) != (have.via, have.dev, have.onlink, have.scope,
                                                                      have.type):
        return False
    if want.proto is not None and want.proto != have.proto:
        return False
    return not (want.src is not None and want.proto is not None and want.src != have.src)


def diff_routes(model: tuple[Route, ...], live: list[Route]) -> list[Difference]:
    have: dict[IPv4Network, Route] = {}
    for r in live:
        have.setdefault(r.dst, r)
    want = {r.dst: r for r in model}
    out = []
    for dst, w in want.items():
        shown = route_line(replace(w, scope=_scope(w)))  # type: ignore[arg-type]
        h = have.get(dst)
        if h is None:
            out.append(Difference("missing", "route", str(dst), shown, "", (Fix("ip-route", (w,)),)))
        elif not _same(w, h):
            out.append(Difference("different", "route", str(dst), shown, route_line(h), (Fix("ip-route", (w,)),)))
    out += [Difference("extra", "route", str(dst), "", route_line(h), (Fix("ip-route-del", (h,)),))
            for dst, h in have.items() if dst not in want]
    return out


def diff_neighbors(model: tuple[Neighbor, ...], live: list[Neighbor]) -> list[Difference]:
    want = {(n.ip, n.dev): n for n in model}
    have = {(n.ip, n.dev): n for n in live}
    out = []
    for k, w in want.items():
        h = have.get(k)
        line = f"{w.ip} dev {w.dev} lladdr {w.mac}"
        if h is None or h.mac.lower() != w.mac.lower():
            out.append(Difference("missing" if h is None else "different", "neighbor", f"{w.ip} dev {w.dev}", line,
                                  "" if h is None else f"{h.ip} dev {h.dev} lladdr {h.mac}", (Fix("ip-neigh", (w,)),)))
    out += [Difference("extra", "neighbor", f"{h.ip} dev {h.dev}", "", f"{h.ip} dev {h.dev} lladdr {h.mac}",
                       (Fix("ip-neigh-del", (h,)),)) for k, h in have.items() if k not in want]
    return out


def diff_fdb(model: tuple[FdbEntry, ...], live: list[FdbEntry]) -> list[Difference]:
    want = {(e.mac.lower(), e.dev): e for e in model}
    have = {(e.mac.lower(), e.dev): e for e in live}
    out = []
    for k, w in want.items():
        h = have.get(k)
        if h is None or h.dst != w.dst:
            live = "" if h is None else f"{k[0]} dev {k[1]} dst {h.dst}"
            out.append(Difference("missing" if h is None else "different", "fdb", f"{k[0]} dev {k[1]}",
                                  f"{k[0]} dev {k[1]} dst {w.dst}", live, (Fix("bridge-fdb", (w,)),)))
    out += [Difference("extra", "fdb", f"{k[0]} dev {k[1]}", "", f"{k[0]} dev {k[1]} dst {h.dst}",
                       (Fix("bridge-fdb-del", (h,)),)) for k, h in have.items() if k not in want]
    return out


def compare_linux(facts: NodeFacts, routes: list[Route] | None, neighbors: list[Neighbor] | None,
                  fdb: list[FdbEntry] | None) -> tuple[list[Difference], dict[str, int]]:
    out: list[Difference] = []
    checked: dict[str, int] = {}
    if routes is not None:
        out += diff_routes(facts.routes, routes)
        checked["routes"] = len(facts.routes)
    if neighbors is not None:
        out += diff_neighbors(facts.neighbors, neighbors)
        checked["neighbors"] = len(facts.neighbors)
    if fdb is not None:
        out += diff_fdb(facts.fdb, fdb)
        checked["fdb"] = len(facts.fdb)
    return out, checked


# --- iptables-save ------------------------------------------------------------------------------------

Chains = dict[tuple[str, str], list[str]]
_COUNTERS = re.compile(r"^\[\d+:\d+\]\s+")


def read_iptables(path: str, text: str) -> Chains:
    """Every rule by (table, chain), as iptables-save prints it (counters of `-c` dropped, spaces collapsed)."""
    chains: Chains = {}
    table = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = _COUNTERS.sub("", raw.strip())
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            if table is not None:
                raise InputError(path, f"table {table} has no COMMIT before *{line[1:]}", "capture `iptables-save` "
                                 "again, whole", f"line {n}")
            table = line[1:]
        elif line == "COMMIT":
            table = None
        elif table is None:
            raise InputError(path, f"{line.split()[0]!r} outside a table", "capture `iptables-save` again, whole",
                             f"line {n}")
        elif line.startswith(":"):
            chains.setdefault((table, line[1:].split()[0]), [])
        elif line.startswith("-A "):
            _, chain, *rest = [*line.split(None, 2), ""]
            chains.setdefault((table, chain), []).append(" ".join(" ".join(rest).split()))
    if table is not None:
        raise InputError(path, f"table {table} has no COMMIT: the file is cut off", "capture `iptables-save` again, "
                         "whole")
    return chains


def _kube(chain: str, rule: str) -> bool:
    return chain.startswith("KUBE-") or "KUBE-" in rule


def _vips(chains: Chains) -> set[str]:
    return {m for r in chains.get(("nat", "KUBE-SERVICES"), []) for m in re.findall(r"-d (\S+?)(?:/32)? ", r + " ")}


def _taking(rules: list[str], counts: Counter[str]) -> list[str]:
    """The rules ``counts`` holds, in their order, each as often as counted."""
    left, out = Counter(counts), []
    for r in rules:
        if left[r] > 0:
            left[r] -= 1
            out.append(r)
    return out


def compare_iptables(path: str, model: Chains, live: Chains) -> tuple[list[Difference], int]:
    """kube-proxy's rules, chain by chain: the model's chains, and every live KUBE-* chain or jump to one."""
    mine, theirs = _vips(model), _vips(live)
    if mine and theirs and not mine & theirs:
        raise InputError(path, f"none of its {len(theirs)} Service addresses in KUBE-SERVICES is one of the plan's "
                         f"({', '.join(sorted(theirs)[:3])} …): it is another cluster's", "capture iptables-save on "
                         "the plan's node")
    out: list[Difference] = []
    keys = list(dict.fromkeys([*model, *(k for k, rules in live.items() if k[1].startswith("KUBE-") or
                                         any(_kube(k[1], r) for r in rules))]))
    count = 0
    for table, chain in keys:
        want = [r for r in model.get((table, chain), []) if _kube(chain, r)]
        have = [r for r in live.get((table, chain), []) if _kube(chain, r)]
        count += len(want)
        missing, extra = Counter(want) - Counter(have), Counter(have) - Counter(want)
        where = f"-t {table} {chain}"
        out += [Difference("missing", "iptables-rule", where, r, "", (Fix("iptables-rule", (table, chain, r)),))
                for r in _taking(want, missing)]
        out += [Difference("extra", "iptables-rule", where, "", r, (Fix("iptables-rule-del", (table, chain, r)),))
                for r in _taking(have, extra)]
        if not missing and not extra and want != have:
            out.append(Difference("different", "iptables-chain", where, f"{len(want)} rules in kube-proxy's order",
                                  "the same rules in another order",
                                  (Fix("iptables-chain-flush", (table, chain)),)))
    return out, count
