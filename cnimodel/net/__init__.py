"""Address arithmetic and longest-prefix match. Knows nothing of Kubernetes."""

from typing import TYPE_CHECKING, Any

from cnimodel.net.addr import (
    IPv4Address,
    IPv4Network,
    host,
    ip_int,
    last_usable,
    network_of,
    overlaps,
)
from cnimodel.net.lpm import PrefixTable, longest_match

if TYPE_CHECKING:
    from cnimodel.net.columns import NetworkRows, PrefixColumns


def __getattr__(name: str) -> Any:
    """NetworkRows and PrefixColumns (cnimodel/net/columns.py) on first use: they bring numpy."""
    if name in ("NetworkRows", "PrefixColumns"):
        from cnimodel.net import columns

        return getattr(columns, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "IPv4Address",
    "IPv4Network",
    "NetworkRows",
    "PrefixColumns",
    "PrefixTable",
    "host",
    "ip_int",
    "last_usable",
    "longest_match",
    "network_of",
    "overlaps",
]
