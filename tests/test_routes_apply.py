"""`cnimodel routes PLAN --node N -o FORMAT` apply scripts, read back by the tests and compared with the plan.

The Linux batches are run by the real `ip` and `bridge` in tests/kernel/test_kernel_apply.py; here the formats no
machine here can run are parsed back: systemd-networkd files, PowerShell, the cloud CLIs' lines, Terraform (with
python-hcl2, a parser of the language) and Bicep. Expected values come from the plans by hand: the talk's table
(origin.md: 10.244.1.0/24 → 10.240.0.10, 10.244.2.0/24 → 10.240.0.20; master holds kube-controller-manager's first
/24, 10.244.0.0/24, via 10.240.0.4) and cni-plugins.md §10's worked example (flannel host-gw on Windows: a route per
peer pod CIDR via the peer's node IP on `vEthernet (Ethernet)`).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from builders import cluster_doc, run, write_docs

from cnimodel import examples

TALK = str(examples.path("talk-l2bridge-cloud.yaml"))
TALK_ROUTES = {("10.244.0.0/24", "10.240.0.4", "master"), ("10.244.1.0/24", "10.240.0.10", "lin1"),
               ("10.244.2.0/24", "10.240.0.20", "win1")}


def out(*args: str) -> str:
    result = run("routes", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def commands(text: str, head: str) -> list[list[str]]:
    """The shell words of every line starting with ``head`` (each `a || b` alternative on its own)."""
    found = []
    for line in text.splitlines():
        if not line.startswith(head.split()[0]):
            continue
        for part in line.split("||"):
            words = shlex.split(part.split(">/dev/null")[0])
            if words[:len(head.split())] == head.split():
                found.append(words)
    return found


def option(words: list[str], name: str) -> str:
    for i, w in enumerate(words):
        if w == name:
            return words[i + 1]
        if w.startswith(name + "="):
            return w.split("=", 1)[1]
    raise AssertionError(f"{name} not in {words}")


# --- cloud CLIs -------------------------------------------------------------------------------------------


def test_az_lines_create_the_talks_routes_with_next_hop_virtual_appliance() -> None:
    text = out(TALK, "--node", "underlay", "-o", "az")
    lines = commands(text, "az network route-table route create")
    got = {(option(w, "--address-prefix"), option(w, "--next-hop-ip-address"), option(w, "--name")) for w in lines}
    assert got == TALK_ROUTES
    assert {option(w, "--next-hop-type") for w in lines} == {"VirtualAppliance"}
    assert {option(w, "--route-table-name") for w in lines} == {"$ROUTE_TABLE"}
    assert 'ROUTE_TABLE="${ROUTE_TABLE:-vnet-routes}"' in text  # the plan's table is the default
    assert "holds 400" in text


def test_aws_lines_take_each_nodes_eni_from_placeholders_the_user_fills() -> None:
    text = out(TALK, "--node", "vnet-routes", "-o", "aws")
    creates = commands(text, "aws ec2 create-route")
    replaces = commands(text, "aws ec2 replace-route")
    eni = dict(re.findall(r'\[(\S+)\]="eni-REPLACE-ME"\s+# (\S+)', text))
    assert eni == {"master": "10.240.0.4", "lin1": "10.240.0.10", "win1": "10.240.0.20"}
    got = {(option(w, "--destination-cidr-block"), eni[re.fullmatch(r"\$\{ENI\[(.+)\]\}",
                                                                     option(w, "--network-interface-id"))[1]])
           for w in creates}
    assert got == {(p, hop) for p, hop, _ in TALK_ROUTES}
    assert len(replaces) == len(creates)  # each create falls back on replace-route: safe to run again
    assert len(commands(text, "aws ec2 modify-network-interface-attribute")) == 3
    assert "exit 1" in text  # refuses to run with a placeholder left


def test_gcloud_lines_use_next_hop_address_and_the_cloud_providers_name_form() -> None:
    text = out(TALK, "--node", "underlay", "-o", "gcloud")
    creates = commands(text, "gcloud compute routes create")
    got = {(option(w, "--destination-range"), option(w, "--next-hop-address"), w[4]) for w in creates}
    # gce_routes.go: truncateClusterName(clusterName) + "-" + nameHint; here the plan name and the node name
    assert got == {(p, hop, f"talk-l2bridge-cloud-{node}") for p, hop, node in TALK_ROUTES}
    assert {option(w, "--priority") for w in creates} == {"1000"}
    assert len(commands(text, "gcloud compute routes describe")) == 3


def hcl(text: str) -> dict:
    hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 (the `test` extra) parses the Terraform")
    return hcl2.loads(text)


def unquote(value: object) -> str:
    return str(value).strip('"')


def resources(doc: dict, kind: str) -> dict[str, dict[str, str]]:
    found = {}
    for block in doc.get("resource", []):
        for k, named in block.items():
            if unquote(k) == kind:
                for name, body in named.items():
                    found[unquote(name)] = {a: unquote(v) for a, v in body.items() if not a.startswith("__")}
    return found


def test_terraform_azure_parses_and_holds_the_talks_routes() -> None:
    routes = resources(hcl(out(TALK, "--node", "underlay", "-o", "terraform-azure")), "azurerm_route")
    assert {(r["address_prefix"], r["next_hop_in_ip_address"], r["name"]) for r in routes.values()} == TALK_ROUTES
    assert {r["next_hop_type"] for r in routes.values()} == {"VirtualAppliance"}
    assert {r["route_table_name"] for r in routes.values()} == {"vnet-routes"}
    assert {r["resource_group_name"] for r in routes.values()} == {"${var.resource_group_name}"}


def test_terraform_aws_parses_and_names_each_nodes_eni_variable() -> None:
    doc = hcl(out(TALK, "--node", "underlay", "-o", "terraform-aws"))
    routes = resources(doc, "aws_route")
    assert {(r["destination_cidr_block"], r["network_interface_id"]) for r in routes.values()} == {
        (p, f'${{var.node_eni["{node}"]}}') for p, _, node in TALK_ROUTES}
    assert {unquote(k) for v in doc["variable"] for k in v} == {"route_table_id", "node_eni"}


def test_terraform_gcp_parses_with_next_hop_ip() -> None:
    routes = resources(hcl(out(TALK, "--node", "underlay", "-o", "terraform-gcp")), "google_compute_route")
    assert {(r["dest_range"], r["next_hop_ip"]) for r in routes.values()} == {(p, h) for p, h, _ in TALK_ROUTES}
    assert {r["priority"] for r in routes.values()} == {"1000"}


def test_hcl_that_is_not_valid_fails_the_parser() -> None:
    """The check above can fail: the parser refuses a block left open."""
    text = out(TALK, "--node", "underlay", "-o", "terraform-gcp")
    with pytest.raises(Exception):  # noqa: B017 (python-hcl2 raises lark's errors)
        hcl(text.rsplit("}", 1)[0])


def test_bicep_children_of_the_existing_route_table() -> None:
    text = out(TALK, "--node", "underlay", "-o", "bicep")
    assert re.search(r"resource routeTable 'Microsoft.Network/routeTables@[\d-]+' existing", text)
    blocks = re.findall(r"resource \w+ 'Microsoft.Network/routeTables/routes@[\d-]+' = \{\n  parent: routeTable\n"
                        r"  name: '([^']+)'\n  properties: \{\n    addressPrefix: '([^']+)'\n"
                        r"    nextHopType: 'VirtualAppliance'\n    nextHopIpAddress: '([^']+)'", text)
    assert {(p, h, n) for n, p, h in blocks} == TALK_ROUTES


def kubenet_nodes(n: int) -> list[dict[str, str]]:
    return [{"name": f"node{i}", "os": "linux", "ip": f"10.240.{i // 250}.{i % 250 + 4}"} for i in range(n)]


def kubenet_cloud(tmp_path: Path, n: int, name: str = "k.yaml") -> Path:
    doc = cluster_doc(kubenet_nodes(n), network={"plugin": "kubenet"}, clusterCIDR="10.244.0.0/14",
                      underlay={"name": "rt", "routes": "cloud",
                                "subnets": [{"name": "s", "cidr": "10.240.0.0/16", "gateway": "10.240.0.1"}]})
    return write_docs(tmp_path / name, [doc])


def test_the_route_table_limit_bites_before_anything_is_written(tmp_path: Path) -> None:
    """AWS holds 50 routes per table by default (Amazon VPC quotas); Azure 400 (Azure networking limits)."""
    plan = str(kubenet_cloud(tmp_path, 51))
    refused = run("routes", plan, "--node", "underlay", "-o", "aws")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "51 routes" in refused.stderr and "holds 50" in refused.stderr and "--route-table-limit" in refused.stderr
    raised = run("routes", plan, "--node", "underlay", "-o", "terraform-aws", "--route-table-limit", "1000")
    assert raised.exit_code == 0 and raised.stdout.count('resource "aws_route"') == 51
    assert run("routes", plan, "--node", "underlay", "-o", "az").exit_code == 0  # 51 ≤ 400
    big = str(kubenet_cloud(tmp_path, 401, "big.yaml"))
    assert run("routes", big, "--node", "underlay", "-o", "az").exit_code == 2
    assert "holds 400" in run("routes", big, "--node", "underlay", "-o", "bicep").stderr


@pytest.mark.parametrize(("args", "words"), [
    (["--node", "win1", "-o", "az"], "--node vnet-routes"),  # a node for a cloud format
    (["--node", "underlay", "-o", "ip-batch"], "underlay's route table"),
    (["--node", "win1", "-o", "ip-batch"], "is Windows"),
    (["--node", "lin1", "-o", "powershell"], "is Linux"),
    (["-o", "powershell"], "exactly one --node"),
    (["--node", "lin1", "--node", "master", "-o", "ip-batch"], "exactly one --node"),
    (["--node", "lin1", "-o", "ip-batch", "--out", "x"], "--out is for -o networkd"),
    (["--node", "underlay", "-o", "az", "--no-devices"], "--no-devices is for -o ip-batch"),
    (["--node", "lin1", "-o", "networkd", "--route-table-limit", "9"], "--route-table-limit is for"),
])
def test_apply_formats_name_what_they_need(args: list[str], words: str) -> None:
    result = run("routes", TALK, *args)
    assert result.exit_code == 2 and words in result.stderr


def test_a_table_without_user_routes_says_so() -> None:
    result = run("routes", str(examples.path("default.yaml")), "--node", "underlay", "-o", "az")
    assert result.exit_code == 2 and "no route to write" in result.stderr


# --- systemd-networkd -------------------------------------------------------------------------------------


def networkd(text: str) -> dict[str, list[tuple[str, dict[str, list[str]]]]]:
    """``{file: [(section, {key: [values]})]}`` from the stream's ``#### file:`` headers."""
    files: dict[str, list[tuple[str, dict[str, list[str]]]]] = {}
    current: list[tuple[str, dict[str, list[str]]]] = []
    for line in text.splitlines():
        if line.startswith("#### file: "):
            current = files.setdefault(line.split(": ", 1)[1], [])
        elif line.startswith("[") and line.endswith("]"):
            current.append((line[1:-1], {}))
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            current[-1][1].setdefault(key, []).append(value)
    return files


