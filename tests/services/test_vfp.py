"""The VFP-style listing: names from the DSR health check (services-lb.md §2.3, microsoft/SDN
networkhealth.ps1), every row marked with what is known [V] and what is modelled [I]/[U]."""

from __future__ import annotations

from pathlib import Path

from lbplans import build, web_example

from cnimodel.services import vfp_rules, winkernel_view


def rows(tmp_path: Path, **kw: object) -> list:
    return vfp_rules(winkernel_view(build(tmp_path, web_example(), **kw), "win1"))  # type: ignore[arg-type]


def test_dsr_clusterip_rules_follow_the_health_check_names(tmp_path: Path) -> None:
    view = winkernel_view(build(tmp_path, web_example(), backend="vxlan",
                                kube_proxy={"winkernel": {"enableDSR": True}}), "win1")
    lb = next(lb for lb in view.load_balancers if lb.kind == "clusterIP")
    cip = [x for x in vfp_rules(view) if x.load_balancer == lb.id]
    names = {(x.port, x.layer, x.group, x.rule) for x in cip}
    # every local pod port: LB_DSR_<mgmt IP>_<VIP>_<ext>_<int>_<proto>
    assert ("pod:*", "LB_DSR", "LB_DSR_IPv4_OUT", "LB_DSR_*_10.240.0.20_10.96.0.10_80_8080_6") in names
    # the local backend's port: NAT_<VIP>_<ext>_<proto> in, ALLOW_NAT_... out
    ep = "pod:ns1.web-b_flannel.4096"
    assert (ep, "SLB_NAT_LAYER", "SLB_GROUP_NAT_IPv4_IN", "NAT_*_10.96.0.10_80_6") in names
    assert (ep, "SLB_NAT_LAYER", "SLB_GROUP_NAT_IPv4_OUT", "ALLOW_NAT_*_10.96.0.10_80_6") in names
    # the host port: remote backends exist → LB_HOST_...; a local backend → HairPin_...
    host = "host:vEthernet (Ethernet)"
    assert (host, "LB", "LB_OUT", "LB_HOST_*_10.96.0.10_80_8080_6") in names
    assert (host, "SLB_HAIRPIN_LAYER", "SLB_GROUP_HAIRPIN_IPv4_IN", "HairPin_*_10.96.0.10_80_80_6") in names
    assert all("[V]" in x.basis for x in cip)
    dsr = next(x for x in cip if x.layer == "LB_DSR")
    assert "no SNAT" in dsr.action


def test_nodeport_rules_use_the_management_ip(tmp_path: Path) -> None:
    r = rows(tmp_path, kube_proxy={"winkernel": {"enableDSR": True}})
    np = [x for x in r if "dport 30080" in x.conditions]
    # non-DSR NodePort (ETP Cluster): modelled rows, marked [U]
    assert np and all("[U]" in x.basis for x in np)
    assert any(x.rule == "LB_*_10.240.0.20_30080_8080_6" and x.port.startswith("external:") for x in np)


def test_overlay_remote_endpoints_get_encap_rows(tmp_path: Path) -> None:
    r = rows(tmp_path, backend="vxlan")
    encap = {x.rule: x.action for x in r if x.layer == "VNET_ENCAP_LAYER"}
    assert "PA 10.240.0.10, VNI 4096" in encap["ENCAP_10.244.1.5"]
    assert all("[U]" in x.basis for x in r if x.layer == "VNET_ENCAP_LAYER")
    # non-DSR on overlay: remote DIPs are SNATed to the source VIP
    lb = next(x for x in r if x.port == "pod:*" and x.layer == "LB" and "10.96.0.10" in x.conditions)
    assert "SourceVIP 10.244.2.2" in lb.action
