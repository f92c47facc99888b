"""Apply scripts as data: what a node's (or the cloud route table's) script creates, replaces and leaves to
others, decided from the model's facts. The renderers in ``cnimodel.render.scripts`` write them as ``ip -batch``
and ``bridge -batch`` input, systemd-networkd files, PowerShell, cloud CLI lines, Terraform and Bicep.

>>> from cnimodel.apply import linux_script
>>> s = linux_script(cluster.facts("lin1"), cluster.plan.node("lin1").ip, cluster.plan.name)  # doctest: +SKIP
"""

from __future__ import annotations

from cnimodel.apply.cloud import CloudRoute, CloudTable, RouteLimitError, cloud_table
from cnimodel.apply.linux import LinuxScript, NetworkdLink, linux_script, networkd_links
from cnimodel.apply.windows import WindowsScript, windows_script

__all__ = ["CloudRoute", "CloudTable", "LinuxScript", "NetworkdLink", "RouteLimitError", "WindowsScript",
           "cloud_table", "linux_script", "networkd_links", "windows_script"]
