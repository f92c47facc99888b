"""What the Windows kube-proxy (winkernel) programs into HNS on one node: remote endpoints and load balancers.

One HNS LoadBalancer per service port and frontend (ClusterIP, NodePort, each external IP, each
load-balancer ingress IP, and the health-check LB), each with one PortMapping — services-lb.md §1.
The local (pod) endpoints are the CNI's and come from the node's facts; kube-proxy creates the remote
endpoints (``Flags: 1``), the ClusterIP endpoint and the source-VIP endpoint on overlay.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from cnimodel.bulk import bulk
from cnimodel.dataplane import HnsEndpoint, HnsNetwork, NodeFacts
from cnimodel.net import host
from cnimodel.services.catalog import Catalog
from cnimodel.services.hnslb import (
    DIST_SOURCE_IP,
    LB_DSR,
    LB_IPV6,
    MAX_BACKENDS,
    PM_LOCAL_ROUTED_VIP,
    PM_PRESERVE_DIP,
    PM_USE_MUX,
    PM_VIP_EXTERNAL_IP,
    PROTOCOL_NUMBERS,
    REMOTE_MAC_PREFIX,
    CreatedEndpoint,
    HnsBackend,
    HnsLoadBalancer,
    WinkernelView,
    WinServicePort,
    conjure_mac,
    hns_id,
    remote_id,
)
from cnimodel.services.model import Service, ServicePort
from cnimodel.services.provider import ProviderAddresses

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

_new, _aton = tuple.__new__, socket.inet_aton
_MAC_PREFIX = REMOTE_MAC_PREFIX + "-"


class WinNode:
    """winkernel's state on one node while it syncs: the HNS network, endpoints by IP, created remotes."""

    def __init__(self, cluster: Cluster, node: str, cat: Catalog) -> None:
        self.cluster, self.node, self.catalog = cluster, node, cat
        self.spec = cluster.plan.node(node)
        self.node_ip = str(self.spec.ip)
        self.node_hash = hns_id(node, "remote endpoints").replace("-", "")
        probe = remote_id(self.node_hash, bytes(4))  # remote_id's text around the address's 8 hex digits
        self._id_head, self._id_tail = probe[:19], probe[28:]
        self.config = cat.config.winkernel
        facts = cluster.local_facts(node)  # devices, networks, endpoints: not the node's thousands of Encaps
        self.notes: list[str] = []
        self.network = self._network(facts.hns_networks)
        self.overlay = self.network is not None and self.network.type == "Overlay"
        build = self.spec.windows_build
        self.dsr_supported = (self.config.dsr_supported if self.config.dsr_supported is not None
                              else build is None or build >= 17763)
        net_name = self.network.name if self.network else None
        # the CNI's endpoints on the network (pods, the host endpoint, the source VIP), by address
        self.local_by_ip: dict[str, HnsEndpoint] = {
            str(e.ip): e for e in facts.hns_endpoints if e.network == net_name and e.role != "remote"}
        self.local_by_name = {e.name: e for e in self.local_by_ip.values()}
        self.host_mac = self._host_mac(facts)
        self.created: list[CreatedEndpoint] = []
        self.refs: dict[str, tuple[str, bool, str]] = {}  # address -> (HNS ID, local, endpoint name)
        self.ids: dict[str, str] = {}  # endpoint name -> HNS ID, for every endpoint in refs
        for ip, e in self.local_by_ip.items():
            self.refs[ip] = (hns_id(node, e.name), True, e.name)
            self.ids[e.name] = self.refs[ip][0]
        # a RemoteSubnetRoute per peer (5,000 at scale), indexed once per cluster (cnimodel/services/provider.py)
        self.pas = ProviderAddresses(cluster, self.network.policies if self.network is not None else ())
        self.source_vip = self._source_vip() if self.overlay else ""

    def _network(self, networks: tuple[HnsNetwork, ...]) -> HnsNetwork | None:
        wanted = self.config.network_name
        if wanted:
            found = next((n for n in networks if n.name == wanted), None)
            if found is None:
                self.notes.append(f"no HNS network named {wanted!r} on this node: kube-proxy waits for it and "
                                  "programs nothing")
            return found
        if not networks:
            self.notes.append("the node has no HNS network (no pod subnet yet): kube-proxy programs nothing")
        return networks[0] if networks else None

    def _host_mac(self, facts: NodeFacts) -> str:
        for d in facts.devices:
            if d.mac and any(a.ip == self.spec.ip for a in d.addresses):
                return d.mac
        sv = next((e for e in self.local_by_ip.values() if e.role == "source-vip" and e.mac), None)
        if sv is not None:
            return sv.mac  # type: ignore[return-value]
        # Hyper-V vNICs use the 00-15-5D OUI; the last three bytes are modelled from the node IP [I].
        return "00-15-5d-" + "-".join(f"{b:02x}" for b in self.spec.ip.packed[1:])

    def _source_vip(self) -> str:
        given = self.config.source_vip.get(self.node) or self.config.source_vip.get("*")
        existing = next((e for e in self.local_by_ip.values() if e.role == "source-vip"), None)
        if given is None and existing is not None:
            return str(existing.ip)
        if given is None:
            assert self.network is not None
            given = host(self.network.prefix, 2)
            self.notes.append(f"no source VIP given: assumed {given}, the .2 flannel's GetSourceVip reserves "
                              "(set spec.kubeProxy.winkernel.sourceVip)")
        vip = str(given)
        if vip not in self.refs:
            # newSourceVIP: a local endpoint with the host's MAC, created when missing
            ep = CreatedEndpoint("source-vip", vip, self.host_mac, None, "source-vip")
            self.created.append(ep)
            self.refs[vip] = (hns_id(self.node, ep.name), True, ep.name)
            self.ids[ep.name] = self.refs[vip][0]
        return vip

    def provider_address(self, ip: str) -> str | None:
        """``findRemoteSubnetProviderAddress``: the PA of the RemoteSubnetRoute holding ``ip``, or of a
        route whose PA is ``ip`` itself (a node IP); None for addresses outside every remote subnet."""
        return self.pas.lookup(ip)

    def remote(self, ip: str, mac: str | None, pa: str | None) -> tuple[str, bool, str]:
        """The remote endpoint for ``ip`` (created on first use, then shared by every service port);
        ``mac`` None: the conjured one, ``02-11-`` and the address bytes."""
        ref = self.refs.get(ip)
        return ref if ref is not None else self.new_remote(ip, mac, pa)

    def new_remote(self, ip: str, mac: str | None, pa: str | None) -> tuple[str, bool, str]:
        """Create the remote endpoint for ``ip`` (not known yet): up to 100,000 per node on a large plan."""
        name = "remote " + ip
        if ":" in ip:
            ident = hns_id(self.node, name)
            mac = mac or conjure_mac(REMOTE_MAC_PREFIX, ip)
        else:
            packed = _aton(ip)
            # remote_id(), with this node's part of the ID formatted once: "0A00-0102" for 10.0.1.2
            ident = self._id_head + packed.hex("-", 2).upper() + self._id_tail
            mac = mac or _MAC_PREFIX + packed.hex("-")
        self.created.append(_new(CreatedEndpoint, (name, ip, mac, pa, "remote")))
        ref = self.refs[ip] = (ident, False, name)
        self.ids[name] = ident
        return ref

    def id_of(self, name: str) -> str:
        return hns_id(self.node, name)

    def service_port(self, svc: Service, sp: ServicePort) -> WinServicePort:
        """Sync one service port as ``syncProxyRules`` does (services-lb.md §1.3–1.5)."""
        return sync_service_port(self, svc, sp)

    def view(self, services: list[Service] | None = None) -> WinkernelView:
        """Every service port synced on this node (or only those of ``services``)."""
        ports = []
        if self.network is not None:
            with bulk():
                for svc in services if services is not None else self.catalog.services:
                    for sp in svc.ports:
                        ports.append(self.service_port(svc, sp))
        used = {b.endpoint for p in ports for lb in p.load_balancers for b in lb.backends if b.local}
        local = tuple(e for e in self.local_by_ip.values() if e.name in used)
        return WinkernelView(self.node, self.network, self.source_vip, self.host_mac, self.dsr_supported,
                             tuple(self.created), local, tuple(ports), tuple(self.notes), dict(self.ids))


