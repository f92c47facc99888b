"""A large ``kubectl get … -o json`` List decoded without building what the model never reads.

A 150,000-pod dump is over a gigabyte of JSON, most of it ``managedFields``, ``status.conditions``,
``containerStatuses``, a Node's ``status.images`` and annotations. ``json.loads`` builds all of it as Python
objects (several gigabytes). Here the List's items stay raw slices of
the file's bytes; each Pod and Node is decoded into a Struct that names only the fields the plan readers use
(msgspec skips the rest in C). A Pod whose fields have the types the fast reader takes stays a typed
``PodRecord``, read into a Pod without a dict (``plan/kube.py`` ``pod_from_record``); any other Pod, and every
Node, is turned into the same plain dict ``json.loads`` would give, less the skipped fields. Every other kind is
decoded whole. Tests check that a dump gives the same Plan, warnings and errors through either path. For a file
that is not a ``kind: List``, ``decode`` returns None and the loader uses ``json.loads``.

An EndpointSlice (10,000 of them beside 10,000 Services on a large plan, 100,000 endpoints) is decoded into a
typed ``SliceRecord`` whose fields are exactly those plan/shapes.py checks, with the same types: a slice that
decodes fits its shape, and the Service catalog reads the record (plan/kube.py ``kept_record``); the frozen
body, which nothing else reads on the way to an answer, is decoded again from the slice's bytes when asked for.
A slice that does not decode so is read whole, as before, and its misfit reported with its path.

Adding a Pod or Node field to a plan reader means adding it here too (``PodSpec``, ``Container`` … and the
record's ``RecordSpec`` …; a test holds the two field lists equal); an EndpointSlice field to its shape, adding
it to the slice record (a test holds the record to the shape).
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

ENABLED = True  # tests switch the fast path off to compare it with json.loads

_Omit = {"omit_defaults": True, "forbid_unknown_fields": False, "gc": False}

class Meta(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    name: Any = None
    namespace: Any = None
    labels: Any = None
    ownerReferences: Any = None
    annotations: Any = None  # Nodes: flannel's backend data; Pods: extra-network annotations (plan/unmodelled.py)

NodeMeta = Meta

class Container(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    image: Any = None
    ports: Any = None

class PodSpec(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    # what plan/kube.py (parse_pod), plan/schedule.py and plan/unmodelled.py read of a pod's spec
    nodeName: Any = None
    hostNetwork: Any = None
    containers: list[Container] | None = None
    initContainers: Any = None
    nodeSelector: Any = None
    affinity: Any = None
    tolerations: Any = None
    serviceAccountName: Any = None
    serviceAccount: Any = None
    runtimeClassName: Any = None
    topologySpreadConstraints: Any = None
    dnsPolicy: Any = None
    dnsConfig: Any = None
    hostAliases: Any = None

class PodStatus(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    podIP: Any = None

class Pod(msgspec.Struct, tag_field="kind", tag="Pod", **_Omit):  # type: ignore[misc,call-arg]
    apiVersion: Any = None
    metadata: Meta | None = None
    spec: PodSpec | None = None
    status: PodStatus | None = None

class NodeSpec(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    podCIDR: Any = None
    podCIDRs: Any = None
    taints: Any = None

class NodeStatus(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    addresses: Any = None
    allocatable: Any = None
    capacity: Any = None
    nodeInfo: Any = None

class Node(msgspec.Struct, tag_field="kind", tag="Node", **_Omit):  # type: ignore[misc,call-arg]
    apiVersion: Any = None
    metadata: NodeMeta | None = None
    spec: NodeSpec | None = None
    status: NodeStatus | None = None

# A Pod as most are: the fields the plan's fast reader (plan/kube.py ``pod_from_record``) takes typed, so that
# msgspec checks their types in C and no dict is built; a pod whose types differ fails here and is decoded by
# the loose Structs above and read through the dict readers, which say what is wrong.
class RecordPort(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    containerPort: int
    protocol: str | None = None
    name: str | None = None
    hostPort: int | None = None
    hostIP: Any = None

class RecordContainer(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    image: Any = None
    ports: list[RecordPort] | None = None

class RecordMeta(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    name: str
    namespace: str | None = None
    labels: dict[str, str] | None = None
    ownerReferences: Any = None
    annotations: Any = None

class RecordSpec(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    # PodSpec's fields, typed where the fast reader takes them
    nodeName: str | None = None
    hostNetwork: bool = False
    containers: list[RecordContainer] | None = None
    initContainers: Any = None
    nodeSelector: Any = None
    affinity: Any = None
    tolerations: Any = None
    serviceAccountName: str | None = None
    serviceAccount: str | None = None
    runtimeClassName: str | None = None
    topologySpreadConstraints: Any = None
    dnsPolicy: Any = None
    dnsConfig: Any = None
    hostAliases: Any = None

class RecordStatus(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    podIP: str | None = None

class PodRecord(msgspec.Struct, tag_field="kind", tag="Pod", **_Omit):  # type: ignore[misc,call-arg]
    apiVersion: Any = None
    metadata: RecordMeta | None = None
    spec: RecordSpec | None = None
    status: RecordStatus | None = None


# An EndpointSlice as plan/shapes.py SHAPES["EndpointSlice"] checks it (discovery/v1): every field the shape
# names, of the shape's type or null; the others skipped. A label value: "label" (str, int, float or bool).
Label = str | int | float | bool | None

class SliceOwner(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    kind: str | None = None
    name: str | None = None
    controller: bool | None = None

class SliceMeta(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    name: str | None = None
    namespace: str | None = None
    labels: dict[str, Label] | None = None
    annotations: dict[str, Label] | None = None
    ownerReferences: list[SliceOwner | None] | None = None

class SliceConditions(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None

class SliceRef(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    kind: str | None = None
    name: str | None = None
    namespace: str | msgspec.UnsetType | None = msgspec.UNSET  # (left out: the slice's; null: null, as .get says)

class SliceZone(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    name: str | None = None

class SliceHints(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    forZones: list[SliceZone | None] | None = None

class SliceEndpoint(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    addresses: list[str | None] | None = None
    conditions: SliceConditions | None = None
    nodeName: str | None = None
    zone: str | None = None
    targetRef: SliceRef | None = None
    hints: SliceHints | None = None

class SlicePort(msgspec.Struct, **_Omit):  # type: ignore[misc,call-arg]
    name: str | None = None
    port: int | None = None
    protocol: str | None = None
    appProtocol: str | None = None

class SliceRecord(msgspec.Struct, tag_field="kind", tag="EndpointSlice", **_Omit):  # type: ignore[misc,call-arg]
    apiVersion: Any = msgspec.UNSET
    metadata: SliceMeta | None = None
    addressType: str | None = None
    endpoints: list[SliceEndpoint | None] | None = None
    ports: list[SlicePort | None] | None = None


class SliceItem(NamedTuple):
    """A listed EndpointSlice that fits its shape: its record and its bytes (for the body, when asked for)."""

    record: SliceRecord
    raw: Any


def as_dict(record: PodRecord) -> dict[str, Any]:
    """The record as the plain dict the loose path gives for the same pod (the fields the readers use)."""
    return _builtins(record)  # type: ignore[no-any-return]


class ListDoc(msgspec.Struct):
    kind: Any = None
    apiVersion: Any = None
    items: list[msgspec.Raw] | None = None

_list = msgspec.json.Decoder(ListDoc)
_typed = msgspec.json.Decoder(Pod | Node)
_record = msgspec.json.Decoder(PodRecord | SliceRecord)
_any = msgspec.json.Decoder()
_builtins = msgspec.to_builtins


class Items:
    """The items of a List, decoded one at a time as they are read (each once)."""

    def __init__(self, raws: list[Any]) -> None:
        self._raws = raws

    def __len__(self) -> int:
        return len(self._raws)

    def __iter__(self) -> Iterator[Any]:
        for raw in self._raws:
            yield item(raw)


def item(raw: Any) -> Any:
    """One raw item: a well-typed Pod as a ``PodRecord``, a fitting EndpointSlice as a ``SliceItem``, another Pod
    or a Node through its Struct (as a dict), anything else whole."""
    try:
        rec = _record.decode(raw)
        if type(rec) is PodRecord:
            return rec
        meta = rec.metadata
        if meta is not None and type(meta.name) is str and meta.namespace != "":
            return SliceItem(rec, bytes(memoryview(raw)))  # (a copy: a view would hold the whole file mapped)
        return _any.decode(raw)  # no name, or an empty namespace: the dict readers say what they say of it
    except msgspec.ValidationError:
        pass
    try:
        return _builtins(_typed.decode(raw))
    except msgspec.ValidationError:  # another kind, or a Pod/Node a Struct cannot hold (bad types): whole
        return _any.decode(raw)


def decode_whole(raw: Any) -> Any:
    """An item's bytes decoded whole, as ``json.loads`` gives them."""
    return _any.decode(raw)


def read(path: Path) -> bytes | memoryview:
    """The file's bytes, mapped rather than copied when it is large (the items' raw slices point into it)."""
    size = path.stat().st_size
    if size < 1 << 24:
        return path.read_bytes()
    with path.open("rb") as f:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(m, "madvise"):
        m.madvise(mmap.MADV_SEQUENTIAL)
    return memoryview(m)


def decode(data: bytes | memoryview) -> dict[str, Any] | None:
    """A ``kind: List`` document whose ``items`` is an ``Items``; None when the text is not
    a List, or it is not valid JSON (the caller's ``json.loads`` then says where)."""
    if not ENABLED:
        return None
    try:
        doc = _list.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if doc.items is None or not (doc.kind == "List" or (isinstance(doc.kind, str) and doc.kind.endswith("List"))):
        return None
    return {"apiVersion": doc.apiVersion, "kind": doc.kind, "items": Items(doc.items)}
