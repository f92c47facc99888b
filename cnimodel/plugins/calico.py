"""Calico in policy-only mode (canal, and Calico beside kubenet or Azure CNI): the network plugin allocates
and routes, Calico only enforces NetworkPolicy — felix with iptables on Linux, felix with HNS ACL policies on
Windows. Optionally Calico IPAM (``ipam: calico-ipam``) replaces the network plugin's IPAM.

Settings under ``policy.config`` keep Calico's own names: ``KUBE_NETWORK`` (Calico for Windows' regex of the
HNS networks felix acts on, default ``Calico.*``), ``windows_disable_default_deny_all_policy``,
``CALICO_NETWORKING_BACKEND`` (``none``), ``ipam``, ``ipPools``, ``ipamConfig``, ``windows_use_single_network``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from cnimodel.cluster import Cluster
from cnimodel.dataplane import HnsEndpoint, NodeFacts, PolicyEnforcement, Route
from cnimodel.hns import policy
from cnimodel.plan import NodeSpec, Plan, Problems
from cnimodel.plan.fields import Fields, thaw
from cnimodel.plugin import Addressing, NetworkPlugin, PolicyPlugin
from cnimodel.plugins import _calico_ipam
from cnimodel.sources import Daemon

DEFAULT_KUBE_NETWORK = "Calico.*"
FELIX = "calico-felix"
DEFAULT_DENY = policy("ACL", Action="Block", Direction="In", RuleType="Switch", Protocols="256", Priority=65500)
# The owner Calico's own Windows CNI gives the HNS objects it creates. Only its endpoints get DEFAULT_DENY: the
# ACL is written by that CNI's ADD (cni-plugin/pkg/dataplane/windows), not by felix, so endpoints of win-bridge,
# win-overlay or azure-vnet beside felix never carry it.
CALICO_CNI = "calico"
# calico-ipam needs a network plugin whose CNI can be told to ask Calico for addresses and that routes
# whatever CIDR a node holds; Azure CNI and kubenet bring fixed IPAMs of their own.
OWN_IPAM = {"azure-cni": "azure-vnet-ipam hands out VNet addresses", "kubenet": "kubenet's host-local takes the "
            "node podCIDR"}
WINDOWS_NOTES = (
    "Calico for Windows (policy-only, CALICO_NETWORKING_BACKEND none) installs felix only; the network "
    "plugin's CNI creates the endpoints",
    "felix acts only on HNS networks whose name matches KUBE_NETWORK (default 'Calico.*'; match semantics "
    "unverified: the model searches the regex anywhere in the name, as Go's MatchString does)",
    "the default-deny inbound ACL (Block, In, Switch, protocol 256, priority 65500; CNIDefaultDenyAllPolicy) is "
    "written by Calico's Windows CNI on the endpoints it creates, and windows_disable_default_deny_all_policy is "
    "that CNI's setting: endpoints another CNI creates carry no such ACL",
    "Calico for Windows with its own VXLAN networking requires calico-ipam (Test-CalicoConfiguration)",
)


class CalicoPolicyPlugin(PolicyPlugin):
    """``policy: {plugin: calico}``."""

    name = "calico"
    # calico-node's settings from its DaemonSet's environment (canal.yaml: CALICO_NETWORKING_BACKEND "none",
    # projectcalico/calico@87c15906f2:manifests/canal.yaml; calico.yaml reads it from calico_backend).
    daemon = Daemon(binaries=("calico-node",), images=("calico/node", "calico/windows"),
                    env=("CALICO_NETWORKING_BACKEND", "KUBE_NETWORK"))

    def __init__(self, plan: Plan, problems: Problems, network: NetworkPlugin) -> None:
        super().__init__(plan, problems, network)
        origin = plan.policy.origin.at("config")
        f = Fields(thaw(plan.policy.config), origin, problems)
        self.kube_network = f.str("KUBE_NETWORK", default=DEFAULT_KUBE_NETWORK)
        try:
            self.kube_network_re = re.compile(self.kube_network)
        except re.error as e:
            problems.error(origin.at("KUBE_NETWORK"), f"{self.kube_network!r} is not a regular expression: {e}",
                           "write a regex matching the HNS network name, e.g. ^cbr0$")
            self.kube_network_re = re.compile(re.escape(self.kube_network))
        self.default_deny = not f.bool("windows_disable_default_deny_all_policy", False)
        self._windows_verdicts: dict[str, PolicyEnforcement] = {}
        raw_ipam = f.raw("ipam", "host-local")
        ipam_type = raw_ipam.get("type") if isinstance(raw_ipam, Mapping) else raw_ipam
        if ipam_type not in ("host-local", "calico-ipam"):
            problems.error(origin.at("ipam"), f"unknown ipam {ipam_type!r}", "use host-local or calico-ipam")
            ipam_type = "host-local"
        backend = f.str("CALICO_NETWORKING_BACKEND", default="none")
        if backend == "vxlan" and ipam_type != "calico-ipam" and any(n.os == "windows" for n in plan.nodes):
            problems.error(origin.at("ipam"), "Calico for Windows with VXLAN requires calico-ipam",
                           "set ipam: calico-ipam")
        if backend != "none":
            problems.error(origin.at("CALICO_NETWORKING_BACKEND"), f"Calico networking ({backend!r}) is not "
                           "modelled: cnimodel models Calico policy-only beside a network plugin",
                           "set CALICO_NETWORKING_BACKEND: none and let the network plugin route")
        self.calico_ipam: _calico_ipam.CalicoIpam | None = None
        if ipam_type == "calico-ipam":
            if network.name in OWN_IPAM:
                problems.error(origin.at("ipam"), f"calico-ipam cannot replace {network.name}'s IPAM: "
                               f"{OWN_IPAM[network.name]}", "use ipam: host-local (the default)")
            else:
                pools = _calico_ipam.read_pools(plan, f, problems)
                conf = _calico_ipam.read_ipam_config(plan, f, problems)
                self.calico_ipam = _calico_ipam.CalicoIpam(plan, problems, network, pools, conf, origin.at("ipam"))

    def ipam(self) -> Addressing | None:
        return self.calico_ipam

    # --- enforcement ------------------------------------------------------------------------------

    def policy_enforcement(self, node: NodeSpec) -> PolicyEnforcement:
        """Linux: felix's iptables. Windows: decided from the node's HNS networks (see ``node_facts``)."""
        if node.os == "linux":
            return PolicyEnforcement(True, FELIX, "iptables", f"Calico policy-only: {self.network.name} routes, "
                                     "felix programs NetworkPolicy into iptables (cali-* chains)")
        return PolicyEnforcement(True, FELIX, "HNS ACL", "Calico for Windows: felix programs NetworkPolicy as "
                                 "HNS ACL policies on the pod endpoints")

    def enforcement(self, cluster: Cluster, node: NodeSpec) -> PolicyEnforcement:
        if node.os == "linux":
            return self.policy_enforcement(node)
        # The verdict needs the HNS network name the network plugin chose, which only its facts hold; every
        # network plugin names that network in describe(), so nodes describing alike share one verdict
        # (building a win-overlay node's facts is O(nodes): asking each node would be O(nodes²)).
        key = self.network.describe(node)
        verdict = self._windows_verdicts.get(key)
        if verdict is None:
            verdict = self._windows_verdicts[key] = cluster.facts(node.name).policy
        return verdict

    def windows_enforcement(self, facts: NodeFacts) -> tuple[PolicyEnforcement, frozenset[str]]:
        """Whether felix acts on this Windows node, and on which HNS networks."""
        names = [n.name for n in facts.hns_networks]
        if not names:
            return PolicyEnforcement(False, reason="no HNS network for pods on this node, so nothing for felix "
                                     "to act on"), frozenset()
        matched = frozenset(n for n in names if self.kube_network_re.search(n))
        if not matched:
            return PolicyEnforcement(False, reason=f"felix acts only on HNS networks matching KUBE_NETWORK "
                                     f"{self.kube_network!r}; this node's network is {', '.join(names)}: set "
                                     f"policy.config.KUBE_NETWORK to match it (e.g. '^{names[0]}$')"), matched
        own = any(n.owner == CALICO_CNI for n in facts.hns_networks if n.name in matched)
        deny = " with the default-deny inbound ACL at priority 65500" if self.default_deny and own else ""
        return PolicyEnforcement(True, FELIX, "HNS ACL", f"Calico for Windows: felix programs NetworkPolicy as "
                                 f"HNS ACL policies on the endpoints of {', '.join(sorted(matched))}{deny}"), matched

    # --- facts ------------------------------------------------------------------------------------

    def node_facts(self, cluster: Cluster, node: NodeSpec, facts: NodeFacts) -> NodeFacts:
        facts = replace(facts, routes=facts.routes + self.block_routes(cluster, node, facts))
        if node.os == "linux":
            return replace(facts, policy=self.policy_enforcement(node))
        verdict, networks = self.windows_enforcement(facts)
        endpoints = facts.hns_endpoints
        if verdict.enforced and self.default_deny:
            endpoints = tuple(replace(e, policies=(*e.policies, DEFAULT_DENY)) if _is_pod(e, networks) else e
                              for e in endpoints)
        return replace(facts, policy=verdict, hns_endpoints=endpoints, notes=facts.notes + WINDOWS_NOTES)

    def underlay_routes(self, cluster: Cluster) -> tuple[Route, ...]:
        """Cloud route tables hold one route per node pod CIDR; with calico-ipam a node's further blocks
        need the same route as its first (copied from the network plugin's route for that block)."""
        ipam = self.calico_ipam
        if ipam is None:
            return ()
        first = {r.dst: r for r in self.network.underlay_routes(cluster)}
        out = []
        for name in ipam.blocks:
            blocks = ipam.node_blocks(name)
            route = first.get(blocks[0]) if blocks else None
            if route is not None:
                out += [replace(route, dst=b) for b in blocks[1:]]
        return tuple(out)

    def block_routes(self, cluster: Cluster, node: NodeSpec, facts: NodeFacts) -> tuple[Route, ...]:
        """With calico-ipam, nodes beyond their first block: each further block is reached the way the
        network plugin reaches that node's first block (same next hop, device and owner)."""
        ipam = self.calico_ipam
        if ipam is None:
            return ()
        extra = [(n, b) for n in ipam.blocks for b in ipam.node_blocks(n)[1:]]
        if not extra:
            return ()
        by_dst = {r.dst: r for r in facts.routes}
        out = []
        for name, block in extra:
            first = cluster.allocation.nodes[name].pod_cidr
            route = by_dst.get(first) if first is not None else None
            if route is not None:
                out.append(replace(route, dst=block, src=None, proto=None))
        return tuple(out)


def _is_pod(e: HnsEndpoint, networks: frozenset[str]) -> bool:
    """A pod endpoint Calico's Windows CNI created on a network felix acts on."""
    return e.role == "pod" and e.network in networks and e.owner == CALICO_CNI


__all__ = ["CalicoPolicyPlugin"]
