"""The forwarding graph's vertices: readable string ids, their kinds, and where a drawing shows each.

A vertex is a place a packet can be while the data plane decides what to do with it:

| id | kind | what |
|---|---|---|
| ``pod:<ns>/<name>`` | pod | a pod's network namespace (its eth0 and default route) |
| ``dev:<node>/<device>`` | bridge, interface | a Linux bridge pods hang on (``cni0``), a routed pod's host-side veth |
| ``port:<ns>/<name>`` | port | a Windows pod's vSwitch port (its HNS endpoint: VFP's ACLs, LB, NAT) |
| ``host:<node>`` | host | the node's own network stack: its addresses, where node traffic starts and ends |
| ``nic:<node>`` | interface | the node's interface on the underlay subnet, where packets from other machines arrive |
| ``lb:<node>`` | lb | the node's Service load balancer (kube-proxy's rules, HNS load balancers, a plugin's own) |
| ``table:<node>`` | table | the node's route table: the routing decision, with nat POSTROUTING |
| ``tunnel:<node>/<device>`` | tunnel | the node's tunnel endpoint (a vxlan/geneve/ipip device, an HNS overlay) |
| ``router:<underlay>`` | table | the underlay's route table (a router, a cloud VNet's route table) |
| ``subnet:<name>`` | subnet | an underlay L2 segment: where an address no node holds is handed over |
| ``internet`` | internet | everything outside the plan |

A plugin may add vertices of its own kinds (``cnimodel.graph.contrib``): their ids carry a prefix the plugin
chooses (``ovn:``), and their data says which node holds them.
"""

from __future__ import annotations

VERTEX_KINDS: dict[str, str] = {
    "pod": "a pod's network namespace",
    "bridge": "a Linux bridge the node's pods hang on",
    "interface": "a network interface (the node's uplink, a routed pod's host-side veth)",
    "port": "a Windows pod's vSwitch port",
    "host": "the node's own network stack",
    "lb": "the node's Service load balancer",
    "table": "a route table (a node's, the underlay's)",
    "tunnel": "a tunnel endpoint",
    "subnet": "an underlay L2 segment",
    "internet": "outside the plan",
}
INTERNET = "internet"


def pod(key: str) -> str:
    return f"pod:{key}"


def host(node: str) -> str:
    return f"host:{node}"


def table(node: str) -> str:
    return f"table:{node}"


def nic(node: str) -> str:
    return f"nic:{node}"


def lb(node: str) -> str:
    return f"lb:{node}"


def dev(node: str, device: str) -> str:
    return f"dev:{node}/{device}"


def port(pod_key: str) -> str:
    return f"port:{pod_key}"


def tunnel(node: str, device: str) -> str:
    return f"tunnel:{node}/{device}"


def router(underlay: str) -> str:
    return f"router:{underlay}"


def subnet(name: str) -> str:
    return f"subnet:{name}"


def split(vertex: str) -> tuple[str, str]:
    """``(prefix, rest)`` of a vertex id: ``("table", "lin1")``; the internet is ``("internet", "")``."""
    prefix, _, rest = vertex.partition(":")
    return prefix, rest


def node_of(vertex: str) -> str | None:
    """The node a core vertex names (None: a pod and its port, the underlay, a subnet, the internet). Device names
    hold no ``/`` (the kernel refuses one), so a device's node is what precedes the last one — a node name the API
    server would refuse may hold one."""
    prefix, rest = split(vertex)
    if prefix in ("host", "table", "nic", "lb"):
        return rest
    if prefix in ("dev", "tunnel"):
        return rest.rpartition("/")[0]
    return None


def place_of(vertex: str) -> str:
    """Where a drawing that shows only nodes, pods, the underlay and the internet puts ``vertex``: ``host:<node>``
    for everything a node holds, ``pod:<key>`` for a pod and its vSwitch port, ``router:<underlay>``,
    ``subnet:<name>``, ``internet``. A plugin vertex id ``<prefix>:<node>/…`` is placed on its node."""
    prefix, rest = split(vertex)
    if prefix in ("pod", "router", "subnet", "internet"):
        return vertex
    if prefix == "port":
        return pod(rest)
    node = node_of(vertex)
    if node is None:  # a plugin's vertex: by convention its id names the node first
        node = rest.partition("/")[0]
    return host(node)


__all__ = ["INTERNET", "VERTEX_KINDS", "dev", "host", "lb", "nic", "node_of", "place_of", "pod", "port", "router",
           "split", "subnet", "table", "tunnel"]
