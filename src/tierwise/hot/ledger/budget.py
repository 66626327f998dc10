"""Budget windows, consumption and the zone: ``state(...)`` feeds the decision.

Hot module: standard library only. One indexed query per defined window over
``usage.ts`` (or ``usage(session_id, ts)`` for the session window); never a
re-read of transcripts.

Windows (``budget_windows`` in the resolved config):

- ``session``: every request of the session; no reset time.
- ``daily`` / ``weekly`` / ``monthly`` are ``calendar`` (local midnight, the
  configured ``week_start`` day, the 1st of the month, in ``timezone``) or
  ``rolling`` (exactly the last 24 h, 7 x 24 h, 30 x 24 h; the reset time is
  when the oldest request in the window drops out).

Keys: ``tokens`` (input + output + cache writes + cache reads, the total
ccusage reports), ``opus_tokens`` and ``opus_messages`` (requests on the opus
tier), ``total_spend`` (USD; requests with no known price are not counted and
are reported as ``unpriced``).

Priority reserve (seed 003): ``priority_reserve.share`` of every limit is held
for ``reasoning_demand`` in ``priority_reserve.reasoning_demand``. ``share`` is
consumption against the whole limit; ``zone`` (what ordinary skills get) is
computed against the unreserved part, ``priority_zone`` against the whole limit.

Official limits: when Claude Code's statusline input carried ``rate_limits``,
``tierwise statusline`` saved the latest snapshot (``rate_limits.json`` in the
state dir); those windows join the list with ``source: official`` and count for
the zone like any other budget.

Team budgets (``team_budget`` in the config, issue 14): when this machine has
joined a team (``team/member.json``), each defined team window is the team's
total from the last ``tierwise team sync`` (``team/budget.json``, written by
the cold ``tierwise.team``; no network here) plus this machine's rows recorded
since that sync. They join the list with ``source: team`` and the data's age,
and count for the zone like any other budget (the zone is the worst of all).
A calendar window that has reset since the sync counts only this machine's
new rows until the next sync.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os
import time

from tierwise.hot import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from datetime import date, datetime
    from typing import Any

WINDOWS = ("session", "daily", "weekly", "monthly")
TEAM_WINDOWS = ("daily", "weekly", "monthly")
KEYS = ("tokens", "opus_tokens", "opus_messages", "total_spend")
ROLLING_SPAN_MS = {"daily": 24 * 3_600_000, "weekly": 7 * 86_400_000, "monthly": 30 * 86_400_000}
DEFAULT_KINDS = {"daily": "calendar", "weekly": "rolling", "monthly": "calendar"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
KEY_LABELS = {
    "tokens": "tokens",
    "opus_tokens": "opus tokens",
    "opus_messages": "opus",
    "total_spend": "spend",
    "plan_usage": "plan usage",
    "opus_plan_usage": "opus plan usage",
    "sonnet_plan_usage": "sonnet plan usage",
}
_OFFICIAL_MAP = {
    "five_hour": ("five_hour", "plan_usage"),
    "seven_day": ("weekly", "plan_usage"),
    "seven_day_opus": ("weekly", "opus_plan_usage"),
    "seven_day_sonnet": ("weekly", "sonnet_plan_usage"),
}
TOTAL_SQL = "(input + output + cache_write_5m + cache_write_1h + cache_read)"


def rate_limits_path() -> str:
    return os.path.join(paths.state_dir(), "rate_limits.json")


def team_dir() -> str:
    return os.path.join(paths.state_dir(), "team")


def team_member_path() -> str:
    return os.path.join(team_dir(), "member.json")


def team_cache_path() -> str:
    return os.path.join(team_dir(), "budget.json")


def load_team_cache() -> dict[str, Any] | None:
    try:
        with open(team_cache_path(), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("windows"), dict) else None


def _tz(name: str | None) -> Any:
    if not name or name.upper() == "UTC":
        from datetime import timezone

        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from tierwise.hot.errors import ConfigError

        raise ConfigError(
            f"unknown time zone {name!r}",
            key="budget_windows.timezone",
            fix="use an IANA zone name such as 'Europe/Berlin' or 'UTC'",
        ) from None


def _local_midnight(day: date, tz: Any) -> datetime:
    from datetime import datetime

    # zoneinfo resolves a midnight that falls in a DST gap/fold to a valid instant.
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def window_bounds(
    window: str, kind: str, now: datetime, tz_name: str | None = "UTC", week_start: str = "monday"
) -> tuple[datetime, datetime | None]:
    """(start, reset_at) of a calendar window, or (start, None) of a rolling one
    (its reset depends on the oldest request inside it)."""
    from datetime import date, timedelta, timezone

    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if kind == "rolling":
        return now - timedelta(milliseconds=ROLLING_SPAN_MS[window]), None
    tz = _tz(tz_name)
    local = now.astimezone(tz)
    today = local.date()
    if window == "daily":
        start_day, next_day = today, today + timedelta(days=1)
    elif window == "weekly":
        ws = week_start.lower() if isinstance(week_start, str) else "monday"
        idx = WEEKDAYS.index(ws) if ws in WEEKDAYS else 0
        start_day = today - timedelta(days=(today.weekday() - idx) % 7)
        next_day = start_day + timedelta(days=7)
    elif window == "monthly":
        start_day = today.replace(day=1)
        next_day = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    else:
        raise ValueError(f"unknown window {window!r}")
    return _local_midnight(start_day, tz).astimezone(timezone.utc), _local_midnight(next_day, tz).astimezone(timezone.utc)


def _iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def opus_tier(config: dict[str, Any]) -> str:
    names = [t.get("name") for t in config.get("tiers") or [] if isinstance(t, dict)]
    if "opus" in names:
        return "opus"
    return str(names[-1]) if names else "opus"


def thresholds(config: dict[str, Any]) -> tuple[float, float]:
    zones = config.get("zones") or {}
    yellow = float(zones.get("yellow", 0.70))
    red = float(zones.get("red", 0.90))
    session = config.get("session") or {}
    if isinstance(session, dict):
        if session.get("yellow_zone_threshold") is not None:
            yellow = float(session["yellow_zone_threshold"])
        if session.get("red_zone_threshold") is not None:
            red = float(session["red_zone_threshold"])
    return yellow, red


def zone_for(share: float, yellow: float, red: float) -> str:
    if share >= red:
        return "red"
    if share >= yellow:
        return "yellow"
    return "green"


def _measure(
    conn: sqlite3.Connection | None, where: str, params: list[Any], opus: str
) -> dict[str, Any]:
    if conn is None:  # no ledger yet: the window holds nothing
        return {"tokens": 0, "opus_tokens": 0, "opus_messages": 0, "total_spend": 0.0, "oldest_ms": None,
                "requests": 0, "unpriced": 0}
    row = conn.execute(
        f"SELECT COALESCE(SUM({TOTAL_SQL}), 0),"
        f" COALESCE(SUM(CASE WHEN tier = ? THEN {TOTAL_SQL} ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN tier = ? THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(cost_usd), 0.0), MIN(ts), COUNT(*),"
        " COALESCE(SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END), 0)"
        f" FROM usage WHERE {where}",
        [opus, opus, *params],
    ).fetchone()
    return {
        "tokens": int(row[0]),
        "opus_tokens": int(row[1]),
        "opus_messages": int(row[2]),
        "total_spend": float(row[3]),
        "oldest_ms": row[4],
        "requests": int(row[5]),
        "unpriced": int(row[6]),
    }


def load_official() -> dict[str, Any] | None:
    """The last ``rate_limits`` snapshot, or None when absent or unreadable."""
    try:
        data = json.loads(paths.read_regular(rate_limits_path(), 1 << 20))  # never a FIFO or a device
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("limits"), dict) else None


# datetime's range, so an absurd reset time is "unknown" rather than an overflow
_MIN_MS, _MAX_MS = -62_135_596_800_000, 253_402_300_800_000


def _reset_ms(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        secs = float(value) / 1000 if value > 1e11 else float(value)
        if not secs == secs or not _MIN_MS <= secs * 1000 < _MAX_MS:
            return None
        return int(round(secs * 1000))
    if isinstance(value, str):
        from tierwise.hot.ledger.record import iso_to_ms

        try:
            ms = iso_to_ms(value)
        except ValueError:
            return None
        return ms if _MIN_MS <= ms < _MAX_MS else None
    return None


def official_budgets(snapshot: dict[str, Any] | None, now_ms: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not snapshot:
        return out
    for name, item in sorted((snapshot.get("limits") or {}).items()):
        if not isinstance(item, dict):
            continue
        pct = item.get("used_percentage", item.get("utilization"))
        if isinstance(pct, bool) or not isinstance(pct, (int, float)):
            continue
        reset = _reset_ms(item.get("resets_at"))
        if reset is not None and reset <= now_ms:
            continue  # the window has reset since the snapshot: it no longer says anything
        window, key = _OFFICIAL_MAP.get(name, (name, "plan_usage"))
        used = max(0.0, float(pct))
        out.append({
            "window": window, "key": key, "limit": 100.0, "used": round(used, 2),
            "remaining": round(max(0.0, 100.0 - used), 2), "share": round(used / 100.0, 4),
            "reset_at": _iso_ms(reset), "source": "official", "official_name": name,
            "captured_at": snapshot.get("captured_at"),
        })
    return out


def _defined(config: dict[str, Any], section: str = "budgets") -> dict[str, dict[str, Any]]:
    budgets_cfg = (config.get("team_budgets") if section == "team_budgets" else config.get("budgets")) or {}
    return {
        w: {k: v for k, v in (budgets_cfg.get(w) or {}).items() if k in KEYS and v is not None}
        for w in WINDOWS
    }


def _team_measure(
    conn: sqlite3.Connection, config: dict[str, Any], now: datetime, now_ms: int, opus: str
) -> dict[str, Any] | None:
    """The team windows: the pulled server totals (when they still describe the
    window) and this machine's rows pushed since (``id > rows_through``)."""
    defined = _defined(config, "team_budgets")
    if not any(defined[w] for w in TEAM_WINDOWS) or not os.path.exists(team_member_path()):
        return None
    cache = load_team_cache()
    windows_cfg = config.get("budget_windows") or {}
    tz_name = windows_cfg.get("timezone") or "UTC"
    week_start = windows_cfg.get("week_start") or "monday"
    rows_through = int(cache.get("rows_through") or 0) if cache else 0
    synced_ms = cache.get("synced_ms") if cache else None
    out: dict[str, Any] = {}
    for window in TEAM_WINDOWS:
        if not defined[window]:
            continue
        kind = str(windows_cfg.get(window) or DEFAULT_KINDS[window])
        start, reset_at = window_bounds(window, kind, now, tz_name, week_start)
        start_ms = _ms(start)
        pulled = (cache.get("windows") or {}).get(window) if cache else None
        server = None
        if isinstance(pulled, dict) and pulled.get("kind") == kind and isinstance(synced_ms, int):
            if kind == "calendar" and pulled.get("start_ms") == start_ms:
                server = {k: pulled.get(k) for k in (*KEYS, "requests", "unpriced", "oldest_ms")}
            elif kind == "rolling" and 0 <= now_ms - synced_ms < ROLLING_SPAN_MS[window]:
                server = {k: pulled.get(k) for k in (*KEYS, "requests", "unpriced", "oldest_ms")}
        since = start_ms if kind == "calendar" else start_ms + 1
        out[window] = {"kind": kind, "start_ms": start_ms, "reset_ms": _ms(reset_at) if reset_at else None,
                       "server": server, "local": _measure(conn, "id > ? AND ts >= ?", [rows_through, since], opus)}
    return {"synced_ms": synced_ms, "rows_through": rows_through, "windows": out}


