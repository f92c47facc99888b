"""A field of a modelled kind that changes the network but is not modelled yet is named in a warning the first
time it is met (issue #16 §5); the Kubernetes docs' own examples are the inputs."""

from __future__ import annotations

from pathlib import Path

from builders import cluster_doc, load_docs, pod_doc

# The Deployment shape of the Kubernetes docs' "Pod Topology Spread Constraints" and "inter-pod affinity" pages.
_SPREAD = [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}}}]
_ANTI = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}
SPREAD = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"topologySpreadConstraints": _SPREAD, "affinity": _ANTI,
                                         "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}}


def _warned(tmp_path: Path, docs: list[dict]) -> dict[str, str]:
    plan = load_docs(tmp_path, [cluster_doc(), *docs])
    return {w.origin.path: w.message for w in plan.warnings if "is not modelled" in w.message}


def test_template_fields_named_once_with_their_path(tmp_path: Path) -> None:
    second = {**SPREAD, "metadata": {"name": "api", "namespace": "default"}}
    got = _warned(tmp_path, [SPREAD, second])
    assert set(got) == {"spec.template.spec.topologySpreadConstraints", "spec.template.spec.affinity.podAntiAffinity"}
    assert got["spec.template.spec.topologySpreadConstraints"].startswith(
        "spec.topologySpreadConstraints is not modelled: it changes which node a workload's pods land on")


def test_pod_annotations_and_sidecar_ports(tmp_path: Path) -> None:
    pod = pod_doc("a", "lin1")
    pod["metadata"]["annotations"] = {"k8s.v1.cni.cncf.io/networks": "macvlan-conf"}
    pod["spec"]["initContainers"] = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always",
                                      "ports": [{"containerPort": 15001}]}]
    pod["spec"]["dnsPolicy"] = "None"
    pod["spec"]["dnsConfig"] = {"nameservers": ["1.1.1.1"]}
    got = _warned(tmp_path, [pod])
    assert set(got) == {"metadata.annotations", "spec.initContainers[0].ports", "spec.dnsPolicy", "spec.dnsConfig"}
    assert "extra network interfaces" in got["metadata.annotations"]


def test_service_fields(tmp_path: Path) -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "default"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], "trafficDistribution": "PreferClose"}}
    assert set(_warned(tmp_path, [svc])) == {"spec.trafficDistribution"}


def test_modelled_fields_are_not_named(tmp_path: Path) -> None:
    pod = pod_doc("a", "lin1", nodeSelector={"kubernetes.io/os": "linux"}, dnsPolicy="ClusterFirst")
    assert _warned(tmp_path, [pod]) == {}
