"""Text for people, with rich: aligned tables, colour on a terminal, plain when piped."""

from __future__ import annotations

import re
from itertools import zip_longest
from typing import Any

from rich.console import Console
from rich.control import strip_control_codes
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cnimodel.cluster import Cluster, Lookup, NodeView
from cnimodel.dataplane import Route, RouteTable, Vtep
from cnimodel.plan import Plan


def _via(r: Route) -> str:
    if r.type == "blackhole":
        return "blackhole"
    if r.via is not None:
        return str(r.via) + (" onlink" if r.onlink else "")
    return r.next_hop_type or "on-link"


PLAIN_ROWS = 1000  # above this many rows a table is written without rich's layout (see print_table)


class TextTable(Table):
    """A rich Table that also keeps each row's cells as plain text, for ``print_table``'s plain form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain_rows: list[list[str]] = []

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*renderables, **kwargs)
        self.plain_rows.append([(c.plain if isinstance(c, Text) else str(c)).replace("\n", " ")
                                for c in renderables])


def writes_plain(console: Console) -> bool:
    """Whether ``console`` prints text as its characters and a newline: no terminal (so no colour), no wrapping,
    nothing recorded — a command's output into a file or a pipe."""
    return not console.is_terminal and console.color_system is None and console.soft_wrap and not console.record


# the control characters rich's Text drops (rich.control.STRIP_CONTROL_CODES: BEL, BS, VT, FF, CR)
_STRIPPED = re.compile("[\x07\x08\x0b\x0c\x0d]")


def print_plain(console: Console, text: str) -> None:
    """``console.print(text, markup=False)``, written as the characters rich prints (emoji codes and control
    characters as rich's ``render_str`` treats them) without rich's line layout where ``writes_plain``: a
    large listing into a file costs its writing only. Tabs (rich expands them by cell width) are left to rich.
    Text without emoji codes to replace and without control characters is written as it is: rich's stripping
    (``str.translate`` with a table) costs more than the writing on a large listing."""
    if writes_plain(console) and "\t" not in text:
        if not getattr(console, "_emoji", True) and _STRIPPED.search(text) is None:  # (rich keeps emoji=… there)
            console.file.write(text + "\n")
        else:
            console.file.write(console.render_str(text, markup=False).plain + "\n")
    else:
        console.print(text, markup=False)


def print_table(console: Console, table: Table, limit: int = PLAIN_ROWS) -> None:
    """Print a table; a TextTable past ``limit`` rows as plain aligned text, each cell whole on one line.

    rich measures and wraps every cell of a long table slowly (tools/bench_text.py has the figures); the plain
    form keeps rich's columns, separators and header rule, and leaves out only the wrapping and the styles: a
    line is as long as its longest cells, as kubectl prints.
    """
    rows = table.plain_rows if isinstance(table, TextTable) else None
    if rows is None or table.row_count <= limit:
        console.print(table)
        return
    print_rows(console, [str(c.header) for c in table.columns], rows, table.pad_edge,
               str(table.title) if table.title else None)


def print_rows(console: Console, heads: list[str], rows: list[list[str]], pad_edge: bool = True,
               title: str | None = None) -> None:
    """The plain form of a table (see ``print_table``) from its header and its rows' cells as TextTable keeps
    them (``plain_cells``): for a renderer that knows its table is past the limit and need not build it."""
    n = len(heads)
    # each column's cells (a short row's missing cells empty; cells past the header's columns left out)
    columns = list(zip_longest(*rows, fillvalue=""))[:n] if rows else []
    widths = [max(len(h), *map(len, col)) if col else len(h)
              for h, col in zip_longest(heads, columns, fillvalue=())]
    lead = " " if pad_edge else ""  # rich pads the outer edges of the table only with pad_edge

    def line(values: list[str], sep: str) -> str:
        if len(values) < n:
            values = values + [""] * (n - len(values))
        return lead + sep.join(map(str.ljust, values[:n], widths)) + lead

    rule = "╇".join("━" * (w + (1 if i in (0, len(widths) - 1) and not pad_edge else 2))
                    for i, w in enumerate(widths))
    if len(widths) == 1 and not pad_edge:
        rule = "━" * widths[0]
    out = [title] if title else []
    out += [line(heads, " ┃ "), rule]
    out += [line(row, " │ ") for row in rows]
    console.file.write("\n".join(out) + "\n")


