"""The CLI's two consoles: answers on standard output, messages and the progress display on standard error."""

from __future__ import annotations

import sys

from rich.console import Console

# Piped output keeps wide tables whole instead of folding them at 80 columns.
# emoji=False: rich would turn `:100:` in an address and port list (10.0.0.1:100:tcp) into an emoji.
OUT = Console(highlight=False, soft_wrap=True, emoji=False, width=None if sys.stdout.isatty() else 200)
ERR = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
