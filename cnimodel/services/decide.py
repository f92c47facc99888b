"""The load-balancing decision for one destination on one node, for trace: every backend with its weight,
the DNAT target, the SNAT applied, and the rule or HNS object that decided.

``decide(cluster, node, vip, port, "TCP", src=...)`` computes only the one service port involved, so it
stays cheap on a 10,000-Service plan once the catalog is built.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import TYPE_CHECKING, Literal

from cnimodel.services.catalog import Catalog, catalog
from cnimodel.services.decide_linux import decide_linux
from cnimodel.services.decide_windows import decide_windows
from cnimodel.services.decision import LbDecision, SourceKind
from cnimodel.services.kubeproxy_iptables import LinuxNode
from cnimodel.services.model import IPAddress, ServicePort
from cnimodel.services.winkernel import WinNode

if TYPE_CHECKING:
    from cnimodel.cluster import Cluster

Proxy = Literal["winkernel", "iptables", "plugin"]


def proxy_of(cluster: Cluster, node: str) -> Proxy:
    """The Services model a node gets, from the Services role its plugin states: kube-proxy's winkernel (HNS
    load balancers), kube-proxy's iptables rules (its other Linux modes are reported as not modelled when the
    plan is read, and answered with the iptables model), or the plugin's own load balancers."""
    role = cluster.roles(node).services
    if role.by != "kube-proxy":
        return "plugin"
    return "winkernel" if role.mode == "winkernel" else "iptables"


def plugin_note(cluster: Cluster, node: str) -> str:
    """What the Services engine says of a node whose network plugin implements Services itself."""
    head = (f"Services on {node} are implemented by the network plugin itself "
            f"({cluster.plugin.describe(cluster.plan.node(node))}), not by kube-proxy")
    if cluster.plugin.services() is not None:
        return head + ": its own load balancers"
    return head + ": cnimodel does not model its load balancers"


def _node_ctx(cluster: Cluster, node: str, cat: Catalog) -> LinuxNode | WinNode:
    """kube-proxy's state on one node, kept for the next decision on that node."""
    def make() -> LinuxNode | WinNode:
        return WinNode(cluster, node, cat) if proxy_of(cluster, node) == "winkernel" else LinuxNode(cluster, node, cat)

    return cluster.memo(("services-node", node), make)


def node_addresses(cluster: Cluster, node: str) -> set[IPAddress]:
    """Addresses that are local to the node (what ``--dst-type LOCAL`` / a NodePort LB matches)."""
    addrs: set[IPAddress] = {cluster.plan.node(node).ip}
    for d in cluster.local_facts(node).devices:  # not the per-peer entries: devices are the same
        addrs.update(a.ip for a in d.addresses)
    return addrs


def classify_source(cluster: Cluster, node: str, src: IPAddress | None, cat: Catalog) -> SourceKind | None:
    if src is None:
        return None
    if src in node_addresses(cluster, node):
        return "host"
    if any(src in c for c in cat.config.cluster_cidrs if c.version == src.version):
        return "pod"
    return "external"


def decide(cluster: Cluster, node: str, vip: str | IPAddress, port: int, protocol: str = "TCP", *,
           src: str | IPAddress | None = None) -> LbDecision:
    """How ``node`` load-balances a new connection to ``vip:port/protocol`` (from ``src`` if given).

    Without ``src``, a ClusterIP is assumed reached from a pod and an external frontend from outside
    the cluster; the decision says so in its notes.
    """
    cat = catalog(cluster)
    dst = ip_address(str(vip))
    source = ip_address(str(src)) if src is not None else None
    proto = protocol.upper()
    spec = cluster.plan.node(node)
    proxy = proxy_of(cluster, node)
    kind = classify_source(cluster, node, source, cat)
    found = _frontend(cluster, node, cat, dst, port, proto)
    if found is not None and found[0] == "healthCheck" and proxy != "winkernel":
        found = None  # only winkernel forwards an ingress IP's health-check port (to the host endpoint)
    base = {"node": node, "os": spec.os, "vip": str(dst), "port": port, "protocol": proto,
            "source": str(source) if source else None}
    if proxy == "plugin" and found is not None:
        own = cluster.plugin.services()
        if own is not None:
            return own.decide(cluster, node, base, cat.by_port[found[1]].key, found[0], kind or "pod", source)
        return LbDecision(**base, source_kind=kind or "pod", disposition="NOT_LOAD_BALANCED",  # type: ignore[arg-type]
                        reason=plugin_note(cluster, node), service=cat.by_port[found[1]].key, frontend=found[0])
    if found is None:
        return LbDecision(**base, source_kind=kind or "pod", disposition="NO_SERVICE",  # type: ignore[arg-type]
                        reason=f"no Service has {dst}:{port}/{proto} as a ClusterIP, external IP, load-balancer IP "
                        "or (on a node address) a nodePort")
    frontend, sp = found
    svc = cat.by_port[sp]
    assumed = kind is None
    if kind is None:
        kind = "pod" if frontend == "clusterIP" else "external"
    notes = [f"no source given: assumed a {kind} source"] if assumed else []
    ctx = _node_ctx(cluster, node, cat)
    if proxy == "winkernel":
        return decide_windows(ctx, svc, sp, frontend, base, kind, source, notes)  # type: ignore[arg-type]
    return decide_linux(ctx, svc, sp, frontend, base, kind, source, notes)  # type: ignore[arg-type]


def _frontend(cluster: Cluster, node: str, cat: Catalog, dst: IPAddress, port: int,
              proto: str) -> tuple[str, ServicePort] | None:
    hit = cat.frontends.get((dst, port, proto))
    if hit is not None:
        return hit.kind, hit.service_port
    sp = cat.node_ports.get((port, proto))
    if sp is not None and (dst in node_addresses(cluster, node) or (dst.version == 4 and dst.is_loopback)):
        return "nodePort", sp
    hc = cat.health_checks.get((dst, port))  # the health-check LB of an ingress IP (Windows, forwarded)
    if hc is not None and hc.protocol == proto:
        return "healthCheck", hc
    return None

