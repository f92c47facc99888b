"""The optional Services capability of a plugin that implements Services itself (``ServiceRole("plugin")``: its
own load balancers, no kube-proxy). ``NetworkPlugin.services()`` returns it; ``cnimodel lb`` shows its tables, and
the Services engine (``cnimodel.services.decide``) asks it for the load-balancing decision a trace takes.

Its tables are ``cnimodel.plugin.listing.Listing`` values in the shape the plugin's own tool prints them
(``ovn-nbctl lb-list``'s columns and widths).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from cnimodel.plugin.listing import Listing

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster
    from cnimodel.services.decision import LbDecision, SourceKind
    from cnimodel.services.model import IPAddress


class PluginServices(Protocol):
    """A plugin's own Services implementation."""

    def decide(self, cluster: Cluster, node: str, base: dict[str, Any], service: str, frontend: str,
               source_kind: SourceKind, source: IPAddress | None) -> LbDecision:
        """How ``node`` load-balances a new connection to a frontend of ``service`` (``base``: the LbDecision's
        node, os, vip, port, protocol and source fields)."""
        ...

    def tables(self, cluster: Cluster, node: str, services: list[str] | None) -> tuple[Listing, ...]:
        """The node's load balancers (only ``services``' when given, as ``NS/NAME``)."""
        ...

    def frontends(self, cluster: Cluster, node: str) -> list[PluginFrontend]:
        """Every frontend the node's load balancers answer, as the Python API's ``lb`` table lists them."""
        ...


class PluginFrontend(NamedTuple):
    """One VIP of a plugin's load balancer: the Service (``NS/NAME``), protocol (``TCP``), address, port and the
    backends' addresses."""

    service: str
    protocol: str
    vip: str
    port: int
    backends: tuple[str, ...]


__all__ = ["PluginFrontend", "PluginServices"]
