"""What kube-proxy in iptables mode programs on one Linux node (services-lb.md §3).

Per service port: the capture rules in KUBE-SERVICES / KUBE-NODEPORTS, the KUBE-SVC / KUBE-SVL /
KUBE-EXT / KUBE-FW chains, one KUBE-SEP chain per reachable endpoint, and the filter-table
REJECT / DROP rules for ports without (local) endpoints. Then the node-wide chains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING

from cnimodel.bulk import bulk
from cnimodel.services.catalog import Catalog
from cnimodel.services.iptables import (
    BUILTIN_CHAINS,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FIREWALL,
    KUBE_FORWARD,
    KUBE_MARK_MASQ,
    KUBE_NODEPORTS,
    KUBE_POSTROUTING,
    KUBE_PROXY_CANARY,
    KUBE_PROXY_FIREWALL,
    KUBE_SERVICES,
    LARGE_CLUSTER_ENDPOINTS,
    Rule,
    go_mark,
    hash16,
    hash16_many,
    hex_mark,
    port_proto_hash,
    recent_mask,
)
from cnimodel.services.kubeproxy_service import FILTER, NAT, LinuxServicePort, service_rules
from cnimodel.services.model import Endpoint, Service, ServicePort

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster


@dataclass(frozen=True)
class IptablesView:
    """A Linux node's kube-proxy rules: each table's chains and their rules. The order of the chains is the
    renderers' (``iptables.chain_order``: as iptables-save lists them); a chain's rules are in kernel order."""

    node: str
    family: int
    tables: dict[str, dict[str, list[Rule]]]  # table -> chain -> rules (chains in no set order: see chain_order)
    service_ports: tuple[LinuxServicePort, ...]
    large_cluster: bool
    notes: tuple[str, ...] = field(default=())
    summary: bool = False  # the service ports only (their chains, endpoints, verdicts): no tables, no rules


_KEY = attrgetter("key")


class LinuxNode:
    """kube-proxy (iptables mode) on one node: the local-traffic detector, the mark, and chain names."""

    def __init__(self, cluster: Cluster, node: str, cat: Catalog, family: int = 4) -> None:
        self.cluster, self.node, self.catalog, self.family = cluster, node, cat, family
        self.spec = cluster.plan.node(node)
        cfg = self.config = cat.config
        self.large = cat.total_endpoints > LARGE_CLUSTER_ENDPOINTS
        self.detector: str | None = None  # the "pod traffic" source match
        if cfg.detect_local_mode == "NodeCIDR":
            cidr = cluster.allocation.pod_cidr(node) if node in cluster.allocation.nodes else None
            self.detector = str(cidr) if cidr is not None else None
        else:
            self.detector = next((str(c) for c in cfg.cluster_cidrs if c.version == family), None)
        self.mark = 1 << cfg.masquerade_bit
        self.names: dict = cat.chain_names  # service hashes, and per port its SEP names

    def chain_hash(self, sp: ServicePort) -> str:
        key = (sp.key, sp.protocol)
        h = self.names.get(key)
        if h is None:
            h = self.names[key] = port_proto_hash(sp.key, sp.protocol)
        return h

    def prefetch(self, ports: list[ServicePort]) -> None:
        """Hash every chain name these ports can use in one batch (``hash16_many``): the names do not depend
        on the node, so they are kept in the catalog for every later node."""
        names, fam, endpoints = self.names, self.family, self.catalog.endpoints
        svc_keys: list[tuple[str, str]] = []
        svc_texts: list[str] = []
        todo: list[tuple[str, list[str]]] = []  # (port's hash input, its endpoints' ip:port)
        sep_texts: list[str] = []
        more = sep_texts.extend
        for sp in ports:
            base = sp.key + sp.protocol.lower()
            if (sp.key, sp.protocol) not in names:
                svc_keys.append((sp.key, sp.protocol))
                svc_texts.append(base)
            if base not in names:
                keys = list(map(_KEY, endpoints.get((sp, fam), ())))
                todo.append((base, keys))
                more(map(base.__add__, keys))
        names.update(zip(svc_keys, hash16_many(svc_texts), strict=True))
        seps = iter(hash16_many(sep_texts, "KUBE-SEP-"))
        for base, keys in todo:
            names[base] = dict(zip(keys, seps, strict=False))  # the next len(keys) names (keys run out first)

    def shared_rules(self, sp: ServicePort) -> dict:
        """The catalog's store of this port's node-independent rules (see ``service_rules``)."""
        key = ("rules", sp.key, sp.protocol, self.family)
        found = self.names.get(key)
        if found is None:
            found = self.names[key] = {}
        return found

    def sep_names(self, sp: ServicePort, eps: list[Endpoint]) -> dict[str, str]:
        """``KUBE-SEP-…`` of each endpoint (``ip:port`` → chain), computed once per catalog. When ``eps`` are
        exactly the port's endpoints in order (the common case) this is the catalog's dict itself: read-only."""
        base = sp.key + sp.protocol.lower()
        known = self.names.get(base)
        if known is None:
            known = self.names[base] = {}  # type: ignore[assignment]
        keys = [e.key for e in eps]
        if len(known) == len(keys) and list(known) == keys:
            return known  # type: ignore[return-value]
        out = {}
        for k in keys:
            h = known.get(k)  # type: ignore[union-attr]
            if h is None:
                h = known[k] = "KUBE-SEP-" + hash16(base + k)  # type: ignore[index]
            out[k] = h
        return out

    def service_port(self, svc: Service, sp: ServicePort) -> LinuxServicePort:
        return service_rules(self, svc, sp)

    def view(self, services: list[Service] | None = None, summary: bool = False) -> IptablesView:
        """All service ports, then the node-wide chains, grouped per table and chain; with ``summary``, the
        service ports only (what each uses, not its rules: a node's rules are most of the work)."""
        if summary:
            with bulk():
                ports = [service_rules(self, svc, sp, summary=True)
                         for svc in (services if services is not None else self.catalog.services) for sp in svc.ports]
            return IptablesView(self.node, self.family, {}, tuple(ports), self.large, self._notes(), summary=True)
        with bulk():
            pairs = [(svc, sp) for svc in (services if services is not None else self.catalog.services)
                     for sp in svc.ports]
            self.prefetch([sp for _, sp in pairs])
            ports = self._ports(pairs)
            tables = self._skeleton()
            by_table = {"nat": tables["nat"], "filter": tables["filter"]}
            nat = by_table["nat"]
            for p in ports:
                for table, chain, run in p.node_wide:  # runs of one chain: KUBE-SERVICES, KUBE-NODEPORTS …
                    by_table[table][chain].extend(run)
                if nat.keys().isdisjoint(p.own):  # a port's chains are its own (names hash the port)
                    nat.update(p.own)  # shared, not copied: never changed
                else:  # two ports whose chain names collide: one chain, both ports' rules (as the kernel would)
                    for chain, rules in p.own.items():
                        nat[chain] = nat.get(chain, []) + rules
        self._tail(tables)
        return IptablesView(self.node, self.family, tables, tuple(ports), self.large, self._notes())

    def _notes(self) -> tuple[str, ...]:
        notes = []
        if self.detector is None and not self.config.masquerade_all:
            notes.append("no cluster CIDR: kube-proxy cannot tell pod traffic from other traffic, so ClusterIP "
                         "traffic is never masqueraded (set spec.clusterCIDR or kubeProxy.clusterCIDR)")
        if self.large:
            notes.append(f"large-cluster mode: more than {LARGE_CLUSTER_ENDPOINTS} endpoints, so the per-endpoint "
                         "rules carry no comments")
        return tuple(notes)

    def _ports(self, pairs: list[tuple[Service, ServicePort]]) -> list[LinuxServicePort]:
        """Each service port's rules. A port whose rules cannot depend on the node (no local endpoints, no
        source-range check of the node IP, a detector that is the same everywhere) is built once per catalog
        and shared by every node: on a large plan nearly all of them."""
        if self.config.detect_local_mode == "NodeCIDR":
            return [service_rules(self, svc, sp) for svc, sp in pairs]
        names, fam = self.names, self.family
        out = []
        for svc, sp in pairs:
            key = ("port", sp.key, sp.protocol, fam)
            p = names.get(key)
            if p is None:
                p = service_rules(self, svc, sp)
                if p.node_independent:
                    names[key] = p
            out.append(p)
        return out

    def _skeleton(self) -> dict[str, dict[str, list[Rule]]]:
        """Built-in chains with kube-proxy's jumps (each prepended, so the last one ensured comes first),
        and kube-proxy's own chains, empty."""
        nat: dict[str, list[Rule]] = {c: [] for c in BUILTIN_CHAINS[NAT]}
        flt: dict[str, list[Rule]] = {c: [] for c in BUILTIN_CHAINS[FILTER]}
        new = "-m conntrack --ctstate NEW"
        jumps = [
            (flt, KUBE_EXTERNAL_SERVICES, "INPUT", "kubernetes externally-visible service portals", new),
            (flt, KUBE_EXTERNAL_SERVICES, "FORWARD", "kubernetes externally-visible service portals", new),
            (flt, KUBE_NODEPORTS, "INPUT", "kubernetes health check service ports", ""),
            (flt, KUBE_SERVICES, "FORWARD", "kubernetes service portals", new),
            (flt, KUBE_SERVICES, "OUTPUT", "kubernetes service portals", new),
            (flt, KUBE_FORWARD, "FORWARD", "kubernetes forwarding rules", ""),
            (flt, KUBE_PROXY_FIREWALL, "INPUT", "kubernetes load balancer firewall", new),
            (flt, KUBE_PROXY_FIREWALL, "OUTPUT", "kubernetes load balancer firewall", new),
            (flt, KUBE_PROXY_FIREWALL, "FORWARD", "kubernetes load balancer firewall", new),
            (nat, KUBE_SERVICES, "OUTPUT", "kubernetes service portals", ""),
            (nat, KUBE_SERVICES, "PREROUTING", "kubernetes service portals", ""),
            (nat, KUBE_POSTROUTING, "POSTROUTING", "kubernetes postrouting rules", ""),
        ]
        for table, dst, src, comment, extra in jumps:
            name = NAT if table is nat else FILTER
            table[src].insert(0, Rule(name, src, dst, comment, pre=extra))
        for c in (KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ, KUBE_PROXY_CANARY):
            nat[c] = []
        for c in (KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL,
                  KUBE_PROXY_CANARY):
            flt[c] = []
        return {FILTER: flt, NAT: nat, "mangle": {**{c: [] for c in BUILTIN_CHAINS["mangle"]}, KUBE_PROXY_CANARY: []}}

    def _tail(self, tables: dict[str, dict[str, list[Rule]]]) -> None:
        """The node-wide rules: masquerade marking and SNAT, forwarding, the last KUBE-SERVICES rule."""
        nat, flt = tables[NAT], tables[FILTER]
        m, go = self.mark, go_mark(self.mark)
        nat[KUBE_MARK_MASQ].append(Rule(NAT, KUBE_MARK_MASQ, f"MARK --or-mark {go}",
                                        target_save=f"MARK --set-xmark {hex_mark(m)}/{hex_mark(m)}"))
        nat[KUBE_POSTROUTING] += [
            Rule(NAT, KUBE_POSTROUTING, "RETURN", pre=f"-m mark ! --mark {go}/{go}",
                 pre_save=f"-m mark ! --mark {hex_mark(m)}/{hex_mark(m)}"),
            Rule(NAT, KUBE_POSTROUTING, f"MARK --xor-mark {go}", target_save=f"MARK --set-xmark {hex_mark(m)}/0x0"),
            Rule(NAT, KUBE_POSTROUTING, "MASQUERADE --random-fully" if self.config.random_fully else "MASQUERADE",
                 "kubernetes service traffic requiring SNAT"),
        ]
        flt[KUBE_FORWARD] += [
            Rule(FILTER, KUBE_FORWARD, "DROP", pre="-m conntrack --ctstate INVALID"),
            Rule(FILTER, KUBE_FORWARD, "ACCEPT", "kubernetes forwarding rules", late=f"-m mark --mark {go}/{go}",
                 late_save=f"-m mark --mark {hex_mark(m)}/{hex_mark(m)}"),
            Rule(FILTER, KUBE_FORWARD, "ACCEPT", "kubernetes forwarding conntrack rule",
                 late="-m conntrack --ctstate RELATED,ESTABLISHED"),
        ]
        dst = None
        if self.family == 6:
            dst = "!::1/128"
        elif not self.config.localhost_node_ports:
            dst = "!127.0.0.0/8"
        nat[KUBE_SERVICES].append(Rule(NAT, KUBE_SERVICES, KUBE_NODEPORTS, "kubernetes service nodeports; NOTE: this "
                                       "must be the last rule in this chain", dst=dst,
                                       early="-m addrtype --dst-type LOCAL"))
        if self.family == 4 and self.config.localhost_node_ports:
            flt[KUBE_FIREWALL] = [Rule(FILTER, KUBE_FIREWALL, "DROP", "block incoming localnet connections",
                                       dst="127.0.0.0/8", src="!127.0.0.0/8",
                                       late="-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT")]
            # kubelet's jumps to its KUBE-FIREWALL chain (kube-proxy keeps a copy of the chain) [I: order]
            flt["INPUT"].append(Rule(FILTER, "INPUT", KUBE_FIREWALL))
            flt["OUTPUT"].append(Rule(FILTER, "OUTPUT", KUBE_FIREWALL))

    def affinity(self, svc: Service, chain: str, mode: str) -> tuple[str, str, int, str] | None:
        if not svc.client_ip_affinity:
            return None
        return (chain, mode, svc.affinity_timeout, recent_mask(self.family))


def iptables_view(cluster: Cluster, node: str, services: list[Service] | None = None,
                  family: int = 4, summary: bool = False) -> IptablesView:
    """Every rule kube-proxy (iptables mode) programs on ``node`` (a Linux node); with ``summary``, only what
    each service port uses (chains, endpoints, verdicts), without the rules."""
    from cnimodel.services.catalog import catalog

    return LinuxNode(cluster, node, catalog(cluster), family).view(services, summary)


__all__ = ["FILTER", "NAT", "IptablesView", "LinuxNode", "LinuxServicePort", "iptables_view"]
