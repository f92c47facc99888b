"""Overlay checks over every node's tunnel endpoint (``Vtep`` facts, any encapsulation kind, from
``Cluster.endpoint``): one kind, id and port everywhere, Windows' VXLAN VNI/port rules, MTU against the underlay
(the kind's overhead), DirectRouting/GBP with Windows, nodes whose overlay daemon refuses its config, and host
ports on the tunnel's UDP port (cni-plugins.md §1.3, §3.10–3.11; tools-and-planning.md §3.8.9–10)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from cnimodel.dataplane import NodeFacts, Vtep
from cnimodel.encapsulation import KINDS
from cnimodel.plan import Origin
from cnimodel.validate.context import Context, first, node_obj, phrase, pod_obj
from cnimodel.validate.hostports import ignored_on
from cnimodel.validate.registry import Hit, check

WINDOWS_MIN_VNI = 4096
WINDOWS_PORT = 4789


def _network_at(ctx: Context) -> tuple[Origin, ...]:
    return (ctx.plan.network.origin,) if ctx.plan.network is not None else ()


def _windows_vni_port_bad(v: Vtep) -> bool:
    return v.os == "windows" and v.kind == "vxlan" and (v.vni is None or v.vni < WINDOWS_MIN_VNI
                                                         or v.port != WINDOWS_PORT)


def _numbers(kind: str, vni: int | None, port: int | None) -> str:
    """How a group of endpoints is named: ``VNI 4096/UDP 4789`` (VXLAN, as always), the kind first for others."""
    k = KINDS[kind]
    if k.id_field is None and k.udp_port is None:
        return k.label
    text = f"VNI {vni}/UDP {port}"
    return text if kind == "vxlan" else f"{k.label} {text}"


def _dr_gbp(v: Vtep) -> bool:
    return v.os == "windows" and not v.up and ("DirectRouting" in v.reason or "GBP" in v.reason)


@check("CNI-OVL-001", "error", "overlay", "Nodes use different VXLAN VNIs or UDP ports",
       "tools-and-planning.md §3.7 (k3s-io/k3s#9295, flannel-io/flannel#1128, #2018); cni-plugins.md §1.3")
def vni_port_mismatch(ctx: Context) -> Iterator[Hit]:
    # Endpoints of one kind must agree; endpoints of different kinds do not talk to each other directly (the
    # ovn-kubernetes hybrid overlay: GENEVE between Linux chassis, VXLAN between Windows nodes and br-ext).
    by_kind: dict[str, dict[tuple[str, int | None, int | None], list[Vtep]]] = defaultdict(lambda: defaultdict(list))
    for v in ctx.vteps.values():
        by_kind[v.kind][(v.kind, v.vni, v.port)].append(v)
    for groups in by_kind.values():
        if len(groups) > 1:
            yield _split(ctx, groups)


def _split(ctx: Context, groups: dict[tuple[str, int | None, int | None], list[Vtep]]) -> Hit:
    parts = [f"{_numbers(kind, vni, port)} on {len(vs)} node(s) ({phrase([v.node for v in vs], 3)})"
             for (kind, vni, port), vs in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
    label = "/".join(dict.fromkeys(KINDS[k].label for k, _, _ in groups))
    windows = any(v.os == "windows" for v in ctx.vteps.values())
    fix = ("set VNI 4096 and Port 4789 in every node's config, Linux included (Windows accepts nothing else)"
           if windows else "give every node the same VNI and Port")
    objects = tuple(node_obj(vs[0].node) for vs in groups.values())
    return Hit(f"the overlay is split: {'; '.join(parts)}. A receiver drops {label} packets whose VNI or port is not "
              "its own, so pods on different groups cannot talk", fix, objects, _network_at(ctx))


@check("CNI-OVL-002", "error", "overlay", "A Windows node's VXLAN VNI is below 4096 or its port is not 4789",
       "cni-plugins.md §1.3, §3.10 (flanneld for Windows: VNI ≥ 4096, UDP 4789 only; Calico DefaultVNI 4096)")
def windows_vni_port(ctx: Context) -> Iterator[Hit]:
    bad = [v for v in ctx.vteps.values() if _windows_vni_port_bad(v)]
    groups: dict[tuple[int, int | None], list[str]] = defaultdict(list)
    for v in bad:
        groups[(v.vni or 0, v.port)].append(v.node)
    for (vni, port), names in groups.items():
        what = []
        if vni < WINDOWS_MIN_VNI:
            what.append(f"VNI {vni} < {WINDOWS_MIN_VNI}")
        if port != WINDOWS_PORT:
            what.append(f"UDP port {port} ≠ {WINDOWS_PORT}")
        yield Hit(f"{len(names)} Windows node(s) ({phrase(names)}) are configured with {' and '.join(what)}: the "
                  "Windows overlay daemon refuses to start, so their pods get no network",
                  "use VNI 4096 (or higher) and Port 4789 for every node", tuple(node_obj(n) for n in first(names)),
                  _network_at(ctx))


@check("CNI-OVL-003", "error", "overlay", "The overlay MTU leaves no room for the 50-byte VXLAN header",
       "cni-plugins.md §1.3 (encapOverhead 50; device MTU = uplink − 50); tools-and-planning.md §3.7")
def overlay_mtu(ctx: Context) -> Iterator[Hit]:
    groups: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    for v in ctx.vteps.values():
        # an endpoint that never comes up carries nothing (CNI-OVL-006 says why it does not)
        if v.up and v.mtu > v.underlay_mtu - v.overhead:
            groups[(v.mtu, v.underlay_mtu, v.overhead)].append(v.node)
    for (mtu, under, overhead), names in groups.items():
        yield Hit(f"{len(names)} node(s) ({phrase(names)}) give pods MTU {mtu} over an underlay of MTU {under}: "
                  f"full-size packets become {mtu + overhead}-byte frames and are dropped (large transfers and TLS "
                  f"hang)", f"set the overlay MTU to {under - overhead} (underlay − {overhead})",
                  tuple(node_obj(n) for n in first(names)), _network_at(ctx))


@check("CNI-OVL-004", "warning", "overlay", "Overlay nodes sit on subnets with different MTUs",
       "tools-and-planning.md §3.8.10 (flag jumbo mismatches); cni-plugins.md §1.3")
def overlay_mtu_mismatch(ctx: Context) -> Iterator[Hit]:
    by_subnet: dict[str, int] = {}
    for v in ctx.vteps.values():
        by_subnet.setdefault(ctx.plan.node(v.node).subnet, v.underlay_mtu)
    if len(set(by_subnet.values())) < 2:
        return
    smallest = min(by_subnet.values())
    big = sorted(s for s, m in by_subnet.items() if m > smallest)
    small = sorted(s for s, m in by_subnet.items() if m == smallest)
    names = [v.node for v in ctx.vteps.values() if ctx.plan.node(v.node).subnet in big]
    label = "/".join(dict.fromkeys(v.encapsulation.label for v in ctx.vteps.values()))
    overhead = max(v.overhead for v in ctx.vteps.values())
    yield Hit(f"nodes on subnet(s) {phrase(big)} send {label} frames up to their own MTU ({max(by_subnet.values())}) "
              f"to peers on {phrase(small)} (MTU {smallest}): those frames are fragmented or dropped on the way",
              f"give every overlay node the same pod MTU, at most {smallest - overhead}",
              tuple(node_obj(n) for n in first(names)),
              tuple(ctx.plan.origin.at(f"spec.underlay.subnets[{i}].mtu")
                    for i, s in enumerate(ctx.plan.underlay.subnets) if s.name in big))


@check("CNI-OVL-005", "error", "overlay", "DirectRouting or GBP is used with Windows nodes",
       "cni-plugins.md §3.1, §3.11 (Windows: DirectRouting and GBP must be false); flannel-io/flannel#1520")
def direct_routing_windows(ctx: Context) -> Iterator[Hit]:
    refused = [v.node for v in ctx.vteps.values() if _dr_gbp(v) and not _windows_vni_port_bad(v)]
    if refused:
        reason = ctx.vteps[refused[0]].reason
        yield Hit(f"{len(refused)} Windows node(s) ({phrase(refused)}) refuse the overlay config ({reason}): their "
                  "pods get no network", "set DirectRouting and GBP to false for Windows nodes",
                  tuple(node_obj(n) for n in first(refused)), _network_at(ctx))
    windows = {v.node: ctx.plan.node(v.node).subnet for v in ctx.vteps.values() if v.os == "windows"}
    win_subnets = set(windows.values())
    senders = [v.node for v in ctx.vteps.values() if v.os == "linux" and v.direct_routing
               and ctx.plan.node(v.node).subnet in win_subnets]
    if senders:
        yield Hit(f"{len(senders)} Linux node(s) ({phrase(senders)}) use DirectRouting: they send plain routed "
                  "packets to Windows pods on their subnet, which the Windows Overlay network only accepts as VXLAN",
                  "turn DirectRouting off when the cluster has Windows nodes",
                  tuple(node_obj(n) for n in first(senders)), _network_at(ctx))


@check("CNI-OVL-006", "error", "overlay", "A node's overlay daemon refuses its config",
       "cni-plugins.md §3.10 (flanneld for Windows checks: VNI, port, DirectRouting, GBP, MacPrefix, RemoteSubnet)")
def overlay_refused(ctx: Context) -> Iterator[Hit]:
    groups: dict[str, list[str]] = defaultdict(list)
    for v in ctx.vteps.values():
        if not v.up and not _windows_vni_port_bad(v) and not _dr_gbp(v):
            groups[v.reason].append(v.node)
    for reason, names in groups.items():
        yield Hit(f"the overlay daemon on {len(names)} node(s) ({phrase(names)}) does not start: {reason}; no "
                  "tunnel reaches them (flannel: they publish no lease) and their pods get no network",
                  "fix the node's overlay settings or OS build",
                  tuple(node_obj(n) for n in first(names)), _network_at(ctx))


@check("CNI-OVL-007", "error", "overlay", "A pod's hostPort takes the node's VXLAN port",
       "tools-and-planning.md §3.7 (kubernetes/kubernetes#121530: VXLAN port in use)")
def host_port_on_vxlan(ctx: Context) -> Iterator[Hit]:
    if not ctx.vteps:
        return
    for pod in ctx.plan.pods:
        if pod.node is None:
            continue
        for port in pod.ports:
            if port.host_port is None or port.protocol != "UDP":
                continue
            v = ctx.vteps.get(pod.node)
            # a hostPort the node's CNI does not map binds nothing (CNI-WIN-018)
            if v is not None and v.port is not None and port.host_port == v.port and pod.node not in ignored_on(ctx):
                yield Hit(f"pod {pod.key} asks for UDP hostPort {port.host_port} on node {pod.node}, the port its "
                          f"VTEP listens on: one of them cannot bind, and {v.encapsulation.label} traffic may reach "
                          "the pod instead",
                          "pick another hostPort", (pod_obj(pod), node_obj(pod.node)),
                          (pod.origin.at("spec.containers"),))


# The forwarding models whose pods' MTU the node's own devices show (cnimodel.plugin.roles.FORWARDING): routed pods'
# veths, or the bridge pods hang on. Elsewhere (OVN's logical switches: breth0 is the gateway bridge, not the pods')
# the host's devices do not say it.
HOST_POD_MTU = ("linux-bridge", "linux-routed")


def _pod_mtu(facts: NodeFacts, forwarding: str) -> int | None:
    """The MTU the node's pods get: their own veths' (routed pods), else the pod bridge's; None: neither, or a
    forwarding model whose pods are not on the host's devices."""
    if forwarding not in HOST_POD_MTU:
        return None
    veths = [d.mtu for d in facts.devices if d.kind == "veth"]
    bridges = [d.mtu for d in facts.devices if d.kind == "bridge"]
    return min(veths or bridges) if veths or bridges else None


