"""ovn-trace's microflows and its answers, read into values: datapaths, numbered stages, the final port or drop.

ovn-trace(8) prints, per logical datapath a packet enters, a header ``ingress(dp="lin1", inport="ns_pod")`` (or
``egress(…, outport=…)``), then one line per table that matched — ``25. ls_in_l2_lkup (northd.c:9193): <match>,
priority 50, uuid 2cf17e15`` — with the actions under it; ``/* output to "port", type "patch" */`` marks a hop
to the next datapath, an output to a port of another type the packet's leaving the logical network there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Literal

HEADER = re.compile(r'^(ingress|egress)\(dp="([^"]+)", inport="([^"]*)"(?:, outport="([^"]*)")?\)')
MULTICAST = re.compile(r'^\s*multicast\(dp="([^"]+)", mcgroup="([^"]+)"\)')
STAGE = re.compile(r"^\s*(\d+)\. (\w+) \(([^)]*)\): (.*), priority (\d+), uuid ([0-9a-f]+)\s*$")
OUTPUT = re.compile(r'/\* output to "([^"]+)", type "([^"]*)" \*/')
Verdict = Literal["delivered", "exits", "dropped", "neighbour-resolution"]


@dataclass(frozen=True)
class TracedStage:
    """One table a packet matched: pipeline, datapath, table number and name, the match, its actions."""

    pipeline: str
    datapath: str
    table: int
    name: str
    match: str
    priority: int
    actions: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.datapath} {self.pipeline} {self.table}. {self.name} (priority {self.priority})"


@dataclass(frozen=True)
class TraceResult:
    """ovn-trace's answer: ``verdict`` with the logical ``output`` port (and its type), or the ``last`` stage
    where the packet was dropped; ``datapaths`` in the order crossed."""

    verdict: Verdict
    output: str | None
    output_type: str | None
    datapaths: tuple[str, ...]
    stages: tuple[TracedStage, ...]
    outputs: tuple[tuple[str, str], ...]
    text: str

    @property
    def last(self) -> TracedStage | None:
        return self.stages[-1] if self.stages else None

    def summary(self) -> str:
        if self.verdict == "delivered":
            return f"delivered to {self.output}"
        if self.verdict == "exits":
            return f"leaves through {self.output} ({self.output_type})"
        if self.verdict == "neighbour-resolution":
            return f"needs ARP (flooded to {', '.join(p for p, _ in self.outputs)})"
        return f"dropped at {self.last}" if self.last else "dropped"


def microflow(inport: str, eth_src: str, eth_dst: str, ip_src: IPv4Address | str, ip_dst: IPv4Address | str,
              protocol: str = "tcp", dst_port: int = 80, src_port: int = 40000) -> str:
    """A TCP/UDP microflow entering a logical switch port, in ovn-trace's expression syntax."""
    flow = (f'inport == "{inport}" && eth.src == {eth_src} && eth.dst == {eth_dst} && ip4.src == {ip_src} && '
            f"ip4.dst == {ip_dst} && ip.ttl == 64")
    if protocol in ("tcp", "udp", "sctp"):
        flow += f" && {protocol} && {protocol}.src == {src_port} && {protocol}.dst == {dst_port}"
    return flow


def parse(text: str) -> TraceResult:
    """ovn-trace's ``--detailed`` output as a TraceResult."""
    stages: list[TracedStage] = []
    datapaths: list[str] = []
    outputs: list[tuple[str, str]] = []
    pipeline, datapath = "", ""
    current: tuple[int, str, str, int] | None = None
    actions: list[str] = []
    flooded = False
    dropped = False

    def close() -> None:
        nonlocal current, actions
        if current is not None:
            stages.append(TracedStage(pipeline, datapath, *current[:4], tuple(actions)))
        current, actions = None, []

    for line in text.splitlines():
        if m := HEADER.match(line.strip()):
            close()
            pipeline, datapath = m.group(1), m.group(2)
            if not datapaths or datapaths[-1] != datapath:
                datapaths.append(datapath)
            continue
        if MULTICAST.match(line) or line.strip() == "arp":
            close()
            flooded = True
            continue
        if m := STAGE.match(line):
            close()
            current = (int(m.group(1)), m.group(2), m.group(4), int(m.group(5)))
            continue
        stripped = line.strip()
        if m := OUTPUT.search(stripped):
            outputs.append((m.group(1), m.group(2)))
        if current is not None and stripped and not stripped.startswith("---"):
            actions.append(stripped)
            if stripped == "drop;":
                dropped = True
    close()
    final = [(p, t) for p, t in outputs if t not in ("patch", "chassisredirect", "l3gateway")]
    verdict: Verdict
    if flooded and final:
        verdict, port, ptype = "neighbour-resolution", None, None
    elif final and not dropped:
        port, ptype = final[-1]
        verdict = "exits" if ptype in ("localnet", "vtep", "external") else "delivered"
    else:
        verdict, port, ptype = "dropped", None, None
    return TraceResult(verdict, port, ptype, tuple(datapaths), tuple(stages), tuple(final), text)
