"""``cnimodel lb`` for people: per node, each service port's frontends, what handles them, and the backends."""

from __future__ import annotations

from functools import lru_cache

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from cnimodel.render.text import (
    PLAIN_ROWS,
    TextTable,
    cells,
    plain_cells,
    print_plain,
    print_rows,
    print_table,
    writes_plain,
)
from cnimodel.services.decision import LbDecision
from cnimodel.services.hnslb import (
    LB_DSR,
    LB_IPV6,
    PM_LOCAL_ROUTED_VIP,
    PM_PRESERVE_DIP,
    PM_USE_MUX,
    PM_VIP_EXTERNAL_IP,
    WinkernelView,
)
from cnimodel.services.kubeproxy_iptables import IptablesView
from cnimodel.services.vfp import VfpRule

_LB_FLAGS = ((LB_DSR, "DSR"), (LB_IPV6, "IPv6"))
_PM_FLAGS = ((1, "ILB"), (PM_LOCAL_ROUTED_VIP, "LocalRoutedVIP"), (PM_USE_MUX, "UseMux"),
             (PM_PRESERVE_DIP, "PreserveDIP"), (PM_VIP_EXTERNAL_IP, "VipExternalIP"))


def flag_names(value: int, names: tuple[tuple[int, str], ...]) -> str:
    """``18`` → ``LocalRoutedVIP|VipExternalIP``; 0 → ``-``."""
    return "|".join(n for bit, n in names if value & bit) or "-"


_flag_names = lru_cache(maxsize=256)(flag_names)  # a few values, on every row of a large node
_WINDOWS_COLUMNS = ("service port", "frontend", "VIP:port → internal", "LB flags", "port flags", "affinity",
                    "SourceVIP", "backends")
_LINUX_COLUMNS = ("service port", "chains", "cluster endpoints", "local endpoints", "verdict without endpoints")
_LOOKS = {"rejected": lambda text: Text.assemble(("rejected: ", "red"), text.removeprefix("rejected: ")),
          "none": lambda text: Text(text, "yellow")}


def _table(console: Console, columns: tuple[str, ...], rows: list[list[str]], looks: list[str | None]) -> None:
    """A node's table: past PLAIN_ROWS rows its plain form straight from the cells' text (print_table would
    print a TextTable of them so); else a TextTable, the last cell styled as ``looks`` says."""
    if len(rows) > PLAIN_ROWS:
        print_rows(console, list(columns), plain_cells(rows), pad_edge=False)
        return
    t = TextTable(show_edge=False, pad_edge=False)
    for col in columns:
        t.add_column(col)
    for row, look in zip(rows, looks, strict=True):
        t.add_row(*cells(*row[:-1]), _LOOKS[look](row[-1]) if look else Text(row[-1]))
    print_table(console, t)


def _say(console: Console, lines: list[tuple[str, str | None]]) -> None:
    """Lines as text, or as markup (a yellow label) where given: into a file or pipe, as one block of text."""
    if writes_plain(console):
        if lines:
            print_plain(console, "\n".join([text for text, _ in lines]))
        return
    for text, markup in lines:
        if markup is None:
            console.print(text, markup=False)
        else:
            console.print(markup)


