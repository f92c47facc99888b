"""ovn-kubernetes: the plugin model (docs/ovn-kubernetes.md), its Northbound export and the OVN proof harness."""

from cnimodel.plugins.ovn_kubernetes.plugin import OvnKubernetesPlugin

__all__ = ["OvnKubernetesPlugin"]
