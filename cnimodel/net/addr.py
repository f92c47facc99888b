"""Small helpers over the stdlib ``ipaddress`` values (immutable, hashable, ordered)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, ip_network

__all__ = ["IPv4Address", "IPv4Network", "host", "ip_int", "last_usable", "network_of", "overlaps"]


def ip_int(addr: IPv4Address | str) -> int:
    """The address as an integer: ``ip_int("10.0.0.1") == 167772161``."""
    return int(IPv4Address(addr)) if isinstance(addr, str) else int(addr)


def host(net: IPv4Network, n: int) -> IPv4Address:
    """The n-th address of a network (0 is the network address): ``host(10.244.1.0/24, 2) == 10.244.1.2``.

    Negative ``n`` counts from the end (-1 is the broadcast address).
    """
    base = int(net.network_address)
    return IPv4Address(base + n if n >= 0 else base + net.num_addresses + n)


def last_usable(net: IPv4Network) -> IPv4Address:
    """The last address before the broadcast (host-local's default rangeEnd for IPv4)."""
    return host(net, -2)


def network_of(addr: IPv4Address, prefixlen: int) -> IPv4Network:
    """The network of the given length that holds ``addr``: ``network_of(10.244.2.7, 24) == 10.244.2.0/24``."""
    return ip_network(f"{addr}/{prefixlen}", strict=False)  # type: ignore[return-value]


def overlaps(a: IPv4Network, b: IPv4Network) -> bool:
    """Whether two networks share any address."""
    return a.overlaps(b)
