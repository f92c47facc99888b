"""A plan's cluster-wide values as a ``kind: ClusterPlan`` document (``cnimodel plan infer``): YAML with a
``# source:`` comment above each value saying where it was read (or that it is a guess), or JSON with the same
records under ``status.inferred``.

The document names what a dump does not state in a form cnimodel reads: read beside the dump it gives the same
plan. Settings the dump's ConfigMaps and DaemonSets carry (net-conf.json, CNI configs, daemon flags) are not
copied: cnimodel reads them from the dump again, and the comments say from where.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from cnimodel.plan import Inferred, Plan
from cnimodel.plan.cluster import API_VERSION
from cnimodel.plan.fields import thaw


def document(plan: Plan) -> dict[str, Any]:
    """The ClusterPlan as a plain mapping (keys in the order docs/plan-format.md lists them)."""
    spec: dict[str, Any] = {}
    if plan.cluster_cidr is not None:
        spec["clusterCIDR"] = str(plan.cluster_cidr)
    if plan.service_cidr is not None:
        spec["serviceCIDR"] = str(plan.service_cidr)
    spec["nodeCIDRMaskSize"] = plan.node_cidr_mask_size
    if plan.dns_service_ip is not None:
        spec["dnsServiceIP"] = str(plan.dns_service_ip)
    net = plan.network
    if net is not None:
        network: dict[str, Any] = {"plugin": net.plugin}
        if net.backend:
            network["backend"] = net.backend
        if net.subnet_manager != "kube":
            network["subnetManager"] = net.subnet_manager
        told: dict[str, list[str]] = {}
        for setting, source in net.sources:
            told.setdefault(setting, []).append(source)
        for key, value in (("config", net.config or None), ("cni", net.cni), ("windowsConfig", net.windows_config)):
            sources = told.get("windows_config" if key == "windowsConfig" else key, [])
            if value is not None and sources and all(_own(s) for s in sources):
                network[key] = thaw(value)
        spec["network"] = network
    if plan.policy.plugin:
        policy: dict[str, Any] = {"plugin": plan.policy.plugin}
        told = dict(plan.policy.sources)
        if plan.policy.config and not told.get("config"):
            policy["config"] = thaw(plan.policy.config)
        spec["policy"] = policy
    if plan.kube_proxy:
        spec["kubeProxy"] = thaw(plan.kube_proxy)
    underlay: dict[str, Any] = {"subnets": [{"name": s.name, "cidr": str(s.cidr), "gateway": str(s.gateway),
                                             **({"mtu": s.mtu} if s.mtu != 1500 else {})}
                                            for s in plan.underlay.subnets]}
    if plan.underlay.routes != "host":
        underlay["routes"] = plan.underlay.routes
    if plan.underlay.name != "underlay":
        underlay["name"] = plan.underlay.name
    spec["underlay"] = underlay
    return {"apiVersion": API_VERSION, "kind": "ClusterPlan", "metadata": {"name": plan.name}, "spec": spec}


def _own(source: str) -> bool:
    """Whether a setting came from the ClusterPlan's own text (kept) rather than the dump's manifests."""
    return bool(source) and " from ConfigMap " not in source and " from DaemonSet " not in source


def to_json(plan: Plan) -> dict[str, Any]:
    doc = document(plan)
    doc["status"] = {"inferred": [i.to_json() for i in plan.inferred],
                     "settings": [{"setting": f"network {k}", "source": v}
                                  for k, v in (plan.network.sources if plan.network else ())]
                     + [{"setting": f"policy {k}", "source": v} for k, v in plan.policy.sources]}
    return doc


def to_yaml(plan: Plan, inputs: str) -> str:
    """The ClusterPlan as YAML, each inferred value under a comment naming its source."""
    doc = document(plan)
    notes: dict[str, list[Inferred]] = {}
    for i in plan.inferred:
        notes.setdefault(i.field, []).append(i)
    lines = [f"# The ClusterPlan cnimodel inferred from {inputs}. Read it together with the inputs:",
             f"#   cnimodel summary THIS-FILE {inputs}",
             "# Each value says where it was read; a value marked `guessed` is stated nowhere in the inputs: check it.",
             "# Settings the inputs' ConfigMaps and DaemonSets carry are read from them again, not copied here."]
    lines += [f"apiVersion: {doc['apiVersion']}", f"kind: {doc['kind']}", "metadata:",
              f"  name: {_scalar(doc['metadata']['name'])}", "spec:"]
    spec = doc["spec"]
    for key, value in spec.items():
        if key == "network":
            lines += _comments(notes, "spec.network.plugin", "  ")
            lines.append("  network:")
            lines += [f"    {k}: {_flow(v)}" for k, v in value.items()]
            written = {"windows_config" if k == "windowsConfig" else k for k in value}
            for setting, source in plan.network.sources if plan.network else ():
                if setting not in written:  # read from the inputs again: say from where
                    lines.append(f"    # {setting}: {source}")
        elif key == "policy":
            lines += _comments(notes, "spec.policy.plugin", "  ")
            lines.append("  policy:")
            lines += [f"    {k}: {_flow(v)}" for k, v in value.items()]
            lines += [f"    # {setting}: {source}" for setting, source in plan.policy.sources]
        elif key == "kubeProxy":
            lines.append("  kubeProxy:")
            for k, v in value.items():
                lines += _comments(notes, f"spec.kubeProxy.{k}", "    ")
                lines.append(f"    {k}: {_flow(v)}")
        elif key == "underlay":
            lines.append("  underlay:")
            lines += [f"    {k}: {_flow(v)}" for k, v in value.items() if k != "subnets"]
            lines.append("    subnets:")
            subnets = notes.get("spec.underlay.subnets", [])
            for n, s in enumerate(value["subnets"]):
                if n < len(subnets):
                    lines += _comment(subnets[n], "      ")
                lines.append(f"      - {_flow(s)}")
        else:
            lines += _comments(notes, f"spec.{key}", "  ")
            lines.append(f"  {key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _comments(notes: dict[str, list[Inferred]], field: str, indent: str) -> list[str]:
    return [line for i in notes.get(field, ()) for line in _comment(i, indent)]


def _comment(i: Inferred, indent: str) -> list[str]:
    return [f"{indent}# {'guessed' if i.guessed else 'source'}: {i.source}"]


def _scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).removesuffix("\n...\n").strip()


def _flow(value: Any) -> str:
    """A value on one line, as YAML reads it back (flow style; JSON for nested data)."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", ": "))
    return _scalar(value)
