"""A large JSON answer written as it is built: ``json_text.dumps_bytes(value)``'s bytes, in pieces.

Where ``value`` holds a ``Lazy(items)`` in place of a list, the items are made, encoded and written a batch at
a time, so that neither the whole answer's dicts nor its text are ever in memory at once (a Windows node's
load balancers on a 10,000-Service plan: about 200 MB of both). In a ``Lazy(items, nested=True)``, an item
that is a dict holding a ``Lazy`` as one of its own values is written the same way. The bytes are those of
``dumps_bytes`` with every ``Lazy`` as a list: each batch is laid out by the same formatter, then moved right
to the depth where the list stands (JSON text holds no newline inside a string, so the lines are the layout's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from cnimodel.render.json_text import dumps_bytes

Write = Callable[[bytes], object]
BATCH = 500  # items encoded at once: the call per batch is nothing, a batch's text a few hundred kB


class Lazy:
    """A list whose items are made as they are written; ``nested``: its items may hold Lazy lists of their own
    (as values of a dict item: items are looked at this deep only)."""

    def __init__(self, items: Iterable[Any], nested: bool = False) -> None:
        self.items = items
        self.nested = nested


def _lazy_in(value: Any) -> bool:
    return type(value) is dict and any(type(v) is Lazy for v in value.values())


def write(out: Write, value: Any, indent: int = 2) -> None:
    """``out(dumps_bytes(value, indent))``, in pieces; ``value`` is a dict or list, with Lazy lists among its
    values (at any depth of dicts and lists)."""
    _value(out, value, b"", indent)


def _value(out: Write, value: Any, pad: bytes, indent: int) -> None:
    """``value`` (a dict or list) at the depth ``pad``, its first line's indentation already written."""
    marks: list[Lazy] = []

    def skeleton(v: Any) -> Any:  # the value with each Lazy as a numbered mark
        t = type(v)
        if t is Lazy:
            marks.append(v)
            return f"\0cnimodel-lazy-{len(marks) - 1}\0"
        if t is dict:
            return {k: skeleton(x) for k, x in v.items()}
        if t is list or t is tuple:
            return [skeleton(x) for x in v]
        return v

    text = _moved(dumps_bytes(skeleton(value), indent), pad)
    for i, lazy in enumerate(marks):
        head, _, text = text.partition(f'"\\u0000cnimodel-lazy-{i}\\u0000"'.encode())
        out(head)
        line = head[head.rfind(b"\n") + 1:]  # (a mark is never on the first line: a "{" or "[" is)
        _list(out, lazy, b" " * (len(line) - len(line.lstrip(b" "))), indent)
    out(text)


def _list(out: Write, lazy: Lazy, pad: bytes, indent: int) -> None:
    """A list at the depth ``pad``, its opening bracket's line begun: ``[]`` when empty, as json writes it."""
    inner = pad + b" " * indent
    sep = b"[\n" + inner  # what goes before the next item
    more = b",\n" + inner
    nested = lazy.nested
    for batch in _batches(iter(lazy.items)):
        if not nested:
            out(sep + _items(batch, pad, indent))
            sep = more
            continue
        plain: list[Any] = []
        for item in batch:
            if _lazy_in(item):
                if plain:
                    out(sep + _items(plain, pad, indent))
                    sep, plain = more, []
                out(sep)
                _value(out, item, inner, indent)
                sep = more
            else:
                plain.append(item)
        if plain:
            out(sep + _items(plain, pad, indent))
            sep = more
    out(b"[]" if sep[0] == 0x5B else b"\n" + pad + b"]")  # ("[": nothing written)


def _items(items: list[Any], pad: bytes, indent: int) -> bytes:
    """The items as the formatter lays them out in a list at the depth ``pad``, less the first item's
    indentation (written with the separator). The list is laid out inside as many enclosing lists as its depth
    (the formatter indents it there itself) and cut out of them."""
    depth = len(pad) // indent if indent else 0
    value: Any = items
    for _ in range(depth):
        value = [value]
    text = dumps_bytes(value, indent)  # "[\n" + "  [\n" … + indentation + item, … + "\n" + pad + "]" … "\n]"
    brackets = sum(k * indent + 2 for k in range(depth + 1))  # each level's "[" line, and its "]" line
    return text[brackets + (depth + 1) * indent:-brackets]


def _moved(text: bytes, pad: bytes) -> bytes:
    return text.replace(b"\n", b"\n" + pad) if pad else text


def _batches(items: Iterator[Any]) -> Iterator[list[Any]]:
    while batch := list(islice(items, BATCH)):
        yield batch
