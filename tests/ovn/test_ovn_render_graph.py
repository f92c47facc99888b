"""render and graph on the ovn-kubernetes example: the forwarding graph of a pod on another node holds the GENEVE
edge between the two chassis (UDP 6081, the node IPs as outer addresses), the hybrid overlay's VXLAN edges from
the Windows nodes, and OVN's logical datapaths as vertices of their own; the drawings highlight a trace."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
from builders import run

import cnimodel

EXAMPLE = str(Path(__file__).parents[2] / "topologies" / "ovn-kubernetes-hybrid.yaml")


def test_graph_json_has_the_geneve_edge_between_chassis() -> None:
    r = run("graph", EXAMPLE, "--dst", "shop/web-1", "-o", "json")
    assert r.exit_code == 0, r.stderr
    g = json.loads(r.stdout)
    encaps = {(e["source"], e["target"]): e["fact"]["encap"] for e in g["edges"] if e["kind"] == "encap"}
    geneve = encaps[("tunnel:lin1/genev_sys_6081", "tunnel:lin2/genev_sys_6081")]
    assert (geneve["kind"], geneve["dstPort"], geneve["outerSrc"], geneve["outerDst"]) == (
        "geneve", 6081, "10.0.0.11", "10.0.0.12")
    vxlan = encaps[("tunnel:win1/OVNKubernetesHybridOverlayNetwork", "tunnel:lin2/ext-vxlan")]
    assert (vxlan["kind"], vxlan["vni"], vxlan["dstPort"]) == ("vxlan", 4097, 4789)
    kinds = {n["id"]: n["kind"] for n in g["nodes"]}
    assert kinds["ovn:lin1/ovn_cluster_router@rtos-lin1"] == "logical-router"
    assert kinds["ovn:lin2/lin2>shop_web-1"] == "logical-switch"


def test_every_pod_reaches_web_1_along_a_path_of_its_graph() -> None:
    net = cnimodel.load(EXAMPLE)
    g = net.graph(dst="shop/web-1")
    for src in ("default/client", "shop/web-0", "shop/db-0", "default/winclient", "shop/iis-0"):
        t = net.trace(src, "shop/web-1", port=8080)
        assert t.disposition == "ACCEPTED", (src, t.reason)
        assert nx.is_path(g, t.path), src
    assert nx.has_path(g, "pod:default/client", "pod:shop/web-1")


def test_render_highlights_the_trace(tmp_path: Path) -> None:
    dot = run("render", EXAMPLE, "-o", "dot", "--trace", "default/client", "shop/web-1", "--port", "8080")
    assert dot.exit_code == 0, dot.stderr
    lit = [line for line in dot.stdout.splitlines() if "penwidth=2.5" in line]
    assert any('"host:lin1"' in x for x in lit) and any('"host:lin2"' in x for x in lit)
    assert any('"pod:shop/web-1"' in x for x in lit) and not any('"host:win1"' in x for x in lit)
    # the chassis' GENEVE ports are drawn and the trace crosses both
    assert any('"tunnel:lin1/genev_sys_6081"' in x for x in lit) and any('"tunnel:lin2/genev_sys_6081"' in x
                                                                        for x in lit)
    assert '"tunnel:win1/OVNKubernetesHybridOverlayNetwork"' in dot.stdout
    out = tmp_path / "page.html"
    html = run("render", EXAMPLE, "--out", str(out), "--trace", "default/client", "shop/iis-0")
    assert html.exit_code == 0, html.stderr
    page = out.read_text()
    assert "ovn_cluster_router" in page and "lr_in_policy" in page  # the trace's OVN stages are in the page


def test_ovn_pods_hang_on_their_node_switch() -> None:
    """A pod's logical switch port is on its node's switch (pkg/ovn/base_network_controller_pods.go:516-583), not on
    the host's ovn-k8s-mp0 (the management port, another port of that switch): the picture hangs each Linux pod on
    its node switch, wired to ovn-k8s-mp0 and the GENEVE port; Windows pods stay on their HNS network."""
    from cnimodel.graph.wiring import drawn_path, wiring

    net = cnimodel.load(EXAMPLE)
    g = wiring(net.cluster)
    for pod, node in (("shop/web-0", "lin1"), ("default/client", "lin1"), ("shop/web-1", "lin2")):
        assert set(g.neighbors(f"pod:{pod}")) == {f"ovn:{node}/{node}"}, pod
        assert g.edges[f"pod:{pod}", f"ovn:{node}/{node}"]["kind"] == "port"
    assert not any(v.startswith("pod:") for v in g.neighbors("dev:lin1/ovn-k8s-mp0"))
    assert {"dev:lin1/ovn-k8s-mp0", "tunnel:lin1/genev_sys_6081"} <= set(g.neighbors("ovn:lin1/lin1"))
    assert g.nodes["ovn:lin1/lin1"]["kind"] == "logical-switch"
    assert next(iter(g.neighbors("pod:shop/iis-0"))).startswith("vswitch:")
    t = net.trace("default/client", "shop/web-1", port=8080)
    path = drawn_path(g, t.path)
    assert path[:2] == ["pod:default/client", "ovn:lin1/lin1"] and path[-2:] == ["ovn:lin2/lin2", "pod:shop/web-1"]
    dot = run("render", EXAMPLE, "-o", "dot", "--trace", "default/client", "shop/web-1", "--port", "8080")
    lit = [line for line in dot.stdout.splitlines() if "penwidth=2.5" in line]
    assert any('"ovn:lin1/lin1" -- "pod:default/client"' in x or '"pod:default/client" -- "ovn:lin1/lin1"' in x
               for x in lit)
