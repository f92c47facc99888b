"""The Northbound content as ``ovn-nbctl`` commands (a shell script) or as an OVSDB ``transact`` request.

The transact request is ``["OVN_Northbound", op, …]`` with one insert per row, rows referring to each other by
``named-uuid`` (RFC 7047 §5.2.1); ``ovsdb-client transact`` and the harness's own client send it as is. The
script creates the same rows with ovn-nbctl: ``ls-add``/``lsp-*``, ``lr-add``/``lrp-*`` where they exist, ``create``
and ``add`` for the rest, the load-balancer groups' UUIDs kept in shell variables (ovn-nbctl takes a row's name
for the row a command changes, never for a reference). Columns the target schema lacks (the ACL ``tier``
before OVN 23.06) are left out and said so.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cnimodel.plugins.ovn_kubernetes.nbmodel import (
    Acl,
    Kv,
    LogicalRouter,
    LogicalSwitch,
    Northbound,
    RouterPort,
    SwitchPort,
)
from cnimodel.plugins.ovn_kubernetes.tiers import flatten

DEFAULT_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
Columns = Mapping[str, frozenset[str]]
CHUNK = 60_000  # characters per ovn-nbctl invocation: far below the kernel's per-argument and total limits


def schema_columns(path: Path | None = None) -> Columns | None:
    """Each table's columns in an OVN_Northbound schema file (the installed one by default); None without one."""
    p = path or DEFAULT_SCHEMA
    if not p.exists():
        return None
    tables = json.loads(p.read_text())["tables"]
    return {name: frozenset(t["columns"]) for name, t in tables.items()}


def _map(pairs: Kv) -> list[Any]:
    return ["map", [list(p) for p in pairs]]


def _set(values: Iterable[Any]) -> list[Any]:
    return ["set", list(values)]


class _Rows:
    """Builds the transact operations, naming each inserted row."""

    def __init__(self, columns: Columns | None) -> None:
        self.ops: list[dict[str, Any]] = []
        self.columns = columns
        self.dropped: set[str] = set()
        self._n = 0

    def insert(self, table: str, row: dict[str, Any]) -> list[str]:
        self._n += 1
        name = f"row{self._n}"
        if self.columns is not None:
            for col in [c for c in row if c not in self.columns.get(table, frozenset())]:
                self.dropped.add(f"{table}.{col}")
                del row[col]
        self.ops.append({"op": "insert", "table": table, "row": row, "uuid-name": name})
        return ["named-uuid", name]


def _acl_row(a: Acl) -> dict[str, Any]:
    row: dict[str, Any] = {"direction": a.direction, "priority": a.priority, "match": a.match, "action": a.action,
                           "options": _map(a.options), "external_ids": _map(a.external_ids), "tier": a.tier}
    if a.name:
        row["name"] = a.name
    return row


def _lsp_row(p: SwitchPort) -> dict[str, Any]:
    row: dict[str, Any] = {"name": p.name, "addresses": _set(p.addresses), "type": p.type,
                           "options": _map(p.options), "port_security": _set(p.port_security),
                           "external_ids": _map(p.external_ids)}
    if p.tag_request is not None:
        row["tag_request"] = p.tag_request
    return row


