"""host-local IPAM semantics: the range a node's pods draw from, with every reserved address named."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from cnimodel.net import host, last_usable


@dataclass(frozen=True)
class PodRange:
    """Where a node's pods get addresses.

    ``start``..``end`` is the range the IPAM walks; ``reserved`` lists addresses inside the subnet that no
    pod may take, each with the reason (HNS gateway, host endpoint …). ``gateway`` is the pod's default
    gateway, which is not always the subnet's .1 (Windows l2bridge pods use .2). ``dynamic``: the IPAM asks
    for more addresses as pods arrive (a CNS pool), so ``start``..``end`` is what the node holds now, not its
    limit.
    """

    subnet: IPv4Network
    gateway: IPv4Address | None
    start: IPv4Address
    end: IPv4Address
    reserved: tuple[tuple[IPv4Address, str], ...] = ()
    ipam: str = "host-local"
    note: str = ""
    dynamic: bool = False

    @property
    def reserved_set(self) -> frozenset[IPv4Address]:
        return frozenset(ip for ip, _ in self.reserved)

    def usable(self) -> int:
        """How many pod addresses the range holds."""
        lo, hi = int(self.start), int(self.end)
        inside = sum(1 for ip in self.reserved_set if lo <= int(ip) <= hi)
        return max(0, hi - lo + 1 - inside)

    def addresses(self, taken: Iterable[IPv4Address] = ()) -> Iterator[IPv4Address]:
        """Free addresses in the order host-local hands them out (sequential from ``start``)."""
        skip = {int(ip) for ip in self.reserved_set} | {int(ip) for ip in taken}
        for a in range(int(self.start), int(self.end) + 1):
            if a not in skip:
                yield IPv4Address(a)


def host_local_range(subnet: IPv4Network, gateway: IPv4Address | None = None,
                     range_start: IPv4Address | None = None, range_end: IPv4Address | None = None,
                     extra_reserved: tuple[tuple[IPv4Address, str], ...] = (),
                     pod_gateway: IPv4Address | None = None, note: str = "") -> PodRange:
    """The range host-local builds from its config (``Canonicalize``).

    gateway defaults to .1; rangeStart defaults to .1 too (the iterator skips the gateway, so the first
    pod gets .2 with a .1 gateway); rangeEnd defaults to the last address before the broadcast.
    """
    gw = gateway if gateway is not None else host(subnet, 1)
    start = range_start if range_start is not None else host(subnet, 1)
    end = range_end if range_end is not None else last_usable(subnet)
    reserved = ((subnet.network_address, "network address"), (gw, "gateway"), *extra_reserved,
                (subnet.broadcast_address, "broadcast address"))
    seen: dict[IPv4Address, str] = {}
    for ip, why in reserved:
        seen.setdefault(ip, why)
    return PodRange(subnet, pod_gateway if pod_gateway is not None else gw, start, end,
                    tuple(sorted(seen.items())), "host-local", note)