def test_networkd_holds_the_static_routes_of_kubenet_without_a_cloud_table(tmp_path: Path) -> None:
    nodes = [{"name": "master", "os": "linux", "ip": "10.240.0.4"},
             {"name": "lin1", "os": "linux", "ip": "10.240.0.10"},
             {"name": "lin2", "os": "linux", "ip": "10.240.0.11"}]
    plan = write_docs(tmp_path / "kubenet.yaml", [cluster_doc(nodes, network={"plugin": "kubenet"})])
    files = networkd(out(str(plan), "--node", "lin1", "-o", "networkd"))
    assert list(files) == ["10-cnimodel-eth0.network"]
    sections = files["10-cnimodel-eth0.network"]
    assert sections[0] == ("Match", {"Name": ["eth0"]})
    assert sections[1] == ("Network", {"Address": ["10.240.0.10/24"], "Gateway": ["10.240.0.1"]})
    routes = {(s["Destination"][0], s["Gateway"][0]) for name, s in sections if name == "Route"}
    assert routes == {("10.244.0.0/24", "10.240.0.4"), ("10.244.2.0/24", "10.240.0.11")}


def test_networkd_scope_all_writes_the_vxlan_netdev_and_its_fdb(tmp_path: Path) -> None:
    plan = str(examples.path("hybrid-vxlan.yaml"))
    files = networkd(out(plan, "--node", "lin1", "-o", "networkd", "--scope", "all"))
    netdev = dict(files["10-cnimodel-flannel.4096.netdev"])
    assert netdev["NetDev"]["Kind"] == ["vxlan"] and netdev["NetDev"]["MTUBytes"] == ["1450"]
    assert (netdev["VXLAN"]["VNI"], netdev["VXLAN"]["DestinationPort"], netdev["VXLAN"]["Local"]) == \
        (["4096"], ["4789"], ["10.240.0.10"])
    network = files["10-cnimodel-flannel.4096.network"]
    fdb = {(s["MACAddress"][0], s["Destination"][0]) for name, s in network if name == "BridgeFDB"}
    assert {dst for _, dst in fdb} == {"10.240.0.4", "10.240.0.20", "10.240.0.30"}
    onlink = {(s["Destination"][0], s["Gateway"][0], s.get("GatewayOnLink", [""])[0]) for name, s in network
              if name == "Route"}
    assert onlink == {("10.244.0.0/24", "10.244.0.0", "yes"), ("10.244.2.0/24", "10.244.2.0", "yes"),
                      ("10.244.3.0/24", "10.244.3.0", "yes")}
    assert dict(files["10-cnimodel-eth0.network"])["Network"]["VXLAN"] == ["flannel.4096"]
    folder = tmp_path / "networkd"
    result = run("routes", plan, "--node", "lin1", "-o", "networkd", "--scope", "all", "--out", str(folder))
    assert result.exit_code == 0 and result.stdout == ""
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)