def to_transact(nb: Northbound, columns: Columns | None = None) -> tuple[list[Any], list[str]]:
    """The ``transact`` request and notes (columns left out for the schema)."""
    rows = _Rows(columns)
    nb, flat = _tiers(nb, columns)
    lbs = {lb.name: rows.insert("Load_Balancer", {
        "name": lb.name, "protocol": lb.protocol, "vips": _map(lb.vips), "options": _map(lb.options),
        "selection_fields": _set(lb.selection_fields), "external_ids": _map(lb.external_ids)})
        for lb in nb.load_balancers}
    groups = {g.name: rows.insert("Load_Balancer_Group", {"name": g.name, "load_balancer": _set(
        lbs[n] for n in g.load_balancers)}) for g in nb.load_balancer_groups}
    lsps: dict[str, list[str]] = {}
    for s in nb.switches:
        ports = [rows.insert("Logical_Switch_Port", _lsp_row(p)) for p in s.ports]
        lsps.update((p.name, ref) for p, ref in zip(s.ports, ports, strict=True))
        acls = [rows.insert("ACL", _acl_row(a)) for a in s.acls]
        rows.insert("Logical_Switch", {"name": s.name, "ports": _set(ports), "other_config": _map(s.other_config),
                                       "external_ids": _map(s.external_ids), "acls": _set(acls),
                                       "load_balancer": _set(lbs[n] for n in s.load_balancers),
                                       "load_balancer_group": _set(groups[g] for g in s.load_balancer_groups)})
    for r in nb.routers:
        ports = [rows.insert("Logical_Router_Port", _lrp_row(p, rows)) for p in r.ports]
        routes = [rows.insert("Logical_Router_Static_Route", {
            "ip_prefix": rt.ip_prefix, "nexthop": rt.nexthop, "external_ids": _map(rt.external_ids),
            **({"policy": rt.policy} if rt.policy else {}),
            **({"output_port": rt.output_port} if rt.output_port else {})})
            for rt in r.static_routes]
        policies = [rows.insert("Logical_Router_Policy", {
            "priority": p.priority, "match": p.match, "action": p.action, "nexthops": _set(p.nexthops),
            "external_ids": _map(p.external_ids)}) for p in r.policies]
        nats = [rows.insert("NAT", {"type": n.type, "external_ip": n.external_ip, "logical_ip": n.logical_ip,
                                    **({"match": n.match} if n.match else {}), "external_ids": _map(n.external_ids),
                                    **({"logical_port": n.logical_port} if n.logical_port else {})}) for n in r.nat]
        rows.insert("Logical_Router", {
            "name": r.name, "ports": _set(ports), "static_routes": _set(routes), "policies": _set(policies),
            "nat": _set(nats), "options": _map(r.options), "external_ids": _map(r.external_ids),
            "load_balancer": _set(lbs[n] for n in r.load_balancers),
            "load_balancer_group": _set(groups[g] for g in r.load_balancer_groups)})
    for a in nb.address_sets:
        rows.insert("Address_Set", {"name": a.name, "addresses": _set(a.addresses),
                                    "external_ids": _map(a.external_ids)})
    for pg in nb.port_groups:
        acls = [rows.insert("ACL", _acl_row(a)) for a in pg.acls]
        rows.insert("Port_Group", {"name": pg.name, "ports": _set(lsps[p] for p in pg.ports), "acls": _set(acls),
                                   "external_ids": _map(pg.external_ids)})
    for b in nb.static_mac_bindings:
        rows.insert("Static_MAC_Binding", {"logical_port": b.logical_port, "ip": b.ip, "mac": b.mac,
                                           "override_dynamic_mac": b.override_dynamic_mac})
    return ["OVN_Northbound", *rows.ops], flat + _dropped_notes(rows.dropped)


def _lrp_row(p: RouterPort, rows: _Rows) -> dict[str, Any]:
    chassis = [rows.insert("Gateway_Chassis", {"name": g.name, "chassis_name": g.chassis_name,
                                               "priority": g.priority}) for g in p.gateway_chassis]
    return {"name": p.name, "mac": p.mac, "networks": _set(p.networks), "gateway_chassis": _set(chassis),
            "options": _map(p.options), "external_ids": _map(p.external_ids)}


def _tiers(nb: Northbound, columns: Columns | None) -> tuple[Northbound, list[str]]:
    """On a schema without ACL tiers, tiers 1 and 3 mapped onto one priority order (tiers.py)."""
    if columns is None or "tier" in columns.get("ACL", frozenset()):
        return nb, []
    return flatten(nb)


def _dropped_notes(dropped: set[str]) -> list[str]:
    return [f"left out {c}: the target OVN_Northbound schema has no such column" for c in sorted(dropped)]


# --- ovn-nbctl ----------------------------------------------------------------------------------------------


