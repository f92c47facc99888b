"""canal's Linux data plane (the calico CNI beside flannel vxlan) built in real network namespaces.

Expected values by hand from projectcalico/calico@87c15906 cni-plugin/pkg/dataplane/linux/dataplane_linux.go:
host end ``cali`` + sha1("<ns>.<pod>")[:11] with MAC ee:ee:ee:ee:ee:ee and the conf's MTU on both ends (:43,
:146), route_localnet=1, proxy_delay=0, proxy_arp=1, forwarding=1 on it (:496–528), ``<podIP> dev cali… scope
link`` on the host (:425), eth0 <podIP>/32 with ``169.254.1.1 dev eth0 scope link`` and ``default via
169.254.1.1`` in the pod (:197–299). topologies/canal-linux.yaml: master, lin1, lin2 with podCIDRs 10.244.0-2.0/24
(kube-controller-manager, plan order), mtu 1450; pods web-0 (lin1, .2), web-1 (lin2, .2), client (lin2, .3).

Counts for 2 pods per node (netns up adds sample pods: master 2, lin1 1): route checks = 3 node namespaces × 2
remote pod CIDRs × 4 samples (first host, last host, the CIDR's two realised pods) + the router × 3 CIDRs × 4 =
36; packets = 6 pods → 30 ordered pairs × 3 protocols = 90, all delivered.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from builders import run, write_docs
from pyroute2.netlink.exceptions import NetlinkError

from cnimodel import examples, kernel
from cnimodel.kernel import nsutil, probe
from cnimodel.plan import Plan, load_plan

pytestmark = pytest.mark.skipif(nsutil.can_admin() is not None,
                                reason=f"netns tests need root: {nsutil.can_admin()}")
_ids = itertools.count()
RT_SCOPE_LINK = 253


def cali(key: str) -> str:
    return "cali" + hashlib.sha1(key.replace("/", ".", 1).encode()).hexdigest()[:11]


def canal() -> Plan:
    plan = load_plan([examples.path("canal-linux.yaml")])
    return replace(plan, name=f"t{os.getpid()}-{next(_ids)}-canal")


def sysctl(ns: str, path: str) -> str:
    with nsutil.inside(ns):
        return Path("/proc/sys", path).read_text().strip()


def link(ns: str, name: str) -> dict[str, object]:
    ipr = nsutil.ipr(ns)
    try:
        found = ipr.get_links(ifname=name)
        assert found, f"{name} missing in {ns}"
        li = found[0]
        return {"mac": li.get_attr("IFLA_ADDRESS"), "mtu": li.get_attr("IFLA_MTU"),
                "master": li.get_attr("IFLA_MASTER"), "kind": li.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND"),
                "tx": li.get_attr("IFLA_STATS64")["tx_packets"]}
    finally:
        ipr.close()


def routes(ns: str) -> set[tuple[str, str | None, str | None, int]]:
    """(dst/len, gateway, device, scope) of the main table's IPv4 routes."""
    ipr = nsutil.ipr(ns)
    try:
        names = {li["index"]: li.get_attr("IFLA_IFNAME") for li in ipr.get_links()}
        out = set()
        for r in ipr.get_routes(family=2, table=254):
            dst = f"{r.get_attr('RTA_DST') or '0.0.0.0'}/{r['dst_len']}"
            out.add((dst, r.get_attr("RTA_GATEWAY"), names.get(r.get_attr("RTA_OIF")), r["scope"]))
        return out
    finally:
        ipr.close()


def neighbour(ns: str, dev: str, ip: str) -> str | None:
    ipr = nsutil.ipr(ns)
    try:
        index = ipr.link_lookup(ifname=dev)[0]
        hits = [n.get_attr("NDA_LLADDR") for n in ipr.get_neighbours(ifindex=index, family=2)
                if n.get_attr("NDA_DST") == ip]
        return hits[0] if hits else None
    finally:
        ipr.close()


@pytest.fixture
def up() -> object:
    plan = canal()
    bp = kernel.up(plan, pods_per_node=2)
    try:
        yield plan, bp
    finally:
        kernel.down(plan)
    assert nsutil.names(kernel.Names(plan.name).prefix + "-") == []


