"""What the source pod's vSwitch port does on Windows before the host routes the packet (VFP, outbound).

OutBoundNAT: the pod's source becomes the node's address unless the destination is in an exception list.
win-bridge may hold several OutBoundNAT policies (ApplyOutboundNatPolicy appends a second one instead of
merging); the model treats a destination listed by any of them as exempt [I: the VFP rule order between
two OutBoundNAT policies is not documented]. VFP cannot transpose ICMP through that NAT, so a ping that
would be SNATed is dropped (Kubernetes "Networking on Windows"). HNS does not support SCTP (services-lb.md
§4.2: "Windows HNS doesn't support SCTP", Azure/azure-container-networking#1442), so an SCTP packet is
dropped at the first Windows pod port it meets, leaving or arriving.
"""

from __future__ import annotations

from cnimodel.dataplane import HnsEndpoint, NodeFacts
from cnimodel.trace import verdicts
from cnimodel.trace.model import Hop
from cnimodel.trace.resolve import TraceEnd, in_any
from cnimodel.trace.state import NatEntry, Stop, WalkState


def endpoint_of(facts: NodeFacts, pod_key: str) -> HnsEndpoint | None:
    return next((e for e in facts.hns_endpoints if e.pod == pod_key), None)


def egress(walk: WalkState, facts: NodeFacts, ep: TraceEnd, hop: Hop) -> None:
    assert ep.pod is not None
    hep = endpoint_of(facts, ep.pod.pod.key)
    if hep is None:
        verdicts.egress(walk, ep)
        return
    pkt = walk.pkt
    hop.add("received", "RECEIVED", interface=f"vSwitch port of {hep.name}", endpoint=hep.name)
    _sctp(walk, hop, "DENIED_OUT")
    verdicts.egress(walk, ep)  # the endpoint's ACLs (Calico for Windows), before OutBoundNAT rewrites the source
    nats = [p for p in hep.policies if p.type == "OutBoundNAT" and "Exceptions" in p.settings]
    encap_routes = [str(p.settings.get("DestinationPrefix")) for p in hep.policies if p.type == "SDNRoute"
                    and p.settings.get("NeedEncap")]
    via_sdn = in_any(pkt.dst, encap_routes)
    if via_sdn:
        hop.add("routed", "SDN_ROUTE", policy=f"SDNRoute {via_sdn} NeedEncap",
                note="the packet takes the VFP SDN path (service VIPs, the node's own IP)")
    if not nats:
        return
    exempt = None
    for p in nats:
        exempt = exempt or in_any(pkt.dst, tuple(p.settings.get("Exceptions", ())))
    if exempt:
        hop.add("filtered", "NO_SNAT", policy="OutBoundNAT", exception=exempt)
        return
    node_ip = walk.cluster.node(facts.node).ip
    if pkt.proto == "icmp":
        hop.add("dropped", "ICMP_NOT_TRANSPOSED", policy="OutBoundNAT")
        raise Stop("DENIED_OUT", "ICMP through OutBoundNAT to a remote network is not transposed by VFP "
                   "(ping to outside fails on Windows; TCP and UDP work)")
    walk.nat.append(NatEntry(facts.node, "SNAT", (pkt.src, pkt.sport), (node_ip, pkt.sport), "HNS OutBoundNAT"))
    hop.add("transformed", "SNAT", policy="OutBoundNAT", before=pkt.src, after=node_ip,
            exceptions=[list(p.settings.get("Exceptions", ())) for p in nats])
    pkt.src = node_ip


def ingress(walk: WalkState, hop: Hop) -> None:
    """The destination pod's vSwitch port on Windows, before the packet reaches the pod."""
    _sctp(walk, hop, "DENIED_IN")


def _sctp(walk: WalkState, hop: Hop, disposition: str) -> None:
    if walk.pkt.proto == "sctp":
        hop.add("dropped", "SCTP_UNSUPPORTED", reference="services-lb.md §4.2 (Azure/azure-container-networking#1442)")
        raise Stop(disposition, "HNS does not support SCTP: a Windows pod's vSwitch port drops it "
                   "(\"Windows HNS doesn't support SCTP\"; services-lb.md §4.2)")
