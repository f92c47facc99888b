#!/usr/bin/env python3
"""Write a live cluster's dump as ``kubectl get nodes,pods,services,endpointslices,networkpolicies,configmaps,
daemonsets,deployments,statefulsets,namespaces -A -o json`` prints it, for the dump benchmark (issue 16).

    python tools/gen_dump.py --nodes 5000 --pods 150000 -o /tmp/dump-5k.json

The text has kubectl's shape: one ``kind: List`` with ``metadata.resourceVersion: ""``, keys sorted, four-space
indentation (kubectl's JSON printer indents with four spaces; maps of unstructured objects encode sorted), and
every object as the API server returns it — ``managedFields`` (one entry per field manager, ``fieldsV1`` trees),
``status`` blocks (a Pod's conditions and containerStatuses, a Node's images and nodeInfo), ``ownerReferences``
and annotations such as ``kubectl.kubernetes.io/last-applied-configuration``. A kubeadm cluster running flannel
(kube-flannel.yml's ConfigMap and DaemonSet), kube-proxy (its ``config.conf``), ``kubeadm-config``, CoreDNS and
its ``kube-dns`` Service; two DaemonSet pods per node (kube-flannel, kube-proxy, host network) and Deployments
of 30 replicas for the rest, each with a Service and an EndpointSlice. Node 0 is the tainted control plane.
Objects are written from per-kind text templates, so a gigabyte takes seconds to write.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from ipaddress import IPv4Network
from typing import Any, TextIO

CLUSTER_CIDR = IPv4Network("10.128.0.0/11")  # 8,192 node /24s
SERVICE_CIDR = IPv4Network("10.96.0.0/12")
NODE_NET = IPv4Network("10.240.0.0/16")
REPLICAS = 30
NAMESPACES = 50
T0 = "2025-03-01T08:00:00Z"
MARK = re.compile(r"@@(\w+)@@")


def _fields(tree: dict[str, Any]) -> dict[str, Any]:
    """A managedFields ``fieldsV1`` tree for an object: ``f:<key>`` for every key, recursively ("." for leaves)."""
    out: dict[str, Any] = {".": {}} if tree else {}
    for k, v in tree.items():
        out[f"f:{k}"] = _fields(v) if isinstance(v, dict) else {}
    return out


def managed(manager: str, operation: str, tree: dict[str, Any], sub: str | None = None) -> dict[str, Any]:
    entry = {"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": _fields(tree), "manager": manager,
             "operation": operation, "time": T0}
    if sub:
        entry["subresource"] = sub
    return entry


def pod(ds: bool, full: bool = False) -> dict[str, Any]:
    """A Pod of a ReplicaSet (``ds`` False) or of a DaemonSet (host network), values as @@markers@@. ``full``
    keeps what a typical pod carries besides (env, resources, a second toleration, the token volume's CA and
    namespace sources, the kubelet's per-condition fields): about 12 KB a pod in the List instead of 7."""
    labels = ({"app": "@@app@@", "controller-revision-hash": "7d9c5b8f6", "pod-template-generation": "1"} if ds
              else {"app": "@@app@@", "pod-template-hash": "@@hash@@"})
    owner = {"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
             "kind": "DaemonSet" if ds else "ReplicaSet", "name": "@@owner@@", "uid": "@@ouid@@"}
    container = {
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
        "image": "@@image@@", "imagePullPolicy": "IfNotPresent", "name": "main",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "@@token@@",
                          "readOnly": True}]}
    spec = {
        "containers": [container], "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "nodeName": "@@node@@",
        "preemptionPolicy": "PreemptLowerPriority", "priority": 0, "restartPolicy": "Always",
        "schedulerName": "default-scheduler", "securityContext": {}, "serviceAccount": "default",
        "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
        "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                         "tolerationSeconds": 300},
                        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
                         "tolerationSeconds": 300}],
        "volumes": [{"name": "@@token@@", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
            {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                        "path": "namespace"}]}}]}}]}
    if ds:
        spec.update(hostNetwork=True, priorityClassName="system-node-critical", serviceAccount="@@app@@",
                    serviceAccountName="@@app@@", nodeSelector={"kubernetes.io/os": "linux"})
        container["securityContext"] = {"privileged": True}
    conditions = [{"lastProbeTime": None, "lastTransitionTime": T0, "status": "True", "type": t}
                  for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
    status = {
        "conditions": conditions,
        "containerStatuses": [{"containerID": "containerd://@@cid@@", "image": "@@image@@",
                               "imageID": "@@image@@@sha256:" + "4c0fdaa8b6341bfd" * 4,
                               "lastState": {}, "name": "main", "ready": True, "restartCount": 0, "started": True,
                               "state": {"running": {"startedAt": T0}}}],
        "hostIP": "@@hostip@@", "hostIPs": [{"ip": "@@hostip@@"}], "phase": "Running", "podIP": "@@ip@@",
        "podIPs": [{"ip": "@@ip@@"}], "qosClass": "Burstable", "startTime": T0}
    meta = {"creationTimestamp": T0, "generateName": "@@gen@@", "labels": labels, "name": "@@name@@",
            "namespace": "@@ns@@", "ownerReferences": [owner], "resourceVersion": "@@rv@@", "uid": "@@uid@@"}
    meta["managedFields"] = [
        managed("kube-controller-manager", "Update",
                {"metadata": {"generateName": 1, "labels": {k: 1 for k in labels}, "ownerReferences": {"uid": 1}},
                 "spec": {"containers": {'k:{"name":"main"}': {k: 1 for k in ("image", "name", "ports")}},
                          "nodeName": 1, "tolerations": 1, "volumes": 1}}),
        managed("kubelet", "Update", {"status": {"conditions": {f'k:{{"type":"{c["type"]}"}}': {
            "lastProbeTime": 1, "lastTransitionTime": 1, "status": 1, "type": 1} for c in conditions},
            "containerStatuses": 1, "hostIP": 1, "hostIPs": 1, "phase": 1, "podIP": 1,
            "podIPs": {'k:{"ip":"@@ip@@"}': {"ip": 1}}, "startTime": 1}}, "status")]
    if not full:
        for key in ("env", "resources", "terminationMessagePath", "terminationMessagePolicy"):
            container.pop(key)
        del spec["tolerations"][1], spec["volumes"][0]["projected"]["sources"][1:]
        meta["managedFields"][1]["fieldsV1"]["f:status"]["f:conditions"] = {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def node() -> dict[str, Any]:
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "kubernetes.io/hostname": "@@name@@", "kubernetes.io/os": "linux", "pool": "@@pool@@",
              "topology.kubernetes.io/region": "westeurope", "topology.kubernetes.io/zone": "@@zone@@"}
    annotations = {"flannel.alpha.coreos.com/backend-data": '{"VNI":1,"VtepMAC":"@@mac@@"}',
                   "flannel.alpha.coreos.com/backend-type": "vxlan",
                   "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                   "flannel.alpha.coreos.com/public-ip": "@@ip@@",
                   "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                   "node.alpha.kubernetes.io/ttl": "0",
                   "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    images = [{"names": [f"registry.example.com/team{i}/app@sha256:{i:064x}",
                         f"registry.example.com/team{i}/app:1.{i}"],
               "sizeBytes": 50_000_000 + i * 1_234_567} for i in range(15)]
    status = {
        "addresses": [{"address": "@@ip@@", "type": "InternalIP"}, {"address": "@@name@@", "type": "Hostname"}],
        "allocatable": {"cpu": "8", "ephemeral-storage": "119716326407", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                        "memory": "32781580Ki", "pods": "110"},
        "capacity": {"cpu": "8", "ephemeral-storage": "129900528Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                     "memory": "32883980Ki", "pods": "110"},
        "conditions": [{"lastHeartbeatTime": T0, "lastTransitionTime": T0, "message": m, "reason": r,
                        "status": s, "type": t} for t, s, r, m in (
            ("NetworkUnavailable", "False", "FlannelIsUp", "Flannel is running on this node"),
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"))],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "images": images,
        "nodeInfo": {"architecture": "amd64", "bootID": "@@uid@@", "containerRuntimeVersion": "containerd://1.7.24",
                     "kernelVersion": "6.8.0-1021-azure", "kubeProxyVersion": "", "kubeletVersion": "v1.32.2",
                     "machineID": "@@mid@@", "operatingSystem": "linux", "osImage": "Ubuntu 24.04.1 LTS",
                     "systemUUID": "@@uid@@"}}
    spec = {"podCIDR": "@@cidr@@", "podCIDRs": ["@@cidr@@"]}
    meta = {"annotations": annotations, "creationTimestamp": T0, "labels": labels, "name": "@@name@@",
            "resourceVersion": "@@rv@@", "uid": "@@uid@@"}
    meta["managedFields"] = [
        managed("kubeadm", "Update", {"metadata": {"annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": 1}}}),
        managed("kube-controller-manager", "Update", {"metadata": {"annotations": {
            "node.alpha.kubernetes.io/ttl": 1}}, "spec": {"podCIDR": 1, "podCIDRs": {".": 1, 'v:"@@cidr@@"': 1}}}),
        managed("flanneld", "Update", {"metadata": {"annotations": {k: 1 for k in annotations
                                                                    if k.startswith("flannel")}},
                                        "status": {"conditions": {'k:{"type":"NetworkUnavailable"}': {
                                            "lastHeartbeatTime": 1, "message": 1, "reason": 1, "status": 1}}}},
                "status"),
        managed("kubelet", "Update", {"metadata": {"labels": {k: 1 for k in labels}},
                                      "status": {"allocatable": {k: 1 for k in status["allocatable"]},
                                                 "capacity": {k: 1 for k in status["capacity"]}, "images": 1,
                                                 "nodeInfo": {k: 1 for k in status["nodeInfo"]}}}, "status")]
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": spec, "status": status}


def service() -> dict[str, Any]:
    last = json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"annotations": {}, "name": "@@app@@",
                       "namespace": "@@ns@@"}, "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}],
                                                         "selector": {"app": "@@app@@"}}}, separators=(",", ":"))
    spec = {"clusterIP": "@@vip@@", "clusterIPs": ["@@vip@@"], "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
            "selector": {"app": "@@app@@"}, "sessionAffinity": "None", "type": "ClusterIP"}
    meta = {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": last + "\n"},
            "creationTimestamp": T0, "name": "@@app@@", "namespace": "@@ns@@", "resourceVersion": "@@rv@@",
            "uid": "@@uid@@",
            "managedFields": [managed("kubectl-client-side-apply", "Update", {"metadata": {"annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": 1}}, "spec": {k: 1 for k in spec}})]}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec, "status": {"loadBalancer": {}}}


