"""Policy verdicts in the kernel: `netns up --policy nftables|iptables` and verify.

canal-windows.yaml has one NetworkPolicy: pods labelled app=iis (default/iis-0 on win1) accept ingress only from
app=client (default/client on lin1); every other pod is unselected and open. With two pods per node (8 pods,
56 ordered pairs, 3 protocols) the 6 pods that are neither iis-0 nor client are refused by iis-0: 6 × 3 = 18
probes dropped, 150 delivered. Renders are checked by hand against nft/iptables syntax.
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import replace
from ipaddress import IPv4Address

import pytest

from cnimodel import examples, kernel
from cnimodel.kernel import filters, nsutil
from cnimodel.kernel.blueprint import RealPod
from cnimodel.plan import Plan, load_plan
from cnimodel.policy import ConnSet

_ids = itertools.count()
POD = RealPod("default/web", "lin1", "ns", IPv4Address("10.244.1.5"), IPv4Address("10.244.1.1"))
SRC = IPv4Address("10.244.2.3")


def test_nft_rules_accept_exactly_the_allowed_connections() -> None:
    conns = ConnSet.ports("TCP", 80, 80) | ConnSet.ports("TCP", 8000, 8080) | ConnSet.ports("UDP", 53, 53)
    text = filters.nft_rules(POD, [(SRC, conns), (IPv4Address("10.244.3.3"), ConnSet.NONE)])
    assert "policy drop;" in text and "ct state established,related accept" in text
    assert "ip saddr 10.244.1.1 accept" in text  # the pod's own node (the bridge address)
    assert "ip saddr 10.244.2.3 tcp dport { 80, 8000-8080 } accept" in text
    assert "ip saddr 10.244.2.3 udp dport { 53 } accept" in text
    assert "10.244.3.3" not in text


def test_iptables_rules_say_the_same() -> None:
    text = filters.iptables_rules(POD, [(SRC, ConnSet.ports("TCP", 8000, 8080) | ConnSet.protocol(1))])
    assert ":INPUT DROP [0:0]" in text and text.rstrip().endswith("COMMIT")
    assert "-A INPUT -s 10.244.2.3/32 -p tcp --dport 8000:8080 -j ACCEPT" in text
    assert "-A INPUT -s 10.244.2.3/32 -p 1 -j ACCEPT" in text


needs_root = pytest.mark.skipif(nsutil.can_admin() is not None, reason=f"netns tests need root: {nsutil.can_admin()}")


def canal() -> Plan:
    plan = load_plan([examples.path("canal-windows.yaml")])
    return replace(plan, name=f"t{os.getpid()}-{next(_ids)}-{plan.name}")


@needs_root
@pytest.mark.parametrize(("mechanism", "tool"), [("nftables", "nft"), ("iptables", "iptables-restore")])
def test_policy_verdicts_hold_in_the_kernel(mechanism: str, tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian package {mechanism}; .ci/run installs it)")
    plan = canal()
    kernel.up(plan, pods_per_node=2, policy=mechanism)
    try:
        bp, report = kernel.verify(plan, timeout=1.0)
        assert bp.policy == mechanism
        assert report.mismatches == []
        assert (report.packets, report.delivered, report.dropped) == (168, 150, 18)
    finally:
        kernel.down(plan)
    assert nsutil.names(kernel.Names(plan.name).prefix) == []


@needs_root
def test_rules_taken_away_make_verify_fail() -> None:
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed (Debian package nftables; .ci/run installs it)")
    plan = canal()
    names = kernel.Names(plan.name)
    kernel.up(plan, pods_per_node=2, policy="nftables")
    try:
        import subprocess

        subprocess.run(["nft", "flush", "ruleset"], check=True,
                       preexec_fn=lambda: filters._enter(names.pod("default/iis-0")))
        _, report = kernel.verify(plan, timeout=1.0)
        assert len(report.mismatches) == 18
        assert all(m.where.endswith("→ default/iis-0") and "policy denies" in m.model for m in report.mismatches)
    finally:
        kernel.down(plan)


@needs_root
def test_without_policy_every_pair_is_delivered() -> None:
    plan = canal()
    kernel.up(plan, pods_per_node=2)
    try:
        bp, report = kernel.verify(plan)
        assert bp.policy is None and report.ok and report.delivered == 168
    finally:
        kernel.down(plan)
