"""A VFP-style listing of a node's HNS load balancers: which vSwitch port, layer, group and rule rewrites what.

This is a teaching model, not a dump of VFP. What is known and what is assumed (services-lb.md §2.3):
- layer, group and rule names of DSR load balancers are the ones Microsoft's node health check
  (microsoft/SDN ``networkhealth.ps1``) looks for [V as names]; their actions are inferred [I];
- the ``*`` in a rule name stands for a part the health check does not pin down;
- where non-DSR load balancers sit, every priority, and the VNET encapsulation rules are modelled [U].
Every row says which in ``basis``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnimodel.services.hnslb import LB_DSR, PM_PRESERVE_DIP, HnsLoadBalancer, WinkernelView

LAYER_ORDER = ("ACL_ENDPOINT_LAYER", "LB_DSR", "SLB_NAT_LAYER", "LB", "SLB_LB_LAYER", "SLB_HAIRPIN_LAYER",
               "VNET_ENCAP_LAYER")
NAMES_V = "names [V] (networkhealth.ps1); action [I]; priority [U]"
MODELLED = "modelled [U]: placement, names and priority; action [I]"


@dataclass(frozen=True)
class VfpRule:
    """One row: a rule on a vSwitch port. ``port`` is ``pod:*`` (every local pod port), ``pod:<endpoint>``,
    ``host:<vNIC>`` or ``external:<adapter>``."""

    port: str
    layer: str
    group: str
    rule: str
    priority: int
    direction: str
    conditions: str
    action: str
    basis: str
    load_balancer: str | None = None
    service: str | None = None


def _frontend(lb: HnsLoadBalancer, mgmt: str) -> tuple[str, str]:
    """(the VIP as rule names show it, the destination as a condition)."""
    if lb.frontend_vips:
        return lb.frontend_vips[0], f"dst {lb.frontend_vips[0]}"
    return mgmt, "dst any node address"


def vfp_rules(view: WinkernelView) -> list[VfpRule]:
    """The VFP-style rules implied by every HNS load balancer (and remote endpoint) of a Windows node."""
    if view.network is None:
        return []
    mgmt = str(view.network.management_ip)
    host = f"host:vEthernet ({view.network.adapter})"
    out: list[VfpRule] = []
    for lb in view.load_balancers:
        if lb.rejected:
            continue
        out += _lb_rules(lb, mgmt, host, view)
    vsid = next((p.settings.get("IsolationId") for p in view.network.subnet_policies if p.type == "VSID"), None)
    for ep in view.created:
        pa = ep.provider_address
        if ep.role == "remote" and pa and pa != mgmt:  # PA = this node: nothing to encapsulate to
            out.append(VfpRule("pod:*", "VNET_ENCAP_LAYER", "VNET_GROUP_ENCAP_IPv4_OUT", f"ENCAP_{ep.ip}", 200, "out",
                               f"dst {ep.ip}", f"VXLAN-encapsulate to PA {pa}"
                               + (f", VNI {vsid}" if vsid is not None else "") + ", inner dst MAC "
                               f"{ep.mac}", MODELLED))
    # outbound packets cross the layers in order, inbound ones in reverse [I]
    order = {name: i for i, name in enumerate(LAYER_ORDER)}
    out.sort(key=lambda r: (r.port != "pod:*", r.port, r.direction != "out",
                            order.get(r.layer, 99) * (1 if r.direction == "out" else -1), r.group, r.priority))
    return out


def _lb_rules(lb: HnsLoadBalancer, mgmt: str, host: str, view: WinkernelView) -> list[VfpRule]:
    vip, dst = _frontend(lb, mgmt)
    p, ext, internal = lb.protocol, lb.external_port, lb.internal_port
    cond = f"proto {p}, {dst}, dport {ext}"
    dips = ", ".join(b.ip for b in lb.backends[:8]) + (f", … ({len(lb.backends)})" if len(lb.backends) > 8 else "")
    how = "source-IP hash (DistributionType 2)" if lb.distribution == 2 else "5-tuple hash [U: opaque]"
    preserve = bool(lb.port_flags & PM_PRESERVE_DIP)
    if len(lb.backends) == 1:
        dnat = (f"keep dst {vip} (PreserveDIP), deliver to the one DIP {dips}" if preserve
                else f"DNAT to the one DIP {dips} port {internal}")
    else:
        dnat = (f"keep dst {vip} (PreserveDIP), pick one of {len(lb.backends)} DIPs ({dips}) by {how}" if preserve
                else f"DNAT to one of {len(lb.backends)} DIPs ({dips}) port {internal} by {how}")
    remote = [b for b in lb.backends if not b.local]
    local = [b for b in lb.backends if b.local]
    svc, lid = lb.service, lb.id
    rules: list[VfpRule] = []

    def row(port: str, layer: str, group: str, name: str, direction: str, action: str, basis: str,
            conditions: str = cond) -> None:
        rules.append(VfpRule(port, layer, group, name, 100, direction, conditions, action, basis, lid, svc))

    if lb.flags & LB_DSR:
        row("pod:*", "LB_DSR", "LB_DSR_IPv4_OUT", f"LB_DSR_*_{mgmt}_{vip}_{ext}_{internal}_{p}", "out",
            f"{dnat}; source kept (DSR: no SNAT, the reply goes straight back)", NAMES_V)
        for b in local:
            row(f"pod:{b.endpoint}", "SLB_NAT_LAYER", "SLB_GROUP_NAT_IPv4_IN", f"NAT_*_{vip}_{ext}_{p}", "in",
                f"track the flow to {vip}:{ext} arriving at this DIP (state for the reply fix-up)", NAMES_V)
            row(f"pod:{b.endpoint}", "SLB_NAT_LAYER", "SLB_GROUP_NAT_IPv4_OUT", f"ALLOW_NAT_*_{vip}_{ext}_{p}",
                "out", f"reply: rewrite source {b.ip}:{internal} to {vip}:{ext}", NAMES_V,
                f"proto {p}, src {b.ip}, sport {internal}")
        basis = NAMES_V
    else:
        snat = (f"SNAT remote DIPs to SourceVIP {lb.source_vip}" if lb.source_vip else
                "SNAT remote DIPs to a node address HNS picks [U]") if remote else "no SNAT (all DIPs local) [I]"
        row("pod:*", "LB", "LB_OUT", f"LB_*_{vip}_{ext}_{internal}_{p}", "out", f"{dnat}; {snat}", MODELLED)
        if lb.kind in ("nodePort", "externalIP", "loadBalancerIP", "healthCheck"):
            row(f"external:{view.network.adapter if view.network else '?'}", "LB", "LB_IN",
                f"LB_*_{vip}_{ext}_{internal}_{p}", "in", f"{dnat}; {snat}", MODELLED)
        basis = "names as networkhealth.ps1 checks them for DSR LBs, [U] for a non-DSR LB; action [I]"
    if remote:
        row(host, "LB", "LB_OUT", f"LB_HOST_*_{vip}_{ext}_{internal}_{p}", "out",
            f"host-originated traffic to the VIP: {dnat}", basis)
    else:
        name = (f"NAT_*_{vip}_{ext}_{ext}_{p}" if len(lb.backends) == 1 else f"LB_*_{vip}_{ext}_{ext}_{p}")
        row(host, "SLB_LB_LAYER", "SLB_GROUP_LB_IPv4_OUT", name, "out",
            f"host-originated traffic to the VIP: {dnat} (all DIPs local)", basis)
    if local:
        row(host, "SLB_HAIRPIN_LAYER", "SLB_GROUP_HAIRPIN_IPv4_IN", f"HairPin_*_{vip}_{ext}_{ext}_{p}", "in",
            "the host reached a local DIP through the VIP: turn the reply back to the host (hairpin)", basis)
    return rules