def slice_(endpoints: int) -> dict[str, Any]:
    eps = [{"addresses": [f"@@ip{i}@@"], "conditions": {"ready": True, "serving": True, "terminating": False},
            "nodeName": f"@@node{i}@@", "targetRef": {"kind": "Pod", "name": f"@@pod{i}@@", "namespace": "@@ns@@",
                                                      "uid": f"@@puid{i}@@"}} for i in range(endpoints)]
    meta = {"annotations": {"endpoints.kubernetes.io/last-change-trigger-time": T0}, "creationTimestamp": T0,
            "generateName": "@@app@@-", "generation": 1,
            "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                       "kubernetes.io/service-name": "@@app@@"},
            "name": "@@app@@-@@sfx@@", "namespace": "@@ns@@",
            "ownerReferences": [{"apiVersion": "v1", "blockOwnerDeletion": True, "controller": True,
                                 "kind": "Service", "name": "@@app@@", "uid": "@@suid@@"}],
            "resourceVersion": "@@rv@@", "uid": "@@uid@@",
            "managedFields": [managed("kube-controller-manager", "Update", {"addressType": 1, "endpoints": 1,
                                                                             "metadata": {"labels": 1}, "ports": 1})]}
    return {"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "endpoints": eps, "kind": "EndpointSlice",
            "metadata": meta, "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def deployment() -> dict[str, Any]:
    tmpl = {"metadata": {"labels": {"app": "@@app@@"}}, "spec": {"containers": [{
        "image": "registry.example.com/@@app@@:1.0", "imagePullPolicy": "IfNotPresent", "name": "main",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]}], "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always", "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30}}
    spec = {"progressDeadlineSeconds": 600, "replicas": REPLICAS, "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "@@app@@"}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
            "template": tmpl}
    meta = {"annotations": {"deployment.kubernetes.io/revision": "1"}, "creationTimestamp": T0, "generation": 1,
            "labels": {"app": "@@app@@"}, "name": "@@app@@", "namespace": "@@ns@@", "resourceVersion": "@@rv@@",
            "uid": "@@uid@@", "managedFields": [managed("kubectl-create", "Update", {"spec": {k: 1 for k in spec}})]}
    status = {"availableReplicas": REPLICAS, "observedGeneration": 1, "readyReplicas": REPLICAS,
              "replicas": REPLICAS, "updatedReplicas": REPLICAS,
              "conditions": [{"lastTransitionTime": T0, "lastUpdateTime": T0, "message": "m", "reason": "r",
                              "status": "True", "type": t} for t in ("Available", "Progressing")]}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec, "status": status}


class Template:
    """One object's kubectl text with @@markers@@, filled by joining the literal pieces with the values."""

    def __init__(self, obj: dict[str, Any]) -> None:
        text = json.dumps(obj, indent=4, sort_keys=True).replace("\n", "\n        ")
        self.parts = MARK.split("        " + text)

    def fill(self, values: dict[str, str]) -> str:
        parts = self.parts
        return "".join(p if i % 2 == 0 else values[p] for i, p in enumerate(parts))


def _uid(kind: int, n: int) -> str:
    h = f"{kind:04x}{n:028x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def fixed_objects() -> list[dict[str, Any]]:
    """What kubeadm and kube-flannel.yml put in the cluster besides the per-node and per-app objects."""
    netconf = json.dumps({"Network": str(CLUSTER_CIDR), "EnableNFTables": False, "Backend": {"Type": "vxlan"}},
                         indent=2) + "\n"
    cniconf = json.dumps({"name": "cbr0", "cniVersion": "0.3.1", "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}, indent=2) + "\n"
    proxy = ("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: 0.0.0.0\nclientConnection:\n"
             "  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n"
             f"clusterCIDR: {CLUSTER_CIDR}\nconfigSyncPeriod: 0s\nconntrack:\n  maxPerCore: null\n"
             "iptables:\n  localhostNodePorts: null\n  masqueradeAll: false\n  masqueradeBit: null\n"
             "kind: KubeProxyConfiguration\nmode: \"\"\n")
    kubeadm = ("apiServer: {}\napiVersion: kubeadm.k8s.io/v1beta4\ncaCertificateValidityPeriod: 87600h0m0s\n"
               "certificateValidityPeriod: 8760h0m0s\ncertificatesDir: /etc/kubernetes/pki\n"
               "clusterName: kubernetes\ncontrollerManager: {}\ndns: {}\nkind: ClusterConfiguration\n"
               "kubernetesVersion: v1.32.2\nnetworking:\n  dnsDomain: cluster.local\n"
               f"  podSubnet: {CLUSTER_CIDR}\n  serviceSubnet: {SERVICE_CIDR}\n")
    cm = [("kube-flannel", "kube-flannel-cfg", {"cni-conf.json": cniconf, "net-conf.json": netconf}),
          ("kube-system", "kube-proxy", {"config.conf": proxy, "kubeconfig.conf": "apiVersion: v1\nkind: Config\n"}),
          ("kube-system", "kubeadm-config", {"ClusterConfiguration": kubeadm})]
    out: list[dict[str, Any]] = [
        {"apiVersion": "v1", "data": data, "kind": "ConfigMap",
         "metadata": {"creationTimestamp": T0, "name": name, "namespace": ns, "resourceVersion": "1",
                      "uid": _uid(9, i), "managedFields": [managed("kubectl", "Update", {"data": data})]}}
        for i, (ns, name, data) in enumerate(cm)]
    flannel = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {
        "annotations": {"deprecated.daemonset.template.generation": "1"}, "creationTimestamp": T0, "generation": 1,
        "labels": {"app": "flannel", "k8s-app": "flannel", "tier": "node"}, "name": "kube-flannel-ds",
        "namespace": "kube-flannel", "resourceVersion": "2", "uid": _uid(10, 1)},
        "spec": {"selector": {"matchLabels": {"app": "flannel"}}, "template": {
            "metadata": {"labels": {"app": "flannel", "tier": "node"}},
            "spec": {"containers": [{"args": ["--ip-masq", "--kube-subnet-mgr"], "command": ["/opt/bin/flanneld"],
                                     "image": "ghcr.io/flannel-io/flannel:v0.26.4", "name": "kube-flannel",
                                     "volumeMounts": [{"mountPath": "/etc/kube-flannel/", "name": "flannel-cfg"}]}],
                     "hostNetwork": True, "nodeSelector": {"kubernetes.io/os": "linux"},
                     "volumes": [{"configMap": {"defaultMode": 420, "name": "kube-flannel-cfg"},
                                  "name": "flannel-cfg"}]}}},
        "status": {"currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberReady": 1}}
    proxy_ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {
        "creationTimestamp": T0, "generation": 1, "labels": {"k8s-app": "kube-proxy"}, "name": "kube-proxy",
        "namespace": "kube-system", "resourceVersion": "3", "uid": _uid(10, 2)},
        "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}}, "template": {
            "metadata": {"labels": {"k8s-app": "kube-proxy"}},
            "spec": {"containers": [{"command": ["/usr/local/bin/kube-proxy",
                                                 "--config=/var/lib/kube-proxy/config.conf",
                                                 "--hostname-override=$(NODE_NAME)"],
                                     "image": "registry.k8s.io/kube-proxy:v1.32.2", "name": "kube-proxy"}],
                     "hostNetwork": True, "nodeSelector": {"kubernetes.io/os": "linux"},
                     "volumes": [{"configMap": {"defaultMode": 420, "name": "kube-proxy"}, "name": "kube-proxy"}]}}},
        "status": {"currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberReady": 1}}
    dns = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
        "name": "kube-dns", "namespace": "kube-system", "resourceVersion": "4", "uid": _uid(11, 1)},
        "spec": {"clusterIP": str(SERVICE_CIDR.network_address + 10),
                 "clusterIPs": [str(SERVICE_CIDR.network_address + 10)],
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}],
                 "selector": {"k8s-app": "kube-dns"}, "type": "ClusterIP"}, "status": {"loadBalancer": {}}}
    api = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "labels": {"component": "apiserver", "provider": "kubernetes"}, "name": "kubernetes", "namespace": "default",
        "resourceVersion": "5", "uid": _uid(11, 2)},
        "spec": {"clusterIP": str(SERVICE_CIDR.network_address + 1),
                 "clusterIPs": [str(SERVICE_CIDR.network_address + 1)],
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                 "type": "ClusterIP"}, "status": {"loadBalancer": {}}}
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "creationTimestamp": T0, "labels": {"kubernetes.io/metadata.name": n}, "name": n, "resourceVersion": "6",
        "uid": _uid(12, i)}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        for i, n in enumerate(["default", "kube-system", "kube-flannel", *(f"ns{j:03d}" for j in range(NAMESPACES))])]
    return [*out, flannel, proxy_ds, dns, api, *namespaces]