def measure(
    conn: sqlite3.Connection | None,
    config: dict[str, Any],
    session_id: str | None,
    now_utc: datetime | float | None = None,
    project: str | None = None,
    *,
    empty: bool = False,
) -> dict[str, Any]:
    """What every defined window holds at ``now_utc``: one indexed query each.

    ``empty``: there is no ledger yet, so every window holds nothing (no query,
    and the ledger is not created).

    The result is JSON (it is cached between hook processes) and is turned
    into the budget state by :func:`assemble`; :func:`add_usage` adds rows
    recorded since without another query.
    """
    from datetime import datetime, timezone

    if now_utc is None:
        now = datetime.now(timezone.utc)
    elif isinstance(now_utc, (int, float)):
        now = datetime.fromtimestamp(float(now_utc), tz=timezone.utc)
    else:
        now = now_utc if now_utc.tzinfo else now_utc.replace(tzinfo=timezone.utc)
    windows_cfg = config.get("budget_windows") or {}
    tz_name = windows_cfg.get("timezone") or "UTC"
    week_start = windows_cfg.get("week_start") or "monday"
    opus = opus_tier(config)
    now_ms = _ms(now)
    defined = _defined(config)
    own_conn = None
    team_defined = any(_defined(config, "team_budgets").values())
    if (any(defined.values()) or team_defined) and conn is None and not empty:
        from tierwise.hot.ledger import connection

        conn = own_conn = connection.connect()
    windows: dict[str, Any] = {}
    team = None
    try:
        if team_defined:
            assert conn is not None
            team = _team_measure(conn, config, now, now_ms, opus)
        for window in WINDOWS:
            if not defined[window]:
                continue
            assert conn is not None or empty
            clauses = ["ts <= ?"]
            params: list[Any] = [now_ms]
            start_ms = reset_ms = None
            kind = "session"
            if window == "session":
                clauses.append("session_id = ?")
                params.append(str(session_id) if session_id is not None else "")
            else:
                kind = str(windows_cfg.get(window) or DEFAULT_KINDS[window])
                start, reset_at = window_bounds(window, kind, now, tz_name, week_start)
                clauses.append("ts >= ?" if kind == "calendar" else "ts > ?")
                start_ms = _ms(start)
                reset_ms = _ms(reset_at) if reset_at is not None else None
                params.append(start_ms)
            if project:
                clauses.append("project = ?")
                params.append(str(project))
            windows[window] = {"kind": kind, "start_ms": start_ms, "reset_ms": reset_ms,
                               **_measure(conn, " AND ".join(clauses), params, opus)}
    finally:
        if own_conn is not None:
            own_conn.close()
    out = {"now_ms": now_ms, "timezone": tz_name, "opus": opus, "project": project or None,
           "session_id": str(session_id) if session_id is not None else "", "windows": windows}
    if team is not None:
        out["team"] = team
    return out