def atom(value: object) -> str:
    """An OVSDB atom in ovn-nbctl's syntax: strings double-quoted (RFC 7047 string escapes), numbers bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def kv_args(column: str, pairs: Kv) -> list[str]:
    return [f"{column}:{atom(k)}={atom(v)}" for k, v in pairs]


def set_arg(column: str, values: Iterable[object]) -> str:
    vals = list(values)
    return f"{column}=[]" if not vals else f"{column}={','.join(atom(v) for v in vals)}"


class _Script:
    """ovn-nbctl commands grouped into invocations (``--``-joined), each kept below CHUNK characters."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._cur: list[list[str]] = []
        self._size = 0
        self._ids = 0

    def ident(self) -> str:
        """A fresh ``@`` name (unique in the script, so unique in any invocation)."""
        self._ids += 1
        return f"r{self._ids}"

    def unit(self, *commands: list[str]) -> None:
        """Commands that must share one invocation (``@`` ids)."""
        size = sum(len(a) + 3 for c in commands for a in c)
        if self._cur and self._size + size > CHUNK:
            self.flush()
        self._cur.extend(commands)
        self._size += size

    def flush(self) -> None:
        if not self._cur:
            return
        parts = [" ".join(a if a.startswith('"$') else shlex.quote(a) for a in c) for c in self._cur]
        self.lines.append("$NBCTL \\\n  -- " + " \\\n  -- ".join(parts))
        self._cur, self._size = [], 0

    def raw(self, line: str) -> None:
        self.flush()
        self.lines.append(line)


def _switch(s: LogicalSwitch, script: _Script, group_vars: Mapping[str, str], tier: bool) -> None:
    script.unit(["ls-add", s.name], *([["set", "Logical_Switch", s.name, *kv_args("other_config", s.other_config)]]
                                      if s.other_config else []))
    for g in s.load_balancer_groups:
        script.unit(["add", "Logical_Switch", s.name, "load_balancer_group", f'"${group_vars[g]}"'])
    for p in s.ports:
        cmds = [["lsp-add", s.name, p.name]]
        if p.type:
            cmds.append(["lsp-set-type", p.name, p.type])
        if p.addresses:
            cmds.append(["lsp-set-addresses", p.name, *p.addresses])
        if p.port_security:
            cmds.append(["lsp-set-port-security", p.name, *p.port_security])
        if p.options:
            cmds.append(["lsp-set-options", p.name, *(f"{k}={v}" for k, v in p.options)])
        if p.external_ids:
            cmds.append(["set", "Logical_Switch_Port", p.name, *kv_args("external_ids", p.external_ids)])
        script.unit(*cmds)
    for a in s.acls:
        i = script.ident()
        script.unit(_acl_create(a, i, tier), ["add", "Logical_Switch", s.name, "acls", f"@{i}"])
    for lb in s.load_balancers:
        script.unit(["ls-lb-add", s.name, lb])


def _acl_create(a: Acl, ident: str, tier: bool = False) -> list[str]:
    args = ["--id=@" + ident, "create", "ACL", f"direction={a.direction}", f"priority={a.priority}",
            f"match={atom(a.match)}", f"action={a.action}", *kv_args("options", a.options),
            *kv_args("external_ids", a.external_ids)]
    if a.name:
        args.append(f"name={atom(a.name)}")
    if tier:
        args.append(f"tier={a.tier}")
    return args


