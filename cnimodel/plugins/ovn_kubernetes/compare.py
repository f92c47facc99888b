"""ovn-trace's answer beside cnimodel's own walk of the same flow: verdict, output port, datapaths, stages.

cnimodel's walk (``cnimodel trace``) is read back into ovn-trace's terms: the logical datapaths it crossed (the
``datapath`` of each OVN stage step, in order), the port OVN hands the packet to last (the last egress vertex
``<datapath>><port>`` of its path, or the localnet port it leaves by) and a verdict — ``delivered`` when the walk
leaves OVN by a port of a pod, the management port or the hybrid overlay's, ``exits`` through a localnet port,
``dropped`` when the walk ends inside OVN without either (a policy's DENIED_IN/DENIED_OUT, NO_ROUTE). Every
stage cnimodel names with a priority must be one ovn-trace shows on the same datapath with the same table number,
name and priority.

ovn-trace traces with the conntrack state ``est|trk`` (docs/ovn-kubernetes.md, "Export and proof"), so a
gateway router's SNAT and a Service's DNAT do not show in its output; neither needs the other's MAC bindings: a
gateway router's next hop outside OVN is resolved by ARP at run time, which ovn-trace reports as a flood to the
external switch's ports — cnimodel's exit through that switch's localnet port agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnimodel.plugins.ovn_kubernetes import tracing
from cnimodel.plugins.ovn_kubernetes.datapaths import PREFIX, parse

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.trace.model import Trace


@dataclass(frozen=True)
class Walked:
    """cnimodel's walk in ovn-trace's terms."""

    verdict: str  # delivered | exits | dropped
    output: str | None
    datapaths: tuple[str, ...]
    stages: tuple[tuple[str, int, str, int], ...]  # (datapath, table, stage, priority) of stages with a priority
    disposition: str
    tunnel: tuple[str, str] | None = None  # GENEVE between chassis: (the datapath, its egress port) in the key

    def summary(self) -> str:
        if self.verdict == "delivered":
            return f"delivered to {self.output}"
        if self.verdict == "exits":
            return f"leaves through {self.output} (localnet)"
        return f"dropped ({self.disposition})"


def walked(t: Trace) -> Walked:
    datapaths: list[str] = []
    stages: list[tuple[str, int, str, int]] = []
    output: str | None = None
    localnet: str | None = None
    tunnel: tuple[str, str] | None = None
    for hop in t.hops:
        for s in hop.steps:
            if s.action == "TO_CHASSIS" and "datapath" in s.detail:
                tunnel = (s.detail["datapath"], s.detail["egressPort"])
            dp = s.detail.get("datapath")
            if dp is None:
                continue
            if not datapaths or datapaths[-1] != dp:
                datapaths.append(dp)
            number, _, name = s.action.partition(". ")
            if number.isdigit() and "priority" in s.detail:
                stages.append((dp, int(number), name, int(s.detail["priority"])))
            if s.detail.get("type") == "localnet":
                localnet = s.detail.get("outport")
    for v in t.path:
        if v.startswith(PREFIX + ":"):
            _, dp, mark, port = parse(v)
            if mark == ">" and dp not in ("ovn_cluster_router",) and not dp.startswith("GR_"):
                output = port
    if localnet is not None:
        verdict, output = "exits", localnet
    elif output is not None and t.disposition not in ("DENIED_IN", "DENIED_OUT", "NO_ROUTE", "LOOP"):
        verdict = "delivered"
    else:
        verdict, output = "dropped", None
    return Walked(verdict, output, tuple(datapaths), tuple(stages), t.disposition, tunnel)


def mismatches(mine: Walked, theirs: tracing.TraceResult) -> list[str]:
    """Every way ovn-trace's answer differs from cnimodel's walk (empty: they agree)."""
    out: list[str] = []
    if theirs.verdict == "neighbour-resolution":
        flooded = {p for p, _ in theirs.outputs}
        if not (mine.verdict == "exits" and mine.output in flooded):
            out.append(f"ovn-trace resolves a neighbour (flooding {', '.join(sorted(flooded))}); cnimodel: "
                       f"{mine.summary()}")
    elif theirs.verdict != mine.verdict or (mine.verdict != "dropped" and theirs.output != mine.output):
        out.append(f"ovn-trace: {theirs.summary()}; cnimodel: {mine.summary()}")
    if theirs.verdict != "dropped" and tuple(theirs.datapaths) != mine.datapaths:
        out.append(f"datapaths: ovn-trace {' → '.join(theirs.datapaths)}; cnimodel {' → '.join(mine.datapaths)}")
    seen = {(s.datapath, s.table, s.name, s.priority) for s in theirs.stages}
    for st in mine.stages:
        if st not in seen:
            out.append(f"stage {st[1]}. {st[2]} on {st[0]} at priority {st[3]}: not in ovn-trace's output")
    return out


def walk(cluster: Cluster, src: str, dst: str, protocol: str, port: int, backend: str | None = None) -> Trace:
    """cnimodel's trace of one flow (``backend``: the one a Service's load balancer picks)."""
    from cnimodel.trace import trace

    return trace(cluster, src, dst, port=port, proto=protocol, backend=backend)[0]


def to_json(mine: Walked) -> dict[str, Any]:
    return {"verdict": mine.verdict, "output": mine.output, "datapaths": list(mine.datapaths),
            "disposition": mine.disposition,
            "tunnel": {"datapath": mine.tunnel[0], "egressPort": mine.tunnel[1]} if mine.tunnel else None}


__all__ = ["Walked", "mismatches", "to_json", "walk", "walked"]
