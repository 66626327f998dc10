"""The dashboard's data: one JSON-able dict, built from the ledger in SQL.

Every figure a report also shows is taken from :func:`tierwise.ledger.reports.report`
over the same filters (``daily`` for the totals, coverage, savings and days; ``skill``
for the skills; ``session`` for the sessions), so the page agrees with ``tierwise
report ... --json`` by construction. What reports do not split, the split by tier,
is one ``GROUP BY`` each over the same ``WHERE`` (:func:`reports.usage_filter`):
days by tier, skills by tier, the listed sessions by tier. The routing part reads
``decisions`` (requested = the skill's preferred tier, used = the decided tier);
the budget part is :func:`tierwise.hot.ledger.budget.state` (what ``tierwise budget
status`` shows) plus each window's burn and projection (:mod:`.burn`).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, timezone
from typing import Any

from tierwise.dashboard import burn
from tierwise.hot.hooks.summary import MAIN
from tierwise.hot.ledger import budget as budget_mod
from tierwise.ledger import reports

FORMAT_VERSION = 1
UNKNOWN_TIER = "unknown"
# the decision steps that can move a tier away from the preferred one, most specific first
_CAUSE_STEPS = ("user_override", "allow_upgrade", "minimum", "budget", "allow_downgrade", "hard_cap", "condition")
_TOTAL = budget_mod.TOTAL_SQL
_SESSION_CHUNK = 5000  # sessions per session report (bound parameters)


def tier_order(config: dict[str, Any] | None, seen: set[str]) -> list[str]:
    """Config tiers cheapest first, then other tiers seen in the ledger, ``unknown`` last."""
    names = [str(t.get("name")) for t in (config or {}).get("tiers") or [] if isinstance(t, dict)]
    extra = sorted(s for s in seen if s not in names and s != UNKNOWN_TIER)
    return names + extra + ([UNKNOWN_TIER] if UNKNOWN_TIER in seen else [])


def build(
    conn: sqlite3.Connection,
    *,
    config: dict[str, Any] | None,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
    tz_name: str | None = None,
    platform: str = "claude_code",
    now: datetime | None = None,
    max_sessions: int = 500,
    top_skills: int = 15,
    lookback_hours: float = 24.0,
    team: tuple[Any, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The dashboard data for these filters (the same as ``tierwise report``'s).

    ``team``: ``(source, who)`` from :func:`tierwise.team.report.team_source`: days,
    skills, totals and savings are the whole team's (as ``tierwise report --team``);
    sessions and routing decisions are per machine and left out; budgets are this
    machine's view (with the team budgets its last sync pulled)."""
    now = now or datetime.now(timezone.utc)
    tz = reports._tz(tz_name)
    cond, params = reports.usage_filter(since=since, until=until, project=project, tz=tz)
    common: dict[str, Any] = {"since": since, "until": until, "project": project, "tz_name": tz_name, "config": config,
              "platform": platform}
    if team is not None:
        common["source"] = team[0]
    daily = reports.report(conn, "daily", by_tier=True, **common)
    skill_rep = reports.report(conn, "skill", by_tier=True, **common)
    # the table lists the newest sessions: find them on the (session_id, ts) index, then run the
    # session report over just those (a full session report would sort every request again)
    newest = [] if team is not None else [sid if sid is not None else "unknown" for sid, _ in conn.execute(
        f"SELECT session_id, MAX(ts) AS last FROM usage WHERE {cond} GROUP BY session_id ORDER BY last DESC, 1",
        params)]
    listed = newest[:max_sessions] if max_sessions > 0 else newest
    session_rows: list[dict[str, Any]] = []
    for i in range(0, len(listed), _SESSION_CHUNK):
        part = listed[i:i + _SESSION_CHUNK]
        session_rows += reports.report(conn, "session", by_tier=True, sessions=part, **common)["rows"]
    session_rows.sort(key=lambda r: (r["last_activity"], str(r["session"])), reverse=True)

    seen: set[str] = set()
    for rows in (daily["rows"], skill_rep["rows"], session_rows):
        for row in rows:
            seen.update(row["tiers"])
    routing = _routing(conn, cond, params, config) if team is None else _no_routing()
    budget = _budget(conn, config or {}, now, lookback_hours)
    tiers = tier_order(config, seen | set(routing["tiers_seen"]))

    days = day_span([row["date"] for row in daily["rows"]])  # idle days too: no gaps on the chart's axis
    by_day = {row["date"]: row["tiers"] for row in daily["rows"]}
    blank = {"tokens": 0, "cost_usd": 0.0, "unpriced_tokens": 0, "requests": 0}
    day_series: dict[str, Any] = {
        "dates": days,
        "tokens": {t: [by_day.get(d, {}).get(t, blank)["tokens"] for d in days] for t in tiers},
        "cost_usd": {t: [by_day.get(d, {}).get(t, blank)["cost_usd"] for d in days] for t in tiers},
        "unpriced_tokens": {t: [by_day.get(d, {}).get(t, blank)["unpriced_tokens"] for d in days] for t in tiers},
    }
    skills = [{k: row[k] for k in ("skill", "total", "requests", "cost_usd", "coverage", "models", "tiers")}
              for row in skill_rep["rows"]]
    sessions = [{k: v for k, v in row.items() if k not in ("input", "output", "cache_write", "cache_read")}
                for row in session_rows]

    return {
        "format": FORMAT_VERSION,
        "generated_at": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "filters": {"since": daily["since"], "until": daily["until"], "project": project,
                    "timezone": daily["timezone"], "platform": platform},
        "tiers": tiers,
        "main_label": MAIN,
        # who asked, not where: the page holds no address (not even the masked server URL)
        "team": {"member": team[1].get("member")} if team is not None else None,  # the skill name of the conversation outside any skill
        "totals": {**daily["totals"], "requests": daily["requests"], "sessions": len(newest),
                   "skills": len(skill_rep["rows"])},
        "coverage": daily["coverage"],
        "savings": daily["savings"],
        "pricing_sources": daily["pricing_sources"],
        "days": day_series,
        "skills": {"rows": skills, "top": top_skills, "count": len(skills)},
        "sessions": {"rows": sessions, "count": len(newest), "shown": len(sessions), "limit": max_sessions},
        "routing": {k: v for k, v in routing.items() if k != "tiers_seen"},
        "budget": budget,
    }


