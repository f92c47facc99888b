"""``cnimodel trace``: walk a packet hop by hop, forward and back."""

from __future__ import annotations

import click

from cnimodel.commands.base import OUT, UsageProblem, build, handle_errors, plan_inputs
from cnimodel.render import json_text


@click.command("trace")
@plan_inputs
@click.argument("src")
@click.argument("dst")
@click.option("--port", type=int, default=80, show_default=True, help="Destination port (TCP/UDP/SCTP).")
@click.option("--proto", type=click.Choice(["tcp", "udp", "sctp", "icmp"]), default="tcp", show_default=True)
@click.option("--size", type=int, default=64, show_default=True, help="IP packet size in bytes.")
@click.option("--reverse", "direction", flag_value="reverse", help="Trace only the reply.")
@click.option("--both", "direction", flag_value="both", help="Trace the packet and its reply.")
@click.option("--backend", help="For a Service: the backend IP the load balancer picks (default: the first).")
@click.option("--no-policy", is_flag=True, help="Leave NetworkPolicy out: routing and NAT only.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--pcap", "pcap_file", type=click.Path(dir_okay=False), help="Write the frames of every wire segment.")
@handle_errors
def trace_cmd(plan: tuple[str, ...], src: str, dst: str, port: int, proto: str, size: int, direction: str | None,
              backend: str | None, no_policy: bool, output: str, pcap_file: str | None) -> None:
    """Walk a packet from SRC to DST: pod (ns/name), node, Service (ns/name or VIP), NODE:NODEPORT, or IP.

    Exit status 0 when every packet traced is delivered (ACCEPTED, DELIVERED_TO_SUBNET, or EXITS_NETWORK to an
    address outside the plan), 1 when one is not (dropped, no route, a pod that never runs …), 2 on bad input.
    """
    from cnimodel.render import trace_text
    from cnimodel.trace import EndpointError, trace
    from cnimodel.trace.model import DELIVERED

    if not 20 <= size <= 65535:
        raise UsageProblem(f"--size {size} is not an IPv4 packet size (20 to 65535)")
    cluster = build(plan)
    try:
        traces = trace(cluster, src, dst, port=port, proto=proto, size=size, backend=backend,
                       reverse=direction == "reverse", both=direction == "both", policy=not no_policy)
    except EndpointError as e:
        raise UsageProblem(str(e)) from None
    if pcap_file:
        from cnimodel.trace.pcap import write_pcap

        frames = write_pcap(cluster, traces, pcap_file)
        click.echo(f"wrote {frames} frames to {pcap_file}", err=True)
    from cnimodel.policy.enforcement import unenforced

    gaps = unenforced(cluster) if not no_policy else None
    if output == "json":
        extra = {"unenforced": gaps.to_json() if gaps is not None else None}
        body = [{**t.to_json(), **extra} for t in traces]
        click.echo(json_text.dumps(body[0] if len(body) == 1 else {"traces": body}))
    else:
        if gaps is not None:
            OUT.print(f"warning: {gaps.sentence()}", markup=False)
        for t in traces:
            trace_text.render(OUT, t)
    if any(t.disposition not in DELIVERED for t in traces):  # as ping: 1 when no packet got through
        raise SystemExit(1)


COMMANDS = [trace_cmd]
