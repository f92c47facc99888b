"""Captures the audit fuzz (test_fuzz_audit.py) found ending in an internal error: each is now refused with exit
2 naming the file and the place, or read."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

from audit_captures import (
    DEFAULT,
    HYBRID,
    TALK,
    default_lin1_routes,
    hybrid_neighbors,
    iis_policy_list,
    talk_az,
    v2_pod_endpoint,
    win_bridge_policies,
)
from harness import run


def audit(tmp_path: Path, plan: str, node: str, name: str, raw: bytes, kind: str = "") -> tuple[int | None, str]:
    path = tmp_path / name
    path.write_bytes(raw)
    outcome = run(["audit", plan, "--node", node, "--from", f"{kind}={path}" if kind else str(path)])
    assert outcome.ok, outcome.problem
    return outcome.exit_code, outcome.stderr


def test_utf16_cut_in_the_middle_of_a_character_is_refused(tmp_path: Path) -> None:
    raw = codecs.BOM_UTF16_BE + json.dumps(talk_az()).encode("utf-16-be")
    code, err = audit(tmp_path, TALK, "underlay", "az.json", raw[:21])  # an odd number of bytes after the BOM
    assert code == 2 and "az.json" in err and "UTF-16" in err


def test_utf16_without_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    raw = json.dumps(talk_az()).encode("utf-16-le")
    code, err = audit(tmp_path, TALK, "underlay", "az.json", raw)
    assert code == 0, err


def test_a_neighbour_whose_dst_is_a_prefix_is_refused_at_its_place(tmp_path: Path) -> None:
    neigh = hybrid_neighbors()
    neigh[0]["dst"] = "10.244.0.0/6"
    code, err = audit(tmp_path, HYBRID, "lin1", "n.json", json.dumps(neigh).encode(), "ip-neigh")
    assert code == 2 and "n.json [0].dst" in err and "not an IPv4 address" in err


def test_an_fdb_entry_whose_dst_is_a_list_is_refused(tmp_path: Path) -> None:
    fdb = [{"mac": "fe:61:3b:4d:fd:67", "ifname": "flannel.4096", "dst": [[]], "state": "permanent"}]
    code, err = audit(tmp_path, HYBRID, "lin1", "f.json", json.dumps(fdb).encode())
    assert code == 2 and "f.json [0].dst" in err


def test_an_endpoint_with_an_empty_address_is_refused(tmp_path: Path) -> None:
    ep = v2_pod_endpoint(win_bridge_policies())
    ep["IpConfigurations"][0]["IpAddress"] = ""
    code, err = audit(tmp_path, DEFAULT, "win1", "ep.json", json.dumps([ep]).encode())
    assert code == 2 and "ep.json [0]" in err and "not an IP address" in err


def test_a_route_whose_type_is_a_list_names_the_file(tmp_path: Path) -> None:
    """A shape no reader checks by name (a list as a route's type) is the file's fault, not an internal error."""
    routes = [{"dst": "10.244.0.0/24", "type": ["unicast"], "dev": "eth0"}]
    code, err = audit(tmp_path, DEFAULT, "lin1", "r.json", json.dumps(routes).encode(), "ip-route")
    assert code == 2 and "r.json" in err and "ip -j route show table all" in err


def test_a_route_whose_dev_is_a_list_is_refused_at_its_place(tmp_path: Path) -> None:
    routes = default_lin1_routes()
    routes[2]["dev"] = ["eth0"]
    code, err = audit(tmp_path, DEFAULT, "lin1", "r.json", json.dumps(routes).encode())
    assert code == 2 and "r.json [2].dev" in err


def test_a_load_balancer_vip_that_is_a_prefix_is_refused_at_its_place(tmp_path: Path) -> None:
    plist = iis_policy_list()
    plist[0]["Policies"][0]["VIPs"] = ["10.96.0.100/32"]
    code, err = audit(tmp_path, DEFAULT, "win1", "p.json", json.dumps(plist).encode())
    assert code == 2 and "p.json [0].Policies.VIPs" in err
    plist[0]["Policies"][0]["VIPs"] = {"item": ["10.96.0.100"]}  # a mapping where the list belongs
    code, err = audit(tmp_path, DEFAULT, "win1", "p.json", json.dumps(plist).encode())
    assert code == 2 and "p.json [0].Policies.VIPs" in err
