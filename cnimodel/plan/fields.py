"""Typed field readers that report problems with the field path instead of raising."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError, ip_network
from types import MappingProxyType
from typing import Any

from cnimodel.plan.errors import Origin, Problems

_MISSING = object()
_SCALARS = frozenset((str, int, float, bool, type(None)))


def freeze(value: Any) -> Any:
    """A read-only deep copy of YAML data, so facts built from it stay immutable."""
    # Parsed YAML/JSON holds these exact types (a large plan, millions of values): scalars are kept without a
    # call each, and the ABC checks (slow) are only for anything else.
    t = type(value)
    if t in _SCALARS:
        return value
    if t is dict:
        return MappingProxyType({k: v if type(v) in _SCALARS else freeze(v) for k, v in value.items()})
    if t is list:
        return tuple([v if type(v) in _SCALARS else freeze(v) for v in value])
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain dicts and lists again (for JSON output)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


class Fields:
    """Read typed fields from one mapping, reporting each problem at ``origin.at(name)``.

    The origin of a nested mapping is only built when a problem needs it: a 150,000-pod plan would
    otherwise spend seconds making paths nobody reads.
    """

    __slots__ = ("_name", "_origin", "_parent", "data", "problems")

    def __init__(self, data: Any, origin: Origin | None, problems: Problems,
                 parent: Fields | None = None, name: str = "") -> None:
        self._origin = origin
        self._parent = parent
        self._name = name
        self.problems = problems
        if type(data) is not dict and not isinstance(data, Mapping):
            if data is not None:
                problems.error(self.origin, f"expected a mapping, found {type(data).__name__}",
                               "write this field as key: value pairs")
            data = {}
        self.data: Mapping[str, Any] = data

    @property
    def origin(self) -> Origin:
        if self._origin is None:
            assert self._parent is not None
            self._origin = self._parent.origin.at(self._name)
        return self._origin

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def sub(self, name: str) -> Fields:
        return Fields(self.data.get(name), None, self.problems, self, name)

    def str(self, name: str, default: Any = _MISSING, choices: tuple[str, ...] = ()) -> Any:
        value = self.data.get(name, _MISSING)
        if type(value) is str and not choices:
            return value
        if value is _MISSING or value is None:
            if default is _MISSING:
                self.problems.error(self.origin.at(name), "is required", f"add `{name}:` here")
                return None
            return default
        if not isinstance(value, str):
            self.problems.error(self.origin.at(name), f"expected a string, found {_short(value)}",
                                f"write `{name}:` as a string (quote it)")
            return default if default is not _MISSING else None
        if choices and value not in choices:
            self.problems.error(self.origin.at(name), f"unknown value {value!r}",
                                f"use one of: {', '.join(choices)}")
            return default if default is not _MISSING else None
        return value

    def int(self, name: str, default: Any = _MISSING, lo: int | None = None, hi: int | None = None) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                self.problems.error(self.origin.at(name), "is required", f"add `{name}:` here")
                return None
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            else:
                self.problems.error(self.origin.at(name), f"expected an integer, found {_short(value)}",
                                    f"write `{name}:` as a whole number" + (f" from {lo}" if lo is not None else "")
                                    + (f" to {hi}" if hi is not None else ""))
                return default if default is not _MISSING else None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.problems.error(self.origin.at(name), f"{_short(value)} is out of range",
                                f"use a value from {lo} to {hi}" if hi is not None else f"use a value of {lo} or more"
                                if lo is not None else f"use a value of {hi} or less")
            return default if default is not _MISSING else None
        return value

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:  # left out, or null: unset, as the API server reads a null (and as str and int do here)
            return default
        if not isinstance(value, bool):
            self.problems.error(self.origin.at(name), f"expected true or false, found {_short(value)}",
                                f"write `{name}: true` or `{name}: false` (no quotes)")
            return default
        return value

    def cidr(self, name: str, required: bool = True) -> IPv4Network | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.problems.error(self.origin.at(name), "is required", f"add `{name}: a.b.c.d/len` here")
            return None
        return parse_cidr(value, self.origin.at(name), self.problems)

    def ip(self, name: str, required: bool = True) -> IPv4Address | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.problems.error(self.origin.at(name), "is required", f"add `{name}: a.b.c.d` here")
            return None
        return parse_ip(value, self.origin.at(name), self.problems)

    def list(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.error(self.origin.at(name), f"expected a list, found {type(value).__name__}",
                                "write this field as a YAML list (- item)")
            return []
        return value

    def str_map(self, name: str) -> MappingProxyType[str, str]:
        value = self.data.get(name)
        if value is None:
            return MappingProxyType({})
        if not isinstance(value, Mapping):
            self.problems.error(self.origin.at(name), f"expected a mapping of strings, found {type(value).__name__}",
                                f"write `{name}:` as key: value pairs")
            return MappingProxyType({})
        if all(type(k) is str and type(v) is str for k, v in value.items()):
            return MappingProxyType(dict(value))
        return MappingProxyType({str(k): "" if v is None else str(v) for k, v in value.items()})


def parse_cidr(value: Any, origin: Origin, problems: Problems) -> IPv4Network | None:
    """An IPv4 network with no host bits set, or a problem naming the aligned network to use."""
    if not isinstance(value, str):
        problems.error(origin, f"expected a CIDR string like 10.244.0.0/16, found {_short(value)}",
                       "write it as a string: address/length, e.g. 10.244.0.0/16")
        return None
    if "/" not in value:
        problems.error(origin, f"{value!r} has no prefix length", f"write it as {value}/24 (or the right length)")
        return None
    try:
        net = ip_network(value, strict=False)
    except (ValueError, AddressValueError, NetmaskValueError):
        problems.error(origin, f"{value!r} is not a valid IPv4 CIDR", "write it like 10.244.0.0/16")
        return None
    if not isinstance(net, IPv4Network):
        problems.error(origin, f"{value!r} is IPv6; cnimodel models IPv4 networks",
                       "give the IPv4 range of a dual-stack plan")
        return None
    if str(net) != value.strip():
        problems.error(origin, f"{value!r} has host bits set", f"use the network address: {net}")
        return None
    return net


def parse_ip(value: Any, origin: Origin, problems: Problems) -> IPv4Address | None:
    if not isinstance(value, str):
        problems.error(origin, f"expected an IPv4 address like 10.240.0.4, found {_short(value)}",
                       "write it as a string, e.g. 10.240.0.4")
        return None
    try:
        return IPv4Address(value.strip())
    except (ValueError, AddressValueError):
        problems.error(origin, f"{value!r} is not a valid IPv4 address", "write it like 10.240.0.4")
        return None


def _short(value: Any) -> str:
    """A value as messages quote it: whole when short, cut when a field holds a page of text."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
