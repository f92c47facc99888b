"""What reachability answers are about: the peers people name (pods, nodes, external ranges, workloads) and the
connection between two of them. ``cnimodel.policy.analysis`` computes them; its names are these."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Literal

from cnimodel.policy.connset import ConnSet

KIND_LABELS = {"pod": "Pod", "node": "Node", "external": "External"}


@dataclass(frozen=True)
class Peer:
    """A pod (hostNetwork or not), a node, or a range of external addresses."""

    kind: Literal["pod", "node", "external"]
    name: str                      # ns/pod, node name, or lo-hi
    cls: int
    node: str | None = None
    ip: IPv4Address | None = None
    host_network: bool = False
    workload: int | None = None
    # A workload named on the command line stands for its pods: ``name`` is then ``ns/web[Deployment]`` and
    # ``members`` the pods' endpoints (cnimodel/policy/groups.py answers for all of them at once).
    members: tuple[Peer, ...] = ()

    @property
    def label(self) -> str:
        """netpol-analyzer's naming: ``ns/a[Pod]``, ``ns/web[Deployment]``, ``lin1[Node]``,
        ``0.0.0.0-9.255.255.255[External]``."""
        return self.name if self.members else f"{self.name}[{KIND_LABELS[self.kind]}]"

    @property
    def json_name(self) -> str:
        return self.name if self.kind == "pod" else self.label

    @property
    def namespace(self) -> str | None:
        return self.name.split("/", 1)[0] if self.kind == "pod" else None

    @property
    def is_host(self) -> bool:
        return self.kind == "node" or self.host_network


@dataclass(frozen=True)
class Connection:
    """What ``src`` may open to ``dst``. ``conns`` None: not evaluated (see ``note``)."""

    src: Peer
    dst: Peer
    conns: ConnSet | None
    note: str = ""
    # For a workload end: when its pods' answers differ, each distinct answer (``conns`` is then what every
    # pair allows); empty when all pods agree.
    variants: tuple[Variant, ...] = ()


@dataclass(frozen=True)
class Variant:
    """One of the distinct answers among the pod pairs a workload end stands for: what they allow, how many
    pairs give it, and one such pair (``src``, ``dst`` as ``ns/pod`` or endpoint labels)."""

    conns: ConnSet
    pairs: int
    src: str
    dst: str