def _add_row(m: dict[str, Any], row: dict[str, Any], opus: Any) -> None:
    m["tokens"] += row["tokens"]
    if row.get("tier") == opus:
        m["opus_tokens"] += row["tokens"]
        m["opus_messages"] += 1
    if row.get("cost_usd") is None:
        m["unpriced"] += 1
    else:
        m["total_spend"] += float(row["cost_usd"])
    m["requests"] += 1
    m["oldest_ms"] = row["ts"] if m["oldest_ms"] is None else min(m["oldest_ms"], row["ts"])


def add_usage(measured: dict[str, Any], rows: list[dict[str, Any]], now_ms: int) -> dict[str, Any] | None:
    """``measured`` with usage rows recorded since added, as of ``now_ms``.

    Rows: ``{"ts", "session_id", "project", "tier", "tokens" (the total),
    "cost_usd"}`` exactly as inserted (rows a dedup skipped must not be
    passed). Equal to a fresh :func:`measure` at the same instant; at a later
    instant a rolling window still holds requests that have aged out since
    (it over-counts, never under-counts) and a calendar window that has reset
    cannot be carried over: None, measure again.
    """
    windows = measured.get("windows")
    if not isinstance(windows, dict) or now_ms < int(measured.get("now_ms") or 0):
        return None
    out = {**measured, "now_ms": now_ms, "windows": {}}
    opus, project = measured.get("opus"), measured.get("project")
    for name, m in windows.items():
        if m.get("reset_ms") is not None and now_ms >= m["reset_ms"]:
            return None
        m = dict(m)
        for row in rows:
            ts = row["ts"]
            if ts > now_ms or (project and row.get("project") != project):
                continue
            if name == "session":
                if row.get("session_id") != measured.get("session_id"):
                    continue
            elif (m["kind"] == "calendar" and ts < m["start_ms"]) or (m["kind"] == "rolling" and ts <= m["start_ms"]):
                continue
            _add_row(m, row, opus)
        out["windows"][name] = m
    team = measured.get("team")
    if isinstance(team, dict):
        # rows just recorded are not on the server yet: they add to this machine's part
        team_windows = {}
        for name, t in (team.get("windows") or {}).items():
            if t.get("reset_ms") is not None and now_ms >= t["reset_ms"]:
                return None
            local = dict(t["local"])
            for row in rows:
                if row["ts"] >= t["start_ms"] + (0 if t["kind"] == "calendar" else 1):
                    _add_row(local, row, opus)
            team_windows[name] = {**t, "local": local}
        out["team"] = {**team, "windows": team_windows}
    return out


