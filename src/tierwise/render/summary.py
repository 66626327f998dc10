"""The §5.2 session summary and the routing audit as rich output (cold)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tierwise.hot.hooks.summary import (budget_lines, enforcement_lines, money as _money, note_lines,
                                         provisional_line, savings_lines)

def render_summary(console: Console, summary: dict[str, Any]) -> None:
    table = Table(
        title=f"Session Token Summary — {summary.get('session_id')}",
        title_justify="left",
        show_footer=True,
        box=None,
        header_style="bold",
        footer_style="bold",
        pad_edge=False,
    )
    totals = summary.get("totals") or {}
    width = max([len(str(r.get("skill"))) for r in summary.get("skills") or []] + [5])
    table.add_column("Skill", footer="Total", no_wrap=True, min_width=width)
    table.add_column("Requested", no_wrap=True)
    table.add_column("Model used", no_wrap=True)
    wide = console.width >= 100  # the token breakdown only where it fits
    if wide:
        table.add_column("Input", justify="right", no_wrap=True, footer=f"{int(totals.get('input') or 0):,}")
        table.add_column("Output", justify="right", no_wrap=True, footer=f"{int(totals.get('output') or 0):,}")
        table.add_column("Cache", justify="right", no_wrap=True,
                         footer=f"{int((totals.get('cache_read') or 0) + (totals.get('cache_write') or 0)):,}")
    table.add_column("Tokens", justify="right", no_wrap=True, footer=f"{int(totals.get('total') or 0):,}")
    table.add_column("Cost", justify="right", no_wrap=True, footer=_money(totals.get("cost_usd")))
    for row in summary.get("skills") or []:
        tokens = row.get("tokens") or {}
        cells = [str(row.get("skill")), str(row.get("model_requested") or "-"), str(row.get("model_used") or "-")]
        if wide:
            cells += [
                f"{int(tokens.get('input') or 0):,}",
                f"{int(tokens.get('output') or 0):,}",
                f"{int((tokens.get('cache_read') or 0) + (tokens.get('cache_write') or 0)):,}",
            ]
        cells += [f"{int(tokens.get('total') or 0):,}", _money(row.get("cost_usd"))]
        table.add_row(*(Text(c) for c in cells))
    console.print(table)
    console.print()
    notes = note_lines(summary)
    if notes:
        console.print(Text("Why requested and used differ:", style="bold"))
        for line in notes:
            console.print(Text(line))
        console.print()
    console.print(Text("Routing savings:", style="bold"))
    for line in savings_lines(summary) or ["  unknown: a model in this session has no known price"]:
        console.print(line)
    tiers = enforcement_lines(summary)
    if tiers:
        console.print(Text("Tiers:", style="bold"))
        for line in tiers:
            console.print(Text(line))
    console.print(Text("Budget status:", style="bold"))
    for line in budget_lines(summary):
        console.print(line)
    note = provisional_line(summary)
    if note:
        console.print(Text(note, style="dim"))


def render_audit(console: Console, decisions: list[dict[str, Any]]) -> None:
    if not decisions:
        console.print("no routing decisions recorded")
        return
    for d in decisions:
        head = Text(f"{d.get('timestamp')}  {d.get('tool') or '?'}  session {d.get('session_id')}", style="dim")
        console.print(head)
        route = d.get("route") or f"[ROUTE] {d.get('skill')}\n  → Decision: {d.get('decision')} ({d.get('reason')})"
        console.print(Text(route))
        used = d.get("model_used")
        if used:
            tokens = d.get("tokens") or {}
            line = f"  Ran on: {used} · {int(tokens.get('total') or 0):,} tokens"
            style = "yellow" if d.get("mismatch") else ""
            if d.get("mismatch"):
                line += f" (differs from the decision {d.get('decision')})"
                if d.get("enforcement") == "advisory" and "→ Enforcement:" in str(d.get("route") or ""):
                    line = line[:-1] + ": its tier was advisory, see Enforcement above)"
                elif d.get("enforcement") == "advisory" and d.get("enforcement_note"):
                    line += f": advisory — {d['enforcement_note']}"
            console.print(Text(line, style=style))
        console.print()
