"""The shipped example plans answer as their comments say (derived by hand from those comments)."""

from __future__ import annotations

from cnimodel import examples
from cnimodel.plan import load_plan
from cnimodel.policy import Reachability

from .conftest import can, conn


def example(name: str) -> Reachability:
    return Reachability.from_plan(load_plan([examples.path(name)]))


def test_policy_k8s_example() -> None:
    r = example("policy-k8s.yaml")
    assert conn(r, "y/a", "x/a") == "TCP 80" and conn(r, "y/a", "x/b") == "TCP 81"   # serve-80-tcp per pod
    assert conn(r, "y/b", "x/a") == "No Connections"
    assert conn(r, "x/a", "y/b") == "No Connections"     # y/b's ingress is isolated by egress-only rules
    assert conn(r, "y/b", "8.8.8.8") == "TCP 443;UDP 53"
    assert conn(r, "y/b", "10.9.9.9") == "UDP 53"


def test_policy_calico_tiers_example() -> None:
    r = example("policy-calico-tiers.yaml")
    assert not can(r, "shop/web", "shop/db", 5432)          # security tier: quarantine denies before the KNP
    assert can(r, "monitoring/prometheus", "shop/db", 5432)  # passed by security, allowed at order 500
    assert conn(r, "shop/web", "169.254.169.254") == "No Connections"   # the ANP
    assert conn(r, "shop/iis", "169.254.169.254") == "All Connections"  # win1 enforces nothing
    assert conn(r, "monitoring/prometheus", "shop/iis") == "All Connections"
    assert conn(r, "shop/db", "monitoring/prometheus") == "All Connections"
