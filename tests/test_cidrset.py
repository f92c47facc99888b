"""kube-controller-manager's CidrSet (cni-plugins.md §1.1): maxCIDRs = 1 << (mask - clusterPrefix), allocation
sequential from index 0 with a linear probe past used indexes, indexToCIDRBlock(i) = clusterIP | i << (32 - mask),
Occupy marks existing podCIDRs and a service range overlapping the cluster range."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

import pytest
from builders import cluster_doc, load_docs
from hypothesis import given, settings
from hypothesis import strategies as st

from cnimodel.ipam.cidrset import CidrExhausted, CidrSet
from cnimodel.ipam.engine import kube_node_cidrs
from cnimodel.plan import Problems

N = IPv4Network


def test_first_node_gets_index_zero_and_then_sequential() -> None:
    s = CidrSet(N("10.244.0.0/16"), 24)
    assert s.max_cidrs == 256
    assert [s.allocate_next() for _ in range(3)] == [N("10.244.0.0/24"), N("10.244.1.0/24"), N("10.244.2.0/24")]
    assert s.free == 253


def test_occupied_indexes_are_skipped() -> None:
    s = CidrSet(N("10.244.0.0/16"), 24)
    s.occupy(N("10.244.1.0/24"))
    s.occupy(N("10.244.3.0/24"))
    assert [s.allocate_next() for _ in range(3)] == [N("10.244.0.0/24"), N("10.244.2.0/24"), N("10.244.4.0/24")]


def test_occupy_wider_and_narrower_than_the_mask() -> None:
    s = CidrSet(N("10.244.0.0/16"), 24)
    s.occupy(N("10.244.0.0/22"))      # indexes 0-3
    s.occupy(N("10.244.4.128/25"))    # inside index 4
    assert s.allocate_next() == N("10.244.5.0/24")
    assert s.free == 256 - 6


def test_occupy_outside_the_cluster_range_changes_nothing() -> None:
    s = CidrSet(N("10.244.0.0/16"), 24)
    s.occupy(N("10.96.0.0/12"))
    assert s.free == 256 and s.allocate_next() == N("10.244.0.0/24")


def test_a_range_covering_the_cluster_uses_everything() -> None:
    s = CidrSet(N("10.244.0.0/16"), 24)
    s.occupy(N("10.0.0.0/8"))
    assert s.free == 0
    with pytest.raises(CidrExhausted):
        s.allocate_next()


def test_exhaustion_after_max_cidrs() -> None:
    s = CidrSet(N("10.244.0.0/22"), 24)
    assert [str(s.allocate_next()) for _ in range(4)] == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24",
                                                         "10.244.3.0/24"]
    with pytest.raises(CidrExhausted):
        s.allocate_next()


def test_mask_equal_to_the_cluster_prefix_holds_one_node() -> None:
    s = CidrSet(N("10.244.0.0/24"), 24)
    assert s.max_cidrs == 1 and s.allocate_next() == N("10.244.0.0/24")


def test_service_range_inside_cluster_range_is_occupied(tmp_path) -> None:
    """kube-controller-manager occupies the part of the service range inside the cluster range. The plan
    checks reject such a plan (overlapping ranges), so the allocator is driven with a plan built directly."""
    plan = load_docs(tmp_path, [cluster_doc()])
    plan = replace(plan, service_cidr=N("10.244.0.0/23"))
    out = kube_node_cidrs(plan, Problems())
    assert [str(out[n][0]) for n in ("master", "lin1", "win1", "win2")] == [
        "10.244.2.0/24", "10.244.3.0/24", "10.244.4.0/24", "10.244.5.0/24"]


@settings(max_examples=150, deadline=None)
@given(prefix=st.integers(8, 24), extra=st.integers(0, 8), data=st.data())
def test_allocation_follows_index_arithmetic(prefix: int, extra: int, data: st.DataObject) -> None:
    mask = min(prefix + extra, 30)
    base = data.draw(st.integers(0, (1 << prefix) - 1)) << (32 - prefix)
    cluster = N((base, prefix))
    total = 1 << (mask - prefix)
    occupied = data.draw(st.sets(st.integers(0, total - 1), max_size=min(total, 20)))
    s = CidrSet(cluster, mask)
    for i in occupied:
        s.occupy(N((base + (i << (32 - mask)), mask)))
    want = min(total - len(occupied), 25)
    got = [s.allocate_next() for _ in range(want)]
    free = [i for i in range(total) if i not in occupied][:want]
    # indexToCIDRBlock: clusterIP | (i << (32 - mask)), computed here on integers
    assert got == [N((base | (i << (32 - mask)), mask)) for i in free]
    assert all(g.subnet_of(cluster) for g in got)
    assert len(set(got)) == len(got)
    if want == total - len(occupied):
        with pytest.raises(CidrExhausted):
            s.allocate_next()


def test_index_to_cidr_is_the_documented_formula() -> None:
    s = CidrSet(N("10.244.0.0/16"), 26)
    assert s.index_to_cidr(5) == N((int(IPv4Address("10.244.0.0")) | (5 << 6), 26)) == N("10.244.1.64/26")
