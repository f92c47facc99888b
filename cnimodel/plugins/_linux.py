"""Building blocks of a Linux node's data plane shared by the Linux plugin models.

Route shapes follow what ``ip route`` shows: connected routes carry ``proto kernel scope link src``;
routes a daemon adds through netlink without a protocol show none (RTPROT_BOOT is not printed).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TYPE_CHECKING, Any

from cnimodel.dataplane import Device, NatRule, Route
from cnimodel.net import host
from cnimodel.plan import NodeSpec, Plan, UnderlaySubnet
from cnimodel.plugins._values import like

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster


def uplink(plan: Plan, node: NodeSpec) -> tuple[UnderlaySubnet, Device, list[Route]]:
    """The node's uplink device with its address, its connected route and the default route."""
    subnet = plan.underlay.subnet(node.subnet)
    dev = node.ext_interface
    device = Device(dev, "ether", (IPv4Interface(f"{node.ip}/{subnet.cidr.prefixlen}"),), subnet.mtu)
    routes = [
        Route(IPv4Network("0.0.0.0/0"), via=subnet.gateway, dev=dev, kind="default", owner="host"),
        Route(subnet.cidr, dev=dev, scope="link", kind="connected", owner="kernel", src=node.ip, proto="kernel"),
    ]
    return subnet, device, routes


def pod_bridge(name: str, pod_cidr: IPv4Network, mtu: int, owner: str) -> tuple[Device, Route]:
    """The pod bridge (cni0, cbr0) holding the pods' gateway .1, and its connected route."""
    gw = host(pod_cidr, 1)
    device = Device(name, "bridge", (IPv4Interface(f"{gw}/{pod_cidr.prefixlen}"),), mtu, owner=owner)
    route = Route(pod_cidr, dev=name, scope="link", kind="connected", owner="kernel", src=gw, proto="kernel")
    return device, route


def peer_routes(cluster: Cluster, node: NodeSpec, dev: str, owner: str) -> tuple[list[Route], tuple[str, ...]]:
    """host-gw style routes to every remote pod CIDR on this node's L2 subnet (``cidr via peerIP dev``),
    and a note when peers beyond the subnet get none (a gateway must be on-link).

    The routes of one subnet are built once per (subnet, device, owner) and shared, so each node costs one
    filter pass; the peers of every subnet are found in one pass over the nodes, shared by all devices (a
    Windows node's vNIC name differs from a Linux node's eth0).
    """
    by_subnet, total = cluster.memo(("subnet-peers",), lambda: _subnet_peers(cluster))

    def build() -> tuple[list[Route], dict[str, int]]:
        peers = by_subnet.get(node.subnet, ())
        return _gateway_routes(peers, dev, owner), {name: i for i, (name, _, _) in enumerate(peers)}

    table, where = cluster.memo(("peer-routes", node.subnet, dev, owner), build)
    me = node.name
    i = where.get(me)
    # slicing around the node's own entry: a C-level copy, where a filter would be a Python pass per peer
    routes = table[:] if i is None else table[:i] + table[i + 1:]
    own = 1 if cluster.allocation.nodes[me].pod_cidr is not None else 0
    beyond = total - len(routes) - own
    notes: tuple[str, ...] = ()
    if beyond > 0:
        notes = (f"no route to the pods of {beyond} node(s) outside underlay subnet {node.subnet}: host-gw "
                 "needs L2 adjacency (the kernel rejects a gateway that is not on-link)",)
    return routes, notes


def _subnet_peers(cluster: Cluster) -> tuple[dict[str, list[tuple[str, IPv4Network, IPv4Address]]], int]:
    """Nodes holding a pod CIDR, grouped by underlay subnet in plan (= allocation) order, and their count."""
    by_subnet: dict[str, list[tuple[str, IPv4Network, IPv4Address]]] = {}
    alloc = cluster.allocation.nodes
    total = 0
    for n in cluster.plan.nodes:
        cidr = alloc[n.name].pod_cidr
        if cidr is not None:
            peers = by_subnet.get(n.subnet)
            if peers is None:
                peers = by_subnet[n.subnet] = []
            peers.append((n.name, cidr, n.ip))
            total += 1
    return by_subnet, total


def _gateway_routes(peers: list[tuple[str, IPv4Network, IPv4Address]] | tuple[()], dev: str,
                    owner: str) -> list[Route]:
    """``gateway_route`` for many peers at once, as copies of one template (they differ in dst and via)."""
    if not peers:
        return []
    template = gateway_route(peers[0][1], peers[0][2], dev, owner)
    return [like(template, "dst", cidr, "via", ip) for _, cidr, ip in peers]


def cni0(cidr: IPv4Network, mtu: int) -> tuple[list[Device], list[Route]]:
    """The bridge CNI's cni0 at ``mtu`` (FLANNEL_MTU, or the delegate's own ``mtu``) with its connected route."""
    bridge, connected = pod_bridge("cni0", cidr, mtu, owner="bridge")
    return [bridge], [connected]


def flannel_delegate_mtu(cni: Mapping[str, Any] | None) -> int | None:
    """The ``mtu`` of the flannel CNI's Linux delegate when the conf gives one: the meta-plugin passes FLANNEL_MTU
    only when the delegate has none."""
    if cni is None:
        return None
    for c in cni.get("plugins", ()) or (cni,):
        delegate = c.get("delegate") if isinstance(c, Mapping) and c.get("type") == "flannel" else None
        if isinstance(delegate, Mapping) and delegate.get("type", "bridge") == "bridge":
            mtu = delegate.get("mtu")
            if isinstance(mtu, int) and not isinstance(mtu, bool) and mtu > 0:
                return mtu
    return None


MULTICAST = IPv4Network("224.0.0.0/4")


def flannel_masq_rules(network: IPv4Network, lease: IPv4Network | None) -> tuple[NatRule, ...]:
    """flanneld ``--ip-masq`` (on in kube-flannel.yml): the FLANNEL-POSTRTG chain, rules in flannel's order.

    Traffic kube-proxy marked (0x4000) and traffic that stays inside the flannel Network keeps its source;
    pods going outside the Network are masqueraded, except to multicast; and traffic from outside the
    Network into it is masqueraded too.
    """
    chain = "FLANNEL-POSTRTG"
    rules = [NatRule(chain, "RETURN", mark="0x4000/0x4000", owner="flannel")]
    if lease is not None:
        rules += [NatRule(chain, "RETURN", src=lease, dst=network, owner="flannel"),
                  NatRule(chain, "RETURN", src=network, dst=lease, owner="flannel"),
                  NatRule(chain, "RETURN", src=network, src_negate=True, dst=lease, owner="flannel")]
    rules += [NatRule(chain, "MASQUERADE", src=network, dst=MULTICAST, dst_negate=True, random_fully=True,
                      owner="flannel"),
              NatRule(chain, "MASQUERADE", src=network, src_negate=True, dst=network, random_fully=True,
                      owner="flannel")]
    return tuple(rules)


@lru_cache(maxsize=1 << 16)
def gateway_route(dst: IPv4Network, via: IPv4Address, dev: str, owner: str) -> Route:
    """``dst via gw dev eth0`` (host-gw, kubenet static routes).

    Cached: every node of a subnet holds the same route to a given peer, and routes are immutable values,
    so 5,000 nodes share one object per peer instead of building 25 million.
    """
    return Route(dst, via=via, dev=dev, kind="pod-route", owner=owner)
