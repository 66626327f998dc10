"""The budget state a hook carries forward without a query (``budget.add_usage``
on a cached measurement) equals a fresh measurement of the ledger at the same
instant, for every window kind, the project filter and the session window."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

import pytest

from ledger_helpers import config
from tierwise.hot.ledger import budget, connection, record

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)
DAY_MS = 86_400_000
MODELS = ["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-6", "some-unpriced-model"]


def _cfg(**windows: str) -> dict[str, Any]:
    limits = {"tokens": 1_000_000, "opus_tokens": 300_000, "opus_messages": 40, "total_spend": 50.0}
    return config(
        budgets={w: dict(limits) for w in ("session", "daily", "weekly", "monthly")},
        budget_windows={"timezone": windows.get("tz", "Europe/Berlin"), "week_start": "monday",
                        "daily": windows.get("daily", "calendar"), "weekly": windows.get("weekly", "rolling"),
                        "monthly": windows.get("monthly", "calendar")},
        priority_reserve={"share": 0.1, "reasoning_demand": ["high"]},
    )


def _rows(rng: random.Random, n: int, prefix: str) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        rows.append({
            "model": rng.choice(MODELS), "input": rng.randint(0, 5000), "output": rng.randint(0, 900),
            "cache_read": rng.choice([0, rng.randint(0, 20000)]), "cache_write_5m": rng.choice([0, 700]),
            # from 40 days ago to a minute in the future: every window edge gets crossed
            "ts": NOW_MS - rng.randint(-60_000, 40 * DAY_MS),
            "session_id": rng.choice(["s1", "s2"]), "project": rng.choice(["/p/a", "/p/b", None]),
            "message_id": f"{prefix}-{i}", "request_id": "r",
        })
    return rows


def _insert(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    conn = connection.connect()
    try:
        _, inserted = record.write_batch(conn, [("usage", rows)], cfg)
    finally:
        conn.close()
    return inserted


def _comparable(state: dict[str, Any]) -> dict[str, Any]:
    out = dict(state)
    out["budgets"] = [{**b, "used": pytest.approx(b["used"], abs=1e-6)} if b["key"] == "total_spend" else b
                      for b in state["budgets"]]
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("project", ["/p/a", None])
@pytest.mark.parametrize("kinds", [{}, {"daily": "rolling", "weekly": "calendar", "monthly": "rolling", "tz": "UTC"}])
def test_added_rows_equal_a_fresh_measurement(seed: int, project: str | None, kinds: dict[str, str]) -> None:
    rng = random.Random(seed)
    cfg = _cfg(**kinds)
    _insert(_rows(rng, 120, "old"), cfg)
    cached = budget.measure(None, cfg, "s1", NOW, project)
    new = _rows(rng, 40, "new") + _rows(random.Random(seed), 10, "old")  # 10 repeats the dedup skips
    inserted = _insert(new, cfg)
    assert len(inserted) == 40

    carried = budget.add_usage(cached, inserted, NOW_MS)
    assert carried is not None
    fresh = budget.measure(None, cfg, "s1", NOW, project)
    assert carried["windows"].keys() == fresh["windows"].keys()
    for name, window in fresh["windows"].items():
        assert carried["windows"][name] == {**window, "total_spend": pytest.approx(window["total_spend"], abs=1e-9)}
    assert _comparable(budget.assemble(cfg, carried)) == _comparable(budget.assemble(cfg, fresh))
    assert budget.assemble(cfg, fresh) == budget.state(None, cfg, "s1", NOW, project)


def test_a_calendar_window_that_has_reset_is_measured_again() -> None:
    cfg = _cfg()
    cached = budget.measure(None, cfg, "s1", NOW, None)
    reset_ms = cached["windows"]["daily"]["reset_ms"]
    assert budget.add_usage(cached, [], reset_ms - 1) is not None
    assert budget.add_usage(cached, [], reset_ms) is None
    assert budget.add_usage(cached, [], NOW_MS - 1) is None  # the clock went back: measure again


def test_rows_a_window_excludes_are_not_added() -> None:
    cfg = _cfg()
    cached = budget.measure(None, cfg, "s1", NOW, "/p/a")
    rows = [
        {"ts": NOW_MS, "session_id": "s2", "project": "/p/a", "tier": "opus", "tokens": 10, "cost_usd": 1.0},
        {"ts": NOW_MS, "session_id": "s1", "project": "/p/b", "tier": "opus", "tokens": 1000, "cost_usd": 1.0},
        {"ts": NOW_MS - 2 * DAY_MS, "session_id": "s1", "project": "/p/a", "tier": "haiku", "tokens": 100,
         "cost_usd": None},
    ]
    carried = budget.add_usage(cached, rows, NOW_MS)
    assert carried is not None
    w = carried["windows"]
    assert (w["session"]["tokens"], w["daily"]["tokens"], w["weekly"]["tokens"]) == (100, 10, 110)
    assert (w["daily"]["opus_messages"], w["weekly"]["unpriced"], w["daily"]["total_spend"]) == (1, 1, 1.0)
