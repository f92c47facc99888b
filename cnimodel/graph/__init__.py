"""The forwarding graph: the data plane as a directed multigraph of forwarding decisions, built lazily per
destination class.

Vertices are the places a packet can be (pods, bridges and vSwitch ports, a node's NIC, host stack, load balancer,
route table and tunnel endpoint, the underlay's route table, subnets, the internet: ``cnimodel.graph.vertices``);
an edge is the fact that moves a packet of one destination class from one to the next (a route, an
encapsulation, a DNAT, a delivery: ``cnimodel.graph.facts``). The trace walks it; ``lookup``, ``check``,
``render`` and ``cnimodel graph`` read it; ``net.graph(dst=…)`` hands it to networkx.

>>> g = ForwardingGraph.of(cluster)                               # doctest: +SKIP
>>> cls = g.classify(IPv4Address("10.244.2.3"))                   # doctest: +SKIP
>>> [e.dst for e in g.decide("table:lin1", cls).edges]            # doctest: +SKIP
['nic:win1']
"""

from typing import Any

from cnimodel.graph.build import ForwardingGraph
from cnimodel.graph.classes import DestClass, Owner, classify, owner_of
from cnimodel.graph.contrib import GraphContribution
from cnimodel.graph.facts import EDGE_KINDS, Decision, Drop, Edge
from cnimodel.graph.vertices import VERTEX_KINDS

_NETWORKX = ("destination_graph", "find_loop", "partitions")  # need networkx: imported when first asked


def __getattr__(name: str) -> Any:
    if name in _NETWORKX:
        from cnimodel.graph import materialise

        return getattr(materialise, name)
    raise AttributeError(name)

__all__ = ["EDGE_KINDS", "VERTEX_KINDS", "Decision", "DestClass", "Drop", "Edge", "ForwardingGraph",
           "GraphContribution", "Owner", "classify", "destination_graph", "find_loop", "owner_of", "partitions"]
