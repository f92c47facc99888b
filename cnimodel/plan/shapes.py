"""The shapes of the Kubernetes, Calico and AdminNetworkPolicy objects the plan keeps whole for the engines:
every field an engine reads, with the type it must have. An object is checked once, when it is read, so the
engines can trust a mapping to be a mapping; a field of another type is an error naming its path and the fix.

A shape is a type name (``str``, ``int``, ``num``, ``bool``, ``port`` for an int-or-string port, ``label`` for a
label value, ``any``), a dict of field shapes (a mapping; unknown fields are left to plan/unmodelled.py), a
one-item list (a list of that shape), or ``("map", shape)`` (a mapping from strings to that shape). Shapes
follow the APIs' Go types (k8s.io/api core/v1, discovery/v1, networking/v1; projectcalico.org/v3;
policy.networking.k8s.io/v1alpha1).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from cnimodel.plan.errors import Origin, Problems
from cnimodel.plan.fields import freeze, thaw

Shape = Any

LABELS: Shape = ("map", "label")
META: Shape = {"name": "str", "namespace": "str", "labels": LABELS, "annotations": LABELS,
               "ownerReferences": [{"kind": "str", "name": "str", "controller": "bool"}]}
SELECTOR: Shape = {"matchLabels": LABELS,
                   "matchExpressions": [{"key": "str", "operator": "str", "values": ["label"]}]}
TOLERATION: Shape = {"key": "str", "operator": "str", "value": "str", "effect": "str", "tolerationSeconds": "int"}
REF: Shape = {"kind": "str", "name": "str", "namespace": "str"}

_NP_PEER: Shape = {"podSelector": SELECTOR, "namespaceSelector": SELECTOR,
                   "ipBlock": {"cidr": "str", "except": ["str"]}}
_NP_PORT: Shape = {"protocol": "str", "port": "port", "endPort": "int"}
_CALICO_ENTITY: Shape = {"nets": ["str"], "notNets": ["str"], "selector": "str", "notSelector": "str",
                         "namespaceSelector": "str", "ports": ["port"], "notPorts": ["port"],
                         "serviceAccounts": {"names": ["str"], "selector": "str"},
                         "services": {"name": "str", "namespace": "str"}}
_CALICO_RULE: Shape = {"action": "str", "protocol": "port", "notProtocol": "port", "ipVersion": "int",
                       "icmp": {"type": "int", "code": "int"}, "notICMP": {"type": "int", "code": "int"},
                       "source": _CALICO_ENTITY, "destination": _CALICO_ENTITY}
_CALICO_POLICY: Shape = {"tier": "str", "order": "num", "selector": "str", "namespaceSelector": "str",
                         "serviceAccountSelector": "str", "types": ["str"], "ingress": [_CALICO_RULE],
                         "egress": [_CALICO_RULE], "doNotTrack": "bool", "preDNAT": "bool", "applyOnForward": "bool"}
_ANP_PODS: Shape = {"namespaceSelector": SELECTOR, "podSelector": SELECTOR}
_ANP_PEER: Shape = {"namespaces": SELECTOR, "pods": _ANP_PODS, "nodes": SELECTOR, "networks": ["str"]}
_ANP_PORT: Shape = {"portNumber": {"protocol": "str", "port": "int"}, "namedPort": "str",
                    "portRange": {"protocol": "str", "start": "int", "end": "int"}}
_ANP: Shape = {"priority": "int", "subject": {"namespaces": SELECTOR, "pods": _ANP_PODS},
               "ingress": [{"name": "str", "action": "str", "from": [_ANP_PEER], "ports": [_ANP_PORT]}],
               "egress": [{"name": "str", "action": "str", "to": [_ANP_PEER], "ports": [_ANP_PORT]}]}
_CONTAINER: Shape = {
    "name": "str", "image": "str", "command": ["str"], "args": ["str"],
    "env": [{"name": "str", "value": "str", "valueFrom": {"configMapKeyRef": {"name": "str", "key": "str"}}}],
    "envFrom": [{"configMapRef": {"name": "str"}, "prefix": "str"}],
    "ports": [{"containerPort": "int", "hostPort": "int", "protocol": "str", "name": "str", "hostIP": "str"}]}
_NODE_TERM: Shape = {"matchExpressions": [{"key": "str", "operator": "str", "values": ["label"]}]}
POD_SPEC: Shape = {
    "containers": [_CONTAINER], "initContainers": [_CONTAINER], "nodeSelector": LABELS,
    "tolerations": [TOLERATION], "hostNetwork": "bool", "volumes": [{"name": "str", "configMap": {"name": "str"}}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [_NODE_TERM]}}}}
_ENDPOINT_ADDRESS: Shape = {"ip": "str", "nodeName": "str", "hostname": "str", "targetRef": REF}

SHAPES: dict[str, Shape] = {
    "Service": {"metadata": META, "spec": {
        "type": "str", "clusterIP": "str", "clusterIPs": ["str"], "selector": LABELS, "sessionAffinity": "str",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": "int"}}, "externalTrafficPolicy": "str",
        "internalTrafficPolicy": "str", "externalIPs": ["str"], "loadBalancerIP": "str", "ipFamilies": ["str"],
        "ipFamilyPolicy": "str", "publishNotReadyAddresses": "bool", "healthCheckNodePort": "int",
        "loadBalancerSourceRanges": ["str"], "allocateLoadBalancerNodePorts": "bool", "externalName": "str",
        "ports": [{"name": "str", "protocol": "str", "port": "int", "targetPort": "port", "nodePort": "int",
                   "appProtocol": "str"}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "str", "hostname": "str", "ipMode": "str"}]}}},
    "EndpointSlice": {"metadata": META, "addressType": "str", "endpoints": [{
        "addresses": ["str"], "conditions": {"ready": "bool", "serving": "bool", "terminating": "bool"},
        "nodeName": "str", "zone": "str", "targetRef": REF, "hints": {"forZones": [{"name": "str"}]}}],
        "ports": [{"name": "str", "port": "int", "protocol": "str", "appProtocol": "str"}]},
    "Endpoints": {"metadata": META, "subsets": [{
        "addresses": [_ENDPOINT_ADDRESS], "notReadyAddresses": [_ENDPOINT_ADDRESS],
        "ports": [{"name": "str", "port": "int", "protocol": "str"}]}]},
    "NetworkPolicy": {"metadata": META, "spec": {
        "podSelector": SELECTOR, "policyTypes": ["str"], "selector": "str",
        "ingress": [{"from": [_NP_PEER], "ports": [_NP_PORT], **_CALICO_RULE}],
        "egress": [{"to": [_NP_PEER], "ports": [_NP_PORT], **_CALICO_RULE}],
        **{k: v for k, v in _CALICO_POLICY.items() if k not in ("ingress", "egress")}}},
    "GlobalNetworkPolicy": {"metadata": META, "spec": _CALICO_POLICY},
    "Tier": {"metadata": META, "spec": {"order": "num", "defaultAction": "str"}},
    "IPPool": {"metadata": META, "spec": {
        "cidr": "str", "blockSize": "int", "ipipMode": "str", "vxlanMode": "str", "natOutgoing": "bool",
        "disabled": "bool", "nodeSelector": "str", "allowedUses": ["str"]}},
    "IPAMConfiguration": {"metadata": META, "spec": {"strictAffinity": "bool", "maxBlocksPerHost": "int"}},
    "AdminNetworkPolicy": {"metadata": META, "spec": _ANP},
    "BaselineAdminNetworkPolicy": {"metadata": META, "spec": _ANP},
    "ConfigMap": {"metadata": META, "data": ("map", "str"), "binaryData": ("map", "str")},
    "ServiceAccount": {"metadata": META},
    # kept whole besides its workload reading: cnimodel.discover reads the plugin daemon's flags in it
    "DaemonSet": {"metadata": META, "spec": {"selector": SELECTOR, "template": {"metadata": META, "spec": POD_SPEC}}},
    "RuntimeClass": {"metadata": META, "handler": "str",
                     "scheduling": {"nodeSelector": LABELS, "tolerations": [TOLERATION]}},
}

_SCALARS: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a string"),
    "int": ((int,), "a whole number"),
    "num": ((int, float), "a number"),
    "bool": ((bool,), "true or false"),
    "port": ((int, str), "a port number or a port name"),
    "label": ((str, int, float, bool), "a string (quote it)"),
}
_SAY = {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false"}


def _found(value: Any) -> str:
    return _SAY.get(type(value), type(value).__name__)


_EXACT: dict[str, frozenset[type]] = {name: frozenset(types) for name, (types, _) in _SCALARS.items()}


def fits(value: Any, shape: Shape) -> bool:
    """Whether every field of ``value`` has the type ``shape`` gives: the quick pass, with no path built (10,000
    Services and their EndpointSlices are checked in a fraction of their reading)."""
    if value is None:
        return True
    ts = type(shape)
    if ts is str:
        return shape == "any" or type(value) in _EXACT[shape]
    if ts is dict:
        if type(value) is not dict:
            return False
        for k, v in value.items():
            sub = shape.get(k)
            if sub is not None and v is not None and not fits(v, sub):
                return False
        return True
    if ts is list:
        if type(value) is not list:
            return False
        sub = shape[0]
        return all(fits(v, sub) for v in value)
    if type(value) is not dict:  # ("map", shape)
        return False
    sub = shape[1]
    return all(fits(v, sub) for v in value.values())


class Misfit(Exception):
    """A field whose type is not the one its shape gives (``check_shape`` then reports which)."""


_PLAIN = frozenset((str, int, float, bool, type(None)))
_NULL = frozenset((type(None),))


def frozen_fitting(value: Any, shape: Shape | None) -> Any:
    """``freeze(value)`` (plan/fields.py), checking on the way what ``fits`` checks: one walk over a kept object
    instead of two. Raises Misfit where a field has another type than ``shape`` gives (None: no shape).

    The walk freezes ``value`` in place: its dicts become the frozen copy's (each wrapped read-only, its lists
    and unshaped containers replaced by frozen ones), so that a large object is not copied. The caller gives an
    object decoded for it alone and reads it no more; after a Misfit, ``thaw(value)`` is the object as given."""
    if value is None or shape is None:
        return freeze(value)
    walk = _WALKS.get(id(shape))
    if walk is None:
        walk = _WALKS[id(shape)] = (_walk(shape), shape)  # (the shape kept: its id stays its own)
    try:
        return walk[0](value)
    except _Shared:  # a YAML alias: one dict at two places, met again once frozen; walk an unshared copy
        return walk[0](thaw(value))


_WALKS: dict[int, tuple[Callable[[Any], Any], Shape]] = {}


class _Shared(Exception):
    """A value frozen already: the object reaches it twice (decoders give dicts and lists, never frozen ones)."""


def _misfit(v: Any) -> Exception:
    return _Shared() if type(v) in (MappingProxyType, tuple) else Misfit()


def _walk(shape: Shape) -> Callable[[Any], Any]:
    """The freezing check for one shape, its sub-shapes resolved once (values given are never None)."""
    if shape is None or shape == "any":
        return freeze
    ts = type(shape)
    if ts is str:
        ok = _EXACT[shape]

        def scalar(v: Any) -> Any:
            if type(v) not in ok:
                raise Misfit
            return v  # (a plain scalar: freeze gives it back)
        return scalar
    if ts is list:
        if type(shape[0]) is str and shape[0] != "any":  # a list of scalars: checked without a call each
            allowed = _EXACT[shape[0]] | {type(None)}

            def scalars(v: Any) -> Any:
                if type(v) is not list:
                    raise _misfit(v)
                for x in v:
                    if type(x) not in allowed:
                        raise Misfit
                return tuple(v)
            return scalars
        item = _walk(shape[0])

        def items(v: Any) -> Any:
            if type(v) is not list:
                raise _misfit(v)
            return tuple([x if x is None else item(x) for x in v])
        return items
    if ts is tuple and type(shape[1]) is str and shape[1] != "any":  # ("map", a scalar): labels, most of all
        allowed = _EXACT[shape[1]] | {type(None)}

        def scalar_map(v: Any) -> Any:
            if type(v) is not dict:
                raise _misfit(v)
            for x in v.values():
                if type(x) not in allowed:
                    raise Misfit
            return MappingProxyType(v)
        return scalar_map
    if ts is tuple:  # ("map", shape)
        each = _walk(shape[1])

        def mapping(v: Any) -> Any:
            if type(v) is not dict:
                raise _misfit(v)
            for k, x in v.items():
                if x is not None and (y := each(x)) is not x:
                    v[k] = y  # (a value replaced, no key added: the iteration stays valid)
            return MappingProxyType(v)
        return mapping
    field = {k: _walk(sub) for k, sub in shape.items()}.get
    # the scalar types each field takes (a field the shape leaves out, or "any": every one; a mapping or list
    # field: none but null), so that a scalar is checked without a call
    accept = {k: _PLAIN if sub == "any" else _EXACT[sub] | {type(None)} if type(sub) is str else _NULL
              for k, sub in shape.items()}.get

    def record(v: Any) -> Any:
        if type(v) is not dict:
            raise _misfit(v)
        for k, x in v.items():
            tx = type(x)
            if tx in _PLAIN:
                if tx not in accept(k, _PLAIN):
                    raise Misfit
                continue
            f = field(k)
            if f is None:  # a field the engines do not read: frozen as it is
                v[k] = freeze(x)
            elif (y := f(x)) is not x:
                v[k] = y
        return MappingProxyType(v)
    return record


def check_shape(value: Any, shape: Shape, origin: Origin, problems: Problems, path: str = "") -> bool:
    """Report every field of ``value`` whose type is not the one ``shape`` gives; True when all are right."""
    if not path and fits(value, shape):
        return True
    if value is None or shape == "any":
        return True  # a field left out (or null): the engines take their defaults
    here = origin.at(path) if path else origin
    if isinstance(shape, str):
        types, said = _SCALARS[shape]
        if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
            return True
        problems.error(here, f"expected {said}, found {_found(value)} {_short(value)}", f"write {said} here")
        return False
    if isinstance(shape, tuple):  # ("map", shape): string keys, each value of that shape
        if not isinstance(value, dict):
            problems.error(here, f"expected a mapping, found {_found(value)}", "write key: value pairs here")
            return False
        return all([check_shape(v, shape[1], origin, problems, f"{path}[{k}]") for k, v in value.items()])
    if isinstance(shape, list):
        if not isinstance(value, list):
            problems.error(here, f"expected a list, found {_found(value)}", "write a list here (- item per line)")
            return False
        return all([check_shape(v, shape[0], origin, problems, f"{path}[{i}]") for i, v in enumerate(value)])
    if not isinstance(value, dict):
        problems.error(here, f"expected a mapping, found {_found(value)}", "write key: value pairs here")
        return False
    return all([check_shape(value[k], sub, origin, problems, _join(path, k)) for k, sub in shape.items()
                if k in value])


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"
