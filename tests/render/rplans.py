"""Plans for the render tests, built from the worked example (cni-plugins.md §10) of tests/builders.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import cluster_doc, pod_doc, write_docs

# Names that would run if the page put them into markup: the page must show them as text.
EVIL_POD = "<script>window.__pwned=1</script>"
EVIL_NS = '"><img src=x onerror=window.__pwned=2>'
EVIL_NODE = "lin<script>window.__pwned=3</script>"
EVIL_LABEL = "<img src=x onerror=window.__pwned=4>"


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def labelled(doc: dict[str, Any], **labels: str) -> dict[str, Any]:
    doc["metadata"]["labels"] = labels
    return doc


def worked_plan(tmp_path: Path) -> Path:
    """The worked example with a client on lin1 and two web pods on the Windows nodes (host-gw)."""
    return write_docs(tmp_path / "worked.yaml", [
        cluster_doc(), pod_doc("client", "lin1"), pod_doc("iis-0", "win1", namespace="web"),
        pod_doc("iis-1", "win2", namespace="web")])


def evil_plan(tmp_path: Path) -> Path:
    """Markup in a pod name, a namespace, a node name and label values."""
    nodes = [{"name": "master", "os": "linux", "ip": "10.240.0.4"},
             {"name": EVIL_NODE, "os": "linux", "ip": "10.240.0.10", "labels": {"evil": EVIL_LABEL}},
             {"name": "win1", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 20348}]
    return write_docs(tmp_path / "evil.yaml", [
        cluster_doc(nodes), labelled(pod_doc(EVIL_POD, EVIL_NODE, namespace=EVIL_NS), app=EVIL_LABEL),
        pod_doc("iis-0", "win1", namespace="web")])


def policy_plan(tmp_path: Path) -> Path:
    """Calico policy-only on host-gw, every pod on lin1 (felix enforces there). Namespace ``back`` admits only
    namespace ``front`` on TCP 8080; nothing else restricts anything. ``kube-system/agent`` is a hostNetwork pod
    on lin1: it reaches ``back/b1`` on its own node (ingress from the local node is exempt) but not ``back/b2``."""
    nodes = [{"name": "lin1", "os": "linux", "ip": "10.240.0.10"}, {"name": "lin2", "os": "linux", "ip": "10.240.0.11"}]
    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "front-only", "namespace": "back"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "front"}}}],
                                  "ports": [{"protocol": "TCP", "port": 8080}]}]}}
    return write_docs(tmp_path / "policy.yaml", [
        cluster_doc(nodes, policy={"plugin": "calico"}), namespace("front", team="front"), namespace("back"),
        namespace("other"), pod_doc("f1", "lin1", namespace="front"), pod_doc("f2", "lin1", namespace="front"),
        pod_doc("b1", "lin1", namespace="back"), pod_doc("b2", "lin2", namespace="back"),
        pod_doc("o1", "lin2", namespace="other"), pod_doc("agent", "lin1", namespace="kube-system", hostNetwork=True),
        deny])
