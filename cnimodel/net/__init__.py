"""Address arithmetic and longest-prefix match. Knows nothing of Kubernetes."""

from cnimodel.net.addr import (
    IPv4Address,
    IPv4Network,
    host,
    ip_int,
    last_usable,
    network_of,
    overlaps,
)
from cnimodel.net.lpm import NetworkRows, PrefixColumns, PrefixTable, longest_match

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
