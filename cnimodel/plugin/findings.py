"""Checks a plugin contributes to ``cnimodel check``: facts only the plugin knows (ovn-kubernetes' host subnets, its
GENEVE MTU, its join, transit and masquerade ranges). The plugin declares its checks (``NetworkPlugin.checks``)
and reports what they find (``NetworkPlugin.findings``); cnimodel.validate filters them by code, concept and
severity like its own and turns them into findings. Codes are ``CNI-<AREA>-<NNN>`` with an area of the plugin's
own (``OVN``), documented in docs/checks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cnimodel.plan import Origin


@dataclass(frozen=True)
class PluginCheck:
    """One check a plugin declares: its stable code, severity, concept (one of cnimodel.validate's: ``address``,
    ``overlay``, ``routing`` …), title and the reference it rests on."""

    code: str
    severity: Literal["error", "warning", "info"]
    concept: str
    title: str
    reference: str


@dataclass(frozen=True)
class PluginFinding:
    """What a plugin's check found: the sentence, the fix, the objects (``ns/name[Kind]``), where in the plan."""

    code: str
    message: str
    fix: str
    objects: tuple[str, ...] = ()
    at: tuple[Origin, ...] = ()


__all__ = ["PluginCheck", "PluginFinding"]
