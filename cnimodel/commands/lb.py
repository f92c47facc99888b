"""``cnimodel lb``: what kube-proxy programs for Services on each node (HNS/VFP on Windows, iptables on Linux)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any

import click

from cnimodel.bulk import bulk, freeze_objects
from cnimodel.cluster import Cluster
from cnimodel.commands.base import OUT, UsageProblem, build, check_node, handle_errors, plan_inputs
from cnimodel.render import json_stream, json_text
from cnimodel.render.json_stream import Lazy

if TYPE_CHECKING:
    from cnimodel.services.decision import LbDecision

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


@dataclass(frozen=True)
class Client:
    """A pod named by --src: its key, its workload as ``ns/name[Kind]`` when a workload was named, its node
    and address."""

    pod: str
    workload: str | None
    node: str
    ip: str


def _clients(cluster: Cluster, src: str, nodes: tuple[str, ...]) -> list[Client] | None:
    """The pods ``--src`` names (None when it is an address). A pod's Service traffic meets kube-proxy on the
    pod's own node, so each pod is decided there; --node keeps the pods on those nodes."""
    from cnimodel.plan.errors import EndpointError
    from cnimodel.plan.names import parse_endpoint, resolve_pods

    try:
        e = parse_endpoint(src)
        if e.kind == "address":
            return None
    except EndpointError as err:
        raise UsageProblem(f"--src {src!r}: {err}") from None
    if e.kind != "object" or not e.namespace:
        raise UsageProblem(f"--src {src!r} is neither an IP address nor a pod or workload NAMESPACE/NAME[Kind]")
    try:
        pods = resolve_pods(cluster.plan, e)
    except EndpointError as err:
        raise UsageProblem(f"--src {src!r}: {err}") from None
    named_pod = len(pods) == 1 and (pods[0].owner is None or e.key == pods[0].key)
    out = []
    for p in pods:
        a = cluster.allocation.pods.get(p.key)
        if p.node is None or a is None or a.ip is None:
            continue  # a pod that is Pending has no address and no node to decide on
        out.append(Client(p.key, None if named_pod else p.workload, p.node, str(a.ip)))
    if nodes:
        out = [c for c in out if c.node in nodes]
    if not out and nodes:
        raise UsageProblem(f"--src {src!r}: no pod of it runs on node(s) {', '.join(nodes)}; drop --node to decide "
                           "on the pods' own nodes")
    if not out:
        raise UsageProblem(f"--src {src!r}: none of its pods is on a node with an address")
    return out


def _decision_json(d: LbDecision, c: Client | None) -> dict[str, object]:
    from cnimodel.render import lb_json

    body = lb_json.decision(d)
    if c is not None:  # who the client is: scripts asked about a pod by name, not by address
        body["client"] = c.pod
        body["workload"] = c.workload
    return body


@click.command("lb")
@plan_inputs
@click.option("--node", "nodes", multiple=True, help="Only this node (repeatable). Default: every node.")
@click.option("--service", "service", help="Only this Service (NS/NAME).")
@click.option("-o", "--output", type=click.Choice(FORMATS), default="text", show_default=True,
              help="hns: HNS v2 JSON of Windows nodes; iptables: iptables-save of Linux nodes; vfp: VFP-style "
              "rules of Windows nodes.")
@click.option("--iptables-form", type=click.Choice(["save", "restore"]), default="save", show_default=True,
              help="-o iptables: as iptables-save prints it, or as kube-proxy writes it (iptables-restore input).")
@click.option("--dst", "dst", help="Show the decision for one destination VIP:PORT[/PROTO] instead "
              "(with --node, or --src naming pods; --src sets the client).")
@click.option("--src", "src", help="With --dst: the client — an address (a pod IP, a node IP, or an outside IP), "
              "or a pod or workload NS/NAME[Kind]: one decision per pod, on the pod's own node.")
@handle_errors
def lb_cmd(plan: tuple[str, ...], nodes: tuple[str, ...], service: str | None, output: str, iptables_form: str,
           dst: str | None, src: str | None) -> None:
    """Load-balancer rules kube-proxy programs for Services: HNS LoadBalancers and a VFP-style listing on
    Windows nodes (winkernel), nat/filter rules on Linux nodes (iptables mode); a network plugin's own load
    balancers, in the shape its own tool prints them, on nodes where the plugin implements Services."""
    cluster = build(plan)
    # The plan lives as long as this command: take it out of the collector's sight, so that building a
    # large answer does not make every collection walk millions of plan objects.
    freeze_objects()
    with bulk():
        _lb(cluster, nodes, service, output, iptables_form, dst, src)