@check("CNI-OVL-008", "warning", "overlay", "Pods get a larger MTU than the overlay device carries",
       "projectcalico/calico@87c15906:felix/dataplane/linux/int_dataplane.go:1796 (determinePodMTU: no Calico "
       "encapsulation → the host MTU, which canal's veth_mtu \"0\" hands the pods); "
       "flannel-io/flannel@cdf76059:pkg/backend/vxlan/device.go:63 (flannel.<VNI> MTU = MTU − 50)")
def pod_mtu_over_overlay(ctx: Context) -> Iterator[Hit]:
    groups: dict[tuple[int, int, str], list[str]] = defaultdict(list)
    for (os_name, _, _), nodes in ctx.kinds.items():
        rep = ctx.representative(nodes, with_pods=True) if os_name == "linux" else None  # routed pods: MTU per veth
        v = ctx.vteps.get(rep.name) if rep is not None else None
        if rep is None or v is None or not v.up:
            continue
        mtu = _pod_mtu(ctx.cluster.local_facts(rep.name), ctx.cluster.roles(rep.name).forwarding)
        if mtu is not None and mtu > v.mtu:
            groups[(mtu, v.mtu, v.dev)] += [n.name for n in nodes]
    for (mtu, inner, dev), names in groups.items():
        yield Hit(f"{len(names)} Linux node(s) ({phrase(names)}) give pods MTU {mtu} but carry traffic to other nodes "
                  f"through {dev} at MTU {inner}: a pod's packets of {inner + 1}–{mtu} bytes to other nodes are "
                  "dropped when they carry DF (the node answers 'fragmentation needed', so TCP recovers by path MTU "
                  "discovery unless ICMP is filtered) and fragmented otherwise",
                  f"give pods MTU {inner}: the CNI's mtu (canal: veth_mtu in the canal-config ConfigMap, which fills "
                  "the calico plugin's mtu)", tuple(node_obj(n) for n in first(names)), _network_at(ctx))
