"""``cnimodel lb`` for people: per node, each service port's frontends, what handles them, and the backends."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from cnimodel.render.text import TextTable, cells, print_plain, print_table
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


def windows(console: Console, view: WinkernelView) -> None:
    net = view.network
    head = f"[bold]{escape(view.node)}[/bold] (windows, winkernel)"
    if net is not None:
        head += escape(f" — HNS network {net.name} ({net.type})"
                       + (f", source VIP {view.source_vip}" if view.source_vip else "")
                       + f", DSR {'supported' if view.dsr_supported else 'not supported'}")
    console.print(head)
    t = TextTable(show_edge=False, pad_edge=False)
    for col in ("service port", "frontend", "VIP:port → internal", "LB flags", "port flags", "affinity",
                "SourceVIP", "backends"):
        t.add_column(col)
    for p in view.service_ports:
        for lb in p.load_balancers:
            vip = lb.frontend_vips[0] if lb.frontend_vips else "*"
            backends = ", ".join(f"{b.ip}{'' if b.local else ' (remote)'}" for b in lb.backends[:6])
            if len(lb.backends) > 6:
                backends += f" … {len(lb.backends)} in all"
            last = Text.assemble(("rejected: ", "red"), str(lb.rejected)) if lb.rejected else Text(backends)
            proto = {6: "TCP", 17: "UDP", 132: "SCTP"}.get(lb.protocol, "?")
            ports = f"{vip}:{lb.external_port} → {lb.internal_port} {proto}({lb.protocol})"
            t.add_row(*cells(lb.service, lb.kind, ports,
                             flag_names(lb.flags, _LB_FLAGS), flag_names(lb.port_flags, _PM_FLAGS),
                             "ClientIP" if lb.distribution == 2 else "-", lb.source_vip or "-"), last)
        if not p.load_balancers:
            t.add_row(*cells(p.service_port.key, "-", "-", "-", "-", "-", "-"), Text("no load balancer", "yellow"))
    print_table(console, t)
    for p in view.service_ports:
        for note in p.notes:
            console.print(f"  [yellow]note[/yellow] {escape(p.service_port.key)}: {escape(note)}")
        for key, why in p.skipped:
            console.print(f"  skipped {p.service_port.key} endpoint {key}: {why}", markup=False)
    remote = [e for e in view.created if e.role == "remote"]
    if remote:
        console.print(f"  kube-proxy remote endpoints: {len(remote)} (MAC 02-11-<IPv4 octets>"
                      + (", ProviderAddress policy)" if view.overlay else ", no policies on l2bridge)"))
    for note in view.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(note)}")


def linux(console: Console, view: IptablesView) -> None:
    console.print(f"[bold]{escape(view.node)}[/bold] (linux, kube-proxy iptables mode)")
    t = TextTable(show_edge=False, pad_edge=False)
    for col in ("service port", "chains", "cluster endpoints", "local endpoints", "verdict without endpoints"):
        t.add_column(col)
    for p in view.service_ports:
        chains = " ".join(c for c in (p.svc_chain, p.svl_chain, p.ext_chain, p.fw_chain) if c) or "-"
        verdict = ("REJECT" if not p.has_endpoints else
                   "DROP (ClusterIP)" if not p.has_internal else "DROP (external)" if not p.has_external else "-")
        t.add_row(*cells(p.service_port.key, chains, ", ".join(e.key for e in p.cluster_endpoints[:6]) or "-",
                         ", ".join(e.key for e in p.local_endpoints[:6]) or "-", verdict))
    print_table(console, t)
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
