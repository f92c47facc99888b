"""print_plain writes into a file or pipe exactly what rich's print writes there (cnimodel/render/text.py)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cnimodel.render import text as render_text

TEXTS = [
    "port pod:*\n  layer LB  group 1\n    100 in  rule 10.0.0.1:100:tcp",  # :100: is an emoji code to rich
    "a :smile: b :smile-emoji: c :not_an_emoji: d",
    "[bold]not markup[/bold] \\[V] é ü 漢字 — end",
    "bell\x07 return\r backspace\x08 vertical\x0b",
    "form feed\x0c alone",
    "with\ta tab",  # left to rich
    "",
]


def _out(fn: object, value: str, emoji: bool = True) -> str:
    buf = io.StringIO()
    console = Console(file=buf, highlight=False, soft_wrap=True, width=200, emoji=emoji)
    fn(console, value)  # type: ignore[operator]
    return buf.getvalue()


@pytest.mark.parametrize("emoji", [True, False])  # the commands' console has emoji off: text written as it is
@pytest.mark.parametrize("value", TEXTS)
def test_same_as_rich_print(value: str, emoji: bool) -> None:
    assert render_text.writes_plain(Console(file=io.StringIO(), highlight=False, soft_wrap=True, width=200))
    rich_way = _out(lambda c, v: c.print(v, markup=False), value, emoji)
    assert _out(render_text.print_plain, value, emoji) == rich_way


def test_a_terminal_is_left_to_rich() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, soft_wrap=True)
    assert not render_text.writes_plain(terminal)
    assert not render_text.writes_plain(Console(file=io.StringIO(), record=True, soft_wrap=True))
    assert not render_text.writes_plain(Console(file=io.StringIO(), soft_wrap=False))
