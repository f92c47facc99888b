"""The rules of one service port on one Linux node, as kube-proxy's ``syncProxyRules`` writes them."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from cnimodel.services.iptables import (
    KUBE_EXTERNAL_SERVICES,
    KUBE_MARK_MASQ,
    KUBE_NODEPORTS,
    KUBE_PROXY_FIREWALL,
    KUBE_SERVICES,
    Rule,
    probability,
)
from cnimodel.services.model import EMPTY, Endpoint, Service, ServicePort

if TYPE_CHECKING:
    from cnimodel.services.kubeproxy_iptables import LinuxNode

NAT, FILTER = "nat", "filter"
# the chains every service port adds rules to (the node's skeleton holds them); the others are a port's own
_NODE_WIDE = frozenset((KUBE_SERVICES, KUBE_NODEPORTS, KUBE_EXTERNAL_SERVICES, KUBE_PROXY_FIREWALL, KUBE_MARK_MASQ))
_new = tuple.__new__


class LinuxServicePort(NamedTuple):
    """One service port on one node: its chains, the endpoints each uses, and every rule it adds.

    ``node_wide`` holds the rules it adds to the node-wide chains (KUBE-SERVICES, KUBE-NODEPORTS, the filter
    chains), in runs of one chain; ``own`` the nat chains only this port fills, each whole: KUBE-SVC/SVL/EXT/FW
    and one KUBE-SEP pair per endpoint (most of a node's rules, handed to the node's table as they are).
    """

    service_port: ServicePort
    svc_chain: str | None
    svl_chain: str | None
    ext_chain: str | None
    fw_chain: str | None
    cluster_endpoints: tuple[Endpoint, ...]
    local_endpoints: tuple[Endpoint, ...]
    sep: dict[str, str]  # endpoint ip:port -> KUBE-SEP chain
    has_endpoints: bool
    has_internal: bool
    has_external: bool
    node_wide: tuple[tuple[str, str, list[Rule]], ...]  # (table, node-wide chain, this port's rules in it)
    notes: tuple[str, ...] = ()
    own: Mapping[str, list[Rule]] = EMPTY  # nat chain -> its rules (a dict, never changed)
    node_independent: bool = False  # the same on every node (no local endpoints or node IP involved)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule of the port: those in node-wide chains in the order kube-proxy writes them, then its
        own chains' (each chain's rules in order)."""
        return (*(r for _, _, run in self.node_wide for r in run), *(r for rules in self.own.values() for r in rules))


def categorize(eps: tuple[Endpoint, ...], node: str, uses_cluster: bool, uses_local: bool) -> tuple[
        list[Endpoint], list[Endpoint], list[Endpoint], bool]:
    """``CategorizeEndpoints`` without topology hints: (cluster, local, reachable, any usable)."""
    cluster: list[Endpoint] = []
    has_any = False
    if uses_cluster:
        cluster = [e for e in eps if e.ready]
        if not cluster:  # no ready endpoint anywhere: fall back to serving-and-terminating ones
            cluster = [e for e in eps if e.serving and e.terminating]
        has_any = bool(cluster)
    if not uses_local:
        return cluster, [], cluster, has_any
    local_ready = local_terminating = False
    for e in eps:
        if e.ready:
            has_any = True
            local_ready = local_ready or e.node == node
        elif e.serving and e.terminating:
            has_any = True
            local_terminating = local_terminating or e.node == node
    local: list[Endpoint] = []
    if local_ready:
        local = [e for e in eps if e.node == node and e.ready]
    elif local_terminating:
        local = [e for e in eps if e.node == node and e.serving and e.terminating]
    if not uses_cluster:
        return [], local, local, has_any
    if not local_terminating or local_ready:
        return cluster, local, cluster, has_any
    merged = {e.key: e for e in cluster} | {e.key: e for e in local}
    return cluster, local, [merged[k] for k in sorted(merged)], has_any



