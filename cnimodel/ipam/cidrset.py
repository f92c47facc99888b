"""kube-controller-manager's node CIDR allocator (``CidrSet``): sequential, round-robin, from index 0."""

from __future__ import annotations

from ipaddress import IPv4Network


class CidrExhausted(Exception):
    """No free node CIDR is left in the cluster range."""


class CidrSet:
    """Hand out ``cluster``'s sub-ranges of length ``mask`` as kube-controller-manager does.

    ``AllocateNext`` probes linearly from ``next_candidate`` for the first unused index, wrapping, and
    moves ``next_candidate`` past it, so the first node gets the first subnet (10.244.0.0/24).

    >>> s = CidrSet(IPv4Network("10.244.0.0/16"), 24)
    >>> s.allocate_next(), s.allocate_next()
    (IPv4Network('10.244.0.0/24'), IPv4Network('10.244.1.0/24'))
    """

    def __init__(self, cluster: IPv4Network, mask: int) -> None:
        self.cluster = cluster
        self.mask = mask
        self.max_cidrs = 1 << (mask - cluster.prefixlen)
        self._base = int(cluster.network_address)
        self._shift = 32 - mask
        self._used: set[int] = set()
        self.next_candidate = 0

    def index_to_cidr(self, i: int) -> IPv4Network:
        return IPv4Network((self._base | (i << self._shift), self.mask))

    def occupy(self, net: IPv4Network) -> None:
        """Mark every index ``net`` covers as used (an existing node podCIDR, or the service range)."""
        if not net.overlaps(self.cluster):
            return
        lo = max(int(net.network_address), self._base)
        hi = min(int(net.broadcast_address), int(self.cluster.broadcast_address))
        for i in range((lo - self._base) >> self._shift, ((hi - self._base) >> self._shift) + 1):
            self._used.add(i)

    def allocate_next(self) -> IPv4Network:
        if len(self._used) >= self.max_cidrs:
            raise CidrExhausted(f"no remaining CIDRs left to allocate in {self.cluster} at /{self.mask}")
        i = self.next_candidate
        for _ in range(self.max_cidrs):
            if i not in self._used:
                self._used.add(i)
                self.next_candidate = (i + 1) % self.max_cidrs
                return self.index_to_cidr(i)
            i = (i + 1) % self.max_cidrs
        raise CidrExhausted(f"no remaining CIDRs left to allocate in {self.cluster} at /{self.mask}")

    @property
    def free(self) -> int:
        return self.max_cidrs - len(self._used)