def _router(r: LogicalRouter, script: _Script, group_vars: Mapping[str, str]) -> None:
    script.unit(["lr-add", r.name], *([["set", "Logical_Router", r.name, *kv_args("options", r.options),
                                        *kv_args("external_ids", r.external_ids)]]
                                      if r.options or r.external_ids else []))
    for g in r.load_balancer_groups:
        script.unit(["add", "Logical_Router", r.name, "load_balancer_group", f'"${group_vars[g]}"'])
    for p in r.ports:
        cmds = [["lrp-add", r.name, p.name, p.mac, *p.networks]]
        if p.options or p.external_ids:
            cmds.append(["set", "Logical_Router_Port", p.name, *kv_args("options", p.options),
                         *kv_args("external_ids", p.external_ids)])
        cmds += [["lrp-set-gateway-chassis", p.name, g.chassis_name, str(g.priority)] for g in p.gateway_chassis]
        script.unit(*cmds)
    for rt in r.static_routes:
        i = script.ident()
        script.unit(["--id=@" + i, "create", "Logical_Router_Static_Route", f"ip_prefix={atom(rt.ip_prefix)}",
                     f"nexthop={atom(rt.nexthop)}", *([f"policy={rt.policy}"] if rt.policy else []),
                     *([f"output_port={atom(rt.output_port)}"] if rt.output_port else []),
                     *kv_args("external_ids", rt.external_ids)],
                    ["add", "Logical_Router", r.name, "static_routes", f"@{i}"])
    for p in r.policies:
        i = script.ident()
        script.unit(["--id=@" + i, "create", "Logical_Router_Policy", f"priority={p.priority}",
                     f"match={atom(p.match)}", f"action={p.action}", set_arg("nexthops", p.nexthops),
                     *kv_args("external_ids", p.external_ids)],
                    ["add", "Logical_Router", r.name, "policies", f"@{i}"])
    for n in r.nat:
        i = script.ident()
        script.unit(["--id=@" + i, "create", "NAT", f"type={n.type}", f"external_ip={atom(n.external_ip)}",
                     f"logical_ip={atom(n.logical_ip)}", *kv_args("external_ids", n.external_ids)],
                    ["add", "Logical_Router", r.name, "nat", f"@{i}"])
    for lb in r.load_balancers:
        script.unit(["lr-lb-add", r.name, lb])


def to_nbctl(nb: Northbound, columns: Columns | None = None, title: str = "") -> tuple[str, list[str]]:
    """A POSIX shell script of ovn-nbctl invocations (``OVN_NB_DB`` picks the database), and notes."""
    script = _Script()
    dropped: set[str] = set()
    tier = columns is None or "tier" in columns.get("ACL", frozenset())
    nb, flat = _tiers(nb, columns)
    if not tier:
        dropped.add("ACL.tier")
    script.raw(f"#!/bin/sh\n# OVN Northbound content of {title or 'a cnimodel plan'} (cnimodel ovn export)\nset -e\n"
               'NBCTL="ovn-nbctl ${OVN_NB_DB:+--db=$OVN_NB_DB}"')
    group_vars = {g.name: g.name.upper() for g in nb.load_balancer_groups}
    for g in nb.load_balancer_groups:
        script.raw(f'{group_vars[g.name]}=$($NBCTL create Load_Balancer_Group name={shlex.quote(atom(g.name))})')
    grouped = {lb: g.name for g in nb.load_balancer_groups for lb in g.load_balancers}
    for lb in nb.load_balancers:
        i = script.ident()
        cmds = [["--id=@" + i, "create", "Load_Balancer", f"name={atom(lb.name)}", f"protocol={lb.protocol}",
                 *kv_args("vips", lb.vips), *kv_args("options", lb.options),
                 *([set_arg("selection_fields", lb.selection_fields)] if lb.selection_fields else []),
                 *kv_args("external_ids", lb.external_ids)]]
        if lb.name in grouped:
            cmds.append(["add", "Load_Balancer_Group", grouped[lb.name], "load_balancer", "@" + i])
        script.unit(*cmds)
    for s in nb.switches:
        _switch(s, script, group_vars, tier)
    for r in nb.routers:
        _router(r, script, group_vars)
    for a in nb.address_sets:
        script.unit(["create", "Address_Set", f"name={atom(a.name)}", set_arg("addresses", a.addresses),
                     *kv_args("external_ids", a.external_ids)])
    for pg in nb.port_groups:
        script.unit(["pg-add", pg.name, *pg.ports], *([["set", "Port_Group", pg.name,
                                                         *kv_args("external_ids", pg.external_ids)]]
                                                       if pg.external_ids else []))
        for a in pg.acls:
            i = script.ident()
            script.unit(_acl_create(a, i, tier), ["add", "Port_Group", pg.name, "acls", f"@{i}"])
    for b in nb.static_mac_bindings:
        script.unit(["create", "Static_MAC_Binding", f"logical_port={atom(b.logical_port)}", f"ip={atom(b.ip)}",
                     f"mac={atom(b.mac)}", f"override_dynamic_mac={atom(b.override_dynamic_mac)}"])
    script.flush()
    return "\n".join(script.lines) + "\n", flat + _dropped_notes(dropped)
