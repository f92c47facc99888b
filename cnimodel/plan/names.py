"""The one grammar of endpoint names, for every command and the Python API (docs/api.md, "Endpoint names"):

- ``NAMESPACE/NAME`` a pod, else a Service (trace), else a workload's pods; ``NAMESPACE/NAME[Kind]`` picks the
  kind (``[Pod]``, ``[Service]``, ``[Deployment]`` …; any case);
- ``NAME[Kind]``: ``NAME[Deployment]``, ``NAME[Pod]``, ``NAME[Service]`` … are in namespace ``default``; other
  kinds are cluster-scoped objects (``[Namespace]``, ``[ClusterPlan]``; check's --object);
- ``NAMESPACE/PATTERN`` with ``*``, ``?`` or ``[set]`` (a bracket that is no kind): the pods whose ``ns/name``
  matches (reach's --from/--to);
- ``NODE`` or ``NODE[Node]``: a node; ``NODE:PORT``: a NodePort on it;
- ``A.B.C.D``: an address (a pod's, a node's, a Service's ClusterIP, or outside); ``A.B.C.D/N``: a range.

``parse_endpoint`` reads a word into an ``EndpointName``; the engines look it up (``resolve_pods`` here,
``cnimodel.trace.resolve``, ``Reachability.resolve``). Every failure is an ``EndpointError``.

>>> [p.name for p in resolve_pods(plan, "web/iis")]           # doctest: +SKIP
['iis-5c8f6d9b7z-0', 'iis-5c8f6d9b7z-1']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from typing import Literal

from cnimodel.plan.errors import EndpointError
from cnimodel.plan.model import Plan, Pod

_KIND = re.compile(r"[A-Za-z]+")
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[object, ...]:
    """Sort key that orders ``web-2`` before ``web-10`` (replica ordinals), so "the first pod" of a workload
    is its ordinal 0, as the controller made it, and not whatever sorts first as text."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(name))


