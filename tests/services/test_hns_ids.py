"""HNS object IDs are GUIDs: 32 hex digits in groups of 8-4-4-4-12 (the form hcsshim's guid type prints and
HNS returns, e.g. "b7c9a7a2-3f4e-4c1d-9d2e-0a1b2c3d4e5f"). The model picks stable ones (HNS picks random ones):
the same plan gives the same IDs, and every remote endpoint of a node has its own."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from lbplans import build, web_example

from cnimodel.render.lb_hns import objects
from cnimodel.services import winkernel_view

GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def ids(tmp_path: Path, backend: str, name: str = "plan.yaml") -> dict[str, str]:
    """Every ID the node's HNS JSON shows: objects by (type, address or frontend), and LB backend references."""
    view = winkernel_view(build(tmp_path, web_example(), backend=backend, name=name), "win1")
    out = {}
    for o in objects(view):
        if o["ObjectType"] == "Endpoint":
            out[f"{o['Role']} {o['IpConfigurations'][0]['IpAddress']}"] = o["ID"]
        elif o["ObjectType"] == "LoadBalancer":
            out[f"lb {o['Frontend']}"] = o["ID"]
            out.update({f"ref {o['Frontend']} {i}": ref for i, ref in enumerate(o["HostComputeEndpoints"])})
        else:
            out[o["ObjectType"]] = o["ID"]
    return out


def test_every_id_is_a_guid(tmp_path: Path) -> None:
    for backend in ("host-gw", "vxlan"):
        got = ids(tmp_path, backend)
        assert any(k.startswith("remote ") for k in got)  # kube-proxy's remote endpoints are among them
        for key, ident in got.items():
            assert GUID.fullmatch(ident), f"{key}: {ident}"
            assert str(uuid.UUID(ident)).upper() == ident.upper()


def test_ids_are_stable_and_distinct(tmp_path: Path) -> None:
    first, again = ids(tmp_path, "vxlan"), ids(tmp_path, "vxlan", "again.yaml")
    assert first == again
    remote = [v for k, v in first.items() if k.startswith("remote ")]
    assert len(remote) == len(set(remote)) >= 3
