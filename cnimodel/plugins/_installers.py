"""Installers that turn a ConfigMap template into the CNI config written on each node, as they really do it.

Calico's install-cni (canal and Calico manifests: ConfigMap key ``cni_network_config``) replaces its
``__TOKEN__`` placeholders with text from its environment (projectcalico/calico@87c15906f2:
cni-plugin/pkg/install/install.go:408-450); the canal manifest feeds ``CNI_MTU`` from the ConfigMap's
``veth_mtu`` (manifests/canal.yaml:12566-12570).

The sig-windows-tools flanneld start script fills the empty values of its Windows delegate conf per node; the
delegate reader does that (plugins/_sdn.py ``fill``), since the values differ from node to node.
"""

from __future__ import annotations

import json
from typing import Any

from cnimodel.plan.configtext import TOKEN, Placeholder
from cnimodel.sources import Fill, InstallContext

PER_NODE = "(each node's own)"


def calico_install_cni(data: dict[str, Any], placeholders: tuple[Placeholder, ...],
                       ctx: InstallContext) -> tuple[dict[str, Any], list[Fill]]:
    """install-cni's replacements; text replacement, so an unquoted ``__CNI_MTU__`` becomes a JSON number."""
    env = ctx.env
    mtu, mtu_how = env.get("CNI_MTU"), "CNI_MTU"
    if mtu is None and "veth_mtu" in ctx.configmap:  # the manifests set CNI_MTU from veth_mtu
        mtu, mtu_how = ctx.configmap["veth_mtu"], "veth_mtu (CNI_MTU)"
    values: dict[str, tuple[str, str]] = {
        "__CNI_MTU__": (mtu or "1500", mtu_how if mtu else "install-cni's default, 1500"),
        "__KUBECONFIG_FILEPATH__": ("/etc/cni/net.d/calico-kubeconfig", "the kubeconfig install-cni writes"),
        "__KUBERNETES_NODE_NAME__": (env.get("KUBERNETES_NODE_NAME", PER_NODE), "the node's name"),
        "__LOG_LEVEL__": (env.get("LOG_LEVEL", "info"), "LOG_LEVEL"),
        "__LOG_FILE_PATH__": (env.get("LOG_FILE_PATH", "/var/log/calico/cni/cni.log"), "LOG_FILE_PATH"),
        "__LOG_FILE_MAX_SIZE__": (env.get("LOG_FILE_MAX_SIZE", "100"), "LOG_FILE_MAX_SIZE"),
        "__LOG_FILE_MAX_AGE__": (env.get("LOG_FILE_MAX_AGE", "30"), "LOG_FILE_MAX_AGE"),
        "__LOG_FILE_MAX_COUNT__": (env.get("LOG_FILE_MAX_COUNT", "10"), "LOG_FILE_MAX_COUNT"),
        "__DATASTORE_TYPE__": (env.get("DATASTORE_TYPE", "kubernetes"), "DATASTORE_TYPE"),
        "__KUBERNETES_SERVICE_HOST__": (env.get("KUBERNETES_SERVICE_HOST", ""), "KUBERNETES_SERVICE_HOST"),
        "__KUBERNETES_SERVICE_PORT__": (env.get("KUBERNETES_SERVICE_PORT", ""), "KUBERNETES_SERVICE_PORT"),
        "__ETCD_ENDPOINTS__": (env.get("ETCD_ENDPOINTS", ""), "ETCD_ENDPOINTS"),
        "__ETCD_DISCOVERY_SRV__": (env.get("ETCD_DISCOVERY_SRV", ""), "ETCD_DISCOVERY_SRV"),
    }
    unquoted = {p.token for p in placeholders if not p.quoted}
    fills: dict[str, Fill] = {}

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        if not isinstance(value, str):
            return value
        if value in unquoted and value in values:  # the template had no quotes: the text is JSON
            text, how = values[value]
            fills[value] = Fill(value, _json_value(text), how)
            return _json_value(text)

        def one(m: Any) -> str:
            token = m.group()
            if token not in values:
                return token
            fills.setdefault(token, Fill(token, values[token][0], values[token][1]))
            return values[token][0]

        return TOKEN.sub(one, value)

    return fill(data), list(fills.values())


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # install-cni would then write a file it refuses itself (isValidJSON); the model keeps the text