@dataclass(frozen=True)
class EndpointName:
    """A word of the grammar (see the module doc). ``kind``: ``object`` (namespace, name, ``object_kind`` None
    or the kind in brackets, ``Pod``/``Service``/``Node`` spelt so), ``pattern`` (namespace, name with
    wildcards), ``node`` (name), ``nodeport`` (name, port), ``address`` (ip) or ``range`` (network)."""

    word: str
    kind: Literal["object", "pattern", "node", "nodeport", "address", "range"]
    namespace: str = ""
    name: str = ""
    object_kind: str | None = None
    ip: IPv4Address | None = None
    network: IPv4Network | None = None
    port: int | None = None

    @property
    def key(self) -> str:
        """``namespace/name`` of an object or pattern (``name`` of a cluster-scoped object)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


_SPELT = {"pod": "Pod", "service": "Service", "node": "Node"}
WORKLOAD_KINDS = frozenset({"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet",
                            "Job", "CronJob"})


def _is_kind(text: str) -> bool:
    """``[Deployment]`` (any case for the kinds cnimodel names), ``[ClusterPlan]``: a kind; ``[ab]`` is not."""
    return bool(_KIND.fullmatch(text)) and (text[0].isupper() or text.lower() in _SPELT
                                             or text.lower() in {k.lower() for k in WORKLOAD_KINDS})


def parse_endpoint(word: str) -> EndpointName:
    """Read ``word`` by the grammar; raises EndpointError saying how to write it."""
    text = word.strip()
    base, kind = text, None
    if text.endswith("]") and "[" in text:
        base, kind = text[:-1].rsplit("[", 1)
        if not _is_kind(kind):
            if "/" in base:  # ns/db-[ab]: a set of characters, as the shell reads it
                return EndpointName(text, "pattern", namespace=base.split("/", 1)[0], name=text.split("/", 1)[1])
            raise EndpointError(f"{word!r}: write a kind in brackets, e.g. default/web[Deployment] or lin1[Node]")
        kind = _SPELT.get(kind.lower(), kind)
    if not base:
        raise EndpointError(f"{word!r} names nothing: write NAMESPACE/NAME, NODE, NODE:PORT or an IPv4 address")
    if kind == "Node":
        if "/" in base or ":" in base:
            raise EndpointError(f"{word!r}: a node is NAME[Node], without a namespace or port")
        return EndpointName(text, "node", name=base)
    if "/" in base:
        if kind is None and base.split("/", 1)[1].isdigit():
            return EndpointName(text, "range", network=_network(word, base))
        ns, _, name = base.partition("/")
        if not ns:
            raise EndpointError(f"{word!r}: the namespace is empty; write NAMESPACE/NAME, e.g. default/web")
        if not name or "/" in name:
            raise EndpointError(f"{word!r} is not NAMESPACE/NAME or NAMESPACE/NAME[Kind]")
        if kind is None and any(c in base for c in "*?["):
            return EndpointName(text, "pattern", namespace=ns, name=name)
        return EndpointName(text, "object", namespace=ns, name=name, object_kind=kind)
    if kind is not None:  # NAME[Deployment]: in namespace default; NAME[Namespace]: a cluster-scoped object
        namespaced = kind in ("Pod", "Service") or kind.lower() in {k.lower() for k in WORKLOAD_KINDS}
        return EndpointName(text, "object", namespace="default" if namespaced else "", name=base,
                            object_kind=kind)
    if ":" in base and base.count(":") == 1:
        name, _, port = base.partition(":")
        if not port.isdigit() or not name:
            raise EndpointError(f"{word!r}: write a NodePort as NODE:PORT, e.g. win1:30080")
        return EndpointName(text, "nodeport", name=name, port=int(port))
    try:
        ip = ip_address(base)
    except ValueError:
        return EndpointName(text, "node", name=base)
    if not isinstance(ip, IPv4Address):
        raise EndpointError(f"{word}: an IPv6 address; cnimodel models IPv4")
    return EndpointName(text, "address", ip=ip)


def _network(word: str, base: str) -> IPv4Network:
    try:
        net = ip_network(base, strict=False)
    except ValueError:
        raise EndpointError(f"{word!r} is neither NAMESPACE/NAME nor an IPv4 range such as 10.244.0.0/16") from None
    if not isinstance(net, IPv4Network):
        raise EndpointError(f"{word}: an IPv6 range; cnimodel models IPv4")
    return net


def resolve_pods(plan: Plan, name: str | EndpointName) -> list[Pod]:
    """The pods ``ns/name`` or ``ns/name[Kind]`` stands for, in a deterministic order (namespace, then natural
    name order); a pod of that name wins over a workload unless a kind other than ``Pod`` is given. Raises
    EndpointError naming what exists instead."""
    e = name if isinstance(name, EndpointName) else parse_endpoint(name)
    if e.kind != "object" or not e.namespace:
        raise EndpointError(f"{e.word!r} is not a pod or workload: write NAMESPACE/NAME or NAMESPACE/NAME[Kind]")
    ns, short, kind = e.namespace, e.name, e.object_kind
    if kind in (None, "Pod"):
        hit = [p for p in plan.pods if p.namespace == ns and p.name == short]
        if hit:
            return hit
        if kind == "Pod":
            raise EndpointError(f"no pod {ns}/{short} in the plan" + _hint(plan, ns))
    kinds = {w.kind.lower(): w.kind for w in plan.workloads} | {p.owner.kind.lower(): p.owner.kind
                                                               for p in plan.pods if p.owner is not None}
    want = kinds.get(kind.lower(), kind) if kind is not None else None  # [deployment] reads as [Deployment]
    pods = [p for p in plan.pods if p.owner is not None and p.owner.namespace == ns and p.owner.name == short
            and (want is None or p.owner.kind == want)]
    if pods:
        return sorted(pods, key=lambda p: natural_key(p.name))
    same = [w for w in plan.workloads if w.namespace == ns and w.name == short]
    if same and want is not None and all(w.kind != want for w in same):
        have = ", ".join(sorted(str(w.ref) for w in same))
        raise EndpointError(f"{ns}/{short} is {have}, not a {want}")
    if same:
        w = next((w for w in same if want is None or w.kind == want), same[0])
        raise EndpointError(f"{w.ref} has no pods: it has no replicas, none could be scheduled (see `cnimodel "
                         "check`), or spec.expand is false")
    what = "pod or workload" if kind is None else ("pod" if kind == "Pod" else want or kind)
    raise EndpointError(f"no {what} {ns}/{short} in the plan" + _hint(plan, ns))


def _hint(plan: Plan, ns: str) -> str:
    """A few names of the namespace, so a typo shows its fix; the namespaces when this one is empty."""
    names = sorted({str(p.owner) for p in plan.pods if p.owner is not None and p.owner.namespace == ns}
                   | {f"{p.key}[Pod]" for p in plan.pods if p.namespace == ns and p.owner is None})
    if names:
        return f"; {ns} holds {', '.join(names[:6])}" + (" …" if len(names) > 6 else "")
    spaces = sorted({p.namespace for p in plan.pods})
    return (f"; no pod is in namespace {ns!r} (namespaces with pods: {', '.join(spaces[:8])}"
            + (" …" if len(spaces) > 8 else "") + ")") if spaces else "; the plan has no pods"
