"""``tierwise watch``: the current session, live: tokens and cost by tier, zone, burn, ETAs, decisions.

Three parts, so each is tested on its own:

- :func:`snapshot` reads the ledger (a few indexed queries) into a plain dict;
- the render functions take a Console (or nothing, for the plain line) and a clock
  (``() -> epoch seconds``) and never read the ledger or the real time themselves:
  :func:`frame` (the rich view), :func:`plain_line` (one line, for a pipe);
- :func:`run_loop` refreshes: rich ``Live`` on a terminal, else a plain line each
  time something changed (a new request or decision, another zone or session).
  Ctrl-C ends it with exit 0: stopping is the normal way to leave a live view.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tierwise.dashboard import burn
from tierwise.hot.hooks.summary import MAIN
from tierwise.hot.ledger import budget as budget_mod

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

Clock = Callable[[], float]
_TOTAL = budget_mod.TOTAL_SQL


def latest_session(conn: sqlite3.Connection) -> str | None:
    from tierwise.hot.hooks.summary import latest_session as latest

    return latest(conn)


def session_info(conn: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    """Project and client of a session (from its usage, else its decisions)."""
    row = conn.execute(
        "SELECT project, client FROM usage WHERE session_id = ? AND project IS NOT NULL ORDER BY ts DESC LIMIT 1",
        (session_id,)).fetchone()
    if row is None:
        row = conn.execute("SELECT project, platform FROM decisions WHERE session_id = ? ORDER BY ts DESC LIMIT 1",
                           (session_id,)).fetchone()
    if row is None:
        return None
    return {"project": row[0], "client": row[1]}


def snapshot(
    conn: sqlite3.Connection,
    config: dict[str, Any],
    session_id: str | None,
    now_ms: int,
    *,
    project: str | None = None,
    client: str | None = None,
    decisions: int = 6,
    lookback_ms: int = burn.HOUR_MS,
) -> dict[str, Any]:
    """What the watch view shows at ``now_ms``; the session's rows up to ``now_ms``."""
    snap: dict[str, Any] = {"now_ms": now_ms, "session_id": session_id, "project": project, "client": client,
                            "tiers": [], "totals": None, "decisions": [], "budget": None, "burn": None}
    measured = budget_mod.measure(conn, config, session_id, now_ms / 1000)
    state = budget_mod.assemble(config, measured)
    burns = burn.budget_burns(conn, config, measured, state, lookback_ms=lookback_ms, points=60)
    binding = state.get("binding")
    snap["budget"] = {
        "zone": state["zone"], "binding": binding["label"] if binding else None,
        "binding_budget": [binding["window"], binding["key"]] if binding else None,
        "thresholds": state["thresholds"], "burns": [{k: v for k, v in b.items() if k != "series"} for b in burns],
        "official": [{"label": burn.budget_label(b) + " (official)", "share": b["share"], "reset_at": b["reset_at"]}
                     for b in state["budgets"] if b.get("source") == "official"],
        "defined": bool(state["budgets"]),
    }
    if session_id is None:
        return snap
    tiers = []
    totals: dict[str, Any] = {"requests": 0, "input": 0, "output": 0, "cache_write": 0, "cache_read": 0, "total": 0,
              "cost_usd": 0.0, "unpriced_tokens": 0}
    first = last = None
    for tier, n, i, o, cw, cr, cost, unpriced, t0, t1 in conn.execute(
        "SELECT COALESCE(tier, 'unknown'), COUNT(*), SUM(input), SUM(output), SUM(cache_write_5m + cache_write_1h), "
        f"SUM(cache_read), SUM(cost_usd), SUM(CASE WHEN cost_usd IS NULL THEN {_TOTAL} ELSE 0 END), MIN(ts), MAX(ts) "
        "FROM usage WHERE session_id = ? AND ts <= ? GROUP BY 1", (session_id, now_ms)
    ):
        entry = {"tier": tier, "requests": n, "input": i or 0, "output": o or 0, "cache_write": cw or 0,
                 "cache_read": cr or 0, "total": (i or 0) + (o or 0) + (cw or 0) + (cr or 0),
                 "cost_usd": None if cost is None and unpriced else round(cost or 0.0, 6),
                 "unpriced_tokens": unpriced or 0}
        tiers.append(entry)
        for k in ("requests", "input", "output", "cache_write", "cache_read", "total", "unpriced_tokens"):
            totals[k] += entry[k]
        totals["cost_usd"] += cost or 0.0
        first = t0 if first is None else min(first, t0)
        last = t1 if last is None else max(last, t1)
    names = [str(t.get("name")) for t in config.get("tiers") or [] if isinstance(t, dict)]
    tiers.sort(key=lambda e: (names.index(e["tier"]) if e["tier"] in names else len(names), e["tier"]))
    if totals["unpriced_tokens"] and totals["unpriced_tokens"] >= totals["total"]:
        totals["cost_usd"] = None
    elif isinstance(totals["cost_usd"], float):
        totals["cost_usd"] = round(totals["cost_usd"], 6)
    snap["tiers"], snap["totals"] = tiers, totals
    snap["first_ms"], snap["last_ms"] = first, last
    # the session's own burn over the lookback (whatever budgets are defined)
    since = max(first or now_ms, now_ms - lookback_ms)
    row = conn.execute(f"SELECT COALESCE(SUM({_TOTAL}), 0), COALESCE(SUM(cost_usd), 0.0) FROM usage "
                       "WHERE session_id = ? AND ts >= ? AND ts <= ?", (session_id, since, now_ms)).fetchone()
    span = now_ms - since
    snap["burn"] = {"span_ms": span, "tokens_per_hour": round(row[0] * burn.HOUR_MS / span) if span > 0 else None,
                    "usd_per_hour": round(row[1] * burn.HOUR_MS / span, 6) if span > 0 else None}
    snap["decisions"] = [
        {"ts": ts, "skill": skill, "preferred": preferred, "tier": tier, "blocked": bool(blocked), "reason": reason,
         "zone": zone}
        for ts, skill, preferred, tier, blocked, reason, zone in conn.execute(
            "SELECT ts, skill, preferred, tier, blocked, reason, zone FROM decisions WHERE session_id = ? AND ts <= ? "
            "ORDER BY ts DESC, rowid DESC LIMIT ?", (session_id, now_ms, decisions))
    ]
    snap["decision_count"] = conn.execute("SELECT COUNT(*) FROM decisions WHERE session_id = ? AND ts <= ?",
                                          (session_id, now_ms)).fetchone()[0]
    return snap


