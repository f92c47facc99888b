"""Linux facts in the exact syntax of ``ip route``, ``ip neigh`` and ``bridge fdb``."""

from __future__ import annotations

from cnimodel.dataplane import FdbEntry, Neighbor, NodeFacts, Route


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


def render(f: NodeFacts) -> str:
    """What ``ip route; ip neigh; bridge fdb`` would print on the node (sections marked by comments)."""
    lines = [f"# {f.node}: ip route"] + [route_line(r) for r in kernel_order(f.routes)]
    if f.neighbors:
        lines += [f"# {f.node}: ip neigh"] + [neigh_line(n) for n in f.neighbors]
    if f.fdb:
        lines += [f"# {f.node}: bridge fdb"] + [fdb_line(e) for e in f.fdb]
    return "\n".join(lines)