# --- PowerShell -------------------------------------------------------------------------------------------


def here_strings(text: str) -> list[dict]:
    return [json.loads(body) for body in re.findall(r"@'\n(.*?)\n'@", text, re.S)]


def test_powershell_for_flannel_host_gw_on_windows() -> None:
    text = out(str(examples.path("default.yaml")), "--node", "win1", "-o", "powershell")
    assert "[CmdletBinding(SupportsShouldProcess)]" in text.split("param(")[0]
    assert "hns.v2.psm1" in text and "Import-Module $HnsModule" in text
    network, endpoint = here_strings(text)
    assert (network["Name"], network["Type"]) == ("cbr0", "L2Bridge")
    subnet = network["Ipams"][0]["Subnets"][0]
    assert subnet["IpAddressPrefix"] == "10.244.2.0/24" and subnet["Routes"][0]["NextHop"] == "10.244.2.1"
    assert (endpoint["Name"], endpoint["IpConfigurations"][0]["IpAddress"]) == ("cbr0_ep", "10.244.2.2")
    routes = set(re.findall(r"^Set-CmRoute '([^']+)' '([^']+)' '([^']+)'$", text, re.M))
    assert routes == {("10.244.0.0/24", "vEthernet (Ethernet)", "10.240.0.4"),
                      ("10.244.1.0/24", "vEthernet (Ethernet)", "10.240.0.10"),
                      ("10.244.3.0/24", "vEthernet (Ethernet)", "10.240.0.30")}
    assert "1 pod endpoint(s) left to the CNI" in text


