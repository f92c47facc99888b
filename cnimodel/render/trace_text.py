"""A trace for people: the flow, numbered hops with aligned steps, the disposition in colour."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from cnimodel.trace.model import DELIVERED, Trace

GOOD = DELIVERED
LONG = ("rules", "notes")  # printed on lines of their own under the step
# Sentences (policy verdicts, load-balancer reasons) read better on lines of their own too; the policy hops
# are already spelled out in the reason, and policy/rule in decidedBy.
SENTENCES = ("status", "reason", "note")
HIDDEN = {"hops", "selectedBy"}
POLICY_HIDDEN = {"policy", "rule"}


def _value(v: object) -> str:
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, dict) and "ip" in v:  # a backend: address, port and share
        share = f" {v['weight']:.0%}" if isinstance(v.get("weight"), float) else ""
        where = f" {v['pod']}" if v.get("pod") else ""
        return f"{v['ip']}:{v.get('port')}{share}{where}"
    return str(v)


def _detail(d: dict, action: str = "") -> str:
    hidden = HIDDEN | POLICY_HIDDEN if action.startswith("POLICY_") else HIDDEN
    return "  ".join(f"{k}={_value(v)}" for k, v in d.items()
                     if k not in LONG and k not in SENTENCES and k not in hidden and v not in (None, [], ""))


def render(console: Console, t: Trace) -> None:
    f = t.flow
    ports = "" if f.dport is None else f":{f.dport}"
    title = "reply" if t.direction == "reverse" else "flow"
    console.print(f"[bold]{title}[/bold] " + escape(f"{f.src_label or f.src} ({f.src}) → {f.dst_label or f.dst} "
                  f"({f.dst}{ports}) {f.proto.upper()}, {f.size} bytes"), highlight=False)
    for i, hop in enumerate(t.hops, 1):
        console.print(f"  [bold]{i:>2}. {escape(hop.node)}[/bold] [dim]({hop.kind})[/dim]", highlight=False)
        width = max((len(s.type) for s in hop.steps), default=0)
        for s in hop.steps:
            colour = "red" if s.type == "dropped" else ("yellow" if s.type == "transformed" else "")
            action = f"[{colour}]{s.action}[/{colour}]" if colour else s.action
            detail = escape(_detail(s.detail, s.action))
            console.print(f"        {s.type:<{width}}  {action}  {detail}", highlight=False)
            for key in SENTENCES:
                if s.detail.get(key):
                    console.print(f"        {'':<{width}}    [dim]{key}: {escape(str(s.detail[key]))}[/dim]",
                                  highlight=False)
            for key in LONG:
                for line in s.detail.get(key) or ():
                    console.print(f"        {'':<{width}}    [dim]{key[:-1]}: {escape(str(line))}[/dim]",
                                  highlight=False)
    colour = "green" if t.disposition in GOOD else "red"
    console.print(f"  [{colour}][bold]{t.disposition}[/bold][/{colour}]: {escape(t.reason)}", highlight=False)
    if t.final is not None and (t.final.src != f.src or t.final.dst != f.dst):
        console.print(f"  arrives as {t.final.src}:{t.final.sport} → {t.final.dst}:{t.final.dport}", highlight=False,
                      markup=False)