# --- rendering -------------------------------------------------------------------------------------


def _money(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"


def _hms(ms: int) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(ms // 1000))


def _stamp(ms: int | None) -> str:
    return "-" if ms is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms // 1000)) + "Z"


def _eta(p: dict[str, Any], now_ms: int) -> str:
    status = p["status"]
    if status == "reached":
        return "reached"
    if status == "projected":
        return "in " + burn.duration_text(max(0, int(p["at_ms"]) - now_ms))
    if status == "after_reset":
        return "not before reset"
    return "no burn"


def _amount(key: str, value: float | None) -> str:
    if value is None:
        return "-"
    return _money(float(value)) if key == "total_spend" else f"{int(round(value)):,}"


def _decision_text(d: dict[str, Any]) -> str:
    if d["blocked"]:
        return f"{d['preferred'] or '-'} -> blocked"
    if d["preferred"] and d["preferred"] != d["tier"]:
        return f"{d['preferred']} -> {d['tier']}"
    return str(d["tier"] or "-")


NARROW = 96  # below this many columns the budget and decision tables keep only what matters most


def frame(snap: dict[str, Any], clock: Clock, width: int = 120) -> RenderableType:
    """The rich view of a snapshot for a terminal ``width`` columns wide; ``clock`` gives
    "now" for ages and ETAs."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    now_ms = int(clock() * 1000)
    parts: list[Any] = []
    budget = snap["budget"] or {}
    zone = str(budget.get("zone") or "green")
    head = Text()
    head.append("tierwise watch", style="bold")
    head.append("  zone ")
    head.append(zone.upper(), style=f"bold {zone}")
    if budget.get("binding"):
        head.append(f" ({budget['binding']})")
    head.append(f"  updated {_hms(now_ms)}Z", style="dim")
    parts.append(head)
    if snap["session_id"] is None:
        parts.append(Text("No session in the ledger yet: waiting for the first request "
                          "(install the hooks with `tierwise install`, or run `tierwise import`)."))
        return Group(*parts)
    where = f"session {snap['session_id']}"
    if snap.get("project"):
        where += f"  {snap['project']}"
    if snap.get("client"):
        where += f"  ({snap['client']})"
    line = Text(where)
    if snap.get("last_ms") is not None:
        line.append(f"  last request {burn.duration_text(max(0, now_ms - int(snap['last_ms'])))} ago", style="dim")
    parts.append(line)

    table = Table(box=None, pad_edge=False, show_footer=True, header_style="bold", footer_style="bold")
    totals = snap["totals"] or {}
    table.add_column("Tier", footer="Total", no_wrap=True)
    table.add_column("Requests", justify="right", footer=f"{totals.get('requests', 0):,}", no_wrap=True)
    table.add_column("Input", justify="right", footer=f"{totals.get('input', 0):,}", no_wrap=True)
    table.add_column("Output", justify="right", footer=f"{totals.get('output', 0):,}", no_wrap=True)
    table.add_column("Cache w/r", justify="right", no_wrap=True,
                     footer=f"{totals.get('cache_write', 0):,}/{totals.get('cache_read', 0):,}")
    table.add_column("Tokens", justify="right", footer=f"{totals.get('total', 0):,}", no_wrap=True)
    table.add_column("Cost", justify="right", footer=_cost_text(totals), no_wrap=True)
    for t in snap["tiers"]:
        table.add_row(Text(t["tier"]), f"{t['requests']:,}", f"{t['input']:,}", f"{t['output']:,}",
                      f"{t['cache_write']:,}/{t['cache_read']:,}", f"{t['total']:,}", _cost_text(t))
    parts.append(table)
    b = snap.get("burn") or {}
    if b.get("tokens_per_hour") is not None:
        parts.append(Text(f"session burn: {b['tokens_per_hour']:,} tokens/h, {_money(b.get('usd_per_hour'))}/h "
                          f"over the last {burn.duration_text(b['span_ms'])}"))

    if budget.get("burns") or budget.get("official"):
        wide = width >= NARROW
        bt = Table(box=None, pad_edge=False, header_style="bold", title="Budgets", title_justify="left",
                   title_style="bold")
        columns = [("Budget", "left"), ("Used", "right"), ("Limit", "right"), ("Share", "right"), ("Zone", "left"),
                   ("Burn/h", "right"), ("To yellow", "left"), ("To red", "left"), ("To limit", "left")]
        keep = [i for i, (name, _) in enumerate(columns) if wide or name not in ("Used", "Limit", "Burn/h")]
        for i in keep:
            bt.add_column(columns[i][0], justify=columns[i][1], no_wrap=True)  # type: ignore[arg-type]
        for item in budget.get("burns") or []:
            key = item["key"]
            cells: list[Any] = [item["label"], _amount(key, item["used"]), _amount(key, item["limit"]),
                                f"{item['share'] * 100:.1f}%", Text(item["zone"], style=item["zone"]),
                                _amount(key, item["rate_per_hour"]),
                                *(_eta(item["projection"][lv], now_ms) for lv in burn.LEVELS)]
            bt.add_row(*(cells[i] for i in keep))
        for item in budget.get("official") or []:
            cells = [item["label"], "-", "-", f"{item['share'] * 100:.1f}%", "", "-", "-", "-", "-"]
            bt.add_row(*(cells[i] for i in keep))
        parts.append(bt)
    elif not budget.get("defined"):
        parts.append(Text("no budgets defined (see docs/config.md): no zone thresholds to project", style="dim"))

    if snap["decisions"]:
        dt = Table(box=None, pad_edge=False, header_style="bold", title="Last routing decisions", title_justify="left",
                   title_style="bold")
        rows = [(_hms(d["ts"]), str(d["skill"] or MAIN), _decision_text(d), str(d["zone"] or "-"),
                 str(d["reason"] or "")) for d in snap["decisions"]]
        # the reason gives way on a narrow terminal; time, tier and zone never do
        wide = width >= NARROW
        dt.add_column("Time", no_wrap=True, min_width=8)
        dt.add_column("Skill", no_wrap=True, overflow="ellipsis", max_width=28 if wide else 20)
        dt.add_column("Tier", no_wrap=True, min_width=max(len(r[2]) for r in rows))
        if wide:
            dt.add_column("Zone", no_wrap=True, min_width=max(4, *(len(r[3]) for r in rows)))
        dt.add_column("Reason", no_wrap=True, overflow="ellipsis", ratio=1)
        for time_text, skill, tier, zone_text, reason in rows:
            zone_cell = [Text(zone_text, style=zone_text if zone_text != "-" else "")] if wide else []
            dt.add_row(time_text, Text(skill), Text(tier), *zone_cell, Text(reason))
        parts.append(dt)
    return Group(*parts)


def _cost_text(entry: dict[str, Any]) -> str:
    cost = entry.get("cost_usd")
    if cost is None:
        return "unknown"
    return _money(cost) + ("+?" if entry.get("unpriced_tokens") else "")


def render_frame(console: Console, snap: dict[str, Any], clock: Clock) -> None:
    """Print one frame (``--once``, and the golden files)."""
    console.print(frame(snap, clock, console.width))


def plain_line(snap: dict[str, Any], clock: Clock) -> str:
    """One line for a pipe or a log: ``key=value`` fields, no colour, no box drawing."""
    now_ms = int(clock() * 1000)
    budget = snap["budget"] or {}
    fields = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_ms // 1000)), f"zone={budget.get('zone', 'green')}"]
    if snap["session_id"] is None:
        return " ".join([*fields, "session=none"])
    totals = snap["totals"] or {}
    fields += [f"session={snap['session_id']}", f"requests={totals.get('requests', 0)}",
               f"tokens={totals.get('total', 0)}", f"cost={_cost_text(totals)}"]
    fields += [f"{t['tier']}={t['total']}" for t in snap["tiers"]]
    b = snap.get("burn") or {}
    if b.get("tokens_per_hour") is not None:
        fields.append(f"burn={b['tokens_per_hour']}/h")
    binding = next((x for x in budget.get("burns") or []
                    if [x["window"], x["key"]] == budget.get("binding_budget")), None)
    if binding is not None:
        fields.append(f"binding={binding['label'].replace(' ', '-')}:{binding['share'] * 100:.1f}%")
        for lv in ("yellow", "red"):
            fields.append(f"to_{lv}=" + _eta(binding["projection"][lv], now_ms).replace(" ", ""))
    if snap["decisions"]:
        d = snap["decisions"][0]
        fields.append(f"last={str(d['skill'] or MAIN).replace(' ', '_')}:{_decision_text(d).replace(' ', '')}")
    return " ".join(fields)


def change_key(snap: dict[str, Any]) -> tuple[Any, ...]:
    """What a plain-line watcher reports a change of: new requests or decisions, zone, session."""
    totals = snap.get("totals") or {}
    return (snap["session_id"], totals.get("requests"), totals.get("total"), snap.get("decision_count"),
            (snap.get("budget") or {}).get("zone"))


def run_loop(
    console: Console,
    load: Callable[[], dict[str, Any]],
    clock: Clock,
    *,
    interval: float,
    once: bool,
    plain: bool,
    as_json: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    emit: Callable[[str], None] | None = None,
) -> int:
    """Refresh until Ctrl-C (exit 0). ``plain``: a line per change through ``emit``
    (default: print to the console's file, flushed); ``as_json``: the same, each line
    the snapshot as JSON; else rich Live on ``console``."""
    import json
    import sys

    def say(line: str) -> None:
        stream = console.file or sys.stdout
        stream.write(line + "\n")
        stream.flush()

    out = emit or say

    def line(snap: dict[str, Any]) -> str:
        return json.dumps(snap, separators=(",", ":")) if as_json else plain_line(snap, clock)

    plain = plain or as_json
    if once:
        try:
            snap = load()
            if plain:
                out(line(snap))
            else:
                render_frame(console, snap, clock)
        except KeyboardInterrupt:
            pass
        return 0
    with _ctrl_c_between_frames(sleep) as nap:
        try:
            if plain:
                last: tuple[Any, ...] | None = None
                while True:
                    snap = load()
                    key = change_key(snap)
                    if key != last:
                        out(line(snap))
                        last = key
                    nap(interval)
            from rich.live import Live

            live = Live(frame(load(), clock, console.width), console=console, auto_refresh=False, transient=False,
                        redirect_stdout=False, redirect_stderr=False)
            live.start(refresh=True)
            try:
                while True:
                    nap(interval)
                    live.update(frame(load(), clock, console.width), refresh=True)
            finally:
                live.stop()  # the last frame stays; the cursor is shown again
        except KeyboardInterrupt:
            return 0


class _ctrl_c_between_frames:  # noqa: N801 - used as a context manager, named for what it does
    """Ctrl-C (SIGINT) ends the loop only between frames: while a frame is drawn it is
    noted and takes effect at the next sleep, so a frame is never cut in half and the
    terminal is always given back (cursor shown). The previous handler is restored."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self.sleep = sleep
        self.sleeping = False
        self.pending = False
        self.previous: Any = None

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.sleeping:
            raise KeyboardInterrupt
        self.pending = True

    def nap(self, seconds: float) -> None:
        if self.pending:
            raise KeyboardInterrupt
        self.sleeping = True
        try:
            self.sleep(seconds)
        finally:
            self.sleeping = False

    def __enter__(self) -> Callable[[float], None]:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self.nap

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
