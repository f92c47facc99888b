"""kube-proxy's chain names, probabilities and mark, checked against services-lb.md §3.1, §3.3, §3.4.

The chain-name recipe (§3.1) is re-computed here with hashlib/base64 — independently of cnimodel — and both
are compared with the names the reference lists for its §3.6 example (computed there from the same recipe).
"""

from __future__ import annotations

import base64
import hashlib

from cnimodel.services.iptables import (
    endpoint_chain,
    go_mark,
    hash16_many,
    hex_mark,
    port_proto_hash,
    probability,
    saved_probability,
)


def recipe(text: str) -> str:
    """§3.1: the first 16 characters of base32(SHA-256(text))."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def test_service_chain_hash_matches_the_reference_example() -> None:
    # §3.6: Service ns1/web, port "http", TCP → KUBE-SVC-4LVCYZMTA5CQO6SX
    assert recipe("ns1/web:http" + "tcp") == "4LVCYZMTA5CQO6SX"
    assert port_proto_hash("ns1/web:http", "TCP") == "4LVCYZMTA5CQO6SX"


def test_endpoint_chain_hash_matches_the_reference_example() -> None:
    # §3.6: the three endpoints of ns1/web:http on port 8080
    expected = {"10.244.1.5:8080": "KUBE-SEP-OXQUDQKXE4KJEHIO", "10.244.2.7:8080": "KUBE-SEP-V5BBRWBRZQBRMI7Z",
                "10.244.3.9:8080": "KUBE-SEP-CBBOSVEDJEY6GM53"}
    for endpoint, chain in expected.items():
        assert "KUBE-SEP-" + recipe("ns1/web:http" + "tcp" + endpoint) == chain
        assert endpoint_chain("ns1/web:http", "TCP", endpoint) == chain
    texts = ["ns1/web:http" + "tcp" + e for e in expected]
    assert hash16_many(texts, "KUBE-SEP-") == list(expected.values())


def test_batch_hashes_are_the_recipe() -> None:
    # the numpy batch (a node's chain names at once) against the recipe, on texts of many lengths
    texts = [f"ns{i}/svc-{'x' * (i % 37)}:p{i}tcp10.{i % 256}.{i // 256 % 256}.9:{i}" for i in range(2000)]
    assert hash16_many(texts) == [recipe(t) for t in texts]
    assert hash16_many([]) == []


def test_unnamed_port_hashes_the_bare_service_name() -> None:
    # ServicePortName.String() drops ":" and the name when the port has none ("ns/name")
    assert port_proto_hash("default/kubernetes", "UDP") == recipe("default/kubernetesudp")
    assert port_proto_hash("default/kubernetes", "UDP") != port_proto_hash("default/kubernetes:", "UDP")


def test_probabilities_one_over_n_minus_i() -> None:
    # §3.3: P(k) = "%0.10f" of 1/k; n=3 gives 0.3333333333 then 0.5000000000 then no statistic match
    assert [probability(3 - i) for i in range(2)] == ["0.3333333333", "0.5000000000"]
    assert probability(4) == "0.2500000000" and probability(7) == "0.1428571429"


def test_probability_as_iptables_save_prints_it() -> None:
    # the statistic match stores round(p * 2^31): 0.3333333333 * 2147483648 = 715827882.6 -> 715827883,
    # printed back as 715827883 / 2^31 with 11 decimals
    assert saved_probability("0.3333333333") == "0.33333333349"
    assert saved_probability("0.5000000000") == "0.50000000000"
    assert saved_probability("0.2000000000") == "0.20000000019"  # 429496729.6 -> 429496730


def test_masquerade_mark() -> None:
    # §3.4: 1 << 14; kube-proxy formats it with Go's %#08x (8 digits after 0x), iptables-save shows 0x4000
    assert go_mark(1 << 14) == "0x00004000"
    assert hex_mark(1 << 14) == "0x4000"
    assert hex_mark(1 << 15) == "0x8000"
