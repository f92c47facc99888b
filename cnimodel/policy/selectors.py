"""Label selectors: Kubernetes ``LabelSelector`` (matchLabels / matchExpressions) and Calico's selector
expression language, compiled to one small expression tree.

Calico's grammar (libcalico-go ``selector/parser``): ``k == 'v'``, ``k != 'v'``, ``k in {'a','b'}``,
``k not in {...}``, ``has(k)``, ``k contains 's'``, ``k starts with 's'``, ``k ends with 's'``, ``all()``,
``global()``, ``!``, ``&&``, ``||`` and parentheses; ``||`` binds loosest, then ``&&``, then ``!``. ``!=``
and ``not in`` also match objects that lack the label. An empty expression is ``all()``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


def is_mapping(x: object) -> bool:
    """A mapping; plain dicts and frozen plan data are tested first (ABC checks are slow in bulk)."""
    return type(x) in (dict, MappingProxyType) or isinstance(x, Mapping)


class SelectorError(ValueError):
    """A selector that does not parse or validate; the message says where and what."""


class Sel:
    """A node of a selector expression: ``matches(labels)`` and a canonical ``text``."""

    __slots__ = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def candidates(self, index: Mapping[tuple[str, str | None], frozenset[int]]) -> frozenset[int] | None:
        """Ids of the objects that can match, from an index of (key, value) and (key, None) → ids;
        None when the selector cannot narrow them (it must then be tried on every object)."""
        return None


@dataclass(frozen=True, slots=True)
class All(Sel):
    def matches(self, labels: Mapping[str, str]) -> bool:
        return True

    def __str__(self) -> str:
        return "all()"


@dataclass(frozen=True, slots=True)
class Global(Sel):
    """``global()``: non-namespaced resources (network sets, host endpoints); no pod or namespace matches."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return False

    def __str__(self) -> str:
        return "global()"


@dataclass(frozen=True, slots=True)
class Eq(Sel):
    key: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return labels.get(self.key) == self.value

    def candidates(self, index: Mapping[tuple[str, str | None], frozenset[int]]) -> frozenset[int] | None:
        return index.get((self.key, self.value), frozenset())

    def __str__(self) -> str:
        return f"{self.key} == {_quote(self.value)}"


@dataclass(frozen=True, slots=True)
class Ne(Sel):
    key: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return labels.get(self.key) != self.value

    def __str__(self) -> str:
        return f"{self.key} != {_quote(self.value)}"


@dataclass(frozen=True, slots=True)
class In(Sel):
    key: str
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.key)
        return v is not None and v in self.values

    def candidates(self, index: Mapping[tuple[str, str | None], frozenset[int]]) -> frozenset[int] | None:
        out: frozenset[int] = frozenset()
        for v in self.values:
            out |= index.get((self.key, v), frozenset())
        return out

    def __str__(self) -> str:
        return f"{self.key} in {{{', '.join(_quote(v) for v in sorted(self.values))}}}"


@dataclass(frozen=True, slots=True)
class NotIn(Sel):
    key: str
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.key)
        return v is None or v not in self.values

    def __str__(self) -> str:
        return f"{self.key} not in {{{', '.join(_quote(v) for v in sorted(self.values))}}}"


@dataclass(frozen=True, slots=True)
class Has(Sel):
    key: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.key in labels

    def candidates(self, index: Mapping[tuple[str, str | None], frozenset[int]]) -> frozenset[int] | None:
        return index.get((self.key, None), frozenset())

    def __str__(self) -> str:
        return f"has({self.key})"


@dataclass(frozen=True, slots=True)
class Text(Sel):
    """``contains``, ``starts with`` and ``ends with``: the label must be present."""

    key: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.key)
        if v is None:
            return False
        if self.op == "contains":
            return self.value in v
        if self.op == "starts with":
            return v.startswith(self.value)
        return v.endswith(self.value)

    def candidates(self, index: Mapping[tuple[str, str | None], frozenset[int]]) -> frozenset[int] | None:
        return index.get((self.key, None), frozenset())

    def __str__(self) -> str:
        return f"{self.key} {self.op} {_quote(self.value)}"


