"""A plugin's own part of the forwarding graph (``NetworkPlugin.graph_contribution``): a vertex of its own kind, edges
of its own kinds, facts that tell the walk their steps — traced, drawn and queried as the core's are. The
contribution here puts a "vrouter" between a Linux node's bridge and its route table, as a plugin with its own
logical router would (ovn-kubernetes' ``GR_<node>``), and drops telnet there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

import cnimodel
from cnimodel.graph import Decision, DestClass, Edge, ForwardingGraph
from cnimodel.graph.facts import Input
from cnimodel.graph.wiring import drawn_path, wiring


@dataclass(frozen=True)
class VRouterHop:
    node: str

    def steps(self, packet: Any) -> list[tuple[str, str, dict[str, Any]]]:
        return [("routed", "VROUTER", {"router": f"vr-{self.node}", "dst": packet.dst})]

    def verdict(self, packet: Any) -> tuple[str, str] | None:
        return ("DENIED_OUT", f"vr-{self.node} drops telnet") if packet.dport == 23 else None


class VRouters:
    def decide(self, graph: ForwardingGraph, vertex: str, cls: DestClass, frontend: bool) -> Decision | None:
        prefix, _, rest = vertex.partition(":")
        if prefix == "dev" and rest.endswith("/cni0") and not frontend:
            node = rest.rpartition("/")[0]
            if cls.kind == "pod" and cls.owner.node == node:
                return None  # the bridge switches to its own pods itself
            return Decision((Edge(vertex, f"vr:{node}/router", "vrouter", VRouterHop(node), cls.key),))
        if prefix == "vr":
            node = rest.partition("/")[0]
            return Decision((Edge(vertex, f"table:{node}", "input", Input(vertex), cls.key),))
        return None

    def attrs(self, vertex: str) -> dict[str, Any] | None:
        if not vertex.startswith("vr:"):
            return None
        return {"kind": "vrouter", "node": vertex[3:].partition("/")[0], "label": "vrouter"}


def net_with_vrouters() -> cnimodel.Network:
    net = cnimodel.load(cnimodel.example("default.yaml"))
    net.cluster.plugin.graph_contribution = VRouters  # type: ignore[method-assign]  (before the graph is built)
    return net


def test_the_plugins_vertex_is_traced_and_queried() -> None:
    net = net_with_vrouters()
    t = net.trace("default/client", "web/iis-0")
    assert t.disposition == "ACCEPTED"
    assert t.path[:4] == ["pod:default/client", "dev:lin1/cni0", "vr:lin1/router", "table:lin1"]
    lin1 = t.hops[1]
    assert lin1["vertices"][:3] == ["dev:lin1/cni0", "vr:lin1/router", "table:lin1"]
    assert ("VROUTER", {"router": "vr-lin1", "dst": "10.244.2.3"}) in [(s["action"], s["detail"])
                                                                       for s in lin1["steps"]]
    g = net.graph(dst="web/iis-0")
    assert nx.is_path(g, t.path)
    assert g.nodes["vr:lin1/router"]["kind"] == "vrouter"
    assert {d["kind"] for _, _, d in g.out_edges("dev:lin1/cni0", data=True)} == {"vrouter"}
    picture = wiring(net.cluster)  # the picture draws the core's vertices; the plugin's stands at its node
    assert "host:lin1" in drawn_path(picture, t.path)


def test_the_plugins_fact_decides() -> None:
    net = net_with_vrouters()
    t = net.trace("default/client", "web/iis-0", port=23)
    assert (t.disposition, t.reason) == ("DENIED_OUT", "vr-lin1 drops telnet")
