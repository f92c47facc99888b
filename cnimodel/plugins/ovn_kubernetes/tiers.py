"""ACL tiers on an OVN without them: the export's mapping of ovnkube's three tiers onto one priority order.

OVN evaluates ACL tiers in order from 23.06 on (the ACL ``tier`` column, ovn-org/ovn commit 119f14e05, schema
7.0.3; the ``pass`` action, commit 567551e40 — both first in v23.06.0). The OVN installed here, 23.03
(ovn-org/ovn@ba5710ed:ovn-nb.ovsschema:248-263), has neither: its ACLs are one list ordered by priority, actions
allow, allow-related, allow-stateless, drop, reject. ovnkube's tiers (types/const.go:97-103): 1
AdminNetworkPolicy (priorities 20001-30000), 2 NetworkPolicy and the rest (1000-1013), 3
BaselineAdminNetworkPolicy (1651-1750). On such a schema the export writes the same decisions in one order:

- tier 1 keeps its priorities — above every tier-2 ACL, so it is evaluated first, as tier 1 is;
- a tier-1 ``pass`` ACL ("let the next tier decide") is left out, and every lower tier-1 ACL of the same direction
  gets ``&& !(<the pass ACL's match>)``: a packet it matches skips the rest of tier 1, as a pass does. ovn-trace
  does not match a negated ``outport == @pg``, so in its own port group's ACLs the pass's port group is left out of
  the negation (the ACL's own match already holds it), and in another port group's ACLs it is spelled out as the
  ports both groups hold (``outport == {"ns_pod", …}``; none shared: nothing to skip);
- tier 3 moves below tier 2 (priority − 1000, so 651-750 under the default deny's 1000): it decides only what no
  tier-2 ACL matched, as tier 3 does.

With a schema that has the column (or no schema given) the ACLs are written as ovnkube writes them.
"""

from __future__ import annotations

from dataclasses import replace

from cnimodel.plugins.ovn_kubernetes.nbmodel import Acl, Northbound

ADMIN_TIER, DEFAULT_TIER, BASELINE_TIER = 1, 2, 3
BASELINE_SHIFT = 1000


def flatten(nb: Northbound) -> tuple[Northbound, list[str]]:
    """The Northbound with tiers 1 and 3 mapped onto one priority order (for a schema without ``ACL.tier``)."""
    acls = [a for pg in nb.port_groups for a in pg.acls] + [a for s in nb.switches for a in s.acls]
    if all(a.tier == DEFAULT_TIER for a in acls):
        return nb, []
    owner = {id(a): pg for pg in nb.port_groups for a in pg.acls}
    passes = [(a, owner.get(id(a))) for a in acls if a.tier == ADMIN_TIER and a.action == "pass"]
    notes: list[str] = []
    floor = min((a.priority for a in acls if a.tier == DEFAULT_TIER), default=BASELINE_SHIFT)

    def mapped(a: Acl) -> Acl | None:
        if a.tier == ADMIN_TIER:
            if a.action == "pass":
                return None
            skip = []
            mine = owner.get(id(a))
            for p, group in passes:
                if p.direction != a.direction or p.priority <= a.priority or group is None or mine is None:
                    continue
                lport, rest = p.match.split(" && ", 1)
                if group.name == mine.name:
                    skip.append(rest)
                elif shared := sorted(set(group.ports) & set(mine.ports)):
                    # another policy's pass: its port group spelled out as the ports both select
                    field = lport.partition(" == ")[0]
                    ports = ", ".join(f'"{x}"' for x in shared)
                    skip.append(f"{field} == {{{ports}}} && {rest}")
            if skip:
                return replace(a, match=f"({a.match})" + "".join(f" && !({m})" for m in skip))
            return a
        if a.tier == BASELINE_TIER:
            priority = a.priority - BASELINE_SHIFT
            if priority >= floor:
                raise ValueError(f"BANP ACL priority {a.priority} cannot move below tier 2's {floor}")
            return replace(a, priority=priority)
        return a

    port_groups = tuple(replace(pg, acls=tuple(m for a in pg.acls if (m := mapped(a)) is not None))
                        for pg in nb.port_groups)
    switches = tuple(replace(s, acls=tuple(m for a in s.acls if (m := mapped(a)) is not None)) for s in nb.switches)
    notes[:0] = [f"the target schema has no ACL tiers: tier 1 (AdminNetworkPolicy) kept above tier 2, {len(passes)} "
             f"pass ACL(s) written as negations in the tier-1 ACLs below them, tier 3 (BaselineAdminNetworkPolicy) "
             f"moved {BASELINE_SHIFT} priorities down, below tier 2 (cnimodel/plugins/ovn_kubernetes/tiers.py)"]
    return replace(nb, port_groups=port_groups, switches=switches), notes
