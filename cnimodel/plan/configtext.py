"""Plugin config files as JSON text: the file on disk or a ConfigMap key, read the way the plugin reads it.

The plugins are Go programs and read their configs with encoding/json, which refuses a byte-order mark and
any white space other than space, tab, CR and LF — both common in files that went through Windows editors or
web pages. Each is an error naming the line, the column, the character by its Unicode name and the fix.

Manifests ship templates whose install-time placeholders (``"mtu": __CNI_MTU__``, ``"__KUBECONFIG_FILEPATH__"``)
an installer fills on the node. They are read here as strings and listed as ``Placeholder`` values, so the
layer that knows the installer (cnimodel.discover) can fill them or say what fills them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from cnimodel.plan.errors import Origin, Problems

TOKEN = re.compile(r"__[A-Z][A-Z0-9_]*__")
_JSON_SPACE = " \t\r\n"
_MAX_FIXES = 50  # characters and placeholders mended to read on, per file


@dataclass(frozen=True)
class Placeholder:
    """An install-time token left in a config: where (a JSON path), which, and whether it stood unquoted
    (then the file is not JSON until the installer fills it)."""

    path: str
    token: str
    quoted: bool


@dataclass(frozen=True)
class ConfigText:
    data: dict[str, Any] | None
    placeholders: tuple[Placeholder, ...] = ()


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def char_name(ch: str) -> str:
    """``U+00A0 NO-BREAK SPACE``."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def read_config_text(text: str, origin: Origin, problems: Problems, what: str) -> ConfigText:
    """Parse one JSON config; every problem is reported at ``origin`` (whose path may be refined with the
    line and column). ``what`` names the config in messages (``net-conf.json``, ``the CNI config``)."""
    where = origin.path + " " if origin.path else ""

    def at(pos: int) -> Origin:
        line, col = _line_col(text, pos)
        return Origin(origin.file, origin.document, f"{where}line {line} column {col}")

    unquoted: set[str] = set()
    if text.startswith("\ufeff"):
        problems.error(at(0), f"{what} starts with {char_name(chr(0xFEFF))} (a byte-order mark): the plugin's JSON "
                       "reader refuses it", "save the file as UTF-8 without a byte-order mark (Windows PowerShell's "
                       "Set-Content and Out-File add one; use -Encoding utf8NoBOM or [IO.File]::WriteAllText)")
        text = " " + text[1:]
    for _ in range(_MAX_FIXES):
        try:
            data = json.loads(text)
            break
        except RecursionError:
            problems.error(origin, f"{what} is nested too deeply to read (thousands of levels)",
                           "check the file for a runaway nesting; plugin configs are a few levels deep")
            return ConfigText(None)
        except json.JSONDecodeError as e:
            pos = e.pos
            token = TOKEN.match(text, pos)
            ch = text[pos] if pos < len(text) else ""
            if token is not None:  # an unquoted placeholder: read it as a string and go on
                unquoted.add(token.group())
                text = f'{text[:pos]}"{token.group()}"{text[token.end():]}'
            elif ch and ch not in _JSON_SPACE and (ch.isspace() or unicodedata.category(ch) in ("Cf", "Zs")):
                problems.error(at(pos), f"{what} has {char_name(ch)} where JSON allows only spaces, tabs and line "
                               "breaks: the plugin's JSON reader refuses it", "replace it with a plain space (it "
                               "often comes from copying the config out of a web page or a word processor)")
                text = f"{text[:pos]} {text[pos + 1:]}"
            else:
                shown = f" ({char_name(ch)})" if ch and not ch.isascii() else ""
                problems.error(at(pos), f"{what} is not valid JSON: {e.msg}{shown}",
                               "fix the JSON at that position (plugin configs are JSON: double-quoted keys, no "
                               "comments, no trailing commas)")
                return ConfigText(None)
    else:
        problems.error(origin, f"{what} has too many problems to read on", "fix the ones listed and try again")
        return ConfigText(None)
    if not isinstance(data, dict):
        problems.error(origin, f"{what} holds a JSON {type(data).__name__}, not an object",
                       "a plugin config is one JSON object: { ... }")
        return ConfigText(None)
    found: list[Placeholder] = []
    _placeholders(data, "", unquoted, found)
    return ConfigText(data, tuple(found))


def _placeholders(value: Any, path: str, unquoted: set[str], out: list[Placeholder]) -> None:
    if isinstance(value, str):
        for m in TOKEN.finditer(value):
            token = m.group()
            out.append(Placeholder(path, token, quoted=not (token in unquoted and value == token)))
    elif isinstance(value, dict):
        for k, v in value.items():
            _placeholders(v, f"{path}.{k}" if path else str(k), unquoted, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _placeholders(v, f"{path}[{i}]", unquoted, out)