def test_canal_is_built_and_verified(up: tuple[Plan, kernel.Blueprint]) -> None:
    plan, _ = up
    names = kernel.Names(plan.name)
    _, report = kernel.verify(plan)
    assert report.mismatches == []
    assert (report.routes, report.packets, report.delivered, report.dropped) == (36, 90, 90, 0)
    lin1, web0 = names.node("lin1"), names.pod("default/web-0")
    port = cali("default/web-0")
    assert port == "cali0d7763386da"
    assert link(lin1, port) | {"tx": 0} == {"mac": "ee:ee:ee:ee:ee:ee", "mtu": 1450, "master": None, "kind": "veth",
                                            "tx": 0}
    assert [sysctl(lin1, f"net/ipv4/conf/{port}/{k}") for k in ("route_localnet", "proxy_arp", "forwarding")] == \
        ["1", "1", "1"]
    assert sysctl(lin1, f"net/ipv4/neigh/{port}/proxy_delay") == "0"
    node_routes = routes(lin1)
    assert ("10.244.1.2/32", None, port, RT_SCOPE_LINK) in node_routes
    assert ("10.244.2.0/24", "10.244.2.0", "flannel.1", 0) in node_routes
    assert not any(dev == "cni0" or dst == "10.244.1.0/24" for dst, _, dev, _ in node_routes)
    assert link(web0, "eth0")["mtu"] == 1450
    assert routes(web0) == {("169.254.1.1/32", None, "eth0", RT_SCOPE_LINK), ("0.0.0.0/0", "169.254.1.1", "eth0", 0)}
    ipr = nsutil.ipr(web0)
    try:
        assert [(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(family=2, label="eth0")] == \
            [("10.244.1.2", 32)]
    finally:
        ipr.close()


def test_a_pod_reaches_a_pod_on_another_node_over_flannel(up: tuple[Plan, kernel.Blueprint]) -> None:
    plan, bp = up
    names = kernel.Names(plan.name)
    client, web0 = bp.pods["default/client"], bp.pods["default/web-0"]
    lin2, lin1 = names.node("lin2"), names.node("lin1")
    before = link(lin2, "flannel.1")["tx"], link(lin1, cali("default/web-0"))["tx"]
    outcomes = probe.run([probe.Probe(0, client, web0, "udp", 80), probe.Probe(1, client, web0, "icmp", 80)])
    assert [(o.forward, o.reply) for o in outcomes] == [(True, True), (None, True)]
    after = link(lin2, "flannel.1")["tx"], link(lin1, cali("default/web-0"))["tx"]
    assert after[0] >= before[0] + 2 and after[1] >= before[1] + 2  # through lin2's VTEP and web-0's veth
    # the pod's gateway 169.254.1.1 was answered by proxy ARP: the host end's MAC
    assert neighbour(client.ns, "eth0", "169.254.1.1") == "ee:ee:ee:ee:ee:ee"


def test_without_proxy_arp_the_pod_cannot_leave(up: tuple[Plan, kernel.Blueprint]) -> None:
    plan, bp = up
    names = kernel.Names(plan.name)
    client, web0 = bp.pods["default/client"], bp.pods["default/web-0"]
    lin2, port = names.node("lin2"), cali("default/client")
    nsutil.sysctl(lin2, {f"net/ipv4/conf/{port}/proxy_arp": "0"})
    ipr = nsutil.ipr(client.ns)
    try:  # a fresh plan: nothing has resolved the gateway yet, but make sure
        with contextlib.suppress(NetlinkError):
            ipr.neigh("del", dst="169.254.1.1", ifindex=ipr.link_lookup(ifname="eth0")[0])
    finally:
        ipr.close()
    [o] = probe.run([probe.Probe(0, client, web0, "udp", 80)], timeout=1.5)
    assert (o.forward, o.reply) == (False, False)
    nsutil.sysctl(lin2, {f"net/ipv4/conf/{port}/proxy_arp": "1"})
    [o] = probe.run([probe.Probe(1, client, web0, "udp", 80)])
    assert (o.forward, o.reply) == (True, True)


def test_netns_cli_and_audit_of_a_canal_node(tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all(examples.path("canal-linux.yaml").read_text()))
    name = docs[0]["metadata"]["name"] = f"t{os.getpid()}-{next(_ids)}-canal-cli"
    path = str(write_docs(tmp_path / "canal.yaml", docs))
    names = kernel.Names(name)
    assert run("netns", "up", path).exit_code == 0
    try:
        r = run("netns", "verify", path, "-o", "json")
        assert r.exit_code == 0 and json.loads(r.stdout)["mismatches"] == []
        lin1 = names.node("lin1")
        r = run("audit", path, "--node", "lin1", "--netns", lin1, "-o", "json")
        body = json.loads(r.stdout)
        # default, eth0's subnet, two flannel.1 routes, the /32s of web-0 and of netns up's sample pod; one
        # neighbour and one FDB entry per remote node
        assert (r.exit_code, body["differences"], body["checked"]) == (0, [], {"routes": 6, "neighbors": 2,
                                                                               "fdb": 2})
        ipr = nsutil.ipr(lin1)
        try:
            port = ipr.link_lookup(ifname=cali("default/web-0"))[0]
            ipr.route("del", dst="10.244.1.2/32", scope=RT_SCOPE_LINK, oif=port)
        finally:
            ipr.close()
        r = run("audit", path, "--node", "lin1", "--netns", lin1, "-o", "json")
        assert r.exit_code == 1
        assert [(d["status"], d["key"], d["model"]) for d in json.loads(r.stdout)["differences"]] == [
            ("missing", "10.244.1.2/32", f"10.244.1.2 dev {cali('default/web-0')} scope link")]
    finally:
        run("netns", "down", path)
    assert nsutil.names(names.prefix + "-") == []
