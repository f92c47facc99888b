"""The plugin's vertices in the forwarding graph — a datapath's ingress pipeline entered by a port,
``ovn:<chassis>/<datapath>@<inport>``, and its pipeline towards an output port, ``ovn:<chassis>/<datapath>><outport>``
— and the fact its edges carry: the logical pipeline stages a packet crosses (cnimodel.graph.facts.StepFact)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

from cnimodel.plugins.ovn_kubernetes.logical import Stage

PREFIX = "ovn"


@dataclass(frozen=True)
class OvnStages:
    """Logical pipeline stages a packet crosses on one edge, told as the hop's steps; a ``dropped`` stage ends the
    walk (NO_ROUTE), a gateway router's SNAT rewrites the source (``snat``)."""

    stages: tuple[Stage, ...]
    snat_to: tuple[IPv4Address, str] | None = None
    extra: tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...] = ()  # steps after the stages
    drop: tuple[str, str] | None = None
    before: tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...] = ()  # steps before them

    def steps(self, packet: Any) -> list[tuple[str, str, dict[str, Any]]]:
        out = [(t, a, dict(d)) for t, a, d in self.before]
        for s in self.stages:
            t, action, detail = s.step()
            if s.name == "lr_out_snat" and self.snat_to is not None:
                detail = {**detail, "before": packet.src, "after": self.snat_to[0]}
            out.append((t, action, detail))
        out += [(t, a, dict(d)) for t, a, d in self.extra]
        return out

    def verdict(self, packet: Any) -> tuple[str, str] | None:
        if self.drop is not None:
            return self.drop[0], self.drop[1].replace("{dst}", str(packet.dst))
        return None

    def snat(self, packet: Any) -> tuple[IPv4Address, str] | None:
        return self.snat_to


def ingress(chassis: str, datapath: str, inport: str) -> str:
    return f"{PREFIX}:{chassis}/{datapath}@{inport}"


def egress(chassis: str, datapath: str, outport: str) -> str:
    return f"{PREFIX}:{chassis}/{datapath}>{outport}"


def parse(vertex: str) -> tuple[str, str, str, str]:
    """``(chassis, datapath, "@" | ">", port)`` of one of the plugin's vertices (mark and port "" for a datapath
    drawn whole, ``ovn:<chassis>/<datapath>``)."""
    chassis, _, rest = vertex[len(PREFIX) + 1:].partition("/")
    at = min((i for i in (rest.find("@"), rest.find(">")) if i >= 0), default=-1)
    if at < 0:
        return chassis, rest, "", ""
    return chassis, rest[:at], rest[at], rest[at + 1:]


def whole(chassis: str, datapath: str) -> str:
    """A datapath drawn as one vertex (the picture's node switch, cnimodel.graph.wiring)."""
    return f"{PREFIX}:{chassis}/{datapath}"


__all__ = ["PREFIX", "OvnStages", "egress", "ingress", "parse", "whole"]
