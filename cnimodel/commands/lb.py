"""``cnimodel lb``: what kube-proxy programs for Services on each node (HNS/VFP on Windows, iptables on Linux)."""

from __future__ import annotations

import gc
import json
import re
from ipaddress import ip_address

import click

from cnimodel.cli import OUT, UsageProblem, build, check_node, handle_errors
from cnimodel.cluster import Cluster

FORMATS = ["text", "json", "hns", "iptables", "vfp"]


def _dst(value: str) -> tuple[str, int, str]:
    m = re.fullmatch(r"\[?([0-9a-fA-F.:]+?)\]?:(\d+)(?:/(tcp|udp|sctp))?", value.strip(), re.IGNORECASE)
    if not m:
        raise UsageProblem(f"--dst {value!r}: write VIP:PORT or VIP:PORT/PROTO, e.g. 10.96.0.10:53/udp")
    try:
        ip_address(m.group(1))
    except ValueError:
        raise UsageProblem(f"--dst {value!r}: {m.group(1)!r} is not an IP address") from None
    return m.group(1), int(m.group(2)), (m.group(3) or "tcp").upper()


@click.command("lb")
@click.argument("plan")
@click.option("--node", "nodes", multiple=True, help="Only this node (repeatable). Default: every node.")
@click.option("--service", "service", help="Only this Service (NS/NAME).")
@click.option("-o", "--output", type=click.Choice(FORMATS), default="text", show_default=True,
              help="hns: HNS v2 JSON of Windows nodes; iptables: iptables-save of Linux nodes; vfp: VFP-style "
              "rules of Windows nodes.")
@click.option("--iptables-form", type=click.Choice(["save", "restore"]), default="save", show_default=True,
              help="-o iptables: as iptables-save prints it, or as kube-proxy writes it (iptables-restore input).")
@click.option("--dst", "dst", help="Show the decision for one destination VIP:PORT[/PROTO] instead "
              "(with --node; --src sets the client).")
@click.option("--src", "src", help="With --dst: the client address (a pod IP, a node IP, or an outside IP).")
@handle_errors
def lb_cmd(plan: str, nodes: tuple[str, ...], service: str | None, output: str, iptables_form: str,
           dst: str | None, src: str | None) -> None:
    """Load-balancer rules kube-proxy programs for Services: HNS LoadBalancers and a VFP-style listing on
    Windows nodes (winkernel), nat/filter rules on Linux nodes (iptables mode)."""
    from cnimodel.services.model import no_gc

    cluster = build(plan)
    # The plan lives as long as this command: take it out of the collector's sight, so that building a
    # large answer does not make every collection walk millions of plan objects.
    gc.freeze()
    with no_gc():
        _lb(cluster, nodes, service, output, iptables_form, dst, src)


def _lb(cluster: Cluster, nodes: tuple[str, ...], service: str | None, output: str, iptables_form: str,
        dst: str | None, src: str | None) -> None:
    from cnimodel.render import lb_hns, lb_iptables, lb_json, lb_text
    from cnimodel.services import catalog, decide, iptables_view, vfp_rules, winkernel_view

    for n in nodes:
        check_node(cluster, n)
    cat = catalog(cluster)
    services = None
    if service is not None:
        if "/" not in service:
            raise UsageProblem(f"--service {service!r}: write it as NAMESPACE/NAME, e.g. default/web")
        svc = cat.service(service)
        if svc is None:
            known = ", ".join(s.key for s in cat.services[:8]) + (" …" if len(cat.services) > 8 else "")
            raise UsageProblem(f"no Service named {service!r} in the plan (kube-proxy skips headless and "
                               f"ExternalName ones); Services: {known or 'none'}")
        services = [svc]
    names = list(nodes) or [n.name for n in cluster.plan.nodes]
    if dst is not None:
        if not nodes:
            raise UsageProblem("--dst needs --node: a decision is made on one node")
        vip, port, proto = _dst(dst)
        if src is not None:
            try:
                ip_address(src)
            except ValueError:
                raise UsageProblem(f"--src {src!r} is not an IP address") from None
        decisions = [decide(cluster, n, vip, port, proto, src=src) for n in names]
        if output == "json":
            body = [lb_json.decision(d) for d in decisions]
            click.echo(json.dumps(body[0] if len(body) == 1 else body, indent=2))
        else:
            for d in decisions:
                lb_text.decision(OUT, d)
        return
    windows = [n for n in names if cluster.node(n).os == "windows"]
    linux = [n for n in names if cluster.node(n).os == "linux"]
    if output in ("hns", "vfp") and not windows:
        raise UsageProblem(f"-o {output} shows Windows nodes; the nodes asked for are Linux (use -o iptables)")
    if output == "iptables" and not linux:
        raise UsageProblem("-o iptables shows Linux nodes; the nodes asked for are Windows (use -o hns or vfp)")
    config = cat.config.to_json()
    if output == "hns":
        click.echo(json.dumps({n: lb_hns.objects(winkernel_view(cluster, n, services)) for n in windows}, indent=2))
    elif output == "iptables":
        click.echo("".join(lb_iptables.render(iptables_view(cluster, n, services), iptables_form) for n in linux),
                   nl=False)
    elif output == "vfp":
        for n in windows:
            lb_text.vfp(OUT, n, vfp_rules(winkernel_view(cluster, n, services)))
    elif output == "json":
        body = {"plan": cluster.plan.name, "kubeProxy": config,
                "services": [lb_json.service(s, cat) for s in (services or cat.services)], "nodes": [],
                "warnings": [w.to_json() for w in cat.warnings]}
        for n in names:
            if n in windows:
                view = winkernel_view(cluster, n, services)
                body["nodes"].append(lb_json.windows_node(view, vfp_rules(view), config))
            else:
                body["nodes"].append(lb_json.linux_node(iptables_view(cluster, n, services), config))
        click.echo(json.dumps(body, indent=2))
    else:
        for n in names:
            if n in windows:
                lb_text.windows(OUT, winkernel_view(cluster, n, services))
            else:
                lb_text.linux(OUT, iptables_view(cluster, n, services))
            OUT.print()
        for w in cat.warnings:
            OUT.print(w.render(), markup=False)


COMMANDS = [lb_cmd]
