"""Budget windows: calendar windows in a non-UTC zone (midnight, DST, week
start, month end) and rolling windows of exactly 7 x 24 h; zones, reserve,
exhausted tiers and official rate limits."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ledger_helpers import config
from tierwise.hot.errors import ConfigError
from tierwise.hot.ledger import budget, connection, record

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def _at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, tz: object = BERLIN) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)  # type: ignore[arg-type]


def _use(when: datetime, tokens: int = 100, model: str = "claude-haiku-4-5", session: str = "s1",
         key: str | None = None) -> None:
    ms = int(when.timestamp() * 1000)
    record.record_usage([{"model": model, "input": tokens, "output": 0, "session_id": session, "ts": ms,
                          "message_id": key or f"m{ms}-{model}", "request_id": "r"}])


def test_daily_calendar_window_starts_at_local_midnight() -> None:
    now = _at(2026, 11, 22, 0, 30)  # 00:30 Berlin = 23:30 UTC the day before
    start, reset = budget.window_bounds("daily", "calendar", now.astimezone(UTC), "Europe/Berlin")
    assert start == _at(2026, 11, 22).astimezone(UTC)
    assert start.isoformat() == "2026-11-21T23:00:00+00:00"
    assert reset == _at(2026, 11, 23).astimezone(UTC)
    # in UTC the same instant is still the 21st
    start_utc, _ = budget.window_bounds("daily", "calendar", now.astimezone(UTC), "UTC")
    assert start_utc.isoformat() == "2026-11-21T00:00:00+00:00"


def test_usage_just_before_local_midnight_is_yesterday() -> None:
    cfg = config(budgets={"daily": {"tokens": 1000}}, budget_windows={"timezone": "Europe/Berlin", "daily": "calendar"})
    _use(_at(2026, 11, 21, 23, 59, 59), 300)  # yesterday in Berlin (22:59:59 UTC)
    _use(_at(2026, 11, 22, 0, 0, 0), 200)  # today in Berlin, 23:00 UTC on the 21st
    state = budget.state(None, cfg, "s1", _at(2026, 11, 22, 0, 30).astimezone(UTC))
    daily = next(b for b in state["budgets"] if b["window"] == "daily")
    assert daily["used"] == 200
    assert daily["reset_at"] == "2026-11-22T23:00:00Z"


def test_dst_change_day_is_23_hours_long() -> None:
    # 2026-03-29: Berlin springs forward at 02:00 -> 03:00
    now = _at(2026, 3, 29, 12, 0)
    start, reset = budget.window_bounds("daily", "calendar", now.astimezone(UTC), "Europe/Berlin")
    assert reset is not None
    assert reset - start == timedelta(hours=23)
    assert start.isoformat() == "2026-03-28T23:00:00+00:00"
    # autumn: 25 hours
    now = _at(2026, 10, 25, 12, 0)
    start, reset = budget.window_bounds("daily", "calendar", now.astimezone(UTC), "Europe/Berlin")
    assert reset is not None and reset - start == timedelta(hours=25)


def test_week_start_is_configurable() -> None:
    now = _at(2026, 11, 22, 10)  # a Sunday
    start_mon, reset_mon = budget.window_bounds("weekly", "calendar", now.astimezone(UTC), "Europe/Berlin", "monday")
    assert start_mon.astimezone(BERLIN) == _at(2026, 11, 16)
    assert reset_mon is not None and reset_mon.astimezone(BERLIN) == _at(2026, 11, 23)
    start_sun, _ = budget.window_bounds("weekly", "calendar", now.astimezone(UTC), "Europe/Berlin", "sunday")
    assert start_sun.astimezone(BERLIN) == _at(2026, 11, 22)
    # exactly at the week start instant, the new week has begun
    start, _ = budget.window_bounds("weekly", "calendar", _at(2026, 11, 23).astimezone(UTC), "Europe/Berlin")
    assert start.astimezone(BERLIN) == _at(2026, 11, 23)


def test_week_across_dst_is_one_hour_longer() -> None:
    now = _at(2026, 10, 27, 9)  # Tuesday after the autumn change (Sunday 25th)
    start, reset = budget.window_bounds("weekly", "calendar", now.astimezone(UTC), "Europe/Berlin", "saturday")
    assert reset is not None and reset - start == timedelta(days=7, hours=1)


def test_month_end_and_year_end() -> None:
    now = _at(2026, 1, 31, 23, 59, 59)
    start, reset = budget.window_bounds("monthly", "calendar", now.astimezone(UTC), "Europe/Berlin")
    assert start.astimezone(BERLIN) == _at(2026, 1, 1)
    assert reset is not None and reset.astimezone(BERLIN) == _at(2026, 2, 1)
    now = _at(2026, 12, 31, 23, 0)
    start, reset = budget.window_bounds("monthly", "calendar", now.astimezone(UTC), "Europe/Berlin")
    assert reset is not None and reset.astimezone(BERLIN) == _at(2027, 1, 1)
    # one second later it is February in Berlin, still January in UTC
    feb = _at(2026, 2, 1, 0, 0, 1).astimezone(UTC)
    assert budget.window_bounds("monthly", "calendar", feb, "Europe/Berlin")[0].astimezone(BERLIN) == _at(2026, 2, 1)
    assert budget.window_bounds("monthly", "calendar", feb, "UTC")[0].isoformat() == "2026-01-01T00:00:00+00:00"


def test_usage_on_month_end_counts_in_its_local_month() -> None:
    cfg = config(budgets={"monthly": {"tokens": 10_000}},
                 budget_windows={"timezone": "America/New_York", "monthly": "calendar"})
    ny = ZoneInfo("America/New_York")
    _use(datetime(2026, 10, 31, 23, 30, tzinfo=ny), 700)  # Nov 1st in UTC, October in New York
    _use(datetime(2026, 11, 1, 0, 30, tzinfo=ny), 50)
    state = budget.state(None, cfg, "s1", datetime(2026, 11, 1, 12, tzinfo=ny))
    assert next(b for b in state["budgets"] if b["window"] == "monthly")["used"] == 50


def test_rolling_week_is_exactly_seven_days() -> None:
    cfg = config(budgets={"weekly": {"tokens": 1000}}, budget_windows={"timezone": "Europe/Berlin", "weekly": "rolling"})
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    seven = timedelta(days=7)
    _use(now - seven, 1, key="exactly-7d")  # at the boundary: outside (the window is (now-7d, now])
    _use(now - seven + timedelta(milliseconds=1), 10, key="inside-by-1ms")
    _use(now - seven - timedelta(milliseconds=1), 100, key="outside-by-1ms")
    _use(now, 1000, key="now")
    _use(now + timedelta(seconds=1), 10_000, key="future")
    state = budget.state(None, cfg, "s1", now)
    weekly = next(b for b in state["budgets"] if b["window"] == "weekly")
    assert weekly["used"] == 1010
    # the window resets when its oldest request drops out: 7 x 24 h after it
    assert weekly["reset_at"] == "2026-11-22T12:00:00Z"
    start, reset = budget.window_bounds("weekly", "rolling", now, "Europe/Berlin")
    assert now - start == timedelta(hours=168) and reset is None
    # across a DST change a rolling week is still 168 hours
    dst_now = _at(2026, 10, 28, 12).astimezone(UTC)
    start, _ = budget.window_bounds("weekly", "rolling", dst_now, "Europe/Berlin")
    assert dst_now - start == timedelta(hours=168)


def test_zone_is_the_most_consumed_budget_and_session_overrides_thresholds() -> None:
    cfg = config(budgets={"session": {"tokens": 1000}, "weekly": {"opus_messages": 4}})
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    _use(now - timedelta(hours=1), 500, session="s1")  # session 50 %
    for i in range(3):  # weekly opus 3/4 = 75 %
        _use(now - timedelta(hours=2, minutes=i), 1, model="claude-opus-4-8", session="other", key=f"o{i}")
    state = budget.state(None, cfg, "s1", now)
    assert state["zone"] == "yellow"
    assert state["binding"]["label"] == "weekly opus at 75%"
    assert state["exhausted_tiers"] == []
    cfg["session"] = {"yellow_zone_threshold": 0.8, "red_zone_threshold": 0.95}
    assert budget.state(None, cfg, "s1", now)["zone"] == "green"
    _use(now - timedelta(minutes=5), 1, model="claude-opus-4-8", session="other", key="o4")
    state = budget.state(None, cfg, "s1", now)
    assert state["zone"] == "red" and state["exhausted_tiers"] == ["opus"]


def test_priority_reserve_makes_ordinary_work_see_a_stricter_zone() -> None:
    cfg = config(budgets={"daily": {"tokens": 1000}}, priority_reserve={"share": 0.2, "reasoning_demand": ["high"]})
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    _use(now - timedelta(hours=1), 740)
    state = budget.state(None, cfg, "s1", now)
    daily = state["budgets"][0]
    assert daily["share"] == 0.74 and daily["share_unreserved"] == pytest.approx(0.925)
    assert daily["reserve"] == 200
    assert state["zone"] == "red"  # 740 of the 800 not reserved
    assert state["priority_zone"] == "yellow"  # 740 of the whole 1000


def test_total_spend_budget_and_unpriced_requests() -> None:
    cfg = config(budgets={"daily": {"total_spend": 1.0}})
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    _use(now - timedelta(hours=1), 100_000, model="claude-haiku-4-5")  # $0.10 at $1/MTok
    _use(now - timedelta(hours=1), 100_000, model="mystery-model-1")
    from tierwise import prices

    conn = connection.connect()
    prices.reprice_pending(conn, cfg)
    state = budget.state(conn, cfg, "s1", now)
    conn.close()
    spend = state["budgets"][0]
    assert spend["used"] == pytest.approx(0.10)
    assert spend["unpriced_requests"] == 1


def test_official_rate_limits_are_used_and_labelled() -> None:
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    path = Path(os.environ["TIERWISE_HOME"]) / "rate_limits.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"captured_at": "2026-11-22T11:59:00Z", "limits": {
        "five_hour": {"used_percentage": 23.5, "resets_at": int((now + timedelta(hours=2)).timestamp())},
        "seven_day": {"used_percentage": 91.0, "resets_at": int((now + timedelta(days=3)).timestamp())},
        "seven_day_opus": {"used_percentage": 100, "resets_at": int((now + timedelta(days=3)).timestamp())},
        "stale_one": {"used_percentage": 99, "resets_at": int((now - timedelta(hours=1)).timestamp())},
        "weird": {"used_percentage": "lots"},
    }}))
    state = budget.state(None, config(), "s1", now)
    names = {b["official_name"] for b in state["budgets"]}
    assert names == {"five_hour", "seven_day", "seven_day_opus"}
    assert all(b["source"] == "official" for b in state["budgets"])
    assert state["zone"] == "red"
    assert state["binding"]["label"] == "weekly opus plan usage at 100% (official)"
    assert state["exhausted_tiers"] == ["opus"]


def test_unknown_time_zone_is_a_config_error() -> None:
    cfg = config(budgets={"daily": {"tokens": 5}}, budget_windows={"timezone": "Mars/Olympus", "daily": "calendar"})
    with pytest.raises(ConfigError) as info:
        budget.state(None, cfg, "s1", datetime(2026, 11, 22, tzinfo=UTC))
    assert "budget_windows.timezone" in info.value.render()


def test_status_is_an_indexed_query() -> None:
    """EXPLAIN the SQL budget._measure really runs (captured with a trace callback, with
    its bound values): every window is a SEARCH on a usage index, never a scan."""
    now = _at(2026, 11, 22, 12)
    for n in range(30):
        _use(now - timedelta(hours=7 * n), session="s1" if n % 2 else "s2", key=f"k{n}")
    cfg = config(budgets={"session": {"tokens": 10_000}, "daily": {"tokens": 10_000},
                          "weekly": {"opus_messages": 5}, "monthly": {"total_spend": 50.0}},
                 budget_windows={"timezone": "Europe/Berlin", "week_start": "monday", "daily": "calendar",
                                 "weekly": "rolling", "monthly": "calendar"})
    conn = connection.connect()
    traced: list[str] = []
    conn.set_trace_callback(traced.append)
    try:
        state = budget.state(conn, cfg, "s1", now)
        budget.state(conn, cfg, "s1", now, project="/w/shop")
    finally:
        conn.set_trace_callback(None)
    assert {b["window"] for b in state["budgets"]} == {"session", "daily", "weekly", "monthly"}
    measured = [sql for sql in traced if "FROM usage WHERE" in sql]
    assert len(measured) == 8  # one query per window, twice
    assert all("?" not in sql for sql in measured)  # the bound values are in: the plan is the real one
    for sql in measured:
        plan = [str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        assert plan and all(step.startswith("SEARCH usage USING") for step in plan), (sql, plan)
        index = "usage_session_ts" if "session_id =" in sql else "usage_ts"
        assert any(f"INDEX {index} " in step for step in plan), (sql, plan)
    conn.close()
