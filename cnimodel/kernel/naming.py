"""Names of everything ``netns up`` creates, derived from the plan alone so ``verify`` and ``down`` find them.

Every network namespace starts with the plan's prefix (``cm`` + 5 hex digits of the plan name's SHA-256):

    <prefix>-u                 the underlay: one bridge per underlay subnet, and the router
    <prefix>-n-<node>          a node
    <prefix>-p-<ns>_<pod>      a pod (Kubernetes names hold no ``_``, so node and pod names cannot collide)

Link names must fit IFNAMSIZ (15 characters, no ``/``, ``:`` or white space). Inside a node namespace the
model's own device names are kept (``eth0``, ``cni0``, ``flannel.4096``); a Windows name such as
``vEthernet (cbr0_ep)`` becomes ``vEth-cbr0_ep``. Links in the underlay namespace carry the prefix.
"""

from __future__ import annotations

import hashlib
import re

IFNAMSIZ = 15  # usable characters of a Linux interface name (IFNAMSIZ 16 with the NUL)
NETNS_MAX = 200  # keep namespace names well under NAME_MAX (255) for /run/netns/<name>
_BAD = re.compile(r"[\s/:]")
_WINDOWS_VNIC = re.compile(r"^vEthernet \((.+)\)$")


def _hex(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def plan_prefix(plan_name: str) -> str:
    """``cm`` + 5 hex digits: short enough to leave 8 characters of a link name for the rest."""
    return "cm" + _hex(plan_name, 5)


def valid_ifname(name: str) -> bool:
    """Whether the kernel accepts ``name`` as an interface name (``dev_valid_name``)."""
    return 0 < len(name) <= IFNAMSIZ and name not in (".", "..") and not _BAD.search(name)


def kernel_name(model_name: str) -> str:
    """The Linux interface name for a device the model names: the same name when the kernel takes it,
    ``vEth-<inner>`` for a Windows ``vEthernet (<inner>)`` vNIC, else a shortened name with a hash tail."""
    if valid_ifname(model_name):
        return model_name
    m = _WINDOWS_VNIC.match(model_name)
    base = f"vEth-{m.group(1)}" if m else model_name
    base = _BAD.sub("", base) or "dev"
    if len(base) <= IFNAMSIZ and base not in (".", ".."):
        return base
    return base[:IFNAMSIZ - 5] + "-" + _hex(model_name, 4)


_UNSAFE = re.compile(r"[^\x21-\x7e]|/")  # anything but printable ASCII, and the path separator


def _netns(text: str) -> str:
    """A name for /run/netns/<name>: printable ASCII (pyroute2 and the mount calls take ASCII), ``/`` as ``_``;
    a name that held anything else gets a hash tail, so two names never meet."""
    safe = _UNSAFE.sub("_", text)
    if safe != text.replace("/", "_"):
        safe = f"{safe[:NETNS_MAX - 9]}-{_hex(text, 8)}"
    if len(safe) <= NETNS_MAX:
        return safe
    return safe[:NETNS_MAX - 9] + "-" + _hex(text, 8)


class Names:
    """The names of one plan's namespaces and of the links outside the node namespaces."""

    def __init__(self, plan_name: str) -> None:
        self.plan = plan_name
        self.prefix = plan_prefix(plan_name)

    @property
    def underlay(self) -> str:
        return f"{self.prefix}-u"

    def node(self, node: str) -> str:
        return _netns(f"{self.prefix}-n-{node}")

    def pod(self, pod_key: str) -> str:
        namespace, _, name = pod_key.partition("/")
        return _netns(f"{self.prefix}-p-{namespace}_{name}")

    def owns(self, netns: str) -> bool:
        """Whether a namespace name is one of this plan's."""
        return netns.startswith(self.prefix + "-")

    def subnet_bridge(self, index: int) -> str:
        """The bridge of underlay subnet ``index`` (in the underlay namespace)."""
        return f"{self.prefix}b{index}"

    def uplink_port(self, index: int) -> str:
        """The underlay end of node ``index``'s uplink veth (a port of its subnet's bridge)."""
        return f"{self.prefix}n{index}"

    def pod_veth(self, pod_key: str) -> str:
        """The node end of a pod's veth: ``veth`` + 8 hex digits, the form the bridge CNI plugin uses."""
        return "veth" + _hex(f"{self.prefix}/{pod_key}", 8)
