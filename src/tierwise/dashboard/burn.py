"""Budget burn: how each budget's current window filled up, and when it will be full.

The projection is deliberately simple and stated in the views: the burn rate is
what the window took over the last ``lookback`` (or since it began, when that is
shorter), and the projection assumes that rate goes on. A threshold is
``reached`` (with the time it was crossed, from the series), ``projected`` (an
ETA), ``after_reset`` (the calendar window resets first; for a rolling window:
more than one whole span away, by when every request in it has aged out), or
``idle`` (nothing burnt over the lookback). Thresholds are the zone levels
(``yellow`` / ``red`` of the usable part of the limit, as the zone is computed:
the priority reserve held back) and the whole ``limit``.

:func:`project` is pure (numbers in, projection out); :func:`window_series` is the
one SQL query per window (indexed on ``usage.ts``, or ``usage(session_id, ts)``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tierwise.hot.ledger import budget as budget_mod

HOUR_MS = 3_600_000
LEVELS = ("yellow", "red", "limit")
SERIES_KEYS = ("tokens", "opus_tokens", "opus_messages", "total_spend")


def bucket_for(span_ms: int, points: int = 96) -> int:
    """A bucket length that cuts ``span_ms`` into about ``points`` steps, in whole minutes."""
    minute = 60_000
    return max(minute, (max(span_ms, 1) // points + minute - 1) // minute * minute)


def window_series(
    conn: sqlite3.Connection,
    measured_window: dict[str, Any],
    *,
    window: str,
    opus: str,
    now_ms: int,
    session_id: str | None = None,
    project: str | None = None,
    points: int = 96,
) -> dict[str, Any]:
    """The cumulative consumption of one budget window from its start to ``now_ms``:
    ``{"start_ms", "bucket_ms", "t": [bucket end ms...], key: [cumulative...] for each key}``.
    ``measured_window`` is the window's entry in :func:`tierwise.hot.ledger.budget.measure`."""
    clauses = ["ts <= ?"]
    params: list[Any] = [now_ms]
    if window == "session":
        start = measured_window.get("oldest_ms")
        clauses.append("session_id = ?")
        params.append(session_id or "")
    else:
        start = measured_window.get("start_ms")
        clauses.append("ts >= ?" if measured_window.get("kind") == "calendar" else "ts > ?")
        params.append(start)
    if project:
        clauses.append("project = ?")
        params.append(project)
    if start is None:
        return {"start_ms": None, "bucket_ms": None, "t": [], **{k: [] for k in SERIES_KEYS}}
    start = int(start)
    bucket = bucket_for(now_ms - start, points)
    total = budget_mod.TOTAL_SQL
    sql = (
        f"SELECT (ts - ?) / ? AS b, SUM({total}), SUM(CASE WHEN tier = ? THEN {total} ELSE 0 END), "
        "SUM(CASE WHEN tier = ? THEN 1 ELSE 0 END), COALESCE(SUM(cost_usd), 0.0) "
        f"FROM usage WHERE {' AND '.join(clauses)} GROUP BY b ORDER BY b"
    )
    rows = conn.execute(sql, [start, bucket, opus, opus, *params]).fetchall()
    out: dict[str, Any] = {"start_ms": start, "bucket_ms": bucket, "t": [start], **{k: [0] for k in SERIES_KEYS}}
    out["total_spend"] = [0.0]
    acc = [0, 0, 0, 0.0]
    for b, *vals in rows:
        for i, v in enumerate(vals):
            acc[i] += v or 0
        out["t"].append(min(now_ms, start + (int(b) + 1) * bucket))
        for i, key in enumerate(SERIES_KEYS):
            out[key].append(round(acc[i], 6) if key == "total_spend" else int(acc[i]))
    if out["t"][-1] < now_ms:
        out["t"].append(now_ms)
        for key in SERIES_KEYS:
            out[key].append(out[key][-1])
    return out


def amount_at(t: list[int], values: list[float], at_ms: int) -> float:
    """The cumulative amount at ``at_ms`` (the last point at or before it; 0 before the first)."""
    found = 0.0
    for ts, value in zip(t, values):
        if ts > at_ms:
            break
        found = float(value)
    return found


def burn_rate(t: list[int], values: list[float], now_ms: int, lookback_ms: int) -> tuple[float | None, int]:
    """(units per hour over the last ``lookback_ms`` or since the series began, the span used).
    None when the series is empty or spans no time."""
    if not t:
        return None, 0
    since = max(t[0], now_ms - lookback_ms)
    span = now_ms - since
    if span <= 0:
        return None, 0
    burnt = amount_at(t, values, now_ms) - amount_at(t, values, since)
    return max(0.0, burnt) * HOUR_MS / span, span