def _skip_reason(node: WinNode, svc: Service, ep_local: bool, ready: bool, serving: bool,
                 local_dsr: bool, some_serving: bool, all_terminating: bool) -> str | None:
    if svc.itp_local and local_dsr and not ep_local:
        return "remote endpoint not used: internalTrafficPolicy and externalTrafficPolicy are both Local"
    if some_serving:
        if not all_terminating and not ready:
            return "not ready (winkernel uses terminating endpoints only when all are terminating)"
        if not serving:
            return "not serving"
    return None


def sync_service_port(node: WinNode, svc: Service, sp: ServicePort, family: int = 4) -> WinServicePort:
    """One service port as ``syncProxyRules`` handles it (services-lb.md §1.3–1.5, recipe §1.8)."""
    cip = svc.vip.get(family)
    if cip is None:
        return WinServicePort(sp, (), "", 0, notes=(f"no IPv{family} ClusterIP: nothing programmed",))
    notes: list[str] = []
    dsr_ok = node.dsr_supported
    local_dsr = svc.external_traffic_policy == "Local" and dsr_ok
    preserve = svc.preserve_dip and dsr_ok
    if svc.external_traffic_policy == "Local" and not dsr_ok:
        notes.append("externalTrafficPolicy Local is ignored: HNS on this node has no DSR support, so it "
                     "behaves as Cluster")
    if svc.preserve_dip and not dsr_ok:
        notes.append("preserve-destination is ignored: HNS on this node has no DSR support")
    if node.overlay:
        # the ClusterIP itself as a remote endpoint (host MAC, PA = node IP) [V]; its VFP purpose is [U]
        node.remote(cip, node.host_mac, node.node_ip)
    endpoints = node.catalog.endpoints_of(sp, family)
    me = node.node
    all_terminating = all_nonserving = False
    if svc.ingress_ips:  # the readiness checks run only for Services with load-balancer IPs
        considered = [e for e in endpoints if not (local_dsr and e.node != me)]
        all_terminating = all(not e.ready and e.terminating for e in considered)
        all_nonserving = all(not e.serving for e in considered)
    some_serving = not all_nonserving
    target = sp.target_port if isinstance(sp.target_port, int) else 0
    backends: list[HnsBackend] = []
    skipped: list[tuple[str, str]] = []
    node_or_outside = False
    both_local = svc.itp_local and local_dsr
    refs, overlay, add_backend = node.refs, node.overlay, backends.append
    get = refs.get
    created, ids, head, tail = node.created.append, node.ids, node._id_head, node._id_tail
    # one pass per endpoint, 100,000 on a large plan: the Endpoint unpacked at once, the common case first
    for ip, port, ep_node, ready, serving, _, pod, _, key in endpoints:
        ep_local = ep_node == me
        if both_local or not (ready and serving):  # the common case (ready, serving) skips nothing
            why = _skip_reason(node, svc, ep_local, ready, serving, local_dsr, some_serving, all_terminating)
            if why:
                skipped.append((key, why))
                continue
        if target != port:
            target = port  # one internal port per LB: the endpoints' port wins over a named/other targetPort
        ref = get(ip)  # an HNS endpoint with this address: the CNI's, or one created before
        pa = None
        if overlay and not ep_local:
            pa = node.provider_address(ip)
            node_or_outside = node_or_outside or pa is None or pa == ip
        if ref is None:
            if ep_local:
                skipped.append((key, "local endpoint not found in HNS (kube-proxy never creates local "
                                     "endpoints; the CNI does)"))
                continue
            # on overlay: the PA of the RemoteSubnetRoute holding it, else this node's IP ("public IP")
            pa = (pa or node.node_ip) if overlay else None
            if ":" in ip:
                ref = node.new_remote(ip, None, pa)
            else:  # new_remote's IPv4 path, inline: up to 100,000 endpoints are new on a node's first sync
                packed = _aton(ip)
                name = "remote " + ip
                ref = refs[ip] = (head + packed.hex("-", 2).upper() + tail, False, name)
                ids[name] = ref[0]
                created(_new(CreatedEndpoint, (name, ip, _MAC_PREFIX + packed.hex("-"), pa, "remote")))
        add_backend(_new(HnsBackend, (ref[0], ip, ref[1], ref[2], ep_node, pod)))
    if not backends:
        why = "the Service has no endpoints" if not endpoints else "no endpoint is usable here (see skipped)"
        notes.append(f"no load balancer: {why}; traffic to the VIP is not load-balanced on this node")
        return WinServicePort(sp, (), "", target, tuple(skipped), tuple(notes))
    local = [b for b in backends if b.local]
    source_vip = ""
    if node.overlay:
        source_vip = node.node_ip if node_or_outside else node.source_vip
    avail = not all_terminating and not all_nonserving
    if not avail:
        notes.append("all endpoints are terminating or not serving: no NodePort, external-IP, ingress or "
                     "health-check LB (an existing one is kept while winProxyOptimization is on)")
    proto = PROTOCOL_NUMBERS.get(sp.protocol, 0)
    v6 = LB_IPV6 if family == 6 else 0
    dist = DIST_SOURCE_IP if svc.client_ip_affinity else 0
    lbs: list[HnsLoadBalancer] = []

    def add(kind: str, vip: str, ext: int, chosen: list[HnsBackend], lb_flags: int, pm_flags: int,
            distribution: int = dist, internal: int = target) -> None:
        if not chosen:
            return
        name = f"lb {kind} {sp.key}/{sp.protocol} {vip or '*'}:{ext}"
        rejected = None
        if len(chosen) > MAX_BACKENDS:
            rejected = (f"{len(chosen)} backends: HNS refuses a load balancer with more than {MAX_BACKENDS} "
                        "(VFP 'invalid number of destinations')")
        lbs.append(HnsLoadBalancer(hns_id(me, name), kind, sp.key, proto, internal, ext, (vip,) if vip else (),
                                   source_vip, tuple(chosen), lb_flags | v6, pm_flags, distribution, rejected))

    add("clusterIP", cip, sp.port, local if svc.itp_local else backends,
        LB_DSR if node.catalog.config.winkernel.enable_dsr else 0, 0)
    if svc.itp_local and not local:
        notes.append("internalTrafficPolicy Local and no local endpoint: no ClusterIP LB on this node")
    external = local if local_dsr else backends
    if sp.node_port and avail:
        add("nodePort", "", sp.node_port, local if (preserve or local_dsr) else backends,
            LB_DSR if local_dsr else 0, PM_LOCAL_ROUTED_VIP | PM_VIP_EXTERNAL_IP)
    for ip in svc.external_ips:
        if ip.version == family and avail:
            add("externalIP", str(ip), sp.port, external, LB_DSR if local_dsr else 0, PM_VIP_EXTERNAL_IP)
    root = _root_endpoint(node) if node.config.forward_healthcheck_vip else None
    for ip in svc.ingress_ips:
        if ip.version != family or not avail:
            continue
        add("loadBalancerIP", str(ip), sp.port, local if (preserve or local_dsr) else backends,
            LB_DSR if (local_dsr or preserve) else 0,
            PM_VIP_EXTERNAL_IP | (PM_USE_MUX | PM_PRESERVE_DIP if preserve else 0))
        if root is not None:
            hc = svc.health_check_node_port or node.catalog.config.healthz_port
            add("healthCheck", str(ip), hc, [HnsBackend(node.id_of(root.name), str(root.ip), True, root.name)], 0,
                PM_USE_MUX | PM_PRESERVE_DIP if preserve else 0, distribution=0, internal=hc)
    if local_dsr and not local and (sp.node_port or svc.external_ips or svc.ingress_ips):
        notes.append("externalTrafficPolicy Local and no local endpoint: no NodePort, external-IP or ingress LB "
                     "on this node")
    return WinServicePort(sp, tuple(lbs), source_vip, target, tuple(skipped), tuple(notes))


def _root_endpoint(node: WinNode) -> HnsEndpoint | None:
    """The HNS endpoint ``--root-hnsendpoint-name`` names (default here: the node's host endpoint)."""
    name = node.config.root_hns_endpoint_name
    if name:
        return node.local_by_name.get(name)
    return next((e for e in node.local_by_ip.values() if e.role == "host"), None)


def winkernel_view(cluster: Cluster, node: str, services: list[Service] | None = None) -> WinkernelView:
    """Everything winkernel programs into HNS on ``node`` (a Windows node)."""
    from cnimodel.services.catalog import catalog

    return WinNode(cluster, node, catalog(cluster)).view(services)
