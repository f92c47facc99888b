"""Where the trace asks other engines: the load-balancing decision for Service VIPs and NodePorts, and the
policy verdicts at the source's egress and the destination's ingress. Each engine is optional: without it
the trace says what it could not decide instead of guessing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnimodel.trace.resolve import Endpoint

if TYPE_CHECKING:
    from cnimodel.trace.walk import Walk


def load_balance(walk: Walk, node: str, src: Endpoint, dst: Endpoint, backend: str | None) -> None:
    from cnimodel.trace.walk import Stop

    hop = walk._hop(node, "node")
    hop.add("dropped", "NO_LB_MODEL", service=dst.label)
    raise Stop("NO_ROUTE", f"{dst.label}: the Services engine is not available to decide the backend")
