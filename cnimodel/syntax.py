"""The command-line syntax of Linux facts: ``ip route``, ``ip neigh`` and ``bridge fdb`` lines as iproute2 prints
them, and the order the kernel dumps routes. Renderers print them; the kernel layer and the audit compare them."""

from __future__ import annotations

from cnimodel.dataplane import FdbEntry, Neighbor, Route


def route_line(r: Route) -> str:
    """``10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink`` — fields in the order iproute2 prints them."""
    # iproute2 prints "default" for /0 and a host route (/32) as the bare address (print_route: dst_len == host_len).
    dst = "default" if r.dst.prefixlen == 0 else (str(r.dst.network_address) if r.dst.prefixlen == 32
                                                   else str(r.dst))
    if r.type == "blackhole":
        return f"blackhole {dst}"
    parts = [dst]
    if r.via is not None:
        parts += ["via", str(r.via)]
    if r.dev:
        parts += ["dev", r.dev]
    if r.proto:
        parts += ["proto", r.proto]
    if r.scope != "universe":
        parts += ["scope", r.scope]
    if r.src is not None and r.proto:
        parts += ["src", str(r.src)]
    if r.onlink:
        parts.append("onlink")
    return " ".join(parts)


def kernel_order(routes: tuple[Route, ...]) -> list[Route]:
    """The order the kernel dumps the main table: by destination address, longer prefix first."""
    return sorted(routes, key=lambda r: (int(r.dst.network_address), -r.dst.prefixlen))


def neigh_line(n: Neighbor) -> str:
    return f"{n.ip} dev {n.dev} lladdr {n.mac} {n.state}"


def fdb_line(e: FdbEntry) -> str:
    return f"{e.mac} dev {e.dev} dst {e.dst} self {e.state}"