def generate(nodes: int, pods: int, full: bool = False) -> Iterator[str]:
    """The dump's items as kubectl's text, one string each."""
    for obj in fixed_objects():
        yield "        " + json.dumps(obj, indent=4, sort_keys=True).replace("\n", "\n        ")
    t_node, t_pod, t_dspod = Template(node()), Template(pod(False, full)), Template(pod(True, full))
    t_svc, t_slice, t_dep = Template(service()), Template(slice_(REPLICAS)), Template(deployment())
    rv = iter(range(100_000, 10**9))
    node_names = [f"node-{i:05d}" for i in range(nodes)]
    ips = [str(NODE_NET.network_address + 4 + i) for i in range(nodes)]
    cidrs = list(CLUSTER_CIDR.subnets(new_prefix=24))
    used = [2] * nodes  # next pod address on each node (host-local: .1 is cni0)
    for i, name in enumerate(node_names):
        yield t_node.fill({"name": name, "ip": ips[i], "cidr": str(cidrs[i]), "uid": _uid(1, i), "rv": str(next(rv)),
                           "mid": f"{i:032x}", "mac": f"0e:2a:{i >> 8 & 255:02x}:{i & 255:02x}:00:01",
                           "pool": "batch" if i % 3 == 2 else "general", "zone": f"westeurope-{i % 3 + 1}"})
    for i, name in enumerate(node_names):  # kube-flannel and kube-proxy: host network, the node's address
        for d, (app, ns) in enumerate((("kube-flannel-ds", "kube-flannel"), ("kube-proxy", "kube-system"))):
            yield t_dspod.fill({"app": app, "name": f"{app}-{i:05x}", "gen": f"{app}-", "ns": ns, "uid": _uid(2 + d, i),
                                "owner": app, "ouid": _uid(10, 1 + d), "node": name, "ip": ips[i], "hostip": ips[i],
                                "image": "ghcr.io/flannel-io/flannel:v0.26.4" if d == 0 else
                                "registry.k8s.io/kube-proxy:v1.32.2", "token": f"kube-api-access-{i:05x}",
                                "cid": f"{i:016x}{d:048x}", "rv": str(next(rv)), "hash": ""})
    apps = max(0, pods - 2 * nodes)
    n = 0
    for d in range((apps + REPLICAS - 1) // REPLICAS):
        app, ns = f"app{d:05d}", f"ns{d % NAMESPACES:03d}"
        rs = f"{app}-5f8d7c{d % 1000:03d}"
        yield t_dep.fill({"app": app, "ns": ns, "uid": _uid(5, d), "rv": str(next(rv))})
        vip = str(SERVICE_CIDR.network_address + 256 + d)
        yield t_svc.fill({"app": app, "ns": ns, "vip": vip, "uid": _uid(6, d), "rv": str(next(rv))})
        members = []
        for r in range(min(REPLICAS, apps - n)):
            k = (n * 7919) % nodes  # spread over the nodes
            while used[k] > 110:
                k = (k + 1) % nodes
            ip = str(cidrs[k].network_address + used[k])
            used[k] += 1
            pname = f"{rs}-{r:05x}"
            members.append((ip, node_names[k], pname, _uid(4, n)))
            yield t_pod.fill({"app": app, "hash": rs.rsplit("-", 1)[1], "name": pname, "gen": f"{rs}-", "ns": ns,
                              "uid": _uid(4, n), "owner": rs, "ouid": _uid(7, d), "node": node_names[k], "ip": ip,
                              "hostip": ips[k], "image": f"registry.example.com/{app}:1.0", "rv": str(next(rv)),
                              "token": f"kube-api-access-{n % 100000:05x}", "cid": f"{n:064x}"})
            n += 1
        values = {"app": app, "ns": ns, "sfx": f"{d % 100000:05x}", "uid": _uid(8, d), "suid": _uid(6, d),
                  "rv": str(next(rv))}
        for j in range(REPLICAS):
            ip, nd, pn, pu = members[j % len(members)] if members else ("10.128.0.2", node_names[0], "none", "none")
            values.update({f"ip{j}": ip, f"node{j}": nd, f"pod{j}": pn, f"puid{j}": pu})
        yield t_slice.fill(values)


def write(out: TextIO, nodes: int, pods: int, full: bool = False) -> None:
    out.write('{\n    "apiVersion": "v1",\n    "items": [\n')
    first = True
    for text in generate(nodes, pods, full):
        if not first:
            out.write(",\n")
        out.write(text)
        first = False
    out.write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=150000, help="all pods, the two DaemonSet pods per node included")
    ap.add_argument("--full", action="store_true", help="heavier pods (about 12 KB each instead of 7)")
    ap.add_argument("-o", "--output", default="-", help="the file to write (default: standard output)")
    args = ap.parse_args()
    if args.output == "-":
        write(sys.stdout, args.nodes, args.pods, args.full)
    else:
        with open(args.output, "w", buffering=1 << 20) as f:
            write(f, args.nodes, args.pods, args.full)


if __name__ == "__main__":
    main()
