"""hostPorts on Windows nodes: a hostPort works only where the CNI gives the pod's HNS endpoint a PortMapping
policy for it. win-bridge and Azure CNI add one; win-overlay never does (cni-plugins.md §4.3, §5.2).

Read from the facts, not from plugin names: per kind of Windows node, the first node holding a pod that asks
for a TCP or UDP hostPort is built, and its pod endpoints say whether the CNI mapped the port. (SCTP is
CNI-WIN-015's: HNS has no SCTP at all.)
"""

from __future__ import annotations

from collections.abc import Iterator

from cnimodel.hns import PROTOCOLS
from cnimodel.plan import NodeSpec, Pod
from cnimodel.validate.context import Context, first, node_obj, phrase
from cnimodel.validate.registry import Hit, check

MAPPED = ("TCP", "UDP")


def _asks(pod: Pod) -> list[tuple[int, str]]:
    """The (hostPort, protocol) pairs a pod asks the CNI to map."""
    if pod.host_network:
        return []
    return [(p.host_port, p.protocol) for p in pod.ports if p.host_port and p.protocol in MAPPED]


def _protocol(value: object) -> object:
    """A PortMapping's protocol as hcn's number (a v1 NAT policy from a conf may name it: "TCP")."""
    return PROTOCOLS.get(value.lower(), value) if isinstance(value, str) else value


def _mapped(ctx: Context, rep: NodeSpec, pods: list[Pod]) -> bool | None:
    """Whether the CNI on ``rep`` maps its pods' hostPorts (None: none of those pods has an endpoint)."""
    endpoints = {e.pod: e for e in ctx.facts(rep.name).hns_endpoints if e.role == "pod" and e.pod}
    for pod in pods:
        e = endpoints.get(pod.key)
        if e is None:
            continue
        have = {(p.settings.get("ExternalPort"), _protocol(p.settings.get("Protocol"))) for p in e.policies
                if p.type == "PortMapping"}
        return all((port, PROTOCOLS[proto.lower()]) in have for port, proto in _asks(pod))
    return None


def ignored_host_ports(ctx: Context) -> list[tuple[NodeSpec, list[Pod]]]:
    """Per kind of Windows node whose CNI leaves hostPorts unmapped: its representative node and every pod of
    the kind that asks for one (in plan order)."""
    def compute() -> list[tuple[NodeSpec, list[Pod]]]:
        asking: dict[str, list[Pod]] = {}
        for pod in ctx.plan.pods:
            if pod.node is not None and _asks(pod):
                asking.setdefault(pod.node, []).append(pod)
        out = []
        for (os_, _, _), nodes in ctx.kinds.items():
            if os_ != "windows":
                continue
            with_pods = [n for n in nodes if n.name in asking]
            if with_pods and _mapped(ctx, with_pods[0], asking[with_pods[0].name]) is False:
                out.append((with_pods[0], [p for n in with_pods for p in asking[n.name]]))
        return out

    return ctx.memo("ignored-host-ports", compute)


def ignored_on(ctx: Context) -> frozenset[str]:
    """The Windows nodes (of the kinds above) on which a pod's hostPort has no effect."""
    def compute() -> frozenset[str]:
        kinds = {(n.os, n.subnet, ctx.describe(n)) for n, _ in ignored_host_ports(ctx)}
        return frozenset(n.name for k in kinds for n in ctx.kinds[k])

    return ctx.memo("ignored-host-port-nodes", compute)


@check("CNI-WIN-018", "warning", "windows", "A Windows pod's hostPort has no effect",
       "cni-plugins.md §4.3, §5.2: win-bridge calls ApplyPortMappingPolicy, win-overlay never does "
       "(containernetworking/plugins@3d27709f win-bridge_windows.go:90, win-overlay_windows.go)")
def host_port_ignored(ctx: Context) -> Iterator[Hit]:
    for rep, pods in ignored_host_ports(ctx):
        workloads = list(dict.fromkeys(p.workload for p in pods))
        port, proto = _asks(pods[0])[0]
        nodes = list(dict.fromkeys(p.node for p in pods if p.node))
        yield Hit(f"{len(workloads)} workload(s) ({phrase(workloads)}) ask for a hostPort (e.g. {port}/{proto}) on "
                  f"Windows node(s) {phrase(nodes)}, where the CNI ({ctx.describe(rep)}) creates the pod's HNS "
                  "endpoint without a PortMapping policy: nothing forwards the node's port to the pod",
                  "expose the pods through a NodePort or LoadBalancer Service instead of a hostPort",
                  (*first(workloads), *(node_obj(n) for n in first(nodes, 5))),
                  tuple(p.origin.at("spec.containers") for p in pods[:5]))
