"""Field readers shared by the policy front-ends: selectors, CIDRs and ports, each reporting problems at
their field path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any

from cnimodel.plan import Origin, Problems
from cnimodel.policy.labelselector import parse_label_selector
from cnimodel.policy.selectors import All, Sel, SelectorError, is_mapping, parse_calico

_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


def label_selector(data: Any, origin: Origin, problems: Problems) -> Sel:
    """A Kubernetes LabelSelector at ``origin``; problems are reported below it."""
    sel, errs = parse_label_selector(data)
    for path, msg in errs:
        problems.error(origin.at(path), msg, "see the LabelSelector reference (matchLabels, matchExpressions)")
    return sel


def calico_selector(text: Any, origin: Origin, problems: Problems) -> Sel | None:
    """A Calico selector expression at ``origin``; None (after reporting) when it does not parse."""
    if text is None:
        return All()
    if not isinstance(text, str):
        problems.error(origin, f"expected a selector expression string, found {text!r}",
                       "write it like: app == 'web' && has(tier)")
        return None
    try:
        return parse_calico(text)
    except SelectorError as e:
        problems.error(origin, f"malformed selector {text!r}: {e}",
                       "Calico selectors look like: app == 'web' && env in {'a', 'b'} && !has(canary)")
        return None


def cidr(value: Any, origin: Origin, problems: Problems, *, lenient: bool = False) -> IPv4Network | None:
    """An IPv4 CIDR (``lenient``: host bits allowed, as Kubernetes accepts for ipBlock); None for IPv6 (with
    a warning: this model is IPv4) or invalid input (with an error)."""
    if not isinstance(value, str) or "/" not in value:
        problems.error(origin, f"expected a CIDR like 10.0.0.0/8, found {value!r}", "write a.b.c.d/len")
        return None
    try:
        net = ip_network(value.strip(), strict=not lenient)
    except ValueError as e:
        problems.error(origin, f"{value!r} is not a valid CIDR ({e})",
                       "write the network address, e.g. 10.0.0.0/8" if "host bits" in str(e) else "write a.b.c.d/len")
        return None
    if isinstance(net, IPv6Network):
        problems.warn(origin, f"{value} is IPv6; cnimodel models IPv4 traffic, so it matches nothing here")
        return None
    return net


def calico_net(value: Any, origin: Origin, problems: Problems) -> IPv4Network | None:
    """Calico ``nets`` entries: a CIDR or a bare address (a /32); host bits are masked as Calico does."""
    if isinstance(value, str) and "/" not in value:
        value = value + ("/128" if ":" in value else "/32")
    return cidr(value, origin, problems, lenient=True)


def port_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid named port (an IANA_SVC_NAME), or None."""
    if not _IANA_SVC_NAME.match(name) or "--" in name or not re.search(r"[a-z]", name):
        return (f"{name!r} is not a valid port name (up to 15 lowercase letters, digits and '-', at least one "
                "letter, no leading, trailing or double '-')")
    return None


def mapping(data: Any, origin: Origin, problems: Problems) -> Mapping[str, Any]:
    if data is None:
        return {}
    if not is_mapping(data):
        problems.error(origin, f"expected a mapping, found {type(data).__name__}", "write key: value pairs")
        return {}
    return data


def seq(data: Any, origin: Origin, problems: Problems) -> list[Any] | None:
    """A list field; None when absent (so callers can tell absent from empty)."""
    if data is None:
        return None
    if not isinstance(data, list | tuple):
        problems.error(origin, f"expected a list, found {type(data).__name__}", "write a YAML list (- item)")
        return []
    return list(data)


def port_number(value: Any, origin: Origin, problems: Problems) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        problems.error(origin, f"{value!r} is not a port number from 1 to 65535", "use a number from 1 to 65535")
        return None
    return value