def state(
    conn: sqlite3.Connection | None,
    config: dict[str, Any],
    session_id: str | None,
    now_utc: datetime | float | None = None,
    project: str | None = None,
) -> dict[str, Any]:
    """Budget state (docs/ARCHITECTURE.md): zone, binding budget, every defined
    budget with used/limit/share/reset, exhausted tiers."""
    return assemble(config, measure(conn, config, session_id, now_utc, project))


def _team_budgets(config: dict[str, Any], measured: dict[str, Any], reserve: float, now_ms: int) -> list[dict[str, Any]]:
    team = measured.get("team")
    if not isinstance(team, dict):
        return []
    defined = _defined(config, "team_budgets")
    synced_ms = team.get("synced_ms")
    out: list[dict[str, Any]] = []
    for window in TEAM_WINDOWS:
        t = (team.get("windows") or {}).get(window)
        if not defined[window] or not isinstance(t, dict):
            continue
        server, local = t.get("server"), t["local"]
        reset_ms = t["reset_ms"]
        if t["kind"] == "rolling":
            oldest = [v for v in (local.get("oldest_ms"), (server or {}).get("oldest_ms")) if v is not None]
            reset_ms = min(oldest) + ROLLING_SPAN_MS[window] if oldest else None
        for key in KEYS:
            if key not in defined[window]:
                continue
            limit = float(defined[window][key])
            pulled = (server or {}).get(key) or 0
            used = pulled + local[key]
            used = round(used, 6) if key == "total_spend" else int(used)
            share = (used / limit) if limit > 0 else (1.0 if used else 0.0)
            usable = limit * (1.0 - reserve)
            entry = {
                "window": window, "key": key,
                "limit": int(limit) if key != "total_spend" and limit == int(limit) else limit,
                "used": used,
                "remaining": max(0, round(limit - used, 6)) if key == "total_spend" else max(0, int(limit - used)),
                "share": round(share, 4), "share_unreserved": round((used / usable) if usable > 0 else share, 4),
                "reserve": round(limit * reserve, 6), "reset_at": _iso_ms(reset_ms), "source": "team",
                "team_used": round(pulled, 6) if key == "total_spend" else int(pulled),
                "unsynced_here": round(local[key], 6) if key == "total_spend" else int(local[key]),
                "synced_at": _iso_ms(synced_ms) if isinstance(synced_ms, int) else None,
                "age_s": max(0, (now_ms - synced_ms) // 1000) if isinstance(synced_ms, int) else None,
                "stale": server is None,
            }
            if key == "total_spend":
                entry["unpriced_requests"] = int((server or {}).get("unpriced") or 0) + local["unpriced"]
            out.append(entry)
    return out


def assemble(config: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    """The budget state from what the windows hold (:func:`measure`), the limits
    and the latest official snapshot. No SQL and no ``datetime``: a hook that
    has just recorded usage calls it on a cached measurement."""
    now_ms = int(measured["now_ms"])
    reserve_cfg = config.get("priority_reserve") or {}
    reserve = float(reserve_cfg.get("share") or 0.0)
    reserve = min(max(reserve, 0.0), 0.99)
    yellow, red = thresholds(config)
    opus = opus_tier(config)
    defined = _defined(config)
    budgets: list[dict[str, Any]] = []
    windows_info: dict[str, Any] = {}
    for window in WINDOWS:
        keys = defined[window]
        m = measured["windows"].get(window)
        if not keys or m is None:
            continue
        kind = m["kind"]
        reset_ms = m["reset_ms"]
        if kind == "rolling" and m["oldest_ms"] is not None:
            reset_ms = m["oldest_ms"] + ROLLING_SPAN_MS[window]
        reset_at = _iso_ms(reset_ms)
        windows_info[window] = {"kind": kind, "start": _iso_ms(m["start_ms"]), "reset_at": reset_at,
                                "requests": m["requests"], "unpriced_requests": m["unpriced"]}
        for key in KEYS:
            if key not in keys:
                continue
            limit = float(keys[key])
            used = round(m[key], 6) if key == "total_spend" else m[key]
            share = (used / limit) if limit > 0 else (1.0 if used else 0.0)
            usable = limit * (1.0 - reserve)
            share_unreserved = (used / usable) if usable > 0 else share
            entry = {
                "window": window, "key": key,
                "limit": int(limit) if key != "total_spend" and limit == int(limit) else limit,
                "used": used,
                "remaining": max(0, round(limit - used, 6)) if key == "total_spend" else max(0, int(limit - used)),
                "share": round(share, 4), "share_unreserved": round(share_unreserved, 4),
                "reserve": round(limit * reserve, 6), "reset_at": reset_at, "source": "local",
            }
            if key == "total_spend":
                entry["unpriced_requests"] = m["unpriced"]
            budgets.append(entry)

    snapshot = load_official()
    official = official_budgets(snapshot, now_ms)
    for item in official:
        item["share_unreserved"] = round(item["share"] / (1.0 - reserve), 4) if reserve else item["share"]
        item["reserve"] = round(100.0 * reserve, 4)
    budgets.extend(official)

    budgets.extend(_team_budgets(config, measured, reserve, now_ms))

    binding = None
    priority_binding = None
    for b in budgets:
        if binding is None or b["share_unreserved"] > binding["share_unreserved"]:
            binding = b
        if priority_binding is None or b["share"] > priority_binding["share"]:
            priority_binding = b
    zone = zone_for(binding["share_unreserved"], yellow, red) if binding else "green"
    priority_zone = zone_for(priority_binding["share"], yellow, red) if priority_binding else "green"

    tier_names = [str(t.get("name")) for t in config.get("tiers") or [] if isinstance(t, dict)]
    exhausted: list[str] = []
    for b in budgets:
        if b["share"] < 1.0:
            continue
        if b["key"] in ("opus_tokens", "opus_messages", "opus_plan_usage"):
            targets = [opus]
        elif b["key"] == "sonnet_plan_usage":
            targets = ["sonnet"] if "sonnet" in tier_names else []
        else:
            targets = tier_names or [opus]
        for t in targets:
            if t not in exhausted:
                exhausted.append(t)
    exhausted.sort(key=lambda t: tier_names.index(t) if t in tier_names else len(tier_names))

    def describe(b: dict[str, Any] | None, share_key: str) -> dict[str, Any] | None:
        if b is None:
            return None
        pct = round(b[share_key] * 100)
        label = f"{b['window'].replace('_', '-')} {KEY_LABELS.get(b['key'], b['key'])} at {pct}%"
        if b["source"] in ("official", "team"):
            label += f" ({b['source']})"
        return {"window": b["window"], "key": b["key"], "share": b[share_key], "label": label, "source": b["source"]}

    return {
        "zone": zone,
        "binding": describe(binding, "share_unreserved"),
        "priority_zone": priority_zone,
        "priority_binding": describe(priority_binding, "share"),
        "budgets": budgets,
        "exhausted_tiers": exhausted,
        "thresholds": {"yellow": yellow, "red": red},
        "priority_reserve": {"share": reserve, "reasoning_demand": list(reserve_cfg.get("reasoning_demand") or [])},
        "windows": windows_info,
        "timezone": measured.get("timezone") or "UTC",
        "official": {"captured_at": snapshot.get("captured_at"), "session_id": snapshot.get("session_id")}
        if snapshot else None,
        "now": _iso_ms(now_ms),
    }