def direction(config: dict[str, Any] | None, requested: str | None, used: str | None, blocked: bool) -> str:
    """``blocked``, ``kept``, ``downgraded``, ``upgraded``, ``no_preference`` (the skill declares
    no tier) or ``changed`` (a tier the config does not order)."""
    if blocked:
        return "blocked"
    if not requested:
        return "no_preference"
    if requested == used:
        return "kept"
    names = [str(t.get("name")) for t in (config or {}).get("tiers") or [] if isinstance(t, dict)]
    if requested in names and used in names:
        return "downgraded" if names.index(str(used)) < names.index(requested) else "upgraded"
    return "changed"


def cause(steps_json: str | None, used: str | None, blocked: bool) -> str:
    """The decision step that set the used tier (the first in precedence order whose value
    is that tier), e.g. ``budget``, ``condition``, ``hard_cap``, ``user_override``."""
    try:
        steps = json.loads(steps_json or "[]")
    except ValueError:
        return "unknown"
    if not isinstance(steps, list):
        return "unknown"
    if blocked:
        for s in steps:
            if isinstance(s, dict) and str(s.get("note") or "").startswith("blocked"):
                return str(s.get("step"))
        return "blocked"
    for name in _CAUSE_STEPS:
        for s in steps:
            if isinstance(s, dict) and s.get("step") == name and s.get("value") == used:
                return name
    return "other"


