"""Put the page together: the template, the inlined stylesheet and scripts, and the data as JSON.

The page loads nothing from the network: a Content-Security-Policy allows no source but the page's own
inline script (by its hash) and styles, so a name that smuggles in markup can neither run nor fetch.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from importlib import resources
from typing import Any

# The scripts in the order they are concatenated (each defines functions the later ones use).
SCRIPTS = ("util.js", "topo.js", "panels.js", "traces.js", "reach.js", "findings.js", "main.js")
_SLOT = re.compile(r"\{\{(TITLE|CSP|CSS|DATA|JS)\}\}")


def asset(name: str) -> str:
    """The text of one of the page's files (shipped as package data)."""
    return resources.files("cnimodel.render.html").joinpath("assets", name).read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` (only ever inside
    strings) become ``\\u003c`` …, so no name can close the script element."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def page(data: dict[str, Any]) -> str:
    """The whole HTML document for report ``data`` (from ``collect``)."""
    js = "(function () {\n\"use strict\";\n" + "\n".join(asset(f"js/{n}") for n in SCRIPTS) + "\n})();\n"
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    slots = {"TITLE": html.escape(f"cnimodel — {data['plan']['name']}"), "CSP": csp, "CSS": asset("style.css"),
             "DATA": script_json(data), "JS": js}
    return _SLOT.sub(lambda m: slots[m.group(1)], asset("page.html"))
