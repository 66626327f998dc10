"""Tables for the ledger commands: report, budget status, import, verify."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

_TITLES = {
    "daily": "Daily usage", "weekly": "Weekly usage", "monthly": "Monthly usage",
    "session": "Usage by session", "skill": "Usage by skill", "model": "Usage by model",
}
_KEY_HEADERS = {"daily": "Date", "weekly": "Week of", "monthly": "Month", "session": "Session", "skill": "Skill",
                "model": "Model"}


def money(value: float | None, coverage: float = 1.0) -> str:
    if value is None or coverage <= 0:
        return "unknown"
    sign = "-" if value < 0 else ""
    value = abs(value)
    text = sign + (f"${value:,.4f}" if value < 1 else f"${value:,.2f}")
    return text if coverage >= 0.9999 else f"{text}*"


def num(value: int | float) -> str:
    return f"{value:,}"


def render_report(console: Console, data: dict[str, Any]) -> None:
    group = data["report"]
    label = {"daily": "date", "weekly": "week", "monthly": "month"}.get(group, group)
    table = Table(title=_TITLES[group], title_justify="left", show_footer=True, pad_edge=False)
    table.add_column(_KEY_HEADERS[group], footer="Total", overflow="fold", min_width=12)
    show_models = group not in ("model", "session") and console.width >= 110
    if group == "model":
        table.add_column("Tier", no_wrap=True)
    elif show_models:
        table.add_column("Models", overflow="fold")
    totals = data["totals"]
    for key, header in (("input", "Input"), ("output", "Output"), ("cache_write", "Cache w"),
                        ("cache_read", "Cache r"), ("total", "Total")):
        table.add_column(header, justify="right", footer=num(totals[key]), no_wrap=True)
    cov = data["coverage"]["share"]
    table.add_column("Cost", justify="right", footer=money(totals["cost_usd"], cov), no_wrap=True)
    for row in data["rows"]:
        cells = [str(row[label])]
        if group == "model":
            cells.append(str(row.get("tier") or "-"))
        elif show_models:
            cells.append(", ".join(row["models"]))
        cells += [num(row[k]) for k in ("input", "output", "cache_write", "cache_read", "total")]
        cells.append(money(row["cost_usd"], row["coverage"]))
        table.add_row(*cells)
    console.print(table)
    notes = []
    if cov < 0.9999:
        notes.append(f"* pricing coverage {cov * 100:.1f}% of tokens: "
                     f"{num(data['coverage']['unpriced_tokens'])} tokens have no known price (not counted as $0)")
    sources = []
    for s in data.get("pricing_sources") or []:
        label = "no known price" if s in (None, "pending", "unknown") else s
        if label not in sources:
            sources.append(label)
    if sources:
        notes.append("prices: " + "; ".join(sources))
    sv = data.get("savings") or {}
    if sv.get("all_opus"):
        notes.append(
            f"routing savings: if all {sv['all_opus']['tier']}: {money(sv['all_opus']['cost_usd'])} -> actual "
            f"{money(sv['actual_usd'])} -> saved {money(sv['saved_vs_opus_usd'])}"
            + (f" ({sv['saved_vs_opus_pct']}%)" if sv.get("saved_vs_opus_pct") is not None else "")
            + f" [{sv['all_opus']['price_source']}]"
        )
    if sv.get("all_sonnet"):
        notes.append(
            f"if all {sv['all_sonnet']['tier']}: {money(sv['all_sonnet']['cost_usd'])} -> actual "
            f"{money(sv['actual_usd'])} -> premium {money(sv['premium_vs_sonnet_usd'])} "
            f"[{sv['all_sonnet']['price_source']}]"
        )
    for note in notes:
        console.print(note, highlight=False, markup=False)


def _fmt_used(b: dict[str, Any]) -> tuple[str, str]:
    if b["source"] == "official":
        return f"{b['used']:.1f}%", "100%"
    if b["key"] == "total_spend":
        return money(float(b["used"])), money(float(b["limit"]))
    return num(b["used"]), num(b["limit"])


def render_budget(console: Console, state: dict[str, Any]) -> None:
    zone = state["zone"]
    title = f"Budget status: {zone.upper()}"
    if state.get("binding"):
        title += f" ({state['binding']['label']})"
    table = Table(title=title, title_justify="left", pad_edge=False)
    for header, justify in (("Window", "left"), ("Budget", "left"), ("Used", "right"), ("Limit", "right"),
                            ("Share", "right"), ("Zone", "left"), ("Resets", "left"), ("Source", "left")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    yellow, red = state["thresholds"]["yellow"], state["thresholds"]["red"]
    from tierwise.ledger.budget import KEY_LABELS, zone_for

    for b in state["budgets"]:
        used, limit = _fmt_used(b)
        z = zone_for(b["share_unreserved"], yellow, red)
        table.add_row(
            b["window"], KEY_LABELS.get(b["key"], b["key"]), used, limit, f"{b['share'] * 100:.1f}%", z,
            b.get("reset_at") or "-", "official" if b["source"] == "official" else "local estimate",
        )
    if not state["budgets"]:
        console.print("No budgets defined (set session/daily/weekly/monthly budgets in model-routing.yaml).")
    else:
        console.print(table)
    if state.get("exhausted_tiers"):
        console.print("exhausted tiers: " + ", ".join(state["exhausted_tiers"]), markup=False)
    res = state.get("priority_reserve") or {}
    if res.get("share"):
        console.print(
            f"priority reserve: {res['share'] * 100:.0f}% of each limit held for reasoning_demand "
            f"{', '.join(res.get('reasoning_demand') or []) or '-'}; priority zone {state['priority_zone']}",
            markup=False,
        )
    console.print(f"windows in {state['timezone']}; zones yellow >= {yellow:.0%}, red >= {red:.0%}", markup=False)


def render_verify(console: Console, result: dict[str, Any]) -> None:
    console.print(
        f"checked {num(result['checked'])} priced rows: {num(len(result['mismatches']))} mismatches, "
        f"{num(result['unknown'])} rows without a price", markup=False)
    if result["mismatches"]:
        table = Table(title="Cost mismatches", title_justify="left", pad_edge=False)
        for h in ("Row", "Model", "Stored", "Recomputed", "Source"):
            table.add_column(h)
        for m in result["mismatches"][:50]:
            table.add_row(str(m["id"]), str(m["model"]), money(m["stored"]), money(m["recomputed"]),
                          str(m["price_source"]))
        console.print(table)
