"""Longest-prefix match: PrefixTable against a brute-force scan, and `cnimodel lookup` on node and underlay
tables (text and JSON)."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from builders import run
from hypothesis import given, settings
from hypothesis import strategies as st

from cnimodel import examples
from cnimodel.net import PrefixTable

N = IPv4Network
A = IPv4Address


def test_longest_prefix_wins() -> None:
    t: PrefixTable[str] = PrefixTable([(N("0.0.0.0/0"), "default"), (N("10.244.0.0/16"), "cluster"),
                                       (N("10.244.2.0/24"), "win1"), (N("10.244.2.7/32"), "host")])
    assert t.lookup(A("10.244.2.7")) == (N("10.244.2.7/32"), "host")
    assert t.lookup(A("10.244.2.8")) == (N("10.244.2.0/24"), "win1")
    assert t.lookup(A("10.244.3.1")) == (N("10.244.0.0/16"), "cluster")
    assert t.lookup(A("192.0.2.1")) == (N("0.0.0.0/0"), "default")
    assert len(t) == 4


def test_no_match_without_a_default() -> None:
    t: PrefixTable[str] = PrefixTable([(N("10.244.0.0/16"), "cluster")])
    assert t.lookup(A("10.245.0.1")) is None


def test_first_value_for_a_prefix_wins() -> None:
    t: PrefixTable[str] = PrefixTable([(N("10.0.0.0/8"), "first"), (N("10.0.0.0/8"), "second")])
    assert t.lookup(A("10.1.2.3")) == (N("10.0.0.0/8"), "first") and len(t) == 1


prefixes = st.builds(lambda a, p: IPv4Network((a >> (32 - p) << (32 - p) if p else 0, p)),
                     st.integers(0, 2**32 - 1), st.integers(0, 32))


@settings(max_examples=300, deadline=None)
@given(st.lists(prefixes, max_size=40), st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20))
def test_matches_brute_force(nets: list[IPv4Network], addrs: list[int]) -> None:
    t: PrefixTable[int] = PrefixTable()
    first: dict[IPv4Network, int] = {}
    for i, n in enumerate(nets):
        t.add(n, i)
        first.setdefault(n, i)
    for a in map(IPv4Address, addrs):
        holding = [n for n in first if a in n]
        got = t.lookup(a)
        if not holding:
            assert got is None
        else:
            best = max(holding, key=lambda n: n.prefixlen)
            assert got == (best, first[best])


def test_cli_lookup_remote_pod_json(worked: Path) -> None:
    r = run("lookup", str(worked), "--node", "lin1", "10.244.2.7", "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"table", "dst", "route", "nextHop", "dev"}
    assert data["table"] == "lin1" and data["dst"] == "10.244.2.7"
    assert data["nextHop"] == "10.240.0.20" and data["dev"] == "eth0"
    assert data["route"]["dst"] == "10.244.2.0/24" and data["route"]["via"] == "10.240.0.20"
    assert data["route"]["owner"] == "flannel" and data["route"]["kind"] == "pod-route"
    assert {"dst", "via", "dev", "onlink", "scope", "kind", "owner"} <= set(data["route"])


def test_cli_lookup_local_pod_and_outside(worked: Path) -> None:
    local = json.loads(run("lookup", str(worked), "--node", "lin1", "10.244.1.9", "-o", "json").stdout)
    assert local["route"]["dst"] == "10.244.1.0/24" and local["dev"] == "cni0"
    assert local["nextHop"] == "10.244.1.9" and local["route"]["via"] is None  # on-link: the destination itself
    out = json.loads(run("lookup", str(worked), "--node", "lin1", "93.184.216.34", "-o", "json").stdout)
    assert out["route"]["dst"] == "0.0.0.0/0" and out["nextHop"] == "10.240.0.1"
    node = json.loads(run("lookup", str(worked), "--node", "lin1", "10.240.0.30", "-o", "json").stdout)
    assert node["route"]["dst"] == "10.240.0.0/24" and node["nextHop"] == "10.240.0.30"


def test_cli_lookup_windows_node(worked: Path) -> None:
    data = json.loads(run("lookup", str(worked), "--node", "win1", "10.244.1.5", "-o", "json").stdout)
    assert data["nextHop"] == "10.240.0.10" and data["dev"] == "vEthernet (Ethernet)"


def test_cli_lookup_underlay(worked: Path) -> None:
    r = run("lookup", str(worked), "--node", "underlay", "10.240.0.20", "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["table"] == "underlay" and data["route"]["kind"] == "connected"
    talk = str(examples.path("talk-l2bridge-cloud.yaml"))
    data = json.loads(run("lookup", talk, "--node", "vnet-routes", "10.244.1.200", "-o", "json").stdout)
    assert data["nextHop"] == "10.240.0.10" and data["route"]["nextHopType"] == "VirtualAppliance"
    assert data["route"]["name"] == "lin1"


def test_cli_lookup_underlay_alias_when_named_otherwise() -> None:
    # talk-l2bridge-cloud.yaml names its underlay vnet-routes; `underlay` still finds it (the talk's route
    # 10.244.2.0/24 → 10.240.0.20) and `table` reports the real name
    talk = str(examples.path("talk-l2bridge-cloud.yaml"))
    r = run("lookup", talk, "--node", "underlay", "10.244.2.3", "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["table"] == "vnet-routes" and data["nextHop"] == "10.240.0.20"
    assert data["route"]["dst"] == "10.244.2.0/24"
    r = run("lookup", talk, "--node", "nope", "10.244.2.3")
    assert r.exit_code == 2 and "'vnet-routes' (or `underlay`)" in r.stderr


def test_cli_lookup_text(worked: Path) -> None:
    r = run("lookup", str(worked), "--node", "lin1", "10.244.2.7")
    assert r.exit_code == 0
    assert "10.244.2.0/24" in r.stdout and "10.240.0.20" in r.stdout and "eth0" in r.stdout


def test_cli_lookup_bad_input(worked: Path) -> None:
    r = run("lookup", str(worked), "--node", "nope", "10.244.2.7")
    assert r.exit_code == 2 and "nope" in r.stderr and "lin1" in r.stderr and "Traceback" not in r.stderr
    r = run("lookup", str(worked), "--node", "lin1", "10.244.2")
    assert r.exit_code == 2 and "IPv4" in r.stderr and "Traceback" not in r.stderr