def project(
    *,
    used: float,
    limit: float,
    reserve: float,
    yellow: float,
    red: float,
    rate_per_hour: float | None,
    now_ms: int,
    horizon_ms: int | None,
    t: list[int] | None = None,
    values: list[float] | None = None,
) -> dict[str, dict[str, Any]]:
    """When each level (``yellow``, ``red``, ``limit``) is reached. Pure.

    ``reserve``: the amount of the limit held back for priority work (the zone
    thresholds apply to ``limit - reserve``). ``horizon_ms``: when the window
    resets (None: never). With the series (``t`` / ``values``, cumulative) a
    reached level carries the time it was crossed."""
    usable = max(0.0, limit - reserve)
    levels = {"yellow": yellow * usable, "red": red * usable, "limit": limit}
    out: dict[str, dict[str, Any]] = {}
    for name in LEVELS:
        level = levels[name]
        entry: dict[str, Any] = {"amount": round(level, 6), "share": round(level / limit, 4) if limit > 0 else None,
                                 "at_ms": None, "in_ms": None}
        if used >= level:
            entry["status"] = "reached"
            if t and values:
                crossed = next((ts for ts, v in zip(t, values) if v >= level), None)
                entry["at_ms"] = crossed
        elif not rate_per_hour:
            entry["status"] = "idle"
        else:
            wait = int((level - used) / rate_per_hour * HOUR_MS)
            eta = now_ms + wait
            if horizon_ms is not None and eta >= horizon_ms:
                entry["status"] = "after_reset"
            else:
                entry["status"] = "projected"
                entry["at_ms"] = eta
                entry["in_ms"] = wait
        out[name] = entry
    return out


def budget_burns(
    conn: sqlite3.Connection,
    config: dict[str, Any],
    measured: dict[str, Any],
    state: dict[str, Any],
    *,
    lookback_ms: int,
    points: int = 96,
) -> list[dict[str, Any]]:
    """Every local budget of ``state`` (``budget.assemble(config, measured)``) with its
    window's cumulative series (in the budget's own unit), burn rate and projection.
    Official budgets (a percentage snapshot, no history) are left out."""
    now_ms = int(measured["now_ms"])
    yellow, red = state["thresholds"]["yellow"], state["thresholds"]["red"]
    opus = str(measured.get("opus") or budget_mod.opus_tier(config))
    series_by_window: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for b in state["budgets"]:
        if b.get("source") != "local":
            continue
        window = b["window"]
        m = measured["windows"].get(window)
        if m is None:
            continue
        if window not in series_by_window:
            series_by_window[window] = window_series(
                conn, m, window=window, opus=opus, now_ms=now_ms, session_id=measured.get("session_id"),
                project=measured.get("project"), points=points)
        series = series_by_window[window]
        t, values = series["t"], series[b["key"]]
        rate, span = burn_rate(t, values, now_ms, lookback_ms)
        if m["kind"] == "calendar":
            horizon = m.get("reset_ms")
        elif m["kind"] == "rolling":
            horizon = now_ms + budget_mod.ROLLING_SPAN_MS[window]
        else:
            horizon = None
        limit = float(b["limit"])
        out.append({
            "window": window, "key": b["key"], "kind": m["kind"], "label": budget_label(b),
            "used": b["used"], "limit": b["limit"], "share": b["share"],
            "share_unreserved": b.get("share_unreserved", b["share"]), "reserve": b.get("reserve", 0.0),
            "zone": budget_mod.zone_for(b.get("share_unreserved", b["share"]), yellow, red),
            "reset_at": b.get("reset_at"), "start_ms": series["start_ms"],
            "rate_per_hour": None if rate is None else round(rate, 6), "rate_span_ms": span,
            "projection": project(used=float(b["used"]), limit=limit, reserve=float(b.get("reserve") or 0.0),
                                  yellow=yellow, red=red, rate_per_hour=rate, now_ms=now_ms, horizon_ms=horizon,
                                  t=t, values=values),
            "series": {"t": t, "v": values},
        })
    return out


def budget_label(b: dict[str, Any]) -> str:
    return f"{str(b['window']).replace('_', '-')} {budget_mod.KEY_LABELS.get(b['key'], b['key'])}"


def duration_text(ms: int | None) -> str:
    """``3d 4h``, ``2h 05m``, ``12m``, ``<1m`` (for ETAs and ages)."""
    if ms is None:
        return "-"
    minutes = int(ms // 60_000)
    if minutes < 1:
        return "<1m"
    days, rem = divmod(minutes, 1440)
    hours, mins = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"
