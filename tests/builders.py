"""The builders every test shares: plan documents (ClusterPlan, Pod, CNI configs), writing and loading them, the
errors a plan raises, and the CLI runners. Test modules import them with ``from builders import …``.

Expected values in the tests are derived by hand from /work/shared/reference (cni-plugins.md, origin.md),
never copied from cnimodel's own output.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from cnimodel.cli import cli
from cnimodel.cluster import Cluster
from cnimodel.plan import Plan, PlanError, Problem, load_plan
from cnimodel.plugin import installed

FIXTURES = Path(__file__).parent / "fixtures"


# cni-plugins.md §10: the 4-node worked example (nodes in registration order).
WORKED_NODES = [
    {"name": "master", "os": "linux", "ip": "10.240.0.4"},
    {"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
    {"name": "win1", "os": "windows", "ip": "10.240.0.20", "windowsBuild": 20348},
    {"name": "win2", "os": "windows", "ip": "10.240.0.30", "windowsBuild": 20348},
]


def cluster_doc(nodes: Iterable[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    """A ClusterPlan document: the worked example's ranges (flannel host-gw), overridable per spec field."""
    base: dict[str, Any] = {
        "clusterCIDR": "10.244.0.0/16",
        "serviceCIDR": "10.96.0.0/12",
        "network": {"plugin": "flannel", "backend": "host-gw",
                    "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}},
        "underlay": {"subnets": [{"name": "nodes", "cidr": "10.240.0.0/24", "gateway": "10.240.0.1"}],
                     "routes": "host"},
        "nodes": copy.deepcopy(WORKED_NODES) if nodes is None else list(nodes),
    }
    base.update(spec)
    return {"apiVersion": "cnimodel/v1", "kind": "ClusterPlan", "metadata": {"name": "test"}, "spec": base}


def canal_cni(mtu: Any = 0, **calico: Any) -> dict[str, Any]:
    """10-canal.conflist as install-cni writes it from projectcalico/calico manifests/canal.yaml (canal-config
    cni_network_config): __CNI_MTU__ ← veth_mtu (the manifest's "0" unless given), the node name and kubeconfig
    path filled; ``mtu=None`` leaves the key out; ``calico`` replaces or adds calico plugin fields."""
    plugin: dict[str, Any] = {
        "type": "calico", "log_level": "info", "log_file_path": "/var/log/calico/cni/cni.log",
        "datastore_type": "kubernetes", "nodename": "lin1", "mtu": mtu,
        "ipam": {"type": "host-local", "subnet": "usePodCidr"}, "policy": {"type": "k8s"},
        "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}}
    if mtu is None:
        del plugin["mtu"]
    plugin.update(calico)
    return {"name": "k8s-pod-network", "cniVersion": "1.0.0",
            "plugins": [plugin, {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}}]}


# Published for Linux and Windows (every build): a pod with it runs on any node, so tests that are not about
# images place pods freely (a Linux-only image on a Windows node never runs: docs/workloads.md).
MULTI_OS_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.47"


def pod_doc(name: str, node: str | None = None, namespace: str = "default", ip: str | None = None, *,
            labels: dict[str, str] | None = None, image: str = MULTI_OS_IMAGE,
            ports: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    """A Pod document: one container ``c`` of ``image`` with ``ports`` (containerPort dicts), ``spec`` fields
    beside it (hostNetwork, serviceAccountName …), ``nodeName`` when ``node`` is given, ``status.podIP`` when
    ``ip`` is."""
    container: dict[str, Any] = {"name": "c", "image": image}
    if ports is not None:
        container["ports"] = ports
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
                           "spec": {"containers": [container], **spec}}
    if labels is not None:
        doc["metadata"]["labels"] = labels
    if node is not None:
        doc["spec"]["nodeName"] = node
    if ip is not None:
        doc["status"] = {"podIP": ip}
    return doc


def container_ports(ports: Iterable[tuple[int, str, str | None]]) -> list[dict[str, Any]]:
    """(containerPort, protocol, name) triples as a container's ``ports``."""
    return [{"containerPort": n, "protocol": p, **({"name": nm} if nm else {})} for n, p, nm in ports]


def write_docs(path: Path, docs: list[dict[str, Any]]) -> Path:
    """Write documents as multi-document YAML (or a JSON List when the name ends in .json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    else:
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def load_docs(tmp_path: Path, docs: list[dict[str, Any]], name: str = "plan.yaml") -> Plan:
    return load_plan([write_docs(tmp_path / name, docs)], installed=installed())


def build_docs(tmp_path: Path, docs: list[dict[str, Any]], name: str = "plan.yaml") -> Cluster:
    return Cluster.build(load_docs(tmp_path, docs, name))


def plan_errors(tmp_path: Path, docs: list[dict[str, Any]] | None = None, text: str | None = None,
                name: str = "plan.yaml") -> list[Problem]:
    """The errors loading and building a plan raise (fails the test when there are none)."""
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    else:
        write_docs(path, docs or [])
    with pytest.raises(PlanError) as info:
        Cluster.build(load_plan([path], installed=installed()))
    assert info.value.problems, "PlanError without problems"
    return info.value.problems


def at(problems: list[Problem], path: str) -> Problem:
    """The one problem reported at a field path."""
    hits = [p for p in problems if p.origin.path == path]
    assert hits, f"no problem at {path!r}; got {[(p.origin.path, p.message) for p in problems]}"
    return hits[0]


def run(*args: str) -> Result:
    """Run the CLI in-process; stdout and stderr stay separate."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI in a real process (exit codes and stderr as a user sees them)."""
    return subprocess.run([sys.executable, "-m", "cnimodel", *args], capture_output=True, text=True, timeout=120)
