"""NetworkPolicy as ovnkube writes it: port groups, address sets and ACLs — a view of cnimodel's policy engine.

Which pods a policy selects and which pods a peer matches come from the engine (cnimodel.policy: the selectors
it compiled, evaluated on its universe of pods); this module only lays those decisions out as ovnkube's objects:
per policy a port group of the selected pods' ports with one allow-related ACL at priority 1001 per rule and
protocol (and per ipBlock), peers as pod-selector or namespace address sets; per namespace with policies two
default-deny port groups (Ingress, Egress) with a drop ACL at 1000 and an ARP/ND allow at 1001
(base_network_controller_policy.go:378-463, :923-1166; gress_policy.go:121-336; libovsdb/util/acl.go:93-161,
:263-328). Ingress ACLs are ``to-lport`` on ``outport == @pg``; egress ACLs are ``from-lport`` on
``inport == @pg`` with ``apply-after-lb``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnimodel.plan import KubeObject
from cnimodel.plugins.ovn_kubernetes import names
from cnimodel.plugins.ovn_kubernetes.nbmodel import Acl, AddressSet, PortGroup, kv
from cnimodel.policy.analysis import Reachability
from cnimodel.policy.model import EndpointSel, Policy

DIRECTIONS = {"ingress": ("Ingress", "to-lport", "outport", "src", "from"),
              "egress": ("Egress", "from-lport", "inport", "dst", "to")}


@dataclass
class AclPlan:
    port_groups: list[PortGroup] = field(default_factory=list)
    address_sets: dict[str, AddressSet] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _selector_string(sel: Any) -> str:
    """shortLabelSelectorString (pod_selector_address_set.go:639-701): ``LS{ML:{k: v,},ME:{LSR{…},},}``."""
    if sel is None:
        return "nil"
    sel = sel if isinstance(sel, Mapping) else {}
    exprs = []
    for e in sel.get("matchExpressions") or ():
        values = sorted(str(v) for v in e.get("values") or ())
        exprs.append(f"LSR{{Key:{e.get('key')},Operator:{e.get('operator')},Values:[{' '.join(values)}],}}")
    labels = sel.get("matchLabels") or {}
    text = "LS{"
    if labels:
        text += "ML:{" + "".join(f"{k}: {labels[k]}," for k in sorted(labels)) + "},"
    if exprs:
        text += "ME:{" + ",".join(sorted(exprs)) + "},"
    return text + "}"


def acl_ids(owner: str, pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return kv({"k8s.ovn.org/owner-controller": names.CONTROLLER, "k8s.ovn.org/owner-type": owner,
               "k8s.ovn.org/id": names.primary_id(owner, *(v for _, v in pairs)), **dict(pairs)})


def l4_matches(ports: list[Any]) -> dict[str, str]:
    """GetL4MatchesFromNetworkPolicyPorts: per protocol ``tcp && tcp.dst==80``, ``tcp && tcp.dst=={80,443}``,
    ranges ``1000<=tcp.dst<=2000``; a port given by name reads as 0 (IntVal of a string): the protocol alone."""
    by_proto: dict[str, tuple[list[str], list[str]]] = {}
    for p in ports:
        proto = str((p or {}).get("protocol") or "TCP").lower()
        port, end = (p or {}).get("port"), (p or {}).get("endPort")
        number = port if isinstance(port, int) and not isinstance(port, bool) else 0
        singles, ranges = by_proto.setdefault(proto, ([], []))
        if end is not None and number and end != number:
            ranges.append(f"{number}<={proto}.dst<={end}")
        elif number:
            singles.append(str(number))
    if not by_proto:
        return {"None": "None"}
    out = {}
    for proto, (singles, ranges) in by_proto.items():
        parts = []
        if singles:
            parts.append(f"{proto}.dst=={singles[0]}" if len(singles) == 1 else f"{proto}.dst=={{{','.join(singles)}}}")
        parts += ranges
        out[proto] = proto if not parts else f"{proto} && {parts[0]}" if len(parts) == 1 else \
            f"{proto} && ({' || '.join(parts)})"
    return out


class PolicyView:
    """Lays the engine's decisions out as ovnkube's objects for one cluster."""

    def __init__(self, r: Reachability, ports_of: Mapping[str, str], hairpin_ip: str) -> None:
        self.r = r
        self.ports_of = ports_of  # pod key → its logical switch port (pods with one: on nodes running ovnkube)
        self.hairpin_ip = hairpin_ip
        self._members: dict[int, list[int]] = {}
        self.out = AclPlan()

    def members(self, sel: EndpointSel) -> list[int]:
        """Indexes of the universe's workloads the engine says ``sel`` matches."""
        key = id(sel)
        if key not in self._members:
            u = self.r.u
            aid = self.r.engine.m.aid(sel)
            self._members[key] = [i for i, w in enumerate(u.workloads) if not w.host_network
                                  and aid in u.classes[u.workload_class[i]].atoms]
        return self._members[key]

    def _ports(self, idx: list[int]) -> tuple[str, ...]:
        u = self.r.u
        return tuple(sorted(p for i in idx if (p := self.ports_of.get(u.workloads[i].key))))

    def _address_set(self, name: str, idx: list[int], ids: tuple[tuple[str, str], ...], reason: str) -> str:
        if name not in self.out.address_sets:
            u = self.r.u
            ips = sorted({str(u.workloads[i].ip) for i in idx if u.workloads[i].ip is not None})
            self.out.address_sets[name] = AddressSet(name, tuple(ips), ids, reason)
        return name

    def build(self) -> AclPlan:
        objects = {(o.namespace or "default", o.name): o for o in self.r.plan.objects
                   if o.kind == "NetworkPolicy" and o.api_version.startswith("networking.k8s.io/")}
        deny: dict[str, dict[str, set[str]]] = {}
        for p in self.r.policies.policies:
            if p.kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
                continue  # admin_acls lays these out (tiers 1 and 3)
            if p.kind != "NetworkPolicy":
                self.out.notes.append(f"{p.title}: not a policy ovn-kubernetes implements; the ACL view leaves it out")
                continue
            obj = objects.get((p.namespace or "default", p.name))
            if obj is None:
                continue
            selected = self._ports(self.members(p.subject))
            for direction in ("ingress", "egress"):
                if p.rules(direction) is not None:
                    deny.setdefault(p.namespace or "default", {}).setdefault(direction, set()).update(selected)
            self._policy(p, obj, selected)
        for ns in sorted(deny):
            for direction, (title, acl_dir, port_field, _, _) in DIRECTIONS.items():
                if direction not in deny[ns]:
                    continue
                pg = names.default_deny_port_group(ns, title)
                opts = kv({"apply-after-lb": "true"}) if direction == "egress" else ()

                def ids(kind: str, ns: str = ns, title: str = title) -> tuple[tuple[str, str], ...]:
                    return acl_ids("NetpolNamespace", (("k8s.ovn.org/name", ns), ("direction", title), ("type", kind)))
                acls = (Acl(acl_dir, names.DEFAULT_DENY_PRIORITY, f"{port_field} == @{pg}", "drop", f"NP:{ns}:{title}",
                            opts, ids("defaultDeny"), reason=f"{ns}: pods a policy isolates for {direction}"),
                        Acl(acl_dir, names.DEFAULT_ALLOW_PRIORITY, f"{port_field} == @{pg} && (arp || nd)", "allow",
                            f"NP:{ns}:{title}", opts, ids("arpAllow"), reason="ARP and ND stay allowed"))
                self.out.port_groups.append(PortGroup(pg, tuple(sorted(deny[ns][direction])), acls, kv({
                    "k8s.ovn.org/owner-controller": names.CONTROLLER, "k8s.ovn.org/owner-type": "NetpolNamespace",
                    "k8s.ovn.org/name": ns, "direction": title,
                    "k8s.ovn.org/id": names.primary_id("NetpolNamespace", ns, title)}),
                    reason=f"default deny {direction} for namespace {ns}"))
        return self.out

    def _policy(self, p: Policy, obj: KubeObject, selected: tuple[str, ...]) -> None:
        ns = p.namespace or "default"
        pg = names.policy_port_group(ns, p.name)
        spec = obj.body.get("spec") or {}
        acls: list[Acl] = []
        for direction in DIRECTIONS:
            # ovnkube writes allow ACLs for a direction missing from policyTypes too; they decide nothing there
            # (no pod is isolated for it) and the engine compiled no rules for it, so the view leaves them out
            rules = p.rules(direction)
            raw_rules = spec.get(direction) or []
            for i, rule in enumerate(rules or ()):
                raw = raw_rules[i] if i < len(raw_rules) else {}
                acls += self._gress(p, rule, raw or {}, i, direction, pg)
        self.out.port_groups.append(PortGroup(pg, selected, tuple(acls), kv({
            "k8s.ovn.org/owner-controller": names.CONTROLLER, "k8s.ovn.org/owner-type": "NetworkPolicy",
            "k8s.ovn.org/name": f"{ns}:{p.name}",
            "k8s.ovn.org/id": names.primary_id("NetworkPolicy", f"{ns}:{p.name}")}),
            reason=f"pods selected by NetworkPolicy {p.key}"))

    def _gress(self, p: Policy, rule: Any, raw: Mapping[str, Any], i: int, direction: str, pg: str) -> list[Acl]:
        title, acl_dir, port_field, addr_dir, peer_key = DIRECTIONS[direction]
        ns = p.namespace or "default"
        lport = f"{port_field} == @{pg}"
        raw_peers = list(raw.get(peer_key) or [])
        peers = (rule.src if direction == "ingress" else rule.dst) or ()
        sets: list[str] = []
        blocks: list[str] = []
        for peer, rp in zip(peers, raw_peers, strict=False):
            rp = rp or {}
            if peer.nets is not None:
                cidr = str(peer.nets[0])
                text = f"ip4.{addr_dir} == {cidr}"
                if peer.not_nets:
                    text += f" && ip4.{addr_dir} != {{{', '.join(str(x) for x in peer.not_nets)}}}"
                blocks.append(text)
            elif peer.endpoint is not None and "podSelector" not in rp:
                # a namespaceSelector alone: each matching namespace's address set (useNamespaceAddrSet)
                scope = peer.endpoint.scope
                for name in sorted(self.r.u.ns_labels):
                    if scope.any or (scope.selector is not None and scope.selector.matches(self.r.u.ns_labels[name])):
                        idx = [j for j in self.members(peer.endpoint) if self.r.u.workloads[j].pod.namespace == name]
                        sets.append(self._address_set(names.namespace_address_set(name), idx, acl_ids(
                            "Namespace", (("k8s.ovn.org/name", name), ("ip-family", "v4"))),
                            f"pods of namespace {name}"))
            elif peer.endpoint is not None:
                key = (ns if "namespaceSelector" not in rp else _selector_string(rp.get("namespaceSelector"))) + \
                    "_" + _selector_string(rp.get("podSelector") or {})
                sets.append(self._address_set(names.pod_selector_address_set(key), self.members(peer.endpoint),
                                              acl_ids("PodSelector", (("k8s.ovn.org/name", key), ("ip-family", "v4"))),
                                              f"pods matching {peer.text}"))
        for port in raw.get("ports") or ():
            if isinstance((port or {}).get("port"), str):
                self.out.notes.append(f"NetworkPolicy {p.key} {direction} rule {i + 1}: named port "
                                      f"{port['port']!r} — ovnkube reads a name as port 0 and matches every "
                                      f"{port.get('protocol') or 'TCP'!s} port (gress_policy.go:103-113); "
                                      "cnimodel's engine resolves the name, so the real cluster allows more")
        empty = not raw_peers
        out: list[Acl] = []
        opts = kv({"apply-after-lb": "true"}) if direction == "egress" else ()
        for proto, l4 in l4_matches(list(raw.get("ports") or ())).items():
            def acl(match: str, block: int, proto: str = proto) -> Acl:
                ids = acl_ids("NetworkPolicy", (("k8s.ovn.org/name", f"{ns}:{p.name}"), ("direction", title),
                                                ("gress-index", str(i)), ("port-policy-protocol", proto),
                                                ("ip-block-index", str(block))))
                return Acl(acl_dir, names.DEFAULT_ALLOW_PRIORITY, match, "allow-related",
                           f"NP:{ns}:{p.name}:{title}:{i}"[:63], opts, ids,
                           reason=f"NetworkPolicy {p.key} {rule.label}: {rule.text}")
            for b, block in enumerate(blocks):
                out.append(acl(f"{block} && {lport}" if l4 == "None" else f"{block} && {l4} && {lport}", b))
            if sets or empty:
                l3 = "ip4" if empty else f"ip4.{addr_dir} == {{{', '.join('$' + s for s in sorted(set(sets)))}}}"
                out.append(acl(f"{l3} && {lport}" if l4 == "None" else f"{l3} && {l4} && {lport}", -1))
        return out


def cluster_port_group(mgmt_ports: tuple[str, ...], hairpin_ip: str) -> PortGroup:
    """clusterPortGroup: the management ports, with the hairpin allow ACLs (base_network_controller_policy.go:
    232-274, :1582-1588): traffic from the service hairpin masquerade IP is always allowed."""
    acls = tuple(Acl(d, names.DEFAULT_ALLOW_PRIORITY, f"ip4.src == {hairpin_ip}", "allow-related", None,
                     kv({"apply-after-lb": "true"}) if d == "from-lport" else (),
                     acl_ids("NetpolDefault", (("k8s.ovn.org/name", "allow-hairpinning"), ("direction", t))),
                     reason="service hairpin traffic") for d, t in (("to-lport", "Ingress"), ("from-lport", "Egress")))
    name = names.cluster_port_group()
    return PortGroup(name, mgmt_ports, acls, acl_ids("Cluster", (("k8s.ovn.org/name", "clusterPortGroup"),)),
                     reason="every node's management port")