def test_every_change_goes_through_should_process() -> None:
    """-WhatIf: no New-/Attach-/Remove- cmdlet runs outside a ShouldProcess guard (its condition, or a block one
    opened), braces followed outside the here-strings."""
    change = re.compile(r"\b(New|Attach|Remove)-(Hns|HNS|Net)\w*")
    for name in ("default.yaml", "hybrid-vxlan.yaml", "talk-l2bridge-cloud.yaml"):
        text = out(str(examples.path(name)), "--node", "win1", "-o", "powershell")
        text = re.sub(r"@'\n.*?\n'@", "@''@", text, flags=re.S)
        stack: list[bool] = []
        guarded = 0
        for line in text.splitlines():
            code = line.split("#", 1)[0]
            if change.search(code):
                assert "ShouldProcess" in code or any(stack), f"{name}: unguarded change: {line}"
                guarded += 1
            for ch in code:
                if ch == "{":
                    stack.append("ShouldProcess" in code)
                elif ch == "}":
                    stack.pop()
        assert not stack and guarded >= 2


def test_powershell_for_the_talks_hns_v1_node() -> None:
    """The talk's win1: wincni on the HNS v1 API (hns.psm1), network l2bridge with gateway .1 and the host
    endpoint cbr0 at .2 (topologies/talk-l2bridge-cloud.yaml, microsoft/SDN's 2018 start scripts)."""
    text = out(TALK, "--node", "win1", "-o", "powershell")
    assert r"'C:\k\hns.psm1'" in text and "Invoke-HnsRequest -Method GET -Type networks" in text
    network, endpoint = here_strings(text)
    assert network["Subnets"] == [{"AddressPrefix": "10.244.2.0/24", "GatewayAddress": "10.244.2.1"}]
    assert (endpoint["Name"], endpoint["IPAddress"], endpoint["VirtualNetworkName"]) == ("cbr0", "10.244.2.2",
                                                                                        "l2bridge")
    assert "Attach-HnsHostEndpoint -EndpointID $ep.ID -CompartmentID 1" in text
    assert "Set-CmRoute" not in text  # the pod routes are the cloud table's


def test_powershell_adds_flannels_remote_subnet_routes_to_an_existing_overlay_network() -> None:
    text = out(str(examples.path("hybrid-vxlan.yaml")), "--node", "win1", "-o", "powershell")
    calls = re.findall(r"New-HnsNetworkPolicy -NetworkId \$net.ID -Policies @\(@\{Type='RemoteSubnetRoute'; "
                       r"Settings=@\{DestinationPrefix='([^']+)'; IsolationId=(\d+); ProviderAddress='([^']+)'", text)
    assert set(calls) == {("10.244.0.0/24", "4096", "10.240.0.4"), ("10.244.1.0/24", "4096", "10.240.0.10"),
                          ("10.244.3.0/24", "4096", "10.240.0.30")}