_CELL_CHANGES = re.compile("[\x07\x08\x0b\x0c\x0d\n]")


def plain_cells(rows: list[list[str]]) -> list[list[str]]:
    """Rows of text cells as TextTable keeps a row of ``cells(...)``: rich's Text drops control characters,
    and a newline becomes a space. Checked once over all of them (a large table's cells rarely hold one)."""
    if _CELL_CHANGES.search("\t".join(["\t".join(r) for r in rows])) is None:
        return rows
    return [[strip_control_codes(c).replace("\n", " ") for c in r] for r in rows]


def cells(*values: str) -> list[Text]:
    """Table cells as plain text: names come from the plan and must print as written, never as markup."""
    return [Text(v) for v in values]


def route_table(title: str, routes: tuple[Route, ...]) -> Table:
    t = TextTable(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for col in ("destination", "next hop", "device", "kind", "owner"):
        t.add_column(col)
    for r in sorted(routes, key=lambda r: (int(r.dst.network_address), -r.dst.prefixlen)):
        t.add_row(*cells(str(r.dst), _via(r), r.dev or (r.name or ""), r.kind, r.owner))
    return t


def node_facts(console: Console, v: NodeView) -> None:
    f = v.facts
    console.print(f"[bold]{escape(f.node)}[/bold] ({f.os}, {v.ip}) — {escape(v.plugin)}")
    print_table(console, route_table("  routes", f.routes))
    if f.neighbors:
        console.print("  neighbours: " + ", ".join(f"{n.ip} → {n.mac} on {n.dev}" for n in f.neighbors), markup=False)
    if f.fdb:
        console.print("  fdb: " + ", ".join(f"{e.mac} → {e.dst} on {e.dev}" for e in f.fdb), markup=False)
    for v in f.vteps:
        state = "" if v.up else f" — not running: {v.reason}"
        console.print(f"  VTEP {v.dev}: {_endpoint_numbers(v)}, MTU {v.mtu}{state}", markup=False)
    if f.encaps:
        broken = sum(1 for e in f.encaps if e.mismatch)
        labels = "/".join(dict.fromkeys(e.encapsulation.label for e in f.encaps))
        console.print(f"  {labels} hops: {len(f.encaps)}" + (f", {broken} dropped at the receiver" if broken else ""),
                      markup=False)
    for n in f.hns_networks:
        console.print(f"  HNS network {n.name} ({n.type}) {n.prefix} gateway {n.gateway}", markup=False)
    hosts = [e for e in f.hns_endpoints if e.role != "pod"]
    pods = [e for e in f.hns_endpoints if e.role == "pod"]
    for e in hosts:
        console.print(f"  HNS endpoint {e.name} {e.ip} ({e.role})", markup=False)
    if pods:
        console.print(f"  HNS pod endpoints: {len(pods)} (gateway {pods[0].gateway}); policies of the first:",
                      markup=False)
        for p in pods[0].policies:
            console.print(f"    {p.type} {dict(p.settings)}", markup=False)
    for note in f.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(note)}")


def _endpoint_numbers(v: Vtep) -> str:
    """A tunnel endpoint's numbers as its kind has them (VXLAN's line as always: VNI, UDP, MAC)."""
    parts = [] if v.kind == "vxlan" else [v.encapsulation.label]
    if v.vni is not None:
        parts.append(f"VNI {v.vni}")
    if v.port is not None:
        parts.append(f"UDP {v.port}")
    if v.mac is not None:
        parts.append(f"MAC {v.mac} ({v.mac_source})")
    return ", ".join(parts)


def underlay(console: Console, u: RouteTable) -> None:
    print_table(console, route_table(f"underlay route table {u.name}", u.routes))