@dataclass(frozen=True, slots=True)
class Not(Sel):
    operand: Sel

    def matches(self, labels: Mapping[str, str]) -> bool:
        return not self.operand.matches(labels)

    def __str__(self) -> str:
        return f"!{self.operand}"


@dataclass(frozen=True, slots=True)
class And(Sel):
    operands: tuple[Sel, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(o.matches(labels) for o in self.operands)

    def candidates(self, index: Mapping[tuple[str, str | None], frozenset[int]]) -> frozenset[int] | None:
        best: frozenset[int] | None = None
        for o in self.operands:
            c = o.candidates(index)
            if c is not None and (best is None or len(c) < len(best)):
                best = c
        return best

    def __str__(self) -> str:
        return "(" + " && ".join(str(o) for o in self.operands) + ")"


@dataclass(frozen=True, slots=True)
class Or(Sel):
    operands: tuple[Sel, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return any(o.matches(labels) for o in self.operands)

    def candidates(self, index: Mapping[tuple[str, str | None], frozenset[int]]) -> frozenset[int] | None:
        out: frozenset[int] = frozenset()
        for o in self.operands:
            c = o.candidates(index)
            if c is None:
                return None
            out |= c
        return out

    def __str__(self) -> str:
        return "(" + " || ".join(str(o) for o in self.operands) + ")"


def label_keys(sel: Sel) -> set[str]:
    """Every label key a selector reads (labels it never reads cannot change its answer)."""
    if isinstance(sel, And | Or):
        return set().union(*(label_keys(o) for o in sel.operands))
    if isinstance(sel, Not):
        return label_keys(sel.operand)
    key = getattr(sel, "key", None)
    return {key} if key is not None else set()


def _quote(v: str) -> str:
    return f"'{v}'" if '"' in v else f'"{v}"'


def conj(parts: list[Sel]) -> Sel:
    """The AND of ``parts`` (``all()`` when empty), flattening nested ANDs."""
    flat: list[Sel] = []
    for p in parts:
        if isinstance(p, All):
            continue
        flat.extend(p.operands if isinstance(p, And) else (p,))
    if not flat:
        return All()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


# --- Calico expressions -------------------------------------------------------------------------------

_LABEL = re.compile(r"[a-zA-Z0-9_./-]{1,512}")
_WS = " \t"


def _tokens(text: str) -> list[tuple[str, str]]:
    """Calico's tokenizer: kinds label, str, op (== != && || ! ( ) { } ,), in, notin, has, all, global,
    contains/starts with/ends with, end."""
    out: list[tuple[str, str]] = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in _WS:
            i += 1
        if i >= n:
            out.append(("end", ""))
            return out
        c = text[i]
        last = out[-1][0] if out else ""
        if c in "(){},":
            out.append((c, c))
            i += 1
        elif c in "\"'":
            j = text.find(c, i + 1)
            if j < 0:
                raise SelectorError(f"unterminated string at column {i + 1}")
            out.append(("str", text[i + 1:j]))
            i = j + 1
        elif text.startswith("==", i) or text.startswith("!=", i) or text.startswith("&&", i) \
                or text.startswith("||", i):
            out.append((text[i:i + 2], text[i:i + 2]))
            i += 2
        elif c == "!":
            out.append(("!", "!"))
            i += 1
        elif c in "=&|":
            raise SelectorError(f"expected {c}{c} at column {i + 1}")
        elif last == "label":
            rest = text[i:]
            m = re.match(r"(contains|starts[ \t]*with|ends[ \t]*with|not[ \t]*in|in)", rest)
            if not m:
                raise SelectorError(f"expected an operator after label {out[-1][1]!r} at column {i + 1}")
            word = m.group(1)
            kind = "notin" if word.startswith("not") else "in" if word == "in" else \
                "starts with" if word.startswith("starts") else "ends with" if word.startswith("ends") else word
            out.append((kind, kind))
            i += len(word)
        else:
            m = re.match(r"(has|all|global)\([ \t]*", text[i:])
            if m:
                i += m.end()
                if m.group(1) == "has":
                    lm = _LABEL.match(text, i)
                    if not lm:
                        raise SelectorError(f"no label name in has( at column {i + 1}")
                    i = lm.end()
                    while i < n and text[i] in _WS:
                        i += 1
                    if i >= n or text[i] != ")":
                        raise SelectorError(f"no closing ')' after has( at column {i + 1}")
                    out.append(("has", lm.group(0)))
                else:
                    if i >= n or text[i] != ")":
                        raise SelectorError(f"no closing ')' after {m.group(1)}( at column {i + 1}")
                    out.append((m.group(1), ""))
                i += 1
                continue
            lm = _LABEL.match(text, i)
            if not lm:
                raise SelectorError(f"unexpected character {c!r} at column {i + 1}")
            out.append(("label", lm.group(0)))
            i = lm.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str:
        return self.toks[self.i][0]

    def take(self) -> tuple[str, str]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse_or(self) -> Sel:
        parts = [self.parse_and()]
        while self.peek() == "||":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self) -> Sel:
        parts = [self.parse_op()]
        while self.peek() == "&&":
            self.take()
            parts.append(self.parse_op())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_op(self) -> Sel:
        negated = False
        while self.peek() == "!":
            self.take()
            negated = not negated
        kind, value = self.take()
        node: Sel
        if kind == "has":
            node = Has(value)
        elif kind == "all":
            node = All()
        elif kind == "global":
            node = Global()
        elif kind == "(":
            node = self.parse_or()
            if self.take()[0] != ")":
                raise SelectorError("expected ')'")
        elif kind == "label":
            op, _ = self.take()
            if op in ("==", "!=", "contains", "starts with", "ends with"):
                lit_kind, lit = self.take()
                if lit_kind != "str":
                    raise SelectorError(f"expected a quoted string after {value} {op}")
                node = Eq(value, lit) if op == "==" else Ne(value, lit) if op == "!=" else Text(value, op, lit)
            elif op in ("in", "notin"):
                if self.take()[0] != "{":
                    raise SelectorError(f"expected a set literal {{'a', 'b'}} after {value} "
                                        f"{'in' if op == 'in' else 'not in'}")
                values: list[str] = []
                while self.peek() == "str":
                    values.append(self.take()[1])
                    if self.peek() != ",":
                        break
                    self.take()
                if self.take()[0] != "}":
                    raise SelectorError("expected '}' closing the set literal")
                node = In(value, frozenset(values)) if op == "in" else NotIn(value, frozenset(values))
            else:
                raise SelectorError(f"expected ==, !=, in, not in, contains, starts with or ends with after "
                                    f"label {value!r}")
        elif kind == "end":
            raise SelectorError("unexpected end of the selector")
        else:
            raise SelectorError(f"unexpected {value or kind!r}")
        return Not(node) if negated else node


def parse_calico(text: str) -> Sel:
    """Parse a Calico selector expression (``app == 'web' && !has(canary)``); SelectorError if invalid."""
    if not text.strip():
        return All()
    p = _Parser(text)
    node = p.parse_or()
    if p.peek() != "end":
        raise SelectorError(f"unexpected {p.toks[p.i][1] or p.peek()!r} after a complete expression")
    return node


# --- Kubernetes LabelSelector -------------------------------------------------------------------------

_K8S_OPS = ("In", "NotIn", "Exists", "DoesNotExist")
_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def check_label_key(key: str) -> str | None:
    """Why ``key`` is not a valid label key (``prefix/name``), or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _PREFIX.match(prefix)):
        return f"label key {key!r} has an invalid prefix (a DNS subdomain is required)"
    if not _NAME.match(name):
        return f"label key {key!r} is invalid (name part: up to 63 of [A-Za-z0-9-_.], alphanumeric at both ends)"
    return None


def check_label_value(value: str) -> str | None:
    if len(value) > 63 or not _VALUE.match(value):
        return f"label value {value!r} is invalid (up to 63 of [A-Za-z0-9-_.], alphanumeric at both ends)"
    return None


def parse_label_selector(data: Any) -> tuple[Sel, list[tuple[str, str]]]:
    """A Kubernetes LabelSelector mapping → (selector, problems as (field path, message)).

    ``matchLabels`` and every ``matchExpressions`` item are ANDed; an empty selector matches everything.
    """
    problems: list[tuple[str, str]] = []
    if data is None:
        return All(), problems
    if not is_mapping(data):
        return All(), [("", f"expected a label selector mapping, found {type(data).__name__}")]
    parts: list[Sel] = []
    for field in data:
        if field not in ("matchLabels", "matchExpressions"):
            problems.append((str(field), "unknown label selector field (use matchLabels or matchExpressions)"))
    ml = data.get("matchLabels") or {}
    if not is_mapping(ml):
        problems.append(("matchLabels", "expected a mapping of label keys to values"))
        ml = {}
    for k, v in ml.items():
        k, v = str(k), "" if v is None else str(v)
        for why in (check_label_key(k), check_label_value(v)):
            if why:
                problems.append((f"matchLabels[{k}]", why))
        parts.append(Eq(k, v))
    me = data.get("matchExpressions") or []
    if not isinstance(me, list | tuple):
        problems.append(("matchExpressions", "expected a list of {key, operator, values}"))
        me = []
    for i, e in enumerate(me):
        where = f"matchExpressions[{i}]"
        if not is_mapping(e):
            problems.append((where, "expected {key, operator, values}"))
            continue
        key, op, values = e.get("key"), e.get("operator"), e.get("values")
        if not isinstance(key, str) or (why := check_label_key(key)):
            problems.append((f"{where}.key", why if isinstance(key, str) and why else "a label key is required"))
            continue
        if op not in _K8S_OPS:
            problems.append((f"{where}.operator", f"unknown operator {op!r} (use In, NotIn, Exists or DoesNotExist)"))
            continue
        vals = [str(v) for v in (values or [])] if isinstance(values, list | tuple) or values is None else None
        if vals is None:
            problems.append((f"{where}.values", "expected a list of strings"))
            continue
        if op in ("In", "NotIn") and not vals:
            problems.append((f"{where}.values", f"must be non-empty when operator is {op}"))
            continue
        if op in ("Exists", "DoesNotExist") and vals:
            problems.append((f"{where}.values", f"must be empty when operator is {op}"))
            continue
        if op == "In":
            parts.append(In(key, frozenset(vals)))
        elif op == "NotIn":
            parts.append(NotIn(key, frozenset(vals)))
        elif op == "Exists":
            parts.append(Has(key))
        else:
            parts.append(Not(Has(key)))
    return conj(parts), problems


def k8s_text(data: Any) -> str:
    """A LabelSelector as kubectl prints it: ``app=web,tier in (a,b),!canary``; ``{}`` for empty."""
    if not is_mapping(data) or not (data.get("matchLabels") or data.get("matchExpressions")):
        return "{}"
    out = [f"{k}={v}" for k, v in (data.get("matchLabels") or {}).items()]
    for e in data.get("matchExpressions") or []:
        if not is_mapping(e):
            continue
        op, key, vals = e.get("operator"), e.get("key"), ",".join(str(v) for v in e.get("values") or [])
        out.append(f"{key} in ({vals})" if op == "In" else f"{key} notin ({vals})" if op == "NotIn"
                   else str(key) if op == "Exists" else f"!{key}")
    return ",".join(out)
