"""ovn-kubernetes: the plugin model (docs/ovn-kubernetes.md), its Northbound export and the OVN proof harness.

The plugin class is imported on first use, so loading the commands this package contributes (which the CLI does
to list its commands) does not import the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin


def __getattr__(name: str) -> object:
    if name == "OvnKubernetesPlugin":
        from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin

        return OvnKubernetesPlugin
    raise AttributeError(f"module 'cnimodel.plugins.ovn_kubernetes' has no attribute {name!r}")


__all__ = ["OvnKubernetesPlugin"]
