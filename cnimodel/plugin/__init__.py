"""The plugin interface and the entry-point registry (group ``cnimodel.plugins``).

- ``NetworkPlugin`` / ``PolicyPlugin`` (base): what a plugin family answers, per node.
- ``NodeRoles`` (roles): the roles a plugin states per node — forwarding model, encapsulation kind, Services.
- ``Addressing`` (ipam): the small protocol an IPAM answers.
- ``FastPath`` (fastpath): the optional speed capability.
- ``PluginServices`` (services): the optional capability of a plugin implementing Services itself.
- ``Listing`` / ``Column`` (listing): a table in the shape a plugin's own tool prints it.
- ``load_plugin`` / ``plugins_of`` / ``available_plugins`` (registry): the entry points; ``installed()``: what
  ``load_plan`` asks of them (plugin names, pod capacity).

docs/plugins.md shows a whole plugin written against it.
"""

from cnimodel.plugin.base import NetworkPlugin, PolicyPlugin
from cnimodel.plugin.fastpath import FastPath
from cnimodel.plugin.ipam import Addressing
from cnimodel.plugin.listing import Column, Listing
from cnimodel.plugin.registry import GROUP, available_plugins, installed, load_plugin, plugins_of
from cnimodel.plugin.roles import FORWARDING, NodeRoles, ServiceRole, kube_proxy
from cnimodel.plugin.services import PluginServices

__all__ = ["FORWARDING", "GROUP", "Addressing", "Column", "FastPath", "Listing", "NetworkPlugin", "NodeRoles",
           "PluginServices", "PolicyPlugin", "ServiceRole", "available_plugins", "installed", "kube_proxy",
           "load_plugin", "plugins_of"]