def lookup(console: Console, res: Lookup) -> None:
    if res.route is None:
        console.print(f"{res.table}: no route to {res.dst}", markup=False)
        return
    r = res.route
    console.print(f"{res.table}: {res.dst} matches {r.dst} ({r.kind}, installed by {r.owner})", markup=False)
    if r.type == "blackhole":
        console.print("  dropped (blackhole route)")
    else:
        console.print(f"  next hop {res.next_hop}" + (f" via device {res.dev}" if res.dev else "")
                      + (f" ({r.next_hop_type})" if r.next_hop_type else ""), markup=False)


def ipam(console: Console, cluster: Cluster) -> None:
    a = cluster.allocation
    t = TextTable(title="pod CIDRs and pod address ranges", title_justify="left", show_edge=False)
    for col in ("node", "os", "pod CIDR", "from", "gateway", "first pod", "capacity", "pods"):
        t.add_column(col, no_wrap=True)
    t.add_column("reserved")
    for n in a.nodes.values():
        rng = n.range
        first = next(rng.addresses(), None) if rng else None
        # Reserved addresses by the octets the pod CIDR leaves free (.255 in a /24, .1.255 in a /23), the reason
        # only where it is not the usual trio.
        usual = ("network address", "gateway", "broadcast address")
        keep = 4 - (n.pod_cidr.prefixlen // 8 if n.pod_cidr is not None else 3)
        reserved = " ".join("." + ".".join(str(ip).split(".")[-max(keep, 1):])
                            + ("" if why in usual else f" ({why.split(' (')[0]})")
                            for ip, why in rng.reserved) if rng else ""
        t.add_row(*cells(n.name, n.os, str(n.pod_cidr or "-"), n.cidr_source, str(rng.gateway if rng else "-"),
                         str(first or "-"), str(n.capacity), str(n.pods), reserved))
    print_table(console, t)
    for name, why in a.add_failures.items():
        console.print(f"[red]{escape(name)}: every pod ADD fails[/red]: {escape(why)}", highlight=False)
    if a.pods:
        p = TextTable(title="pods", title_justify="left", show_edge=False)
        for col in ("pod", "node", "ip", "from"):
            p.add_column(col)
        for pa in a.pods.values():
            p.add_row(*cells(pa.pod.key, pa.pod.node or "", str(pa.ip), pa.source))
        print_table(console, p)
    if a.not_running:
        d = TextTable(title="pods that never run", title_justify="left", show_edge=False)
        for col in ("pod", "node", "ip", "code"):
            d.add_column(col, no_wrap=True)
        d.add_column("why")
        nodes = {p.key: p.node for p in cluster.plan.pods}
        for key, nr in a.not_running.items():
            held = a.pods.get(key)
            d.add_row(*cells(key, nodes.get(key) or "-", str(held.ip) if held else "-", nr.code, nr.reason))
        print_table(console, d)
    plan = cluster.plan
    total = sum(n.capacity for n in a.nodes.values())
    if plan.cluster_cidr is None or not any(n.pod_cidr for n in a.nodes.values()):
        console.print(f"capacity: {total} pod addresses in all, in the underlay's subnets ({len(a.nodes)} nodes)")
        return
    console.print(f"capacity: {plan.cluster_cidr} at /{plan.node_cidr_mask_size} holds {a.max_nodes} nodes "
                  f"({len(a.nodes)} planned, {a.free_node_cidrs} CIDRs free); {total} pod addresses in all")


def warnings(console: Console, cluster: Cluster) -> None:
    for w in cluster.warnings:
        # render() already says "warning:" after the file and field path
        console.print(f"[yellow]{escape(w.render())}[/yellow]", highlight=False)


def settings(console: Console, plan: Plan) -> None:
    """Where each plugin setting came from: the plan itself, a config file, a ConfigMap, a DaemonSet."""
    rows = [(f"network {k}", v) for k, v in (plan.network.sources if plan.network else ())]
    rows += [(f"policy {k}", v) for k, v in plan.policy.sources]
    if plan.inferred:  # a plan read from a cluster's dump (cnimodel.infer)
        console.print("inferred from the dump", markup=False)
        for i in plan.inferred:
            console.print(f"  {i.field}: {i.value} — {'guessed: ' if i.guessed else ''}{i.source}", markup=False)
    if rows:
        console.print("settings", markup=False)
        for k, v in rows:
            console.print(f"  {k}: {v}", markup=False)