def service_rules(node: LinuxNode, svc: Service, sp: ServicePort, summary: bool = False) -> LinuxServicePort:
    """Every rule one service port adds on ``node`` (``syncProxyRules``, services-lb.md §3.2–3.4); with
    ``summary``, only which chains it uses and its endpoints (no rules, no endpoint chains: ``sep`` empty)."""
    fam = node.family
    cip_s = svc.vip.get(fam)
    if cip_s is None:
        return LinuxServicePort(sp, None, None, None, None, (), (), {}, False, False, False, (),
                                (f"no IPv{fam} ClusterIP: nothing programmed",))
    name, proto, port = sp.key, sp.protocol.lower(), sp.port
    # (most Services have none of these: the checks skip three comprehensions per port)
    ext_ips = [str(ip) for ip in svc.external_ips if ip.version == fam] if svc.external_ips else []
    lb_ips = [str(ip) for ip in svc.ingress_ips if ip.version == fam] if svc.ingress_ips else []
    ranges = [str(n) for n in svc.source_ranges if n.version == fam] if svc.source_ranges else []
    accessible = bool(sp.node_port or ext_ips or lb_ips)
    etp_local, itp_local = svc.etp_local, svc.itp_local
    uses_cluster = not itp_local or accessible
    uses_local = itp_local or (etp_local and accessible)
    cluster, local, reachable, has_any = categorize(node.catalog.endpoints_of(sp, fam), node.node, uses_cluster,
                                                    uses_local)
    h = node.chain_hash(sp)
    svc_chain, svl_chain, ext_chain, fw_chain = (f"KUBE-SVC-{h}", f"KUBE-SVL-{h}", f"KUBE-EXT-{h}", f"KUBE-FW-{h}")
    uses_svc = bool(cluster) and uses_cluster
    uses_svl = bool(local) and uses_local
    internal_chain, has_internal = svc_chain, has_any
    if itp_local:
        internal_chain, has_internal = svl_chain, bool(local) and has_any
    external_policy, has_external = svc_chain, has_any
    if etp_local:
        external_policy, has_external = svl_chain, bool(local) and has_any
    uses_ext = has_any and accessible
    uses_fw = has_any and bool(lb_ips) and bool(ranges)
    lb_chain = fw_chain if uses_fw else ext_chain
    if summary:
        return LinuxServicePort(sp, svc_chain if uses_svc else None, svl_chain if uses_svl else None,
                                ext_chain if uses_ext else None, fw_chain if uses_fw else None, tuple(cluster),
                                tuple(local), {}, has_any, has_internal, has_external, ())
    if not has_any:
        int_target, ext_target = "REJECT", "REJECT"
        int_comment = ext_comment = f"{name} has no endpoints"
    else:
        int_target, ext_target = ("" if has_internal else "DROP"), ("" if has_external else "DROP")
        int_comment = ext_comment = f"{name} has no local endpoints"
    reject = "REJECT --reject-with " + ("icmp6-port-unreachable" if fam == 6 else "icmp-port-unreachable")
    rules: list[Rule] = []
    add = rules.append

    def nat(chain: str, target: str, comment: str | None = None, **kw: object) -> None:
        add(Rule("nat", chain, target, comment, service=name, **kw))  # type: ignore[arg-type]

    def drop(chain: str, target: str, comment: str, **kw: object) -> None:
        add(Rule("filter", chain, target, comment, target_save=reject if target == "REJECT" else None,
                 service=name, **kw))  # type: ignore[arg-type]

    if has_internal:  # positional, as the SEP rules below: the keyword path costs 3x as much
        add(_new(Rule, ("nat", KUBE_SERVICES, internal_chain, f"{name} cluster IP", proto, cip_s, port, None, "", "",
                        "", None, None, None, None, None, name)))
    else:
        drop(KUBE_SERVICES, int_target, int_comment, proto=proto, dst=cip_s, dport=port)
    for ip in ext_ips:
        if has_any:
            nat(KUBE_SERVICES, ext_chain, f"{name} external IP", proto=proto, dst=ip, dport=port)
        if not has_external:
            drop(KUBE_EXTERNAL_SERVICES, ext_target, ext_comment, proto=proto, dst=ip, dport=port)
    for ip in lb_ips:
        if has_any:
            nat(KUBE_SERVICES, lb_chain, f"{name} loadbalancer IP", proto=proto, dst=ip, dport=port)
        if uses_fw:
            add(Rule("filter", KUBE_PROXY_FIREWALL, "DROP", f"{name} traffic not accepted by {fw_chain}",
                     proto=proto, dst=ip, dport=port, service=name))
    if not has_external:
        for ip in lb_ips:
            drop(KUBE_EXTERNAL_SERVICES, ext_target, ext_comment, proto=proto, dst=ip, dport=port)
    if sp.node_port:
        if has_any:
            nat(KUBE_NODEPORTS, ext_chain, name, proto=proto, dport=sp.node_port)
        if not has_external:
            drop(KUBE_EXTERNAL_SERVICES, ext_target, ext_comment, early="-m addrtype --dst-type LOCAL",
                 proto=proto, dport=sp.node_port)
    if svc.health_check_node_port and svc.type == "LoadBalancer" and etp_local:
        add(Rule("filter", KUBE_NODEPORTS, "ACCEPT", f"{name} health check node port", proto="tcp",
                 dport=svc.health_check_node_port, service=name))
    # internal traffic: masquerade what does not come from a pod (or everything with masqueradeAll)
    if has_internal:
        if node.config.masquerade_all:
            nat(internal_chain, KUBE_MARK_MASQ, f"{name} cluster IP", proto=proto, dst=cip_s, dport=port)
        elif node.detector is not None:
            add(_new(Rule, ("nat", internal_chain, KUBE_MARK_MASQ, f"{name} cluster IP", proto, cip_s, port,
                            "!" + node.detector, "", "", "", None, None, None, None, None, name)))
    if uses_ext:
        if not etp_local:
            nat(ext_chain, KUBE_MARK_MASQ, f"masquerade traffic for {name} external destinations")
        else:
            if node.detector is not None:
                nat(ext_chain, svc_chain, f"pod traffic for {name} external destinations", src=node.detector)
            nat(ext_chain, KUBE_MARK_MASQ, f"masquerade LOCAL traffic for {name} external destinations",
                early="-m addrtype --src-type LOCAL")
            nat(ext_chain, svc_chain, f"route LOCAL traffic for {name} external destinations",
                early="-m addrtype --src-type LOCAL")
        if has_external:
            nat(ext_chain, external_policy)
    if uses_fw:
        allow_node = False
        for cidr in ranges:
            nat(fw_chain, ext_chain, f"{name} loadbalancer IP", src=cidr)
            allow_node = allow_node or _contains(cidr, str(node.spec.ip))
        if allow_node:  # a VIP-like LB loops the node's own requests back with the VIP as source
            for ip in lb_ips:
                nat(fw_chain, ext_chain, f"{name} loadbalancer IP", src=ip)
        nat(fw_chain, "", f"other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL")
    # The per-endpoint rules are most of a node's rules (3 per endpoint) and, but for KUBE-SVL's, the same on
    # every node: the KUBE-SVC jumps and each KUBE-SEP pair are built once per catalog and shared (read-only).
    # They are plain tuples in Rule's field order (table, chain, target, comment, proto, dst, dport, src, pre,
    # early, late, prob, recent, target_save, pre_save, late_save, service): the keyword path costs 3x as much.
    sep = node.sep_names(sp, reachable)
    shared: dict = node.shared_rules(sp)  # ip:port -> (KUBE-SEP chain, its rules); "svc" -> the KUBE-SVC jumps
    # split the rules above: runs in node-wide chains, and the port's own chains (whole: those rules, then the
    # jumps and the SEP pairs), which a node's table takes as they are
    wide: list[tuple[str, str, list[Rule]]] = []
    own: dict[str, list[Rule]] = {}
    for r in rules:
        table, chain = r[0], r[1]
        if table != NAT or chain in _NODE_WIDE:
            if wide and wide[-1][1] == chain and wide[-1][0] == table:
                wide[-1][2].append(r)
            else:
                wide.append((table, chain, [r]))
        else:
            own.setdefault(chain, []).append(r)
    if uses_svc:
        jumps = shared.get("svc")
        if jumps is None or jumps[0] != [e.key for e in cluster]:
            jumps = shared["svc"] = ([e.key for e in cluster], _jumps(node, svc, name, svc_chain, cluster, sep))
        have = own.get(svc_chain)
        own[svc_chain] = jumps[1] if have is None else have + jumps[1]
    if uses_svl:
        have = own.get(svl_chain)
        own[svl_chain] = (have or []) + _jumps(node, svc, name, svl_chain, local, sep)
    cmt = name if not node.large else None
    affinity = svc.client_ip_affinity
    get = shared.get
    for e in reachable:
        pair = get(e.key)
        if pair is None:
            c = sep[e.key]
            pair = shared[e.key] = (c, [
                _new(Rule, ("nat", c, KUBE_MARK_MASQ, cmt, None, None, None, e.ip, "", "", "", None, None, None, None,
                            None, name)),
                _new(Rule, ("nat", c, "DNAT --to-destination " + e.key, cmt, proto, None, None, None, "", "", "",
                            None, node.affinity(svc, c, "set") if affinity else None, None, None, None, name))])
        own[pair[0]] = pair[1]
    return LinuxServicePort(sp, svc_chain if uses_svc else None, svl_chain if uses_svl else None,
                            ext_chain if uses_ext else None, fw_chain if uses_fw else None, tuple(cluster),
                            tuple(local), sep, has_any, has_internal, has_external, tuple(wide), (),
                            own, not uses_local and not uses_fw)


