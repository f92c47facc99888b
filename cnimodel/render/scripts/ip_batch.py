"""A Linux node's apply script as ``ip -batch`` input (devices, addresses, routes, neighbours) and ``bridge -batch``
input (FDB entries): every line idempotent but ``link add`` (run again with ``ip -force -batch``, or leave the
devices out with ``--no-devices``)."""

from __future__ import annotations

from cnimodel.apply import LinuxScript
from cnimodel.dataplane import Device, FdbEntry, Neighbor, Route
from cnimodel.render.iproute import kernel_order, route_line


def route_cmd(r: Route, verb: str = "replace") -> str:
    """``route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink`` (``verb`` del for a removal)."""
    return f"route {verb} {route_line(r)}"


def neigh_cmd(n: Neighbor, verb: str = "replace") -> str:
    if verb == "del":
        return f"neigh del {n.ip} dev {n.dev}"
    return f"neigh replace {n.ip} lladdr {n.mac} dev {n.dev} nud permanent"


def fdb_cmd(e: FdbEntry, verb: str = "replace") -> str:
    tail = "self" if verb == "del" else "self permanent"
    return f"fdb {verb} {e.mac} dev {e.dev} dst {e.dst} {tail}"


def link_cmds(d: Device, uplink: str) -> list[str]:
    """The lines that create a device (``link add``) and set its MTU and state."""
    mac = f" address {d.mac}" if d.mac else ""
    if d.kind == "vxlan":
        local = f" local {d.local}" if d.local else ""
        head = (f"link add {d.name}{mac} type vxlan id {d.vni}{local} dev {d.underlay_dev or uplink} "
                f"dstport {d.port or 8472} nolearning")
    else:
        head = f"link add {d.name}{mac} type {d.kind}"
    return [head, f"link set {d.name} mtu {d.mtu} up"]


def render(s: LinuxScript, devices: bool = True) -> str:
    """The ``ip -batch`` input: comments say what each section is and what is left to others."""
    up = s.uplink
    lines = [f"# cnimodel: node {s.node} of plan {s.plan} — apply with: ip -batch FILE (again: ip -force -batch "
             "FILE, or generate with --no-devices)"]
    if up is not None:
        addrs = ", ".join(str(a) for a in up.addresses)
        lines.append(f"# expects {up.name} up with {addrs}" + (f" and default via {s.gateway}" if s.gateway else "")
                     + " (the node's own configuration: -o networkd)")
    if devices and s.devices:
        lines.append("# devices the plugins create")
        for d in s.devices:
            lines += link_cmds(d, up.name if up else "eth0")
            lines += [f"# sysctl -w {k}={v}" for k, v in d.sysctls]
        lines += [f"address replace {a} dev {dev}" for dev, a in s.addresses()]
    if s.pod_devices:
        lines.append(f"# per pod: {len(s.pod_devices)} veth(s) and their routes come from the CNI with each pod "
                     "(not created here):")
        lines += [f"#   {route_cmd(r)}" for r in kernel_order(s.pod_routes)]
    if s.routes:
        lines.append("# routes")
        lines += [route_cmd(r) for r in kernel_order(s.routes)]
    if s.neighbors:
        lines.append("# neighbours")
        lines += [neigh_cmd(n) for n in s.neighbors]
    if s.fdb:
        lines.append(f"# {len(s.fdb)} FDB entries: bridge -batch input, -o bridge-batch")
    if s.nat_rules:
        lines.append(f"# {s.nat_rules} NAT rule(s) of the plugin are not routes: not written here")
    lines += [f"# note: {n}" for n in s.notes]
    return "\n".join(lines) + "\n"


def render_bridge(s: LinuxScript) -> str:
    """The ``bridge -batch`` input: the VXLAN FDB entries (``fdb replace``)."""
    lines = [f"# cnimodel: node {s.node} of plan {s.plan} — FDB entries; apply with: bridge -batch FILE"]
    lines += [fdb_cmd(e) for e in s.fdb]
    return "\n".join(lines) + "\n"
