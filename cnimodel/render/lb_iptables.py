"""A Linux node's kube-proxy rules as an ``iptables-save`` document (or kube-proxy's ``iptables-restore`` input).

``save``: what ``iptables-save`` prints on the node — tables filter, nat, mangle; built-in chains with
their policy, then kube-proxy's chains by name (as iptables-legacy keeps them); rules grouped by chain.
``restore``: the same rules in the words kube-proxy writes them (``--or-mark 0x00004000``,
``--probability 0.3333333333``).
"""

from __future__ import annotations

from collections.abc import Iterator

from cnimodel.services.iptables import BUILTIN_CHAINS, Rule, chain_order
from cnimodel.services.kubeproxy_iptables import IptablesView


def render(view: IptablesView, form: str = "save") -> str:
    """The whole document, one rule per line."""
    return "".join(pieces(view, form))


def pieces(view: IptablesView, form: str = "save") -> Iterator[str]:
    """``render``'s text in pieces (a table's chain list, then each table's rules in blocks of chains), for a
    large document written as it is made."""
    write = Rule.save if form == "save" else Rule.restore
    yield (f"# kube-proxy (iptables mode) rules of node {view.node}, modelled by cnimodel"
           + (" — iptables-restore input" if form == "restore" else "") + "\n")
    for table, chains in view.tables.items():
        order = chain_order(table, chains)
        builtin = BUILTIN_CHAINS.get(table, ())
        yield f"*{table}\n" + "".join([f":{chain} {'ACCEPT' if chain in builtin else '-'} [0:0]\n" for chain in order])
        # Each chain's lines are written in the order the view holds the chains (the order its rules were made
        # in), then laid out by name: reading a large node's rules in name order jumps all over memory.
        blocks: dict[str, str] = {}
        for chain, rules in chains.items():
            if len(rules) == 2:  # most chains of a large node: a KUBE-SEP chain's two rules
                head = f"-A {chain} "
                blocks[chain] = (head + write(rules[0])).rstrip() + "\n" + (head + write(rules[1])).rstrip() + "\n"
            elif rules:  # (a rule of no parts: the bare "-A CHAIN")
                head = f"-A {chain} "
                blocks[chain] = "".join([(head + write(r)).rstrip() + "\n" for r in rules])
        listed = [blocks[chain] for chain in order if chain in blocks]
        for i in range(0, len(listed), 2000):
            yield "".join(listed[i:i + 2000])
        yield "COMMIT\n"
