"""The plugin interface and the entry-point registry (group ``cnimodel.plugins``).

- ``NetworkPlugin`` / ``PolicyPlugin`` (base): what a plugin family answers, per node.
- ``NodeRoles`` (roles): the roles a plugin states per node — forwarding model, encapsulation kind, Services.
- ``Addressing`` (ipam): the small protocol an IPAM answers.
- ``FastPath`` (fastpath): the optional speed capability.
- ``load_plugin`` / ``plugins_of`` / ``available_plugins`` (registry): the entry points; ``installed()``: what
  ``load_plan`` asks of them (plugin names, pod capacity).

docs/plugins.md shows a whole plugin written against it.
"""

from cnimodel.plugin.base import NetworkPlugin, PolicyPlugin
from cnimodel.plugin.fastpath import FastPath
from cnimodel.plugin.ipam import Addressing
from cnimodel.plugin.registry import GROUP, available_plugins, installed, load_plugin, plugins_of
from cnimodel.plugin.roles import FORWARDING, NodeRoles, ServiceRole, kube_proxy

__all__ = ["FORWARDING", "GROUP", "Addressing", "FastPath", "NetworkPlugin", "NodeRoles", "PolicyPlugin",
           "ServiceRole", "available_plugins", "installed", "kube_proxy", "load_plugin", "plugins_of"]
