"""Tables for the ledger commands: report, budget status, import, verify.

On a terminal: rich tables. Anywhere else (a pipe, a file): plain aligned text
with no box drawing and no wrapping, one record per line, so grep and awk work
(columns are separated by at least two spaces; numbers carry no thousands
separators; a cell never holds two spaces in a row).

A cost is never shown as $0 when its price is unknown: a cost with no priced
tokens is "unknown", a partly priced one a lower bound "≥ $x (72% priced)".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from tierwise.ledger.reports import enforcement_label

_TITLES = {
    "daily": "Daily usage", "weekly": "Weekly usage", "monthly": "Monthly usage",
    "session": "Usage by session", "skill": "Usage by skill", "model": "Usage by model",
}
_KEY_HEADERS = {"daily": "Date", "weekly": "Week of", "monthly": "Month", "session": "Session", "skill": "Skill",
                "model": "Model"}
_TOKEN_COLUMNS = (("input", "Input"), ("output", "Output"), ("cache_write", "Cache w"), ("cache_read", "Cache r"),
                  ("total", "Total"))


def _ge(console: Console | None) -> str:
    enc = (getattr(console, "encoding", None) or "utf-8").lower().replace("-", "")
    return "≥" if enc.startswith("utf") else ">="


def priced_share(coverage: float) -> str:
    """The priced share rounded down, so a partly priced figure never reads 100%."""
    pct = math.floor(max(0.0, min(coverage, 1.0)) * 100)
    return f"{pct}%" if pct >= 1 else "<1%"


def money(value: float | None, coverage: float = 1.0, ge: str = "≥") -> str:
    """A dollar figure; "unknown" without a price; a lower bound when partly priced."""
    if value is None or coverage <= 0:
        return "unknown"
    from tierwise.hot.money import usd

    text = usd(value)
    return text if coverage >= 0.9999 else f"{ge} {text} ({priced_share(coverage)} priced)"


def num(value: int | float) -> str:
    return f"{value:,}"


def _line(console: Console, text: str) -> None:
    """One line as it is: no markup, no highlighting, never wrapped or cropped."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Aligned text columns (two spaces apart), no box drawing; the last column is not padded."""
    cells = [[" ".join(str(c).split()) or "-" for c in row] for row in [list(headers), *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            last = i == len(row) - 1
            if right[i]:
                parts.append(cell.rjust(widths[i]))
            else:
                parts.append(cell if last else cell.ljust(widths[i]))
        out.append("  ".join(parts).rstrip())
    return out


def _plain(console: Console) -> bool:
    return not console.is_terminal


def _report_notes(data: dict[str, Any], ge: str) -> list[str]:
    cov = data["coverage"]["share"]
    notes = []
    if cov < 0.9999:
        shown = min(round(cov * 100, 1), 99.9)
        notes.append(f"pricing coverage {shown:.1f}% of tokens: {num(data['coverage']['unpriced_tokens'])} tokens "
                     "have no known price (not counted as $0: costs shown are lower bounds or unknown)")
    sources: list[str] = []
    for s in data.get("pricing_sources") or []:
        label = "no known price" if s in (None, "pending", "unknown") else str(s)
        if label not in sources:
            sources.append(label)
    if sources:
        notes.append("prices: " + "; ".join(sources))
    late = data.get("provisional") or {}
    if late.get("requests"):
        notes.append(f"provisional: {late['requests']} requests ({num(late['total'])} tokens) counted from a hook's "
                     "payload until their transcript lines are read (next Stop or `tierwise import`); "
                     "`--requests --json` lists them")
    sv = data.get("savings") or {}
    if sv.get("actual_usd") is None and data["totals"]["total"]:
        notes.append("routing savings: n/a (no tokens with a known price)")
        return notes
    scope = f" (over the {priced_share(cov)} of tokens with a known price)" if cov < 0.9999 else ""
    if sv.get("all_opus"):
        notes.append(
            f"routing savings: if all {sv['all_opus']['tier']}: {money(sv['all_opus']['cost_usd'])} -> actual "
            f"{money(sv['actual_usd'])} -> saved {money(sv['saved_vs_opus_usd'])}"
            + (f" ({sv['saved_vs_opus_pct']}%)" if sv.get("saved_vs_opus_pct") is not None else "")
            + f" [{sv['all_opus']['price_source']}]" + scope
        )
    if sv.get("all_sonnet"):
        notes.append(
            f"if all {sv['all_sonnet']['tier']}: {money(sv['all_sonnet']['cost_usd'])} -> actual "
            f"{money(sv['actual_usd'])} -> premium {money(sv['premium_vs_sonnet_usd'])} "
            f"[{sv['all_sonnet']['price_source']}]" + scope
        )
    return notes


def render_report(console: Console, data: dict[str, Any]) -> None:
    group = data["report"]
    label = {"daily": "date", "weekly": "week", "monthly": "month"}.get(group, group)
    ge = _ge(console)
    totals = data["totals"]
    cov = data["coverage"]["share"]
    enforcement = group == "skill" and any(row.get("enforcement") for row in data["rows"])  # decisions known
    if _plain(console):
        headers = [_KEY_HEADERS[group].replace(" ", "-")]
        right = [False]
        if group == "model":
            headers.append("Tier")
            right.append(False)
        if enforcement:
            headers.append("Enforcement")
            right.append(False)
        headers += [h.replace(" ", "-") for _, h in _TOKEN_COLUMNS]
        right += [True] * len(_TOKEN_COLUMNS)
        if group != "model":
            headers.append("Models")
            right.append(False)
        # the cost last: the only cell that may hold spaces ("≥ $0.12 (72% priced)")
        headers.append("Cost")
        right.append(False)
        rows: list[list[str]] = []
        for row in data["rows"]:
            cells = [str(row[label])]
            if group == "model":
                cells.append(str(row.get("tier") or "-"))
            if enforcement:
                cells.append(enforcement_label(row.get("enforcement")).replace(" ", "-"))
            cells += [str(row[k]) for k, _ in _TOKEN_COLUMNS]
            if group != "model":
                cells.append(",".join(row["models"]))
            cells.append(money(row["cost_usd"], row["coverage"], ge))
            rows.append(cells)
        footer = ["Total"] + (["-"] if group == "model" or enforcement else []) + [str(totals[k]) for k, _ in _TOKEN_COLUMNS]
        if group != "model":
            footer.append("-")
        footer.append(money(totals["cost_usd"], cov, ge))
        rows.append(footer)
        _line(console, _TITLES[group])
        for text in plain_table(headers, rows, right):
            _line(console, text)
    else:
        table = Table(title=_TITLES[group], title_justify="left", show_footer=True, pad_edge=False)
        table.add_column(_KEY_HEADERS[group], footer="Total", overflow="fold", min_width=12)
        show_models = group not in ("model", "session") and console.width >= 110
        if group == "model":
            table.add_column("Tier", no_wrap=True)
        elif enforcement:
            table.add_column("Enforcement", no_wrap=True)
        if show_models:
            table.add_column("Models", overflow="fold")
        for key, header in _TOKEN_COLUMNS:
            table.add_column(header, justify="right", footer=num(totals[key]), no_wrap=True)
        table.add_column("Cost", justify="right", footer=money(totals["cost_usd"], cov, ge), no_wrap=True)
        for row in data["rows"]:
            cells = [str(row[label])]
            if group == "model":
                cells.append(str(row.get("tier") or "-"))
            elif enforcement:
                cells.append(enforcement_label(row.get("enforcement")))
            if show_models:
                cells.append(", ".join(row["models"]))
            cells += [num(row[k]) for k, _ in _TOKEN_COLUMNS]
            cells.append(money(row["cost_usd"], row["coverage"], ge))
            table.add_row(*cells)
        console.print(table)
    for note in _report_notes(data, ge):
        _line(console, note)
    if group == "skill":
        for row in data["rows"]:
            enf = row.get("enforcement") or {}
            if enf.get("advisory") and enf.get("note"):
                _line(console, f"{row[label]}: advisory — {enf['note']}")


def _fmt_used(b: dict[str, Any], state: dict[str, Any], ge: str, plain: bool) -> tuple[str, str]:
    if b["source"] == "official":
        return f"{b['used']:.1f}%", "100%"
    if b["key"] == "total_spend":
        unpriced = int(b.get("unpriced_requests") or 0)
        used = money(float(b["used"]))
        if unpriced:
            requests = int(((state.get("windows") or {}).get(b["window"]) or {}).get("requests") or 0)
            used = "unknown" if requests and unpriced >= requests else f"{ge} {used}"
        return used, money(float(b["limit"]))
    if plain:
        return str(b["used"]), str(b["limit"])
    return num(b["used"]), num(b["limit"])


def _source_label(b: dict[str, Any]) -> str:
    if b["source"] == "official":
        return "official"
    if b["source"] == "team":
        if b.get("age_s") is None:
            return "team (never synced: this machine only)"
        age = int(b["age_s"])
        text = f"{age}s" if age < 120 else f"{age // 60}m" if age < 7200 else f"{age // 3600}h"
        return f"team, synced {text} ago" + (" (window reset since: this machine only)" if b.get("stale") else "")
    return "local estimate"


def render_budget(console: Console, state: dict[str, Any]) -> None:
    zone = state["zone"]
    ge = _ge(console)
    title = f"Budget status: {zone.upper()}"
    if state.get("binding"):
        title += f" ({state['binding']['label']})"
    headers = ("Window", "Budget", "Used", "Limit", "Share", "Zone", "Resets", "Source")
    right = (False, False, True, True, True, False, False, False)
    yellow, red = state["thresholds"]["yellow"], state["thresholds"]["red"]
    from tierwise.hot.ledger.budget import KEY_LABELS, zone_for

    plain = _plain(console)
    rows = []
    for b in state["budgets"]:
        used, limit = _fmt_used(b, state, ge, plain)
        z = zone_for(b["share_unreserved"], yellow, red)
        rows.append([
            b["window"], b["key"] if plain else KEY_LABELS.get(b["key"], b["key"]), used, limit, f"{b['share'] * 100:.1f}%", z,
            b.get("reset_at") or "-", _source_label(b),
        ])
    if not state["budgets"]:
        _line(console, "No budgets defined (set session/daily/weekly/monthly budgets in model-routing.yaml).")
    elif plain:
        _line(console, title)
        for text in plain_table(headers, rows, right):
            _line(console, text)
    else:
        table = Table(title=title, title_justify="left", pad_edge=False)
        for header, is_right in zip(headers, right):
            table.add_column(header, justify="right" if is_right else "left")
        for cells in rows:
            table.add_row(*cells)
        console.print(table)
    for b in state["budgets"]:
        if b["key"] == "total_spend" and b.get("unpriced_requests"):
            n = int(b["unpriced_requests"])
            _line(console, f"{b['window']} spend counts only priced requests: {num(n)} "
                           f"request{'s have' if n != 1 else ' has'} no known price (not counted as $0)")
    if state.get("exhausted_tiers"):
        _line(console, "exhausted tiers: " + ", ".join(state["exhausted_tiers"]))
    res = state.get("priority_reserve") or {}
    if res.get("share"):
        _line(
            console,
            f"priority reserve: {res['share'] * 100:.0f}% of each limit held for reasoning_demand "
            f"{', '.join(res.get('reasoning_demand') or []) or '-'}; priority zone {state['priority_zone']}",
        )
    _line(console, f"windows in {state['timezone']}; zones yellow >= {yellow:.0%}, red >= {red:.0%}")


def render_verify(console: Console, result: dict[str, Any]) -> None:
    _line(console, f"checked {num(result['checked'])} priced rows: {num(len(result['mismatches']))} mismatches, "
                   f"{num(result['unknown'])} rows without a price")
    if not result["mismatches"]:
        return
    headers = ("Row", "Model", "Stored", "Recomputed", "Source")
    rows = [[str(m["id"]), str(m["model"]), money(m["stored"]), money(m["recomputed"]), str(m["price_source"])]
            for m in result["mismatches"][:50]]
    if _plain(console):
        _line(console, "Cost mismatches")
        for text in plain_table(headers, rows, (True, False, True, True, False)):
            _line(console, text)
    else:
        table = Table(title="Cost mismatches", title_justify="left", pad_edge=False)
        for h in headers:
            table.add_column(h)
        for cells in rows:
            table.add_row(*cells)
        console.print(table)
    if len(result["mismatches"]) > 50:
        _line(console, f"... and {num(len(result['mismatches']) - 50)} more (see --json)")