def _routing(conn: sqlite3.Connection, cond: str, params: list[Any], config: dict[str, Any] | None) -> dict[str, Any]:
    """Requested (preferred) vs used (decided) tier over the recorded decisions."""
    matrix: dict[str, dict[str, int]] = {}
    counts = {"kept": 0, "downgraded": 0, "upgraded": 0, "blocked": 0, "no_preference": 0, "changed": 0}
    by_requested: dict[str, dict[str, int]] = {}
    tiers_seen: set[str] = set()
    total = 0
    for preferred, tier, blocked, n in conn.execute(
        f"SELECT preferred, tier, blocked, COUNT(*) FROM decisions WHERE {cond} GROUP BY 1, 2, 3", params
    ):
        total += n
        kind = direction(config, preferred, tier, bool(blocked))
        counts[kind] += n
        req = preferred or "(none)"
        used = "blocked" if blocked else (tier or "(none)")
        matrix.setdefault(req, {})[used] = matrix.setdefault(req, {}).get(used, 0) + n
        by_requested.setdefault(req, {}).setdefault(kind, 0)
        by_requested[req][kind] += n
        for name in (preferred, tier):
            if name:
                tiers_seen.add(str(name))
    # the changes, grouped by (requested, used, cause); the latest reason of each as the example
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for preferred, tier, blocked, reason, steps, n, last, skills in conn.execute(
        "SELECT preferred, tier, blocked, reason, MAX(steps), COUNT(*), MAX(ts), GROUP_CONCAT(DISTINCT skill) "
        f"FROM decisions WHERE {cond} AND (blocked != 0 OR (preferred IS NOT NULL AND tier IS NOT preferred)) "
        "GROUP BY preferred, tier, blocked, reason", params
    ):
        kind = direction(config, preferred, tier, bool(blocked))
        why = cause(steps, tier, bool(blocked))
        key = (kind, str(preferred), "blocked" if blocked else str(tier), why)
        g = groups.setdefault(key, {"direction": kind, "requested": preferred, "used": None if blocked else tier,
                                    "cause": why, "count": 0, "last_ms": 0, "reason": "", "skills": set()})
        g["count"] += n
        g["skills"].update(s for s in str(skills or "").split(",") if s)
        if last >= g["last_ms"]:
            g["last_ms"], g["reason"] = last, reason or ""
    changes = sorted(groups.values(), key=lambda g: (-g["count"], g["direction"], str(g["requested"])))
    for g in changes:
        names = sorted(g["skills"])
        g["skills"] = names[:12]
        g["skills_count"] = len(names)
        g["last"] = datetime.fromtimestamp(g.pop("last_ms") / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"decisions": total, "counts": counts, "matrix": matrix, "by_requested": by_requested,
            "changes": changes, "tiers_seen": sorted(tiers_seen)}


def _no_routing() -> dict[str, Any]:
    return {"decisions": 0, "counts": {k: 0 for k in ("kept", "downgraded", "upgraded", "blocked", "no_preference",
                                                       "changed")},
            "matrix": {}, "by_requested": {}, "changes": [], "tiers_seen": []}


def _budget(conn: sqlite3.Connection, config: dict[str, Any], now: datetime, lookback_hours: float) -> dict[str, Any]:
    """The budget state as ``tierwise budget status`` computes it (the latest session for the
    session window, no project filter) plus each local budget's burn and projection."""
    from tierwise.hot.hooks.summary import latest_session

    session = latest_session(conn)
    measured = budget_mod.measure(conn, config, session, now)
    state = budget_mod.assemble(config, measured)
    burns = burn.budget_burns(conn, config, measured, state, lookback_ms=int(lookback_hours * burn.HOUR_MS))
    return {
        "zone": state["zone"], "binding": state["binding"], "thresholds": state["thresholds"],
        "priority_reserve": state["priority_reserve"], "timezone": state["timezone"], "now": state["now"],
        "session_id": session, "budgets": state["budgets"], "burns": burns,
        "lookback_hours": lookback_hours,
        "defined": bool(state["budgets"]),
    }


def day_span(dates: list[str]) -> list[str]:
    """Every date from the first to the last (a chart's x axis without gaps)."""
    if not dates:
        return []
    first, last = date.fromisoformat(dates[0]), date.fromisoformat(dates[-1])
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