def _lb(cluster: Cluster, nodes: tuple[str, ...], service: str | None, output: str, iptables_form: str,
        dst: str | None, src: str | None) -> None:
    from cnimodel.render import lb_hns, lb_iptables, lb_json, lb_text, listing_text
    from cnimodel.services import catalog, decide, iptables_view, vfp_rules, winkernel_view
    from cnimodel.services.decide import plugin_note, proxy_of

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
        vip, port, proto = _dst(dst)
        clients = _clients(cluster, src, nodes) if src is not None else None
        if clients is None and not nodes:
            raise UsageProblem("--dst needs --node (or --src naming a pod or workload): a decision is made on one "
                               "node")
        runs = [(n, src, None) for n in names] if clients is None else [(c.node, c.ip, c) for c in clients]
        decisions = [(decide(cluster, n, vip, port, proto, src=ip), c) for n, ip, c in runs]
        if output == "json":
            body = [_decision_json(d, c) for d, c in decisions]
            workload = clients is not None and bool(clients) and clients[0].workload is not None
            click.echo(json_text.dumps(body[0] if len(body) == 1 and not workload else body))
        else:
            for d, c in decisions:
                if c is not None:
                    OUT.print(f"client {c.pod}" + (f" of {c.workload}" if c.workload else "")
                              + f" ({c.ip} on {c.node})", markup=False)
                lb_text.decision(OUT, d)
        return
    # each node's Services model, as its plugin's Services role says: HNS LBs, iptables rules, or its own
    proxy = {n: proxy_of(cluster, n) for n in names}
    windows = [n for n in names if proxy[n] == "winkernel"]
    linux = [n for n in names if proxy[n] == "iptables"]
    if output in ("hns", "vfp") and not windows:
        raise UsageProblem(f"-o {output} shows Windows nodes; the nodes asked for are Linux (use -o iptables)")
    if output == "iptables" and not linux:
        raise UsageProblem("-o iptables shows Linux nodes; the nodes asked for are Windows (use -o hns or vfp)")
    config = cat.config.to_json()
    if output == "hns":
        # written as made: one node's view at a time, its objects a batch at a time (json_stream)
        _stream({n: Lazy(_later(lambda n=n: lb_hns.each_object(winkernel_view(cluster, n, services))))
                 for n in windows})
    elif output == "iptables":
        out = click.get_binary_stream("stdout")  # written as made: a node's view, then its text a block at a time
        for n in linux:
            for piece in lb_iptables.pieces(iptables_view(cluster, n, services), iptables_form):
                out.write(piece.encode())
        out.flush()
    elif output == "vfp":
        for n in windows:
            lb_text.vfp(OUT, n, vfp_rules(winkernel_view(cluster, n, services)))
    elif output == "json":
        # a plugin's own load balancers before the first byte: its model of the cluster may find a plan error
        own = {n: lb_json.plugin_node(n, cluster.node(n).os, plugin_note(cluster, n), _own_tables(cluster, n, services))
               for n in names if proxy[n] not in ("winkernel", "iptables")}

        def node(n: str) -> dict[str, object]:
            if proxy[n] == "winkernel":
                view = winkernel_view(cluster, n, services)
                return lb_json.windows_node(view, vfp_rules(view), config, many=Lazy)
            if proxy[n] == "iptables":
                return lb_json.linux_node(iptables_view(cluster, n, services), config, many=Lazy)
            return own[n]

        warnings = [w.to_json() for w in cat.warnings]
        # written as made: the Services a batch at a time, then each node's view (json_stream)
        _stream({"plan": cluster.plan.name, "kubeProxy": config,
                 "services": Lazy(lb_json.service(s, cat) for s in (services or cat.services)),
                 "nodes": Lazy((node(n) for n in names), nested=True), "warnings": warnings})
    else:
        for n in names:
            if proxy[n] == "winkernel":
                lb_text.windows(OUT, winkernel_view(cluster, n, services))
            elif proxy[n] == "iptables":
                lb_text.linux(OUT, iptables_view(cluster, n, services, summary=True))  # the table shows no rule
            else:
                OUT.print(plugin_note(cluster, n), markup=False)
                for t in _own_tables(cluster, n, services):
                    listing_text.listing(OUT, t)
            OUT.print()
        for w in cat.warnings:
            OUT.print(w.render(), markup=False)


def _later(make: Callable[[], Iterable[Any]]) -> Iterator[Any]:
    """The items ``make()`` gives, made when the first is asked for (a node's view, when its turn comes)."""
    yield from make()


def _stream(value: dict[str, object]) -> None:
    """The answer as ``json_text.dumps`` writes it and a newline, written to stdout as it is made."""
    out = click.get_binary_stream("stdout")
    json_stream.write(out.write, value)
    out.write(b"\n")
    out.flush()


def _own_tables(cluster: Cluster, node: str, services: list | None) -> tuple:  # type: ignore[type-arg]
    """The load balancers of a plugin implementing Services itself, as its capability lists them."""
    own = cluster.plugin.services()
    if own is None:
        return ()
    return own.tables(cluster, node, [s.key for s in services] if services is not None else None)


COMMANDS = [lb_cmd]
