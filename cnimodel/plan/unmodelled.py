"""Fields of modelled kinds that change the network but are not modelled yet: each named in a warning the
first time it is met (one warning per field per plan), so nothing the user gave is silently dropped.

Kinds the plan reader skips altogether are listed once per kind by the loader; this is the finer grain:
a Pod is modelled, its ``topologySpreadConstraints`` is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cnimodel.plan.errors import Origin, Problems
from cnimodel.plan.fastjson import PodRecord, as_dict
from cnimodel.plan.model import ContainerPort

# pod spec field → what it would change, and what the model does instead
POD_SPEC = {
    "topologySpreadConstraints": "which node a workload's pods land on; the model spreads them by its own rule "
                                 "(docs/workloads.md)",
    "dnsConfig": "the pod's resolv.conf (nameservers, searches); the model gives pods the cluster DNS",
    "hostAliases": "the pod's /etc/hosts; names are not resolved by the model",
}
AFFINITY = {
    "podAffinity": "placement next to other pods; the model places pods by node constraints only",
    "podAntiAffinity": "placement away from other pods; the model places pods by node constraints only",
}
POD_ANNOTATIONS = {
    "k8s.v1.cni.cncf.io/networks": "extra network interfaces (a CNI meta-plugin such as Multus); the model gives "
                                   "each pod its one cluster network interface",
    "kubernetes.io/ingress-bandwidth": "the bandwidth CNI plugin's traffic shaping; not modelled",
    "kubernetes.io/egress-bandwidth": "the bandwidth CNI plugin's traffic shaping; not modelled",
}
SERVICE_SPEC = {
    "trafficDistribution": "which endpoints kube-proxy prefers (topology); the model balances over all of them",
}
SERVICE_ANNOTATIONS = {
    "service.kubernetes.io/topology-mode": "topology-aware routing hints; the model balances over every endpoint",
}
FIX = "nothing to change; the answers ignore it"
# Every key that can lead to a warning, so the common pod (none of them) costs two set checks.
_POD_KEYS = frozenset((*POD_SPEC, "affinity", "dnsPolicy", "initContainers", "containers"))
_POD_KEYS_BUT_CONTAINERS = _POD_KEYS - {"containers"}  # containers matter for their hostIP only
_META_KEYS = frozenset(("annotations",))


class Unmodelled:
    """One plan's scan: remembers the fields already named."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.seen: set[str] = set()

    def _warn(self, field: str, origin: Origin, path: str, what: str) -> None:
        if field in self.seen:
            return
        self.seen.add(field)
        self.problems.warn(origin.at(path), f"{field} is not modelled: it changes {what} (named once; other "
                           "objects may carry it too)", FIX)

    def pod(self, doc: Mapping[str, Any], origin: Origin, at: str = "", host_ports: bool = True) -> None:
        """A Pod (``at`` ""), or a workload's pod template (``at`` its path, e.g. ``spec.template``);
        ``host_ports`` False when the pod maps no hostPort (then no hostIP matters)."""
        spec = doc.get("spec")
        meta = doc.get("metadata")
        prefix = f"{at}." if at else ""
        if isinstance(meta, Mapping) and "annotations" in meta \
                and isinstance(annotations := meta.get("annotations"), Mapping):
            for key in POD_ANNOTATIONS.keys() & annotations.keys():
                self._warn(f"the annotation {key}", origin, f"{prefix}metadata.annotations", POD_ANNOTATIONS[key])
        if not isinstance(spec, Mapping):
            return
        if _POD_KEYS.isdisjoint(spec) or (not host_ports and _POD_KEYS_BUT_CONTAINERS.isdisjoint(spec)):
            return
        for key in POD_SPEC.keys() & spec.keys():
            self._warn(f"spec.{key}", origin, f"{prefix}spec.{key}", POD_SPEC[key])
        if isinstance(affinity := spec.get("affinity"), Mapping):
            for key in AFFINITY.keys() & affinity.keys():
                self._warn(f"spec.affinity.{key}", origin, f"{prefix}spec.affinity.{key}", AFFINITY[key])
        if spec.get("dnsPolicy") in ("Default", "None"):
            self._warn("spec.dnsPolicy", origin, f"{prefix}spec.dnsPolicy",
                       f"the pod's resolv.conf (dnsPolicy {spec['dnsPolicy']}); the model gives pods the cluster DNS")
        for ci, c in enumerate(_items(spec.get("initContainers"))):
            if isinstance(c, Mapping) and c.get("ports"):
                self._warn("spec.initContainers[].ports", origin, f"{prefix}spec.initContainers[{ci}].ports",
                           "the ports a sidecar container serves; the model reads spec.containers[].ports only")
        for ci, c in enumerate(_items(spec.get("containers")) if host_ports else ()):
            for pi, p in enumerate(_items(c.get("ports")) if isinstance(c, Mapping) else ()):
                if isinstance(p, Mapping) and p.get("hostIP"):
                    self._warn("spec.containers[].ports[].hostIP", origin,
                               f"{prefix}spec.containers[{ci}].ports[{pi}].hostIP",
                               "the host address a hostPort binds; the model ignores it")

    def record(self, rec: PodRecord, origin: Origin, ports: tuple[ContainerPort, ...]) -> None:
        """``pod`` for a dump's typed pod record (plan/fastjson.py) and the ports read from it: the dict is made
        only for the few pods that carry a field named here."""
        spec, meta = rec.spec, rec.metadata
        if (meta is not None and meta.annotations is not None) or (spec is not None and (
                spec.topologySpreadConstraints is not None or spec.dnsConfig is not None  # POD_SPEC's keys
                or spec.hostAliases is not None or spec.affinity is not None or spec.initContainers is not None
                or spec.dnsPolicy in ("Default", "None")
                or (any(p.host_port for p in ports)  # (the pod's few ports first: hostIP matters only with them)
                    and any(p.hostIP for c in spec.containers or () for p in c.ports or ())))):
            self.pod(as_dict(rec), origin, host_ports=any(p.host_port for p in ports))

    def template(self, doc: Mapping[str, Any], kind: str, origin: Origin) -> None:
        spec = doc.get("spec")
        if not isinstance(spec, Mapping):
            return
        if kind == "CronJob":
            job = spec.get("jobTemplate")
            spec = job.get("spec") if isinstance(job, Mapping) else None
            at = "spec.jobTemplate.spec.template"
        else:
            at = "spec.template"
        template = spec.get("template") if isinstance(spec, Mapping) else None
        if isinstance(template, Mapping):
            self.pod(template, origin, at)

    def service(self, doc: Mapping[str, Any], origin: Origin) -> None:
        spec, meta = doc.get("spec"), doc.get("metadata")
        if isinstance(spec, Mapping):
            for key in SERVICE_SPEC.keys() & spec.keys():
                self._warn(f"Service spec.{key}", origin, f"spec.{key}", SERVICE_SPEC[key])
            if spec.get("allocateLoadBalancerNodePorts") is False:
                self._warn("Service spec.allocateLoadBalancerNodePorts", origin, "spec.allocateLoadBalancerNodePorts",
                           "whether a LoadBalancer Service gets nodePorts; the model allocates them")
        if isinstance(meta, Mapping) and isinstance(annotations := meta.get("annotations"), Mapping):
            for key in SERVICE_ANNOTATIONS.keys() & annotations.keys():
                self._warn(f"the annotation {key}", origin, "metadata.annotations", SERVICE_ANNOTATIONS[key])


def _items(value: Any) -> list[Any]:
    """A list field's items; nothing when it is not a list (the pod reader reports that with its path)."""
    return value if isinstance(value, list) else []