def windows(console: Console, view: WinkernelView) -> None:
    net = view.network
    head = f"[bold]{escape(view.node)}[/bold] (windows, winkernel)"
    if net is not None:
        head += escape(f" — HNS network {net.name} ({net.type})"
                       + (f", source VIP {view.source_vip}" if view.source_vip else "")
                       + f", DSR {'supported' if view.dsr_supported else 'not supported'}")
    console.print(head)
    rows: list[list[str]] = []
    styled: list[str | None] = []  # the last cell's look: None, "rejected" or "none"
    protos = {6: "TCP", 17: "UDP", 132: "SCTP"}
    for p in view.service_ports:
        for lb in p.load_balancers:
            vip = lb.frontend_vips[0] if lb.frontend_vips else "*"
            if lb.rejected:
                last, look = "rejected: " + str(lb.rejected), "rejected"
            else:
                last = ", ".join([b.ip if b.local else b.ip + " (remote)" for b in lb.backends[:6]])
                if len(lb.backends) > 6:
                    last += f" … {len(lb.backends)} in all"
                look = None
            ports = f"{vip}:{lb.external_port} → {lb.internal_port} {protos.get(lb.protocol, '?')}({lb.protocol})"
            rows.append([lb.service, lb.kind, ports, _flag_names(lb.flags, _LB_FLAGS),
                         _flag_names(lb.port_flags, _PM_FLAGS), "ClientIP" if lb.distribution == 2 else "-",
                         lb.source_vip or "-", last])
            styled.append(look)
        if not p.load_balancers:
            rows.append([p.service_port.key, "-", "-", "-", "-", "-", "-", "no load balancer"])
            styled.append("none")
    _table(console, _WINDOWS_COLUMNS, rows, styled)
    said: list[tuple[str, str | None]] = []  # (the line as text; as markup with its label in yellow, if it has one)
    for p in view.service_ports:
        key = p.service_port.key
        said += [(f"  note {key}: {note}", f"  [yellow]note[/yellow] {escape(key)}: {escape(note)}")
                 for note in p.notes]
        said += [(f"  skipped {key} endpoint {ep}: {why}", None) for ep, why in p.skipped]
    _say(console, said)
    remote = [e for e in view.created if e.role == "remote"]
    if remote:
        console.print(f"  kube-proxy remote endpoints: {len(remote)} (MAC 02-11-<IPv4 octets>"
                      + (", ProviderAddress policy)" if view.overlay else ", no policies on l2bridge)"))
    for note in view.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(note)}")


def linux(console: Console, view: IptablesView) -> None:
    console.print(f"[bold]{escape(view.node)}[/bold] (linux, kube-proxy iptables mode)")
    rows = []
    for p in view.service_ports:
        chains = " ".join([c for c in (p.svc_chain, p.svl_chain, p.ext_chain, p.fw_chain) if c]) or "-"
        verdict = ("REJECT" if not p.has_endpoints else
                   "DROP (ClusterIP)" if not p.has_internal else "DROP (external)" if not p.has_external else "-")
        rows.append([p.service_port.key, chains, ", ".join([e.key for e in p.cluster_endpoints[:6]]) or "-",
                     ", ".join([e.key for e in p.local_endpoints[:6]]) or "-", verdict])
    _table(console, _LINUX_COLUMNS, rows, [None] * len(rows))
    for note in view.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(note)}")


def vfp(console: Console, node: str, rules: list[VfpRule]) -> None:
    """One line per rule, grouped by vSwitch port and layer; nothing is cut, whatever the width."""
    console.print(f"[bold]{escape(node)}[/bold] — VFP-style rules (a teaching model: each rule says what is known "
                  "\\[V], inferred \\[I] or unverified \\[U])")
    port = layer = None
    lines: list[str] = []  # printed in blocks: a print per line costs more than the rules themselves
    for r in rules:
        if r.port != port:
            port, layer = r.port, None
            where = " (every local pod port)" if r.port == "pod:*" else ""
            lines.append(f"port {r.port}{where}")
        if (r.layer, r.group) != layer:
            layer = (r.layer, r.group)
            lines.append(f"  layer {r.layer}  group {r.group}")
        lines += (f"    {r.priority:>4} {r.direction:<3} {r.rule}", f"         match  {r.conditions}",
                  f"         action {r.action}",
                  f"         basis  {r.basis}" + (f"  (LB {r.load_balancer}, {r.service})" if r.load_balancer else ""))
        if len(lines) >= 1024:
            print_plain(console, "\n".join(lines))
            lines = []
    if lines:
        print_plain(console, "\n".join(lines))


def decision(console: Console, d: LbDecision) -> None:
    console.print(f"[bold]{escape(d.node)}[/bold]: {d.vip}:{d.port}/{d.protocol}"
                  + (escape(f" from {d.source} ({d.source_kind})") if d.source else "")
                  + f" → [bold]{d.disposition}[/bold] — {escape(d.reason)}")
    if d.service:
        console.print(f"  service {d.service} ({d.frontend}), decided by {d.decided_by}", markup=False)
    for b in d.backends:
        snat = f"SNAT to {b.snat}" if b.snat else "no SNAT"
        console.print(f"  {b.weight:6.1%}  DNAT → {b.dnat}  {snat} ({b.snat_reason})  via {b.via}", markup=False)
    if d.affinity:
        console.print(f"  affinity: {d.affinity}", markup=False)
    for r in d.rules:
        console.print(f"  rule: {r}", markup=False)
    for n in d.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(n)}")
