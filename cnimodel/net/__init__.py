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
from cnimodel.net.lpm import PrefixTable

__all__ = [
    "IPv4Address",
    "IPv4Network",
    "PrefixTable",
    "host",
    "ip_int",
    "last_usable",
    "network_of",
    "overlaps",
]