def _jumps(node: LinuxNode, svc: Service, name: str, chain: str, eps: list[Endpoint],
           sep: dict[str, str]) -> list[Rule]:
    """A KUBE-SVC/SVL chain's jumps to its endpoints: with ClientIP affinity the ``recent`` checks first,
    then one rule each with the probability 1/(n−i), the last unconditional."""
    jumps: list[Rule] = []
    names = [sep[e.key] for e in eps]
    notes = [f"{name} -> {e.key}" for e in eps] if not node.large else [None] * len(eps)
    if svc.client_ip_affinity:
        jumps += [_new(Rule, ("nat", chain, c, t, None, None, None, None, "", "", "", None,
                              node.affinity(svc, c, "rcheck"), None, None, None, name))
                  for c, t in zip(names, notes, strict=True)]
    jumps += [_new(Rule, ("nat", chain, c, t, None, None, None, None, "", "", "", p, None, None, None, None, name))
              for c, t, p in zip(names, notes, probabilities(len(eps)), strict=True)]
    return jumps


@lru_cache(maxsize=4096)
def probabilities(n: int) -> tuple[str | None, ...]:
    """The ``--probability`` of each of n jump rules: 1/(n−i) for rule i, none on the last."""
    return (*(probability(n - i) for i in range(n - 1)), None) if n else ()


def _contains(cidr: str, ip: str) -> bool:
    from ipaddress import ip_address, ip_network

    try:
        return ip_address(ip) in ip_network(cidr, strict=False)
    except ValueError:
        return False
