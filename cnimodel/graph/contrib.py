"""What a plugin adds to the forwarding graph for its nodes: vertices of its own kinds (an OVN logical switch or
router, a chassis' tunnel), the decisions made there, and edges with facts of its own.

A plugin returns an object of this shape from ``NetworkPlugin.graph_contribution()``; the default, None, leaves
the graph to the core (bridges, vSwitch ports, route tables, tunnels, kube-proxy's load balancers). The graph asks
the contribution first at every vertex; None means "the core decides here". Its vertices are strings
``<prefix>:<node>/<name>`` with a prefix the core does not use (``ovn:lin1/ls-lin1``); ``attrs`` gives their data
(``kind``, ``node``, ``label`` at least). Its edges are ``cnimodel.graph.Edge`` values of any ``kind`` string; a
fact the core does not know tells the walk its steps (``cnimodel.graph.facts.StepFact``). docs/plugins.md shows
one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cnimodel.graph.build import ForwardingGraph
    from cnimodel.graph.classes import DestClass
    from cnimodel.graph.facts import Decision


class GraphContribution(Protocol):
    """A plugin's part of the forwarding graph."""

    def decide(self, graph: ForwardingGraph, vertex: str, cls: DestClass, frontend: bool) -> Decision | None:
        """The decision at ``vertex`` for destination class ``cls`` (``frontend``: the packet is addressed to a
        Service frontend and not load-balanced yet): for the plugin's own vertices, and for a core vertex whose
        decision it replaces on its nodes (a pod whose packets enter its logical switch port). None: the core's."""
        ...

    def attrs(self, vertex: str) -> dict[str, Any] | None:
        """The data of one of the plugin's vertices (``kind``, ``node``, ``label`` …); None: not the plugin's."""
        ...


__all__ = ["GraphContribution"]
