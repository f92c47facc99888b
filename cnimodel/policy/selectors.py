"""Label selectors as one small expression tree, and Calico's selector expression language parsed into it
(Kubernetes ``LabelSelector`` compiles to the same tree in ``labelselector.py``).

Calico's grammar (libcalico-go ``selector/parser``): ``k == 'v'``, ``k != 'v'``, ``k in {'a','b'}``,
``k not in {...}``, ``has(k)``, ``k contains 's'``, ``k starts with 's'``, ``k ends with 's'``, ``all()``,
``global()``, ``!``, ``&&``, ``||`` and parentheses; ``||`` binds loosest, then ``&&``, then ``!``. ``!=``
and ``not in`` also match objects that lack the label. An empty expression is ``all()``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


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


def prefixed(sel: Sel, prefix: str) -> Sel:
    """``sel`` with ``prefix`` put before every label key it reads (libcalico-go's selector PrefixVisitor, which
    turns a serviceAccountSelector ``k == 'v'`` into ``pcsa.k == 'v'``); ``all()`` and ``global()`` stay."""
    if isinstance(sel, And | Or):
        return type(sel)(tuple(prefixed(o, prefix) for o in sel.operands))
    if isinstance(sel, Not):
        return Not(prefixed(sel.operand, prefix))
    key = getattr(sel, "key", None)
    if key is None:
        return sel
    return dataclasses.replace(sel, key=prefix + key)  # type: ignore[type-var]


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
