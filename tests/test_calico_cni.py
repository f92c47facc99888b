"""canal's Linux data plane: the calico CNI plugin with host-local over the podCIDR, flannel between nodes.

Expected values are derived from projectcalico/calico@87c15906 by hand:
- host veth name: ``VethNameForWorkload`` = "cali" + sha1("<namespace>.<pod>") hex [:11]
  (libcalico-go/lib/backend/k8s/conversion/workload_endpoint_default.go:77; the upstream test expects
  "eni82111e10a96" for namespace/podname with prefix eni, conversion_test.go:64);
- host side: MAC ee:ee:ee:ee:ee:ee, route ``<podIP>/32 dev cali… scope link``, sysctls route_localnet=1,
  proxy_delay=0, proxy_arp=1, forwarding=1 (cni-plugin/pkg/dataplane/linux/dataplane_linux.go:43, :425, :496);
- pod side: default via 169.254.1.1 (dataplane_linux.go:276);
- MTU: the conf's ``mtu``, else /var/lib/calico/mtu, which felix fills with the smallest MTU of the host's up
  interfaces matching ^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*), 1460 when none matches, less no Calico
  encapsulation in canal (felix/dataplane/linux/int_dataplane.go:1732, :1796);
- host-local over the podCIDR (usePodCidr): gateway .1 kept out, first pod .2 (cni-plugins.md §2.2).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from builders import at, build_docs, canal_cni, cluster_doc, plan_errors, pod_doc, run, write_docs

from cnimodel.plugins import calico_cni

LINUX = [{"name": "master", "os": "linux", "ip": "10.240.0.4"},
         {"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
         {"name": "lin2", "os": "linux", "ip": "10.240.0.11"}]
CALICO_POLICY = {"plugin": "calico", "config": {"CALICO_NETWORKING_BACKEND": "none"}}


def cali(namespace: str, pod: str) -> str:
    return "cali" + hashlib.sha1(f"{namespace}.{pod}".encode()).hexdigest()[:11]


def canal(backend: str = "vxlan", cni: Any = "canal", nodes: list[dict[str, Any]] | None = None,
          policy: dict[str, Any] | None = CALICO_POLICY, **spec: Any) -> dict[str, Any]:
    net: dict[str, Any] = {"plugin": "flannel", "backend": backend,
                           "config": {"Network": "10.244.0.0/16", "Backend": {"Type": backend}}}
    if cni is not None:
        net["cni"] = canal_cni() if cni == "canal" else cni
    extra = {"policy": policy} if policy is not None else {}
    return cluster_doc(LINUX if nodes is None else nodes, network=net, **extra, **spec)


def pods() -> list[dict[str, Any]]:
    return [pod_doc("a", "lin1"), pod_doc("b", "lin1"), pod_doc("c", "lin2")]


def plan_file(tmp_path: Path, docs: list[dict[str, Any]]) -> str:
    return str(write_docs(tmp_path / "canal.yaml", docs))


def section(out: str, node: str, what: str = "ip route") -> list[str]:
    lines = out.splitlines()
    start = lines.index(f"# {node}: {what}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start:end]


def test_veth_name_is_the_plugins_hash() -> None:
    assert calico_cni.veth_name("namespace", "podname", prefix="eni") == "eni82111e10a96"  # upstream's test vector
    name = calico_cni.veth_name("default", "web-0")
    assert name == "cali" + hashlib.sha1(b"default.web-0").hexdigest()[:11] and len(name) == 15


def test_routes_on_a_canal_node_are_pod_host_routes_and_flannel(tmp_path: Path) -> None:
    r = run("routes", plan_file(tmp_path, [canal(), *pods()]), "-o", "ip")
    assert r.exit_code == 0, r.output
    assert section(r.output, "lin1") == [
        "default via 10.240.0.1 dev eth0",
        "10.240.0.0/24 dev eth0 proto kernel scope link src 10.240.0.10",
        "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink",
        f"10.244.1.2 dev {cali('default', 'a')} scope link",
        f"10.244.1.3 dev {cali('default', 'b')} scope link",
        "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    ]
    assert "cni0" not in r.output


def test_pod_veths_as_facts(tmp_path: Path) -> None:
    r = run("routes", plan_file(tmp_path, [canal(), *pods()]), "--node", "lin1", "-o", "json")
    node = json.loads(r.output)["nodes"][0]
    assert [d["kind"] for d in node["devices"]].count("bridge") == 0
    veths = {d["name"]: d for d in node["devices"] if d["kind"] == "veth"}
    a = cali("default", "a")
    assert set(veths) == {a, cali("default", "b")}
    assert (veths[a]["mac"], veths[a]["mtu"], veths[a]["owner"], veths[a]["addresses"]) == (
        "ee:ee:ee:ee:ee:ee", 1500, "calico", [])
    assert veths[a]["sysctls"] == {f"net.ipv4.conf.{a}.route_localnet": "1", f"net.ipv4.neigh.{a}.proxy_delay": "0",
                                   f"net.ipv4.conf.{a}.proxy_arp": "1", f"net.ipv4.conf.{a}.forwarding": "1"}
    host = [rt for rt in node["routes"] if rt["dst"] == "10.244.1.2/32"]
    assert host == [{"dst": "10.244.1.2/32", "via": None, "dev": a, "onlink": False, "scope": "link", "kind": "host",
                     "owner": "calico", "src": None, "proto": None, "type": "unicast", "nextHopType": None,
                     "name": None}]
    assert any("169.254.1.1" in n for n in node["notes"])


def test_ipam_is_host_local_over_the_pod_cidr_without_a_bridge(tmp_path: Path) -> None:
    r = run("ipam", plan_file(tmp_path, [canal(), *pods()]), "-o", "json")
    data = json.loads(r.output)
    lin1 = next(n for n in data["nodes"] if n["name"] == "lin1")
    assert (lin1["podCIDRs"], lin1["gateway"], lin1["rangeStart"], lin1["rangeEnd"], lin1["ipam"]) == (
        ["10.244.1.0/24"], "169.254.1.1", "10.244.1.1", "10.244.1.254", "host-local")
    reserved = {x["ip"]: x["reason"] for x in lin1["reserved"]}
    assert set(reserved) == {"10.244.1.0", "10.244.1.1", "10.244.1.255"} and "unused" in reserved["10.244.1.1"]
    assert {(p["name"], p["ip"]) for p in data["pods"]} == {("a", "10.244.1.2"), ("b", "10.244.1.3"),
                                                          ("c", "10.244.2.2")}


def test_lookup_of_a_local_pod_matches_its_host_route(tmp_path: Path) -> None:
    r = run("lookup", plan_file(tmp_path, [canal(), *pods()]), "--node", "lin1", "10.244.1.3", "-o", "json")
    data = json.loads(r.output)
    assert (data["route"]["dst"], data["dev"], data["nextHop"]) == ("10.244.1.3/32", cali("default", "b"), "10.244.1.3")
    # a free address of the node's own CIDR has no route but the default: nothing holds the /24
    r = run("lookup", plan_file(tmp_path, [canal(), *pods()]), "--node", "lin1", "10.244.1.77", "-o", "json")
    assert json.loads(r.output)["route"]["dst"] == "0.0.0.0/0"


def steps(trace: dict[str, Any], node: str) -> list[dict[str, Any]]:
    return [s for h in trace["hops"] if h["node"] == node for s in h["steps"]]


def test_trace_crosses_the_cali_veths_and_the_vxlan(tmp_path: Path) -> None:
    netpol = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "only-c", "namespace": "default"},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}}
    r = run("trace", plan_file(tmp_path, [canal(), *pods(), netpol]), "default/c", "default/a", "-o", "json")
    assert r.exit_code == 0, r.output
    t = json.loads(r.output)
    assert t["disposition"] == "ACCEPTED"
    src = steps(t, "default/c")
    assert src[-1]["detail"]["route"] == "default via 169.254.1.1 dev eth0"
    lin2 = steps(t, "lin2")
    assert lin2[0]["detail"]["interface"] == cali("default", "c")
    assert [s["action"] for s in lin2] == ["RECEIVED", "POLICY_ALLOWED", "FORWARDED", "VXLAN"]
    assert lin2[2]["detail"]["route"] == "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink"
    lin1 = steps(t, "lin1")
    actions = [s["action"] for s in lin1]
    assert actions == ["RECEIVED", "VXLAN", "FORWARDED", "POLICY_ALLOWED", "TRANSMITTED"]
    assert lin1[2]["detail"]["route"] == f"10.244.1.2/32 dev {cali('default', 'a')}"
    assert lin1[3]["detail"]["direction"] == "ingress"  # felix filters on the pod's own interface
    assert lin1[4]["detail"]["via"] == cali("default", "a")


@pytest.mark.parametrize(("mtu", "underlay", "interface", "want"), [
    (0, 1500, None, 1500),  # canal's veth_mtu "0": felix's MTU file, the host MTU (no Calico encapsulation)
    (None, 9000, None, 9000),  # no mtu key: the same file
    (1450, 1500, None, 1450),  # veth_mtu "1450"
    (0, 9000, "bond0", 1460),  # no interface matches felix's MTUIfacePattern: findHostMTU's 1460
    (0, 9000, "ens5", 9000),
])
def test_pod_mtu(tmp_path: Path, mtu: Any, underlay: int, interface: str | None, want: int) -> None:
    nodes = [dict(n, **({"interface": interface} if interface else {})) for n in LINUX]
    subnets = [{"name": "nodes", "cidr": "10.240.0.0/24", "gateway": "10.240.0.1", "mtu": underlay}]
    doc = canal(cni=canal_cni(mtu=mtu), nodes=nodes, underlay={"subnets": subnets, "routes": "host"})
    c = build_docs(tmp_path, [doc, *pods()])
    assert {d.mtu for d in c.facts("lin1").devices if d.kind == "veth"} == {want}


def test_felix_mtu_pattern_from_the_policy_config(tmp_path: Path) -> None:
    nodes = [dict(n, interface="bond0") for n in LINUX]
    policy = {"plugin": "calico", "config": {"CALICO_NETWORKING_BACKEND": "none", "FELIX_MTUIFACEPATTERN": "^bond"}}
    c = build_docs(tmp_path, [canal(nodes=nodes, policy=policy), *pods()])
    assert {d.mtu for d in c.facts("lin1").devices if d.kind == "veth"} == {1500}


def test_a_full_size_packet_meets_flannel_1_with_the_manifest_default_mtu(tmp_path: Path) -> None:
    path = plan_file(tmp_path, [canal(), *pods()])
    t = json.loads(run("trace", path, "default/c", "default/a", "--size", "1500", "-o", "json").output)
    assert t["disposition"] == "DENIED_OUT" and "1450 of flannel.1" in t["reason"]  # 1500 − 50
    path = plan_file(tmp_path, [canal(cni=canal_cni(mtu=1450)), *pods()])
    t = json.loads(run("trace", path, "default/c", "default/a", "--size", "1500", "-o", "json").output)
    assert t["disposition"] == "DENIED_OUT" and "pod interface MTU 1450" in t["reason"]


@pytest.mark.parametrize(("cni", "calico"), [
    (None, False),  # no CNI config: flannel's bridge CNI
    ({"name": "cbr0", "cniVersion": "0.3.1", "plugins": [  # kube-flannel.yml cni-conf.json
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}, False),
    ({"name": "k8s-pod-network", "cniVersion": "0.3.1", "type": "calico",  # a single conf, not a list
      "ipam": {"type": "host-local", "subnet": "usePodCidr"}}, True),
    ("canal", True),
])
def test_the_cni_config_chooses_the_linux_pod_side(tmp_path: Path, cni: Any, calico: bool) -> None:
    c = build_docs(tmp_path, [canal(cni=cni), *pods()])
    f = c.facts("lin1")
    has_cni0 = any(r.dev == "cni0" and str(r.dst) == "10.244.1.0/24" for r in f.routes)
    has_cali = any(r.dev == cali("default", "a") and str(r.dst) == "10.244.1.2/32" for r in f.routes)
    assert (has_cni0, has_cali) == (not calico, calico)
    assert ("calico CNI" in c.plugin.describe(c.node("lin1"))) == calico


def test_windows_nodes_of_a_canal_cluster_keep_win_overlay(tmp_path: Path) -> None:
    net = {"plugin": "flannel", "backend": "vxlan", "cni": canal_cni(),
           "config": {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "VNI": 4096, "Port": 4789}}}
    c = build_docs(tmp_path, [cluster_doc(network=net, policy=CALICO_POLICY), pod_doc("a", "lin1"),
                              pod_doc("w", "win1")])
    win = c.facts("win1")
    assert [n.type for n in win.hns_networks] == ["Overlay"] and not any(d.kind == "veth" for d in win.devices)
    assert c.allocation.pods["default/w"].ip.exploded == "10.244.2.3"  # win-overlay: the source VIP takes .2
    assert any(d.name == cali("default", "a") for d in c.facts("lin1").devices)


def test_host_gw_with_the_calico_cni(tmp_path: Path) -> None:
    c = build_docs(tmp_path, [canal(backend="host-gw"), *pods()])
    lines = {(str(r.dst), str(r.via) if r.via else None, r.dev) for r in c.facts("lin1").routes}
    assert ("10.244.0.0/24", "10.240.0.4", "eth0") in lines and ("10.244.2.0/24", "10.240.0.11", "eth0") in lines
    assert ("10.244.1.2/32", None, cali("default", "a")) in lines and not any(d == "cni0" for _, _, d in lines)


def warned(tmp_path: Path, docs: list[dict[str, Any]]) -> dict[str, str]:
    return {w.origin.path: w.message for w in build_docs(tmp_path, docs).warnings}


def test_what_is_not_modelled_is_a_warning(tmp_path: Path) -> None:
    assert not [p for p in warned(tmp_path, [canal(), *pods()]) if p.startswith("spec.network.cni")]
    conf = canal_cni(ipam={"type": "dhcp", "routes": [{"dst": "10.0.0.0/8"}]}, device_type="netkit")
    w = warned(tmp_path, [canal(cni=conf), *pods()])
    assert "'dhcp' is not modelled" in w["spec.network.cni.plugins[0].ipam.type"]
    assert "custom pod routes" in w["spec.network.cni.plugins[0].ipam.routes"]
    assert "netkit" in w["spec.network.cni.plugins[0].device_type"]
    w = warned(tmp_path, [canal(cni=canal_cni(ipam={"type": "host-local", "subnet": "10.244.0.0/16"})), *pods()])
    assert "10.244.0.0/16" in w["spec.network.cni.plugins[0].ipam.subnet"]
    w = warned(tmp_path, [canal(policy=None), *pods()])
    assert "calico-node" in w["spec.network.cni"]
    host_port = pod_doc("hp", "lin1", containers=[{"name": "c", "image": "nginx",
                                                   "ports": [{"containerPort": 80, "hostPort": 8080}]}])
    w = warned(tmp_path, [canal(), host_port])
    assert "portmap" in w["spec.network.cni.plugins"]


def test_graph_hangs_each_pod_on_its_veth(tmp_path: Path) -> None:
    g = json.loads(run("graph", plan_file(tmp_path, [canal(), *pods()]), "-o", "json").output)
    edges = {(e["source"], e["target"], e["kind"]) for e in g["edges"]}
    a = f"dev:lin1/{cali('default', 'a')}"
    assert ("table:lin1", a, "routes") in edges  # the node's /32 route names it
    assert (a, "pod:default/a", "veth") in edges or ("pod:default/a", a, "veth") in edges
    assert not any(n["id"] == "dev:lin1/cni0" for n in g["nodes"])


def test_the_confs_ipam_must_be_the_plans(tmp_path: Path) -> None:
    conf = canal_cni(ipam={"type": "calico-ipam"})
    p = at(plan_errors(tmp_path, [canal(cni=conf), *pods()]), "spec.network.cni.plugins[0].ipam.type")
    assert "calico-ipam" in p.message and "policy.config.ipam" in p.hint
    policy = {"plugin": "calico", "config": {"CALICO_NETWORKING_BACKEND": "none", "ipam": "calico-ipam"}}
    p = at(plan_errors(tmp_path, [canal(policy=policy), *pods()]), "spec.network.cni.plugins[0].ipam.type")
    assert "host-local" in p.message
    # both calico-ipam: Calico's /26 blocks in plan order (master .0/26, lin1 .64/26), pods from the block base,
    # still routed on cali veths via 169.254.1.1
    c = build_docs(tmp_path, [canal(cni=conf, policy=policy), *pods()])
    assert (str(c.allocation.pods["default/a"].ip), str(c.allocation.nodes["lin1"].range.gateway)) == (
        "10.244.0.64", "169.254.1.1")
    assert any(str(r.dst) == "10.244.0.64/32" and r.dev == cali("default", "a") for r in c.facts("lin1").routes)
